"""Writing exam results with their history, in bulk as cheaply as one at a time.

- ``save_recorded`` / ``delete_recorded``: ``save()`` / ``delete()`` as
  simple-history records them, with who and through what.
- ``bulk_create_recorded``: simple-history's ``bulk_create_with_history``.
- ``update_recorded``: one locking SELECT, one UPDATE and one INSERT of snapshots
  per chunk of rows (simple-history's ``bulk_history_create``), whatever the number
  of rows: the same values for all, as a bulk action or an import sets them.
- ``record_snapshots``: the delivery engine's conditional updates, which know the
  row and the values they wrote.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Expression
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from .history import recorded_as
from .results import ExamResult, ExamResultQuerySet

CHUNK = 2000


def save_recorded(
    result: ExamResult,
    *,
    actor: AbstractBaseUser | None,
    source: str,
    update_fields: Sequence[str] | None = None,
) -> None:
    """Save ``result``; its history says who and through what. A save that changes
    no tracked field records nothing."""
    with recorded_as(actor=actor, source=source):
        result.save(update_fields=update_fields)


def delete_recorded(
    result: ExamResult, *, actor: AbstractBaseUser | None, source: str
) -> None:
    """Delete a result; its history (and what it held) remains."""
    with recorded_as(actor=actor, source=source):
        result.delete()


def bulk_create_recorded(
    results: Sequence[ExamResult],
    *,
    actor: AbstractBaseUser | None,
    source: str,
    batch_size: int = CHUNK,
) -> list[ExamResult]:
    """Insert many new results, each with its "created" entry.

    Needs a backend that returns primary keys from a bulk insert (PostgreSQL, and
    SQLite 3.35+), so the history can point at the rows.
    """
    # One time for the batch: Django then inserts it in one statement's fast path.
    now = timezone.now()
    with recorded_as(actor=actor, source=source), transaction.atomic():
        return list(
            bulk_create_with_history(
                list(results),
                ExamResult,
                batch_size=batch_size,
                default_user=actor,
                default_date=now,
                custom_historical_attrs={"source": source},
            )
        )


def update_recorded(
    queryset: ExamResultQuerySet,
    *,
    actor: AbstractBaseUser | None,
    source: str,
    reason: str = "",
    **values: Any,
) -> list[int]:
    """UPDATE the rows of ``queryset`` with ``values`` and record a snapshot of each
    row whose tracked fields changed (of every row, when a ``reason`` says why staff
    acted). Returns the ids of the rows updated.

    Rows are locked while read (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
    IMMEDIATE transactions hold the write lock throughout), so a concurrent change
    cannot slip between the read and the write.
    """
    tracked = [name for name in values if name in ExamResult.TRACKED_FIELDS]
    for name in tracked:
        if isinstance(values[name], Expression):
            raise ValueError(
                f"{name}: a tracked field needs a value, not an expression"
            )
    changed: list[ExamResult] = []
    ids: list[int] = []
    with transaction.atomic():
        rows = list(
            queryset.order_by().select_for_update().only(*ExamResult.TRACKED_FIELDS)
        )
        ids = [row.pk for row in rows]
        for start in range(0, len(ids), CHUNK):
            ExamResult.objects.filter(
                pk__in=ids[start : start + CHUNK]
            )._update_unrecorded(**values)
        for row in rows:
            before = row.tracked_values()
            for name in tracked:
                setattr(row, name, values[name])
            if reason or row.tracked_values() != before:
                changed.append(row)
        record_snapshots(changed, actor=actor, source=source, reason=reason)
    return ids


def record_snapshots(
    results: Iterable[ExamResult],
    *,
    actor: AbstractBaseUser | None,
    source: str,
    reason: str = "",
) -> None:
    """Record the current values of ``results`` as changes the caller made itself
    (the delivery engine's conditional updates)."""
    rows = list(results)
    if not rows:
        return
    ExamResult.history.bulk_history_create(  # type: ignore[attr-defined]
        rows,
        batch_size=CHUNK,
        update=True,
        default_user=actor,
        default_date=timezone.now(),
        default_change_reason=reason,
        custom_historical_attrs={"source": source},
    )
