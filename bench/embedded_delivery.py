"""Delivery on the embedded default (issue 15): SQLite, the filesystem broker, the
Procfile's worker (concurrency 2) and beat, to the sandbox at Feishu's limits.

Phases side by side, each from nothing (its own var/ folder, SQLite file and
sandbox): the broker's polling interval as shipped (``CELERY_BROKER_POLLING_INTERVAL``,
0.05 s) and kombu's default (1 s, the baseline). Time zero is sending all N drafts
at once (``exam_results_send``, as the admin's action does); a phase ends when no
row is pending or sending. Prints accepted / ceiling (the most calls Feishu's 1 s
and 60 s windows admit over the span of the accepted calls, see
bench/delivery_throughput.py), 429s, duplicates, "database is locked" in any log,
and the ratio of the two phases' throughput.

    .venv/bin/python bench/embedded_delivery.py [--results 2000] [--baseline-results 200]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from delivery_throughput import (  # noqa: E402
    APP_ID,
    APP_SECRET,
    FIRST_APPLICATION_ID,
    OPERATOR,
    PROCESSES,
    Sandbox,
    ceiling,
)

from hiring_portal import celery_process  # noqa: E402

GOAL = 0.95
PROCFILE_CONCURRENCY = 2  # the Procfile's ${CELERY_WORKER_CONCURRENCY:-2}

SEED = """
from exams.entry import services
from exams.models import ExamResult, HistorySource
from exams.models.recording import bulk_create_recorded
rows = [ExamResult(application_id=str({first} + i), exam_resource_name="Bench paper",
    score="80.5", operator_id="{operator}", operator_app_id="{app}") for i in range({n})]
bulk_create_recorded(rows, actor=None, source=HistorySource.IMPORT)
"""
SEND = """
from exams.entry import services
from exams.models import ExamResult
services.exam_results_send(queryset=ExamResult.objects.all(), actor=None)
"""


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
        capture_output=True, timeout=600,
    )  # fmt: skip


def open_rows(database: Path) -> int:
    with sqlite3.connect(database, timeout=30) as conn:
        row = conn.execute(
            "SELECT count(*) FROM exams_examresult "
            "WHERE status IN ('pending', 'sending', 'draft')"
        ).fetchone()
    return int(row[0])


def phase(
    label: str, polling: float, results: int, timeout: float
) -> dict[str, object]:
    var = Path(tempfile.mkdtemp(prefix=f"bench-embedded-{label}-"))
    database = var / "db.sqlite3"
    sandbox = Sandbox(50, 1000, var)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")
    }
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{database}",
            "HIRING_PORTAL_VAR_DIR": str(var),
            "DJANGO_SETTINGS_MODULE": "hiring_portal.settings",
            "FEISHU_BASE_URL": sandbox.url,
            "FEISHU_APP_ID": APP_ID,
            "FEISHU_APP_SECRET": APP_SECRET,
            "CANDIDATE_CHECK_BEFORE_SEND": "false",
            "CELERY_BROKER_POLLING_INTERVAL": str(polling),
        }
    )
    manage(env, "migrate", "--noinput")
    manage(env, "createcachetable")
    first, app = FIRST_APPLICATION_ID, APP_ID
    manage(
        env,
        "shell",
        "-c",
        SEED.format(first=first, operator=OPERATOR, app=app, n=results),
    )
    worker = celery_process.start_worker(
        name=f"embedded-{label}", log=var / "worker.log", env=env,
        concurrency=PROCFILE_CONCURRENCY, popen=PROCESSES.start,
    )  # fmt: skip
    beat = celery_process.start_beat(
        log=var / "beat.log", env=env, schedule=var / "beat", popen=PROCESSES.start
    )
    worker.wait_ready(timeout=60)
    started = time.monotonic()
    manage(env, "shell", "-c", SEND)
    while open_rows(database) and time.monotonic() - started < timeout:
        time.sleep(0.5)
    elapsed = time.monotonic() - started
    exams = sandbox.get("/_sandbox/exams")
    stats = sandbox.get("/_sandbox/stats")
    for process in (worker, beat):
        PROCESSES.stop(process.proc)
    sandbox.stop()
    stamps = sorted(int(e["operate_time"]) for e in exams["exams"])
    span = stamps[-1] - stamps[0] if stamps else 0
    top = ceiling(span, 50, 1000)
    locked = sum(
        log.read_text(errors="replace").count("database is locked")
        for log in var.glob("*.log")
    )
    return {
        "phase": label,
        "polling (s)": polling,
        "results": results,
        "accepted": exams["total"],
        "seconds": round(elapsed, 1),
        "per second": round(exams["total"] / elapsed, 2) if elapsed else 0.0,
        "accepted / ceiling": round(exams["total"] / top, 3) if top else 0.0,
        "429s": stats["rate_limited"],
        "duplicates": sum(d["count"] - 1 for d in exams["duplicates"]),
        "database is locked": locked,
        "logs": str(var),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=int, default=2000)
    parser.add_argument("--baseline-results", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    try:
        shipped = phase("shipped", 0.05, args.results, args.timeout)
        print(shipped, flush=True)
        baseline = phase("kombu-default", 1.0, args.baseline_results, args.timeout)
        print(baseline, flush=True)
    finally:
        PROCESSES.stop_all()
    rate = float(str(shipped["per second"]))
    base = float(str(baseline["per second"]))
    print(f"throughput shipped / kombu default: {rate / base:.1f}x" if base else "")
    met = (
        float(str(shipped["accepted / ceiling"])) >= GOAL
        and shipped["429s"] == 0
        and shipped["duplicates"] == 0
        and shipped["database is locked"] == 0
        and shipped["accepted"] == args.results
    )
    print(
        f"{'PASS' if met else 'MISS'}  accepted / ceiling "
        f"{shipped['accepted / ceiling']} >= {GOAL}, 0 429s, 0 duplicates, "
        f"no 'database is locked', all {args.results} accepted"
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
