"""Production hardening: logins locked after repeated failures, HTTPS and its
headers, cookies, request size limits, logging."""

from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from hiring_portal.log import logging_config

from .environment import DEBUG, env

# Password guessing (hiring_portal/lockout.py): after AXES_FAILURE_LIMIT failed
# logins a username is locked from that client address, and after
# AXES_ADDRESS_FAILURE_LIMIT failures an address is locked for every username, each
# for AXES_COOLOFF_HOURS (python manage.py axes_reset_username <name> unlocks one
# early). Attempts are kept in the database, so every web server on every machine
# counts the same failures.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", 5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", 50)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", 1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "hiring_portal.lockout.PortalLockoutHandler"
AXES_LOCKOUT_CALLABLE = "hiring_portal.lockout.locked_out"
# Behind N proxies that each append to X-Forwarded-For, the client is the N-th
# entry from the right (hiring_portal.lockout.client_ip).
PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "hiring_portal.lockout.client_ip"

# What a page may load and run: its scripts, styles, images and forms come from the
# portal itself; no inline script, no eval, no plugin, no framing, no form posted
# elsewhere. An injected <script> or onclick= would not run even if some escaping
# failed. Inline style attributes are allowed: Django's admin and the dashboard's
# chart use them, and a style runs no code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

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

# One JSON object a line in production, plain text in development; tokens and the
# app secret never reach a log line either way (hiring_portal/log.py).
DJANGO_LOG_FORMAT = env.str("DJANGO_LOG_FORMAT", default="text" if DEBUG else "json")
if DJANGO_LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("DJANGO_LOG_FORMAT must be json or text.")
LOGGING = logging_config(
    fmt=DJANGO_LOG_FORMAT, level=env.str("DJANGO_LOG_LEVEL", "INFO")
)
