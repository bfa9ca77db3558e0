"""``/healthz`` for load balancers: the state of the database, the broker and the
cache, as JSON; 200 when all answer, 503 otherwise.

A middleware placed first answers it, before ``SecurityMiddleware`` (no redirect to
HTTPS) and before anything calls ``request.get_host()`` (no refusal by
``ALLOWED_HOSTS``): probes come from addresses and with Host headers the portal does
not serve. The answer names each check and, on failure, only the exception's class:
messages can hold URLs with passwords.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from hiring_portal.celery import app

PATH = "/healthz"
BROKER_TIMEOUT_SECONDS = 2


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)


def check_cache() -> None:
    key = f"hp:healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    try:
        if cache.get(key) != "1":
            raise RuntimeError("value written was not read back")
    finally:
        cache.delete(key)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "broker": check_broker,
    "cache": check_cache,
}


def health() -> tuple[bool, dict[str, dict[str, object]]]:
    results: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            check()
        except Exception as error:  # any failure is what the probe reports
            results[name] = {"ok": False, "error": type(error).__name__}
        else:
            results[name] = {"ok": True}
        results[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    return all(r["ok"] for r in results.values()), results


class HealthCheckMiddleware:
    """Answer ``GET``/``HEAD /healthz`` before any other middleware runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.rstrip("/") != PATH or request.method not in (
            "GET",
            "HEAD",
        ):
            return self.get_response(request)
        ok, checks = health()
        response = JsonResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks},
            status=200 if ok else 503,
        )
        response["Cache-Control"] = "no-store"
        return response
