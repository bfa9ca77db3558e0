"""Why the baseline of bench/delivery_throughput.py crawled (issue 15): Celery's own
``rate_limit``, with nothing of the portal around it.

One Celery app with a no-op task limited to ``--rate`` (25/s, what the baseline
gives each of its two workers), a Redis broker (a database index of its own,
flushed), one worker with ``--concurrency 4``. N messages are queued at once; each
task run pushes its time to a Redis list. Printed: the runs in each second, for
each configuration of acknowledgement and prefetch given (the portal's own is
late acknowledgement with a prefetch multiplier of 1), with Celery as shipped and
with bench/celery_bucket_wakeup.py installed in the worker (``--fix``).

Measured on Celery 5.7 / kombu 5.7 / Redis 7, as shipped: about 25 runs in each
of the first two seconds, then one a second, whatever the configuration. With one
wakeup per bucket: 24-25 runs every second, in every configuration. The crawl is
Celery's and kombu's, not the portal's reaction to a 429.

The cause (line numbers of the installed 5.7.0 sources):

- Every call of ``Consumer._schedule_bucket_request`` that finds the bucket
  without a token schedules a new timer entry that calls it again
  (celery/worker/consumer/consumer.py:350-372), and it is called once per
  message that arrives (``_limit_task``, :374-376) as well as from each of those
  entries while requests wait. Nothing cancels the redundant entries: the timer
  queue grows by one per message that arrives while the bucket is empty of
  tokens (measured: 11 entries after 0.04 s, 64 after 8 s), all due at about
  the same moment, each one rescheduling itself.
- kombu's ``Hub.fire_timers`` fires at most ``max_timers=10`` due entries per loop
  iteration and, when it stops at that cap, returns ``min(delay or min_delay,
  max_delay)`` with ``delay`` None, that is ``min_delay`` = 1 s
  (kombu/asynchronous/hub.py:195-216); the loop then polls with a one-second
  timeout (:397, :406) although entries are overdue (measured: "60 due -> poll
  1.000" every second).
- Nothing wakes that poll early: the requests held in the bucket are unacked
  messages that count against the prefetch (strategy.py:216-217 does not raise
  the QoS for them, unlike an ETA's at :199), so with the prefetch full the Redis
  channel has no BRPOP out, and a no-op task's result is back at once. The
  bucket's capacity is 1 (``TokenBucket(limit, capacity=1)``, consumer.py:313-315):
  each one-second wakeup lets exactly one request through.

So after the first ten or so messages that found no token, about one task a
second. The same family as celery/celery#5927 (open: "Rate limit not working as
expect with redis"); kombu#385 once let ``fire_timers`` return sub-second
delays, but not at the ``max_timers`` cap. Patching only the hub (return 0 at the
cap when entries are still due) does not cure it: the entries keep piling up
(140 after 10 s) and the rate is erratic, 2-20 a second. Keeping one pending
wakeup per bucket does: the queue stays at a handful of entries and the cap is
never reached (bench/celery_bucket_wakeup.py, which the baseline's workers
install).

    .venv/bin/python bench/celery_rate_limit.py [--messages 300] [--seconds 12]
        [--rate 25/s] [--fix both|off|on] [--redis redis://127.0.0.1:6379/12]
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
APP = textwrap.dedent(
    """
    import importlib, os, time, redis
    from celery import Celery
    if os.environ["BUCKET_FIX"] == "1":
        importlib.import_module("bench.celery_bucket_wakeup")
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
    folder: Path,
    broker: str,
    rate: str,
    late: str,
    prefetch: str,
    n: int,
    seconds: int,
    fix: bool,
) -> list[int]:
    store = redis.Redis.from_url(broker)
    store.flushdb()
    env = {
        **os.environ,
        "BROKER": broker,
        "ACKS_LATE": late,
        "PREFETCH": prefetch,
        "RATE": rate,
        "BUCKET_FIX": "1" if fix else "0",
        "PYTHONPATH": os.pathsep.join((str(folder), str(ROOT))),
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
        sys.path[:0] = [str(folder), str(ROOT)]
        os.environ.update(
            {
                k: env[k]
                for k in ("BROKER", "ACKS_LATE", "PREFETCH", "RATE", "BUCKET_FIX")
            }
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
    parser.add_argument(
        "--fix",
        choices=("both", "off", "on"),
        default="both",
        help="bench/celery_bucket_wakeup.py in the worker: without, with, or both",
    )
    args = parser.parse_args()
    fixes = {"both": (False, True), "off": (False,), "on": (True,)}[args.fix]
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "bench_rate_limit_app.py").write_text(APP)
        print(f"{args.messages} messages, rate_limit {args.rate}, one worker x 4:")
        for (late, prefetch), fix in itertools.product(CONFIGURATIONS, fixes):
            counts = run(
                Path(folder),
                args.redis,
                args.rate,
                late,
                prefetch,
                args.messages,
                args.seconds,
                fix,
            )
            print(
                f"  acks_late={late} prefetch={prefetch} "
                f"{'one wakeup per bucket' if fix else 'Celery as shipped   '}: "
                f"{sum(counts)} runs; per second {' '.join(map(str, counts))}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
