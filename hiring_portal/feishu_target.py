"""Production must deliver to Feishu, never into a sandbox.

A deployment with ``DJANGO_DEBUG=false`` whose ``FEISHU_BASE_URL`` points at a
loopback address, or at a server that answers as the sandbox, would "deliver" every
result into a fake and mark it synced. Both are refused at start-up unless
``FEISHU_ALLOW_SANDBOX=true`` says it is meant (a staging deployment).

- :func:`refuse_loopback` runs while settings load (no network): every process —
  web, worker, beat, management commands — stops with ImproperlyConfigured.
- :func:`refuse_sandbox_server` asks the server itself, once, when a web or worker
  process starts: the sandbox answers ``Server: FeishuSandbox`` and serves
  ``/_sandbox/``. Feishu being unreachable at that moment is not a refusal (the
  delivery engine waits for it); only a server that identifies as the sandbox is.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

SANDBOX_SERVER_HEADER = "FeishuSandbox"
_HELP = (
    "With DJANGO_DEBUG=false the portal refuses to deliver into the Feishu sandbox: "
    "set FEISHU_BASE_URL to https://open.feishu.cn (or https://open.larksuite.com), "
    "or set FEISHU_ALLOW_SANDBOX=true if this deployment is meant to use the sandbox."
)


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    # Names are not resolved here (settings load must not wait on DNS): a name
    # that leads to the sandbox is caught by refuse_sandbox_server().
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    # 0.0.0.0 and :: reach this machine too when connected to.
    return address.is_loopback or address.is_unspecified


def refuse_loopback(base_url: str) -> None:
    """ImproperlyConfigured when ``base_url`` is not an http(s) URL or points at
    this machine (127.0.0.0/8, ::1, localhost, 0.0.0.0)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(f"FEISHU_BASE_URL is not an http(s) URL. {_HELP}")
    if _is_loopback(parts.hostname):
        raise ImproperlyConfigured(
            f"FEISHU_BASE_URL points at this machine ({parts.hostname}): that is "
            f"where the sandbox runs. {_HELP}"
        )


def answers_as_sandbox(base_url: str, timeout: float = 3.0) -> bool | None:
    """True when the server identifies as the sandbox, False when it does not,
    None when it cannot be asked right now."""
    # Settings import this module: loading requests waits until a process asks.
    import requests

    try:
        response = requests.get(
            f"{base_url.rstrip('/')}/_sandbox/config",
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException:
        return None
    return response.headers.get("Server") == SANDBOX_SERVER_HEADER


def refuse_sandbox_server() -> None:
    """At process start: ImproperlyConfigured when production's FEISHU_BASE_URL
    answers as the sandbox (and FEISHU_ALLOW_SANDBOX is not set)."""
    if settings.DEBUG or settings.FEISHU_ALLOW_SANDBOX:
        return
    verdict = answers_as_sandbox(settings.FEISHU_BASE_URL)
    if verdict:
        raise ImproperlyConfigured(
            f"FEISHU_BASE_URL ({settings.FEISHU_BASE_URL}) answers as the Feishu "
            f"sandbox. {_HELP}"
        )
    if verdict is None:
        logger.warning(
            "FEISHU_BASE_URL could not be reached at start-up; delivery waits for it"
        )
