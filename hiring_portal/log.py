"""Log records as one JSON object a line, with no token or secret in any of them.

``settings.LOGGING`` puts :class:`RedactSecretsFilter` on every handler and picks
:class:`JsonFormatter` (production) or a plain text formatter (development) from
``DJANGO_LOG_FORMAT``. Web, worker and beat all log through it: the Celery app hands
its logging to Django's configuration (``hiring_portal/celery.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

from django.conf import settings

# Context the delivery engine passes with ``extra=``; written whenever present.
CONTEXT_FIELDS = (
    "result_id",
    "attempt",
    "feishu_code",
    "log_id",
    "task_id",
    "import_id",
)

REDACTED = "[redacted]"
# Feishu's tenant/app/user access tokens (t-…, a-…, u-…), any Bearer credential,
# and secrets in URLs (scheme://user:password@host).
_TOKEN_PATTERNS = (
    re.compile(r"\b[tau]-[A-Za-z0-9_\-]{16,}"),
    re.compile(r"(?i)\b(Bearer)\s+[A-Za-z0-9._~+/=\-]+"),
    re.compile(
        r"(?i)\b(app_secret|tenant_access_token|access_token|password)"
        r"""(["']?\s*[:=]\s*["']?)[^"'\s,}&]+"""
    ),
    re.compile(r"(?<=://)([^/@\s:]+):[^/@\s]+@"),
)


def _secrets() -> list[str]:
    """The configured secrets' values, longest first; empty when settings are not
    ready (logging is configured while settings load)."""
    try:
        values = [
            getattr(settings, "FEISHU_APP_SECRET", ""),
            getattr(settings, "SECRET_KEY", ""),
        ]
    except Exception:  # settings not configured: nothing known to hide yet
        return []
    return sorted((v for v in values if v and len(v) >= 6), key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` with every secret value and anything shaped like a token hidden."""
    for secret in _secrets():
        text = text.replace(secret, REDACTED)
    text = _TOKEN_PATTERNS[0].sub(REDACTED, text)
    text = _TOKEN_PATTERNS[1].sub(rf"\1 {REDACTED}", text)
    text = _TOKEN_PATTERNS[2].sub(rf"\1\2{REDACTED}", text)
    return _TOKEN_PATTERNS[3].sub(rf"\1:{REDACTED}@", text)


class RedactSecretsFilter(logging.Filter):
    """Render the message, hide secrets in it and in the traceback. Never drops a
    record. Put it on handlers so it sees records from every logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: log what is there
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
            # exc_text now stands for the exception; keep the formatter from
            # rendering the original (unredacted) one again.
            record.exc_info = None
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, str):
                setattr(record, name, redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message,
    process, the delivery context when present, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Plain lines for development, with the delivery context appended."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(
            f"{name}={getattr(record, name)}"
            for name in CONTEXT_FIELDS
            if getattr(record, name, None) is not None
        )
        if not context:
            return line
        head, sep, tail = line.partition("\n")
        return f"{head} [{context}]{sep}{tail}"


def logging_config(*, fmt: str, level: str) -> dict[str, Any]:
    """``settings.LOGGING`` for ``fmt`` ("json" or "text")."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactSecretsFilter}},
        "formatters": {
            "json": {"()": JsonFormatter},
            "text": {"()": TextFormatter},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": fmt,
                "filters": ["redact"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            # gunicorn sets up its own handlers; in each web worker, once Django
            # is loaded, its error and access lines go through this one instead.
            "gunicorn.error": {"handlers": ["console"], "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "propagate": False},
        },
    }
