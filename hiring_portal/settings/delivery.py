"""The delivery engine: leases, retries, the sweeper, reconciliation of unknown
outcomes, the circuit breaker, and the task time limits that must outlast a
lease."""

from .environment import env
from .feishu import FEISHU_CONNECT_TIMEOUT, FEISHU_READ_TIMEOUT

# A claim's lease outlasts a token fetch plus the call, each bounded by connect + read
# timeout, and one refresh-and-retry; and stays under the task's hard time limit.
DELIVERY_LEASE_SECONDS = env.int(
    "DELIVERY_LEASE_SECONDS",
    int(2 * 2 * (FEISHU_CONNECT_TIMEOUT + FEISHU_READ_TIMEOUT)) + 10,
)
DELIVERY_UPLOAD_LEASE_SECONDS = env.int("DELIVERY_UPLOAD_LEASE_SECONDS", 300)
# A task is stopped only after its lease has expired, never before.
CELERY_TASK_TIME_LIMIT = max(
    env.int("CELERY_TASK_TIME_LIMIT", 120), DELIVERY_LEASE_SECONDS + 30
)
CELERY_TASK_SOFT_TIME_LIMIT = max(
    env.int("CELERY_TASK_SOFT_TIME_LIMIT", 100), DELIVERY_LEASE_SECONDS + 10
)
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", 5)
DELIVERY_BACKOFF_BASE_SECONDS = env.float("DELIVERY_BACKOFF_BASE_SECONDS", 10.0)
DELIVERY_BACKOFF_CAP_SECONDS = env.float("DELIVERY_BACKOFF_CAP_SECONDS", 600.0)
DELIVERY_SWEEP_INTERVAL_SECONDS = env.float("DELIVERY_SWEEP_INTERVAL_SECONDS", 30.0)
DELIVERY_SWEEP_BATCH = env.int("DELIVERY_SWEEP_BATCH", 1000)
DELIVERY_DISPATCH_BATCH = env.int("DELIVERY_DISPATCH_BATCH", 200)
# Rows one delivery message carries, at most: each is still claimed, sent and
# written on its own, but the message's cost (the broker, the worker's pool, a
# connection check) is paid once for all of them (bench/delivery_throughput.py).
DELIVERY_TASK_ROWS = max(1, env.int("DELIVERY_TASK_ROWS", 8))
# A delivery message starts no row after this many seconds (its rows take well
# under a second each while Feishu answers promptly); the rows it did not start
# are handed out again at once. Its time limits allow a lease beyond this.
DELIVERY_TASK_START_SECONDS = env.float("DELIVERY_TASK_START_SECONDS", 30.0)
DELIVERY_TASK_SOFT_TIME_LIMIT = int(
    DELIVERY_TASK_START_SECONDS + DELIVERY_LEASE_SECONDS + 10
)
DELIVERY_TASK_TIME_LIMIT = DELIVERY_TASK_SOFT_TIME_LIMIT + 20
# A dispatched row whose message was lost is dispatched again after this long.
DELIVERY_REDISPATCH_AFTER_SECONDS = env.float(
    "DELIVERY_REDISPATCH_AFTER_SECONDS", 300.0
)
# Reconciliation of outcomes that are unknown.
DELIVERY_RECONCILE_SETTLE_SECONDS = env.float("DELIVERY_RECONCILE_SETTLE_SECONDS", 60.0)
DELIVERY_RECONCILE_CLOCK_TOLERANCE_SECONDS = env.float(
    "DELIVERY_RECONCILE_CLOCK_TOLERANCE_SECONDS", 120.0
)
DELIVERY_RECONCILE_BACKOFF_BASE_SECONDS = env.float(
    "DELIVERY_RECONCILE_BACKOFF_BASE_SECONDS", 60.0
)
DELIVERY_RECONCILE_BACKOFF_CAP_SECONDS = env.float(
    "DELIVERY_RECONCILE_BACKOFF_CAP_SECONDS", 3600.0
)
DELIVERY_RECONCILE_GIVE_UP_SECONDS = env.float(
    "DELIVERY_RECONCILE_GIVE_UP_SECONDS", 86400.0
)
DELIVERY_SEARCH_TRUST_GIVE_UP_SECONDS = env.float(
    "DELIVERY_SEARCH_TRUST_GIVE_UP_SECONDS", 3600.0
)
# The circuit breaker.
DELIVERY_BREAKER_FAILURE_THRESHOLD = env.int("DELIVERY_BREAKER_FAILURE_THRESHOLD", 5)
DELIVERY_BREAKER_COOLDOWN_SECONDS = env.float("DELIVERY_BREAKER_COOLDOWN_SECONDS", 30.0)
DELIVERY_BREAKER_MAX_COOLDOWN_SECONDS = env.float(
    "DELIVERY_BREAKER_MAX_COOLDOWN_SECONDS", 600.0
)
DELIVERY_BREAKER_PROBE_WAIT_SECONDS = env.float(
    "DELIVERY_BREAKER_PROBE_WAIT_SECONDS", 5.0
)
