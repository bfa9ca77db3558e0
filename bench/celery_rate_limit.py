"""Why the baseline of bench/delivery_throughput.py crawls (issue 15): Celery's own
``rate_limit``, with nothing of the portal around it.

One Celery app with a no-op task limited to ``--rate`` (25/s, what the baseline
gives each of its two workers), a Redis broker (a database index of its own,
flushed), one worker with ``--concurrency 4``. N messages are queued at once; each
task run pushes its time to a Redis list. Printed: the runs in each second, for
each configuration of acknowledgement and prefetch given (the portal's own is
late acknowledgement with a prefetch multiplier of 1).

Measured on Celery 5.7 / kombu 5.7 / Redis 7: about 25 runs in each of the first
two seconds, then one a second, whatever the configuration. The baseline's crawl
after its first 429s is this, not the portal's reaction to a 429 (which blocks
the shared limiter until Feishu's reset and defers rows without spending an
attempt; the shared limiter's phase shows it delivering at Feishu's ceiling).

    .venv/bin/python bench/celery_rate_limit.py [--messages 300] [--seconds 12]
        [--redis redis://127.0.0.1:6379/12]
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import redis

APP = textwrap.dedent(
    """
    import os, time, redis
    from celery import Celery
    app = Celery("bench_rate_limit", broker=os.environ["BROKER"])
    app.conf.update(
        task_acks_late=os.environ["ACKS_LATE"] == "1",
        worker_prefetch_multiplier=int(os.environ["PREFETCH"]),
        task_ignore_result=True,
    )
    runs = redis.Redis.from_url(os.environ["BROKER"])
    @app.task(rate_limit=os.environ["RATE"])
    def limited(i):
        runs.rpush("bench:runs", time.time())
    """
)
CONFIGURATIONS = (("1", "1"), ("0", "1"), ("1", "4"))


def run(
    folder: Path, broker: str, rate: str, late: str, prefetch: str, n: int, seconds: int
) -> list[int]:
    store = redis.Redis.from_url(broker)
    store.flushdb()
    env = {
        **os.environ,
        "BROKER": broker,
        "ACKS_LATE": late,
        "PREFETCH": prefetch,
        "RATE": rate,
        "PYTHONPATH": str(folder),
    }
    celery = str(Path(sys.executable).parent / "celery")
    worker = subprocess.Popen(
        [
            celery,
            "-A",
            "bench_rate_limit_app",
            "worker",
            "--concurrency",
            "4",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        sys.path.insert(0, str(folder))
        os.environ.update(
            {k: env[k] for k in ("BROKER", "ACKS_LATE", "PREFETCH", "RATE")}
        )
        import bench_rate_limit_app as app  # type: ignore[import-not-found]

        time.sleep(4)  # the worker ready
        started = time.time()
        for i in range(n):
            app.limited.delay(i)
        time.sleep(seconds)
        runs = [float(t) for t in store.lrange("bench:runs", 0, -1)]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        store.flushdb()
    per_second = collections.Counter(int(t - started) for t in runs)
    return [per_second[s] for s in range(seconds)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--rate", default="25/s")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "bench_rate_limit_app.py").write_text(APP)
        print(f"{args.messages} messages, rate_limit {args.rate}, one worker x 4:")
        for late, prefetch in CONFIGURATIONS:
            counts = run(
                Path(folder),
                args.redis,
                args.rate,
                late,
                prefetch,
                args.messages,
                args.seconds,
            )
            print(
                f"  acks_late={late} prefetch={prefetch}: {sum(counts)} runs; "
                f"per second {' '.join(map(str, counts))}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
