"""The reviewers' side of the audit trail: every call to Feishu, change, score
correction and audit event, filtered, and their CSV export.

History itself is written by simple-history (exams.models.history) and read by
exams.audit.history; every call to Feishu by exams.delivery. Nothing here changes
either.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ..importing.columns import neutralise
from ..models import AuditEvent, HistoricalExamResult, ScoreCorrection, SyncAttempt
from ..wording import render
from .hints import attempt_hint
from .history import (
    Change,
    actor_label,
    as_changes,
    changes_setting_status,
    with_previous,
)

Outcome = SyncAttempt.Outcome
CSV_CHUNK = 2000

# --- the reviewers' lists ----------------------------------------------------------------

SYSTEM = "system"


@dataclass
class AuditFilters:
    """What a reviewer narrowed the audit to; every field optional."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    person: str = ""
    outcome: str = ""
    status: str = ""
    source: str = ""
    code: int | None = None
    exam: str = ""
    application_id: str = ""

    def _day_start(self, day: dt.date) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

    def time_range(self, field: str) -> Q:
        q = Q()
        if self.date_from:
            q &= Q(**{f"{field}__gte": self._day_start(self.date_from)})
        if self.date_to:
            end = self._day_start(self.date_to + dt.timedelta(days=1))
            q &= Q(**{f"{field}__lt": end})
        return q

    def result_q(self, prefix: str = "result__") -> Q:
        q = Q()
        if self.exam:
            q &= Q(**{f"{prefix}exam_resource_name__icontains": self.exam})
        if self.application_id:
            q &= Q(**{f"{prefix}application_id__startswith": self.application_id})
        return q


def attempts_for(filters: AuditFilters) -> QuerySet[SyncAttempt]:
    """Calls to Feishu, newest first. "Person" is who entered the result."""
    qs = SyncAttempt.objects.select_related("result", "result__entered_by").filter(
        filters.time_range("started_at") & filters.result_q()
    )
    if filters.outcome:
        qs = qs.filter(outcome=filters.outcome)
    if filters.code is not None:
        qs = qs.filter(feishu_code=filters.code)
    if filters.person == SYSTEM:
        qs = qs.filter(result__entered_by__isnull=True)
    elif filters.person:
        qs = qs.filter(result__entered_by__username=filters.person)
    return qs.order_by("-started_at", "-id")


def changes_for(filters: AuditFilters) -> QuerySet[Any]:
    """Snapshots of results, newest first, each annotated with the one before it.
    "Person" is who made the change. The snapshot holds the result's own values,
    so the history of a deleted draft is found like any other."""
    qs = HistoricalExamResult.objects.select_related(
        "history_user", "entered_by"
    ).filter(filters.time_range("history_date") & filters.result_q(prefix=""))
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.person == SYSTEM:
        qs = qs.filter(history_user__isnull=True)
    elif filters.person:
        qs = qs.filter(history_user__username=filters.person)
    if filters.status:
        qs = changes_setting_status(qs, filters.status)
    return with_previous(qs).order_by("-history_date", "-history_id")


def corrections_for(filters: AuditFilters) -> QuerySet[ScoreCorrection]:
    qs = ScoreCorrection.objects.select_related("result", "corrected_by").filter(
        filters.time_range("created_at") & filters.result_q()
    )
    if filters.person and filters.person != SYSTEM:
        qs = qs.filter(corrected_by__username=filters.person)
    return qs.order_by("-created_at", "-id")


def events_for(filters: AuditFilters) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.select_related("actor").filter(
        filters.time_range("occurred_at")
    )
    if filters.person and filters.person != SYSTEM:
        qs = qs.filter(
            Q(actor__username=filters.person) | Q(actor_label=filters.person)
        )
    return qs.order_by("-occurred_at", "-id")


def _when(value: dt.datetime | None) -> str:
    return timezone.localtime(value).isoformat() if value else ""


