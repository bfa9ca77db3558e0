"""Exports carry results, and candidates' personal data, out of the portal: each
one is an audit event saying who took what, in which format, how many rows, and
with which filters."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from ..models import AuditEvent


def export_record(
    *, actor: User, what: str, fmt: str, rows: int, filters: dict[str, Any]
) -> None:
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.EXPORT,
        actor=actor,
        details={"what": what, "format": fmt, "rows": rows, "filters": filters},
    )
