"""Chaos on the production shape: PostgreSQL and Redis of the test's own, two
workers as the Procfile starts them (concurrency 4) and beat, a strict Feishu at
10 a second and 300 a minute, 600 results, and while they go out: a pool process
SIGKILLed, Redis restarted empty, every database connection cut, Feishu answering
nothing for a while (requests recorded, answers lost), then 500s, every token
revoked, and PostgreSQL restarted.

The promise: every result in Feishu exactly once, with Feishu's exam_id on its row;
no 429; both workers alive at the end; everything settled within 120 s of the last
fault. Takes about three minutes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from feishu.sandbox.process import spawn
from hiring_portal import celery_process
from hiring_portal.celery_process import CeleryProcess
from tests.delivery.conftest import FAST
from tests.delivery.own_services import MissingServerError, PostgresCluster, RedisServer
from tests.feishu.feishu_helpers import Sandbox

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "cli_chaos"
APP_SECRET = "chaos-secret"
RESULTS = 600
SETTLE_WITHIN = 120.0

SEED = f"""
from django.contrib.auth import get_user_model
from exams.entry import services
from exams.models import ExamResult, HistorySource
from exams.models.recording import bulk_create_recorded

user = get_user_model().objects.create_user("chaos", is_staff=True)
rows = [
    ExamResult(
        application_id=str(7100000000000000000 + n),
        exam_resource_name="后端工程师笔试（A卷）",
        score="81.5",
        operator_id="ou_f476cb099ac9227c9bae09ce46112579",
        operator_app_id="{APP_ID}",
        entered_by=user,
    )
    for n in range({RESULTS})
]
bulk_create_recorded(rows, actor=user, source=HistorySource.IMPORT)
services.exam_results_send(
    queryset=ExamResult.objects.filter(pk__in=[r.pk for r in rows]), actor=None
)
"""


@pytest.fixture
def own_services(tmp_path: Path) -> Iterator[tuple[PostgresCluster, RedisServer]]:
    try:
        postgres = PostgresCluster()
        redis_server = RedisServer(tmp_path)
    except MissingServerError as missing:
        if os.environ.get("HIRING_PORTAL_REQUIRE_SERVICES") == "1":
            pytest.fail(f"the chaos test needs its own servers: {missing}")
        pytest.skip(str(missing))
    postgres.start()
    redis_server.start()
    yield postgres, redis_server
    redis_server.close()
    postgres.close()


def _run(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_delivery_rides_out_every_fault_and_sends_each_result_once(
    own_services, tmp_path
):
    postgres, redis_server = own_services
    database_url = postgres.create_database("chaos")
    sandbox_proc, sandbox_url = spawn(
        "--rate-per-second", "10", "--rate-per-minute", "300",
        app_id=APP_ID, app_secret=APP_SECRET,
    )  # fmt: skip
    sandbox = Sandbox(sandbox_url, sandbox_proc)
    env = {
        **os.environ,
        **FAST,
        # A message lost must not wait the redispatch timeout: production's.
        "DELIVERY_REDISPATCH_AFTER_SECONDS": "300",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_server.url,
        "FEISHU_BASE_URL": sandbox_url,
        "FEISHU_APP_ID": APP_ID,
        "FEISHU_APP_SECRET": APP_SECRET,
        "FEISHU_RATE_PER_SECOND": "10",
        "FEISHU_RATE_PER_MINUTE": "300",
        "CANDIDATE_CHECK_BEFORE_SEND": "false",
        "HIRING_PORTAL_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "hiring_portal.settings",
    }
    env.pop("CELERY_BROKER_URL", None)
    # Eight pool processes, beat, the sandbox and both servers on a two-core
    # machine: a worker can lose the CPU for a few hundred milliseconds between
    # its permit and its request, more than production's 0.25 s margin on the
    # one-second window covers (10 such 429s in a run at 0.25 s; see
    # docs/deploy.md). Half a second costs this run nothing, since Feishu's
    # minute binds, and keeps what the test is for: a limiter that forgot the
    # minute after Redis restarted would still get 429s.
    env["FEISHU_RATE_WINDOW_MARGIN"] = "0.5"
    processes: list[CeleryProcess] = []
    try:
        _run(env, "migrate", "--noinput")
        for name in ("chaos-a", "chaos-b"):
            processes.append(
                celery_process.start_worker(
                    name=name, log=tmp_path / f"{name}.log", env=env, concurrency=4
                )
            )
        processes.append(
            celery_process.start_beat(
                log=tmp_path / "beat.log", env=env, schedule=tmp_path / "beat"
            )
        )
        workers = processes[:2]
        for worker in workers:
            worker.wait_ready(timeout=60)
        _run(env, "shell", "-c", SEED)
        started = time.monotonic()
        faults = _inject_faults(postgres, redis_server, sandbox, workers, started)
        last_fault = time.monotonic()
        settled_at = _wait_settled(postgres, last_fault + SETTLE_WITHIN)
        statuses = _statuses(postgres)
        recorded = sandbox.exams()
        stats = sandbox.stats()
        alive = [worker.proc.poll() is None for worker in workers]
        figures = {
            "results": RESULTS,
            "in Feishu": recorded["total"],
            "exam posts": stats["requests"].get("/open-apis/hire/v1/exams", 0),
            "duplicates": len(recorded["duplicates"]),
            "429s": stats["rate_limited"],
            "429s by window": stats["rate_limited_by_window"],
            "faults": ", ".join(faults),
            "run (s)": round(time.monotonic() - started, 1),
            "last fault to last settled (s)": (
                None if settled_at is None else round(settled_at - last_fault, 1)
            ),
            "workers alive": f"{sum(alive)} of {len(alive)}",
            "statuses": statuses,
        }
        print("\nchaos figures:", figures)
        if settled_at is None:
            print("unsettled:", _unsettled(postgres))
        assert settled_at is not None, (
            figures,
            _unsettled(postgres),
            _tails(processes),
        )
        assert recorded["total"] == RESULTS, figures
        assert recorded["duplicates"] == [], figures
        assert statuses == {"synced": RESULTS}, figures
        assert _rows_without_exam_id(postgres) == 0
        assert stats["rate_limited"] == 0, figures
        assert all(alive), (figures, _tails(processes))
        for worker in workers:
            assert "Unrecoverable error" not in worker.log.read_text(errors="replace")
    finally:
        for process in processes:
            process.stop()
        sandbox_proc.terminate()
        sandbox_proc.wait(timeout=10)


def _inject_faults(
    postgres: PostgresCluster,
    redis_server: RedisServer,
    sandbox: Sandbox,
    workers: list[CeleryProcess],
    started: float,
) -> list[str]:
    """The faults, a few seconds apart, while the results go out."""
    done: list[str] = []

    def at(second: float, name: str, fault: Callable[[], object]) -> None:
        time.sleep(max(0.0, started + second - time.monotonic()))
        fault()
        done.append(f"{name} at {time.monotonic() - started:.0f}s")

    at(
        8,
        "pool process SIGKILLed",
        lambda: os.kill(workers[0].children()[0], signal.SIGKILL),
    )
    at(16, "Redis restarted empty", lambda: redis_server.restart(down_for=2))
    at(26, "database connections cut", lambda: postgres.cut_connections("chaos"))
    at(32, "Feishu silent", lambda: sandbox.configure(drop_ratio=1.0))
    at(40, "Feishu answering", lambda: sandbox.configure(drop_ratio=0.0))
    at(44, "Feishu 500s", lambda: sandbox.configure(fail_ratio=0.5))
    at(50, "Feishu well", lambda: sandbox.configure(fail_ratio=0.0))
    at(54, "tokens revoked", sandbox.revoke_tokens)
    at(60, "PostgreSQL restarted", lambda: postgres.restart(down_for=3))
    return done


def _statuses(postgres: PostgresCluster) -> dict[str, int]:
    with postgres.connect("chaos") as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM exams_examresult GROUP BY status"
        ).fetchall()
    return {status: count for status, count in rows}


def _unsettled(postgres: PostgresCluster) -> list[tuple[object, ...]]:
    with postgres.connect("chaos") as conn:
        return conn.execute(
            "SELECT id, status, attempts, next_attempt_at, unknown_since, now(), "
            "last_error_message FROM exams_examresult WHERE status <> 'synced' "
            "LIMIT 5"
        ).fetchall()


def _rows_without_exam_id(postgres: PostgresCluster) -> int:
    with postgres.connect("chaos") as conn:
        row = conn.execute(
            "SELECT count(*) FROM exams_examresult "
            "WHERE exam_id IS NULL OR exam_id = ''"
        ).fetchone()
    return int(row[0]) if row else -1


def _wait_settled(postgres: PostgresCluster, deadline: float) -> float | None:
    """When every row is synced (the time), or None at the deadline."""
    while time.monotonic() < deadline:
        try:
            if _statuses(postgres).get("synced") == RESULTS:
                return time.monotonic()
        except psycopg.Error:
            pass  # restarting
        time.sleep(0.5)
    return None


def _tails(processes: list[CeleryProcess]) -> str:
    return "\n".join(
        f"--- {p.log.name}\n{p.output(2000)}" for p in processes if p.log.exists()
    )
