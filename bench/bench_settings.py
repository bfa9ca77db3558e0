"""Settings for bench/delivery_throughput.py: the project's own, plus what only the
benchmark needs.

``BENCH_DELIVER_RATE_LIMIT`` (e.g. ``25/s``) puts Celery's per-worker ``rate_limit``
on the delivery task, through ``CELERY_TASK_ANNOTATIONS``: the baseline the shared
limiter is compared with. the portal's settings have no such variable (the
portal must never rely on a per-worker limit), so the benchmark adds it here and
passes ``DJANGO_SETTINGS_MODULE=bench.bench_settings`` to its workers. With it,
the workers also install bench/celery_bucket_wakeup.py: one pending wakeup per
rate-limit bucket, without which Celery 5.7 runs a rate-limited task about once a
second after the first second or two of a backlog (issue 15; the cause is in
bench/celery_rate_limit.py). ``BENCH_CELERY_FIXUP_AS_SHIPPED`` gives the workers
database connections as Celery's Django fixup leaves them (bench/task_overhead.py).
"""

import importlib

from hiring_portal.settings import *  # noqa: F403
from hiring_portal.settings import env

_BENCH_RATE_LIMIT = env.str("BENCH_DELIVER_RATE_LIMIT", default="")
if _BENCH_RATE_LIMIT:
    CELERY_TASK_ANNOTATIONS = {
        "exams.tasks.exam_results_deliver_task": {"rate_limit": _BENCH_RATE_LIMIT}
    }
    # Celery's rate_limit counts messages: the baseline sends one row in each.
    DELIVERY_TASK_ROWS = 1
    # By name, like worker_counters below: the bench folder is not a package.
    importlib.import_module("bench.celery_bucket_wakeup")

if env.bool("BENCH_CELERY_FIXUP_AS_SHIPPED", default=False):
    # bench/task_overhead.py's baseline: a connection per task, as Celery does.
    importlib.import_module("bench.celery_fixup_as_shipped")

if env.str("BENCH_QUERY_COUNTER", default=""):
    # Counts the workers' queries (by name: the bench folder is not a package).
    importlib.import_module("bench.worker_counters")
