"""Login lockout (django-axes) judged on the right address, by the right key.

- The client's address: behind ``DJANGO_PROXY_COUNT`` proxies that each append
  the address they received from to ``X-Forwarded-For``, the client is that many
  entries from the right. Entries further left were written by the client and are
  never trusted; with fewer entries than proxies (a request that bypassed them),
  the connecting address is used.
- The key: failures lock the pair (username, address), so nobody locks a
  colleague out from elsewhere by guessing their password; an address is locked
  for every username after ``AXES_ADDRESS_FAILURE_LIMIT`` failures (a looser
  limit, against one machine trying many usernames).
- The answer says how long the lock lasts.
"""

from __future__ import annotations

import math
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str:
    """The address of the client, as the deployment's proxies reported it."""
    connected = request.META.get("REMOTE_ADDR", "")
    proxies = settings.PROXY_COUNT
    if proxies <= 0:
        return connected
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    if len(forwarded) < proxies:
        return connected
    return forwarded[-proxies]


class PortalLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, with the per-address limit on top of the pair's."""

    def get_failures(
        self, request: Any, credentials: dict[str, Any] | None = None
    ) -> int:
        by_pair = super().get_failures(request, credentials)
        address = getattr(request, "axes_ip_address", None)
        if not address:
            return by_pair
        by_address = (
            AccessAttempt.objects.filter(ip_address=address).aggregate(
                total=Sum("failures_since_start")
            )["total"]
            or 0
        )
        if by_address >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return max(by_pair, get_failure_limit(request, credentials))
        return by_pair


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The admin's own page saying the login is locked, and for how long."""
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else None
    return render(
        request,
        "admin/locked_out.html",
        {
            **admin.site.each_context(request),
            "title": admin.site.site_title,
            "minutes": minutes,
            "failure_limit": get_failure_limit(request, credentials),
        },
        status=429,
    )
