"""What a task costs a worker before it does anything (issue 15): Celery's Django
fixup as shipped, which closes the database connections before and after every
task, against the portal's workers, which keep them as Django keeps them for
requests (hiring_portal/task_connections.py).

Each phase starts one worker (``--concurrency 4``, queues ``feishu,celery``) on a
PostgreSQL database of its own (created, migrated, dropped) and a Redis database
index (flushed), and sends it N delivery tasks for a result that does not exist:
each reads once and answers "not pending", so what is measured is the task's own
cost (Celery, Django, the connection) plus one query. Printed side by side: the
workers' CPU per task (utime + stime of the worker and its pool processes), the
PostgreSQL sessions opened per task (``pg_stat_database.sessions``), the wall
time, and the ratios portal / as shipped. The phases run in turn, ``--rounds``
times (the machine warms up and cools down); the medians are compared.

    .venv/bin/python bench/task_overhead.py [--tasks 2000] [--rounds 3]
        [--server postgres://postgres@127.0.0.1:5432] [--redis redis://127.0.0.1:6379/10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import redis  # noqa: E402
from delivery_throughput import (  # noqa: E402 (the delivery bench's helpers)
    cpu_seconds,
    create_database,
    drop_database,
)

from hiring_portal.celery_process import start_worker  # noqa: E402

DATABASE = "hiring_portal_bench_tasks"
TASK = "exams.tasks.exam_result_deliver_task"
PHASES = (("as shipped", True), ("portal", False))


def sessions(server: str) -> int:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        row = conn.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", [DATABASE]
        ).fetchone()
    return int(row[0]) if row else 0


def run_phase(args: argparse.Namespace, as_shipped: bool) -> dict[str, float]:
    store = redis.Redis.from_url(args.redis)
    store.flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
        "DATABASE_URL": f"{args.server}/{DATABASE}",
        "REDIS_URL": args.redis,
        "FEISHU_APP_ID": "cli_bench_tasks",
        "FEISHU_APP_SECRET": "bench-secret",
        "BENCH_CELERY_FIXUP_AS_SHIPPED": "true" if as_shipped else "false",
        "PYTHONPATH": str(ROOT),
    }
    worker = start_worker(
        name=f"bench-tasks-{int(as_shipped)}",
        log=Path(args.logs) / f"worker-{int(as_shipped)}.log",
        env=env,
        concurrency=4,
    )
    try:
        sent = _client(env)
        worker.wait_ready()
        time.sleep(2)  # its start-up sweep
        pids = [worker.pid, *worker.children()]
        cpu, opened, started = cpu_seconds(pids), sessions(args.server), time.time()
        for _ in range(args.tasks):
            sent.send_task(TASK, args=[0], queue="feishu")
        time.sleep(0.5)
        while store.llen("feishu") or store.hlen("unacked"):
            time.sleep(0.1)
        elapsed = time.time() - started
        time.sleep(0.5)
        return {
            "cpu_ms": 1000 * (cpu_seconds(pids) - cpu) / args.tasks,
            "sessions": (sessions(args.server) - opened) / args.tasks,
            "seconds": elapsed,
        }
    finally:
        worker.stop()


def _client(env: dict[str, str]):  # type: ignore[no-untyped-def]
    """A Celery app that only sends, to the phase's broker."""
    from celery import Celery

    return Celery("bench_task_overhead", broker=env["REDIS_URL"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--logs", default="")
    args = parser.parse_args()
    if not args.logs:
        import tempfile

        args.logs = tempfile.mkdtemp(prefix="bench-tasks-")
    create_database(args.server, DATABASE)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": f"{args.server}/{DATABASE}"},
            check=True,
        )
        runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in PHASES}
        for number in range(args.rounds):
            order = PHASES if number % 2 == 0 else PHASES[::-1]
            for name, as_shipped in order:
                runs[name].append(run_phase(args, as_shipped))
                run = runs[name][-1]
                print(
                    f"  round {number + 1} {name:10s} CPU {run['cpu_ms']:.2f} ms/task, "
                    f"sessions {run['sessions']:.3f}/task, {run['seconds']:.1f} s",
                    flush=True,
                )
    finally:
        drop_database(args.server, DATABASE)
        redis.Redis.from_url(args.redis).flushdb()
    median = {
        name: {key: statistics.median(r[key] for r in rows) for key in rows[0]}
        for name, rows in runs.items()
    }
    shipped, portal = median["as shipped"], median["portal"]
    print(
        f"\n== {args.tasks} tasks a phase, {args.rounds} rounds, medians "
        f"(logs {args.logs}) =="
    )
    print(f"{'':34s}{'as shipped':>14s}{'portal':>10s}{'portal / shipped':>18s}")
    for key, label in (
        ("cpu_ms", "worker CPU per task (ms)"),
        ("sessions", "PostgreSQL sessions per task"),
        ("seconds", "wall time (s)"),
    ):
        ratio = portal[key] / shipped[key] if shipped[key] else float("nan")
        print(f"{label:34s}{shipped[key]:14.3f}{portal[key]:10.3f}{ratio:18.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