def attempt_row(attempt: SyncAttempt) -> list[Any]:
    result = attempt.result
    return [
        _when(attempt.started_at),
        attempt.result_id,
        result.application_id,
        result.exam_resource_name,
        actor_label(result.entered_by),
        attempt.get_call_display(),
        attempt.get_outcome_display(),
        attempt.duration_ms,
        attempt.http_status,
        attempt.feishu_code,
        render(attempt.feishu_msg),
        attempt_hint(attempt),
        attempt.log_id,
        attempt.request_body,
        attempt.response_body,
    ]


def change_row(change: Change) -> list[Any]:
    record = change.record
    return [
        _when(change.changed_at),
        change.result_id,
        record.application_id,
        record.exam_resource_name,
        change.who,
        change.source_display,
        change.kind_display,
        change.reason_display,
        "; ".join(f"{d.label}: {d.old} → {d.new}" for d in change.diffs),
    ]


def correction_row(correction: ScoreCorrection) -> list[Any]:
    return [
        _when(correction.created_at),
        correction.result_id,
        correction.result.application_id,
        correction.result.exam_resource_name,
        actor_label(correction.corrected_by),
        correction.previous_score,
        correction.new_score,
        correction.reason,
    ]


def event_row(event: AuditEvent) -> list[Any]:
    return [
        _when(event.occurred_at),
        event.get_kind_display(),
        event.actor.get_username() if event.actor else event.actor_label,
        json.dumps(event.details, ensure_ascii=False, sort_keys=True),
    ]


def csv_headers(view: str) -> list[str]:
    headers = {
        "attempts": [
            _("started at"),
            _("result"),
            _("application ID"),
            _("exam name"),
            _("entered by"),
            _("call"),
            _("outcome"),
            _("duration (ms)"),
            _("HTTP status"),
            _("Feishu code"),
            _("Feishu message"),
            _("what it means"),
            _("log ID"),
            _("request sent"),
            _("answer"),
        ],
        "changes": [
            _("changed at"),
            _("result"),
            _("application ID"),
            _("exam name"),
            _("changed by"),
            _("through"),
            _("kind"),
            _("why"),
            _("changes"),
        ],
        "corrections": [
            _("recorded at"),
            _("result"),
            _("application ID"),
            _("exam name"),
            _("recorded by"),
            _("score before the correction"),
            _("corrected score"),
            _("why"),
        ],
        "events": [_("when"), _("kind"), _("by"), _("details")],
    }
    return headers[view]


def _as_is(items: list[Any]) -> list[Any]:
    return items


# view: (the filtered queryset, how a page of its items is read, one CSV row)
ROWS: dict[
    str,
    tuple[
        Callable[[AuditFilters], QuerySet[Any]],
        Callable[[list[Any]], list[Any]],
        Callable[[Any], list[Any]],
    ],
] = {
    "attempts": (attempts_for, _as_is, attempt_row),
    "changes": (changes_for, as_changes, change_row),
    "corrections": (corrections_for, _as_is, correction_row),
    "events": (events_for, _as_is, event_row),
}


def page_items(view: str, filters: AuditFilters, start: int, count: int) -> list[Any]:
    """``count`` items of the filtered list from ``start``, read as the view shows
    them (changes with their diffs)."""
    select, read, _row = ROWS[view]
    return read(list(select(filters)[start : start + count]))


def csv_chunks(view: str, filters: AuditFilters) -> Iterator[bytes]:
    """The filtered list as CSV, streamed a few hundred rows at a time, with a BOM
    so Excel reads UTF-8; cells that a spreadsheet would run as formulas are
    neutralised."""
    select, read, to_row = ROWS[view]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_headers(view))
    yield codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    items: Iterable[Any] = select(filters).iterator(chunk_size=CSV_CHUNK)
    while batch := list(itertools.islice(items, 500)):
        for item in read(batch):
            writer.writerow(
                [neutralise("" if v is None else str(v)) for v in to_row(item)]
            )
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
