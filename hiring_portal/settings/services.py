"""The database, the cache and the Celery broker.

With no environment at all: SQLite under ``var/``, a database-backed cache shared
by every process on the machine, and kombu's filesystem broker (no server).
``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis.
"""

from .environment import VAR_DIR, env

DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'hiring_portal.sqlite3'}"
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat write at once on the embedded default: WAL lets readers
    # run beside the writer, IMMEDIATE takes the write lock at BEGIN (so a transaction
    # never fails half-way on an upgrade from read to write), and the busy timeout
    # makes a writer wait for the lock instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA busy_timeout=30000;"
            "PRAGMA foreign_keys=ON;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", 60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
IS_POSTGRESQL = DATABASES["default"]["ENGINE"].endswith("postgresql")

# Redis, when set, is the broker, the cache, the rate limiter and the token store.
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "hp",
        }
    }
else:
    # A table in the embedded database is the cache that every process on the
    # machine shares (web, worker, beat), with atomic add() for locks.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "hiring_portal_cache",
            "KEY_PREFIX": "hp",
        }
    }

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    # kombu's filesystem transport expects its folders to exist.
    for _folder in ("queue", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # How long an idle worker sleeps before looking at the folder again, and
        # also how long one whose prefetch slots are busy waits before taking the
        # next message: kombu's 1 s held the embedded default to one result a
        # second per pool process. A folder listing 20 times a second is cheap.
        "polling_interval": env.float("CELERY_BROKER_POLLING_INTERVAL", 0.05),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any lease or retry delay: the Redis transport redelivers an
        # unacked message after this, which must never happen to a live task.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", 3600),
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker keeps trying to reach a broker that restarts or fails over, however
# long it takes (Celery's default gives up, and exits, after 100 tries).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A request must not hang on a broker that is down: the sweeper delivers later.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True  # the row is the result
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
