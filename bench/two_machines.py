"""Two "machines" deliver 1,000 results: no duplicate, no 429 (docs/deploy.md).

What docs/deploy.md claims about several machines, checked on loopback: two Celery
worker processes started as separate machines (each its own environment, working
directory and ``HIRING_PORTAL_VAR_DIR``, nothing shared on disk), one of them also
running beat, against one PostgreSQL database and one Redis, deliver N results to
the Feishu sandbox, which enforces Feishu's limits (50 calls/s and 1,000 calls/min
per app and API). The shared limiter (Redis) must keep both under those limits
together, and the claim (one conditional UPDATE in PostgreSQL) must keep both from
sending the same result.

The script creates its own PostgreSQL database (dropped at the end unless
``--keep-db``) and uses its own Redis database index, whose keys it deletes before
and after. It exits non-zero when a result is not synced, Feishu holds a result
twice, or the sandbox answered 429.

    .venv/bin/python bench/two_machines.py [--results 1000] [--timeout 300]
        [--server postgres://postgres@127.0.0.1:5432] [--redis redis://127.0.0.1:6379/8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from feishu.sandbox.process import spawn  # noqa: E402
from hiring_portal import celery_process  # noqa: E402
from hiring_portal.celery_process import CeleryProcess  # noqa: E402

APP_ID = "cli_two_machines"
APP_SECRET = "two-machines-secret"  # noqa: S105 - the sandbox's, for this run
DATABASE = "hiring_portal_two_machines"


def psql(server: str, sql: str) -> None:
    subprocess.run(
        ["psql", f"{server}/postgres", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
    )


def start_sandbox(workdir: Path) -> tuple[subprocess.Popen[str], str]:
    return spawn(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        stderr=(workdir / "sandbox.log").open("w"),
    )


def machine_env(name: str, home: Path, common: dict[str, str]) -> dict[str, str]:
    """A machine's environment: only what a deployment would set, its own var dir."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "hiring_portal.settings",
        "HIRING_PORTAL_VAR_DIR": str(home / "var"),
        "DJANGO_LOG_FORMAT": "json",
        "MACHINE": name,
        **common,
    }


def start_machine(
    name: str, home: Path, common: dict[str, str], *, beat: bool
) -> CeleryProcess:
    """A machine's worker, run from its own folder; machine-a also runs beat."""
    (home / "var").mkdir(parents=True)
    return celery_process.start_worker(
        name=name,
        log=home / "worker.log",
        env=machine_env(name, home, common),
        concurrency=4,
        beat_schedule=home / "var" / "celerybeat-schedule" if beat else None,
        cwd=home,
    )


def delivered_by(log: Path) -> Counter[str]:
    """Messages of the delivery engine's JSON log lines, counted."""
    counts: Counter[str] = Counter()
    for line in log.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        logger = entry.get("logger", "")
        if logger.startswith("exams.delivery") and "result_id" in entry:
            counts[entry["message"]] += 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    import redis

    workdir = Path(tempfile.mkdtemp(prefix="two-machines-"))
    database_url = f"{args.server}/{DATABASE}"
    common = {
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis,
        "FEISHU_APP_ID": APP_ID,
        "FEISHU_APP_SECRET": APP_SECRET,
    }
    store = redis.Redis.from_url(args.redis)
    store.flushdb()
    psql(args.server, f"DROP DATABASE IF EXISTS {DATABASE}")
    psql(args.server, f"CREATE DATABASE {DATABASE}")
    sandbox, sandbox_url = start_sandbox(workdir)
    common["FEISHU_BASE_URL"] = sandbox_url
    os.environ.update(common)
    os.environ["HIRING_PORTAL_VAR_DIR"] = str(workdir / "controller-var")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiring_portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from exams.entry import services
    from exams.gateway.limiter import state_marker
    from exams.models import ExamResult, HistorySource
    from exams.models.recording import bulk_create_recorded

    call_command("migrate", verbosity=0)
    # Emptied on purpose: the limiter's windows are empty, not lost.
    store.set(state_marker(APP_ID), "bench")
    workers: list[CeleryProcess] = []
    try:
        results = [
            ExamResult(
                application_id=str(7_100_000_000_000_000_000 + i),
                exam_resource_name="后端工程师笔试（A卷）",
                score=f"{50 + i % 50}.5",
                operator_id="ou_f476cb099ac9227c9bae09ce46112579",
                operator_app_id=APP_ID,
            )
            for i in range(args.results)
        ]
        bulk_create_recorded(results, actor=None, source=HistorySource.COMMAND)
        machines = {
            "machine-a": workdir / "machine-a",
            "machine-b": workdir / "machine-b",
        }
        for name, home in machines.items():
            workers.append(start_machine(name, home, common, beat=name == "machine-a"))
        for worker in workers:
            worker.wait_ready(timeout=60)

        started = time.monotonic()
        services.exam_results_send(queryset=ExamResult.objects.all(), actor=None)
        connections.close_all()
        while True:
            open_rows = ExamResult.objects.filter(
                status__in=[ExamResult.Status.PENDING, ExamResult.Status.SENDING]
            ).count()
            if not open_rows or time.monotonic() - started > args.timeout:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started

        by_status = Counter(ExamResult.objects.values_list("status", flat=True))
        distinct_exam_ids = (
            ExamResult.objects.exclude(exam_id="").values("exam_id").distinct().count()
        )
        exams = requests.get(f"{sandbox_url}/_sandbox/exams", timeout=10).json()
        stats = requests.get(f"{sandbox_url}/_sandbox/stats", timeout=10).json()
        per_machine = {
            name: delivered_by(home / "worker.log") for name, home in machines.items()
        }
        report: dict[str, Any] = {
            "results": args.results,
            "elapsed_seconds": round(elapsed, 1),
            "statuses": dict(by_status),
            "distinct_exam_ids": distinct_exam_ids,
            "sandbox_exams_recorded": exams["total"],
            "sandbox_duplicates": len(exams["duplicates"]),
            "sandbox_429_answers": stats["rate_limited"],
            "sandbox_exam_posts": stats["requests"].get("/open-apis/hire/v1/exams", 0),
            "sandbox_tokens_issued": stats["tokens_issued"],
            "log_lines_by_machine": {k: dict(v) for k, v in per_machine.items()},
            "logs": str(workdir),
        }
        print(json.dumps(report, ensure_ascii=False, indent=2))
        ok = (
            by_status.get(ExamResult.Status.SYNCED, 0) == args.results
            and exams["total"] == args.results
            and not exams["duplicates"]
            and stats["rate_limited"] == 0
        )
        print("OK: every result delivered once, no 429" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        for worker in workers:
            worker.stop(timeout=20)
        sandbox.terminate()
        sandbox.wait(timeout=10)
        connections.close_all()
        store.flushdb()
        if not args.keep_db:
            psql(args.server, f"DROP DATABASE IF EXISTS {DATABASE}")


if __name__ == "__main__":
    sys.exit(main())
