"""Settings for hiring_portal, read from the environment with django-environ.

With no environment at all the project runs on the embedded default: SQLite under
``var/``, a Celery broker that needs no server (kombu's filesystem transport) and a
database-backed cache shared by every process on the machine. ``DATABASE_URL`` and
``REDIS_URL`` switch to PostgreSQL and Redis. Every variable is listed in
``.env.example``.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# OS variables win over the file: read_env() never overwrites what is already set.
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

# Everything the embedded default writes (SQLite, broker folders, uploads) lives here.
VAR_DIR = Path(env.str("HIRING_PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env.str(
        "DJANGO_SECRET_KEY",
        default="django-insecure-dev-only-key-never-used-when-DJANGO_DEBUG-is-false",
    )
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. With DJANGO_DEBUG=false the portal refuses "
            "to start without a secret key: set DJANGO_SECRET_KEY to a long random "
            "value (for example: python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))')."
        )

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "simple_history",
    "exams",
]

MIDDLEWARE = [
    # First: answers load balancers' probes before any redirect or host check.
    "hiring_portal.healthz.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The history of a result changed in a request names the staff member.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: locks out a login after repeated failures.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hiring_portal.urls"
WSGI_APPLICATION = "hiring_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
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

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRESQL = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- Cache, broker --------------------------------------------------------------
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

# --- Celery ---------------------------------------------------------------------
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
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any lease or retry delay: the Redis transport redelivers an
        # unacked message after this, which must never happen to a live task.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", 3600),
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True  # the row is the result
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", 120)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", 100)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Feishu calls get their own queue, so imports and other work never delay them.
CELERY_TASK_ROUTES = {
    f"exams.tasks.{name}": {"queue": "feishu"}
    for name in (
        "exam_result_deliver_task",
        "exam_result_upload_report_task",
        "exam_results_reconcile_task",
        "exam_results_check_feishu_task",
        "exam_results_dispatch_due_task",
        "delivery_sweep_task",
    )
}
# A request must not hang on a broker that is down: the sweeper delivers later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 3

# --- Feishu ---------------------------------------------------------------------
# The sandbox while developing; Feishu itself in production.
FEISHU_BASE_URL = env.str(
    "FEISHU_BASE_URL",
    default="http://127.0.0.1:8801" if DEBUG else "https://open.feishu.cn",
)
# Production refuses a loopback or sandbox FEISHU_BASE_URL unless this is set.
FEISHU_ALLOW_SANDBOX = env.bool("FEISHU_ALLOW_SANDBOX", default=False)
if not DEBUG and not FEISHU_ALLOW_SANDBOX:
    from hiring_portal.feishu_target import refuse_loopback

    refuse_loopback(FEISHU_BASE_URL)
FEISHU_APP_ID = env.str("FEISHU_APP_ID", default="cli_sandbox" if DEBUG else "")
FEISHU_APP_SECRET = env.str(
    "FEISHU_APP_SECRET", default="sandbox-secret" if DEBUG else ""
)
FEISHU_USER_ID_TYPE = env.str("FEISHU_USER_ID_TYPE", default="open_id")
FEISHU_CONNECT_TIMEOUT = env.float("FEISHU_CONNECT_TIMEOUT", 5.0)
FEISHU_READ_TIMEOUT = env.float("FEISHU_READ_TIMEOUT", 20.0)
# Feishu's limits for each hire API, per app; headroom keeps a share free for other
# programs that use the same app; the margin widens each window a little because
# calls spaced a window apart here may arrive closer together at Feishu.
FEISHU_RATE_PER_SECOND = env.int("FEISHU_RATE_PER_SECOND", 50)
FEISHU_RATE_PER_MINUTE = env.int("FEISHU_RATE_PER_MINUTE", 1000)
FEISHU_RATE_HEADROOM = env.float("FEISHU_RATE_HEADROOM", 0.0)
FEISHU_RATE_WINDOW_MARGIN = env.float("FEISHU_RATE_WINDOW_MARGIN", 0.25)
FEISHU_RATE_MINUTE_WINDOW_MARGIN = env.float("FEISHU_RATE_MINUTE_WINDOW_MARGIN", 1.0)
if not DEBUG and not (FEISHU_APP_ID and FEISHU_APP_SECRET):
    raise ImproperlyConfigured(
        "FEISHU_APP_ID and FEISHU_APP_SECRET must be set when DJANGO_DEBUG=false: "
        "they are the credentials of the Feishu app that delivers exam results."
    )

# --- Delivery ---------------------------------------------------------------------
# A claim's lease outlasts a token fetch plus the call, each bounded by connect + read
# timeout, and one refresh-and-retry; and stays under the task's hard time limit.
DELIVERY_LEASE_SECONDS = env.int(
    "DELIVERY_LEASE_SECONDS",
    int(2 * 2 * (FEISHU_CONNECT_TIMEOUT + FEISHU_READ_TIMEOUT)) + 10,
)
DELIVERY_UPLOAD_LEASE_SECONDS = env.int("DELIVERY_UPLOAD_LEASE_SECONDS", 300)
if DELIVERY_LEASE_SECONDS >= CELERY_TASK_TIME_LIMIT:
    CELERY_TASK_TIME_LIMIT = DELIVERY_LEASE_SECONDS + 30
    CELERY_TASK_SOFT_TIME_LIMIT = DELIVERY_LEASE_SECONDS + 10
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", 5)
DELIVERY_BACKOFF_BASE_SECONDS = env.float("DELIVERY_BACKOFF_BASE_SECONDS", 10.0)
DELIVERY_BACKOFF_CAP_SECONDS = env.float("DELIVERY_BACKOFF_CAP_SECONDS", 600.0)
DELIVERY_SWEEP_INTERVAL_SECONDS = env.float("DELIVERY_SWEEP_INTERVAL_SECONDS", 30.0)
DELIVERY_SWEEP_BATCH = env.int("DELIVERY_SWEEP_BATCH", 1000)
DELIVERY_DISPATCH_BATCH = env.int("DELIVERY_DISPATCH_BATCH", 200)
# A dispatched row whose message was lost is dispatched again after this long.
DELIVERY_REDISPATCH_AFTER_SECONDS = env.float(
    "DELIVERY_REDISPATCH_AFTER_SECONDS", 300.0
)
# Reconciliation of outcomes that are unknown.
RECONCILE_SETTLE_SECONDS = env.float("RECONCILE_SETTLE_SECONDS", 60.0)
RECONCILE_CLOCK_TOLERANCE_SECONDS = env.float(
    "RECONCILE_CLOCK_TOLERANCE_SECONDS", 120.0
)
RECONCILE_BACKOFF_BASE_SECONDS = env.float("RECONCILE_BACKOFF_BASE_SECONDS", 60.0)
RECONCILE_BACKOFF_CAP_SECONDS = env.float("RECONCILE_BACKOFF_CAP_SECONDS", 3600.0)
RECONCILE_GIVE_UP_SECONDS = env.float("RECONCILE_GIVE_UP_SECONDS", 86400.0)
SEARCH_TRUST_GIVE_UP_SECONDS = env.float("SEARCH_TRUST_GIVE_UP_SECONDS", 3600.0)
# The circuit breaker.
BREAKER_FAILURE_THRESHOLD = env.int("BREAKER_FAILURE_THRESHOLD", 5)
BREAKER_COOLDOWN_SECONDS = env.float("BREAKER_COOLDOWN_SECONDS", 30.0)
BREAKER_MAX_COOLDOWN_SECONDS = env.float("BREAKER_MAX_COOLDOWN_SECONDS", 600.0)
BREAKER_PROBE_WAIT_SECONDS = env.float("BREAKER_PROBE_WAIT_SECONDS", 5.0)

CELERY_BEAT_SCHEDULE = {
    "sweep-deliveries": {
        "task": "exams.tasks.delivery_sweep_task",
        "schedule": DELIVERY_SWEEP_INTERVAL_SECONDS,
        "options": {"expires": DELIVERY_SWEEP_INTERVAL_SECONDS},
    },
    "expire-import-previews": {
        "task": "exams.tasks.import_batches_expire_task",
        "schedule": 3600.0,
        "options": {"expires": 600},
    },
    "sweep-imports": {
        "task": "exams.tasks.import_batches_sweep_task",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
}

# --- Auth, i18n, static ---------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # Refuses a login that is locked out before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Password guessing: after AXES_FAILURE_LIMIT failed logins a username is locked,
# and so is the client address, for AXES_COOLOFF_HOURS (python manage.py
# axes_reset_username <name> unlocks one early). Attempts are kept in the database,
# so every web server on every machine counts the same failures.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", 1.0)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# Behind N proxies that append to X-Forwarded-For, the client is N hops back.
AXES_IPWARE_PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", 0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    if AXES_IPWARE_PROXY_COUNT
    else ["REMOTE_ADDR"]
)

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Production hardening -------------------------------------------------------
# Behind a proxy that terminates TLS: DJANGO_SECURE_PROXY_SSL_HEADER=true trusts its
# X-Forwarded-Proto (only when the proxy always sets it), and
# DJANGO_SECURE_SSL_REDIRECT=false when the proxy already redirects http to https.
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe /healthz over plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG
)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", 8 * 3600)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
X_FRAME_OPTIONS = "DENY"
# Preloading commits the whole domain to HTTPS for good: the owner of the domain
# decides (DJANGO_SECURE_HSTS_PRELOAD=true), docs/deploy.md explains the warning.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Request bodies: form fields are held in memory up to this; uploaded files above
# FILE_UPLOAD_MAX_MEMORY_SIZE go to a temporary file. The report (PDF/JPG/PNG, 100 MB)
# and import (CSV/XLSX, EXAMS_IMPORT_MAX_BYTES) checks bound each file; the proxy in
# front bounds the whole request (docs/deploy.md).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_FILE_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)

# --- Logging --------------------------------------------------------------------
# One JSON object a line in production, plain text in development; tokens and the
# app secret never reach a log line either way (hiring_portal/log.py).
DJANGO_LOG_FORMAT = env.str("DJANGO_LOG_FORMAT", default="text" if DEBUG else "json")
if DJANGO_LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("DJANGO_LOG_FORMAT must be json or text.")
from hiring_portal.log import logging_config  # noqa: E402

LOGGING = logging_config(
    fmt=DJANGO_LOG_FORMAT, level=env.str("DJANGO_LOG_LEVEL", "INFO")
)

# --- The change list at scale ---------------------------------------------------
# Above this many rows the admin shows "more than N" instead of counting them all.
EXAMS_CHANGELIST_COUNT_LIMIT = env.int("EXAMS_CHANGELIST_COUNT_LIMIT", 10_000)
# Spreadsheet imports: larger files are written by a worker, previews expire, and
# uploads above the size are refused.
EXAMS_IMPORT_BACKGROUND_ROWS = env.int("EXAMS_IMPORT_BACKGROUND_ROWS", 5000)
EXAMS_IMPORT_PREVIEW_TTL_HOURS = env.int("EXAMS_IMPORT_PREVIEW_TTL_HOURS", 24)
EXAMS_IMPORT_MAX_BYTES = env.int("EXAMS_IMPORT_MAX_BYTES", 50 * 1024 * 1024)
# A confirmed import still waiting for a worker after this long is sent again (its
# message was lost, e.g. the broker was down).
EXAMS_IMPORT_REQUEUE_SECONDS = env.int("EXAMS_IMPORT_REQUEUE_SECONDS", 120)
# The dashboard counts each status up to this many results, then shows "N+".
EXAMS_DASHBOARD_COUNT_LIMIT = env.int("EXAMS_DASHBOARD_COUNT_LIMIT", 10_000)

# --- Email, alerts, retention, dashboard ----------------------------------------
# DJANGO_EMAIL_URL: e.g. smtp+tls://user:password@smtp.example.com:587; the console
# (mail printed to the worker's output) by default while DEBUG.
vars().update(
    env.email_url(
        "DJANGO_EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"
    )
)
DEFAULT_FROM_EMAIL = env.str(
    "DJANGO_DEFAULT_FROM_EMAIL", default="hiring-portal@localhost"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Links in emails point here.
HIRING_PORTAL_BASE_URL = env.str(
    "HIRING_PORTAL_BASE_URL", default="http://127.0.0.1:8000"
).rstrip("/")
# Senders are told when the oldest pending result has waited longer than this.
EXAMS_ALERT_PENDING_MINUTES = env.int("EXAMS_ALERT_PENDING_MINUTES", 30)
# Failed or unknown results older than this are not alerted about any more.
EXAMS_ALERT_LOOKBACK_HOURS = env.int("EXAMS_ALERT_LOOKBACK_HOURS", 48)
EXAMS_ALERT_INTERVAL_SECONDS = env.float("EXAMS_ALERT_INTERVAL_SECONDS", 60.0)
CELERY_BEAT_SCHEDULE["check-alerts"] = {
    "task": "exams.tasks.alerts_check_task",
    "schedule": EXAMS_ALERT_INTERVAL_SECONDS,
    "options": {"expires": EXAMS_ALERT_INTERVAL_SECONDS},
}
# purge_candidate_data removes candidates' data older than this (PIPL).
EXAMS_RETENTION_DAYS = env.int("EXAMS_RETENTION_DAYS", 365)
# How long the admin dashboard's figures may be reused (at most 60 seconds).
EXAMS_DASHBOARD_CACHE_SECONDS = env.int("EXAMS_DASHBOARD_CACHE_SECONDS", 60)

# --- History (django-simple-history) ----------------------------------------------
# Reverting a result from its history would bypass the services' state checks.
SIMPLE_HISTORY_REVERT_DISABLED = True
# Lists of changes are read newest first, per result or across all.
SIMPLE_HISTORY_DATE_INDEX = "composite"
