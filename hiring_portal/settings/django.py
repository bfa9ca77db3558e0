"""Django itself: the secret key, hosts, apps, middleware, templates, auth,
languages, static and media files, email."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .environment import BASE_DIR, DEBUG, VAR_DIR, env

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
    # django.contrib.admin with the portal's site (hiring_portal/admin_site.py).
    "hiring_portal.admin_site.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # django-axes, under a name staff read in their language.
    "hiring_portal.third_party.AxesConfig",
    "simple_history",
    "exams",
]

MIDDLEWARE = [
    # First: answers load balancers' probes before any redirect or host check.
    "hiring_portal.healthz.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (production.py): scripts and styles from the portal only.
    "csp.middleware.CSPMiddleware",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

AUTHENTICATION_BACKENDS = [
    # Refuses a login that is locked out before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env.str("DJANGO_LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The name in the admin's header and the browser's title bar; empty: "Exam results
# to Feishu" in the reader's language.
PORTAL_SITE_NAME = env.str("PORTAL_SITE_NAME", default="")
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True
# Times as staff read them in their language (Django 5 always localizes); English
# gets a 24-hour clock with no trailing dot (hiring_portal/formats/en).
FORMAT_MODULE_PATH = ["hiring_portal.formats"]

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

# DJANGO_EMAIL_URL: e.g. smtp+tls://user:password@smtp.example.com:587; the console
# (mail printed to the worker's output) by default while DEBUG.
_email = env.email_url(
    "DJANGO_EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"
)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
DEFAULT_FROM_EMAIL = env.str(
    "DJANGO_DEFAULT_FROM_EMAIL", default="hiring-portal@localhost"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
