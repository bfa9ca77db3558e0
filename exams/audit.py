"""The review side of the audit trail: readable diffs, explanations of Feishu's
answers, the reviewers' filtered lists and their CSV export, and score corrections
made by hand in Feishu.

History itself is written by exams.history; every call to Feishu by
exams.delivery. Nothing here changes either.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import localize
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .importing.reading import neutralise
from .models import (
    AuditEvent,
    ExamResult,
    ExamResultChange,
    ScoreCorrection,
    SyncAttempt,
)
from .validation import parse_score

Status = ExamResult.Status
Outcome = SyncAttempt.Outcome
CSV_CHUNK = 2000

# The Feishu codes staff meet most, and what to do about each. Feishu's own message
# is shown beside the hint exactly as Feishu sent it.
# https://open.feishu.cn/document/server-docs/getting-started/server-error-codes
CODE_HINTS = {
    1002002: gettext_lazy(
        "Parameter error: Feishu refused a value. Check the application ID (it must "
        "be an existing application of this tenant), the exam name, the score (one "
        "decimal place, not negative) and the operator ID (issued for this app), "
        "correct the result, then send it again."
    ),
    99991672: gettext_lazy(
        "The Feishu app lacks the permission %(scopes)s. Grant it in the Feishu "
        "developer console (Permissions & Scopes), publish a new app version, and "
        "delivery resumes by itself."
    ),
    99991400: gettext_lazy(
        "Feishu's rate limit was reached. Nothing to fix: the portal waits until "
        "Feishu allows calls again and sends the result then. If this happens often, "
        "another program may be using the same app's quota."
    ),
    1002001: gettext_lazy(
        "Feishu had an internal error and may or may not have recorded the result. "
        "The portal reconciles it against Feishu's test records (tests/search) "
        "before sending anything again, so it is never recorded twice."
    ),
    99991663: gettext_lazy(
        "The access token was refused; the portal fetched a new one by itself."
    ),
    99991661: gettext_lazy(
        "The access token was missing or malformed; the portal fetched a new one "
        "by itself."
    ),
}
DEFAULT_SCOPE = "hire:exam"


def missing_scopes(response_body: str) -> list[str]:
    """The scopes Feishu says the app lacks, from a 99991672 answer."""
    try:
        payload = json.loads(response_body or "{}")
    except ValueError:
        return []
    error = (payload.get("error") or {}) if isinstance(payload, dict) else {}
    violations = error.get("permission_violations") or []
    return [str(v["subject"]) for v in violations if v.get("subject")]


def code_hint(code: int | None, response_body: str = "") -> str:
    """What a Feishu code means for staff, translated; "" for codes without one."""
    if code is None or code not in CODE_HINTS:
        return ""
    hint = str(CODE_HINTS[code])
    if code == 99991672:
        scopes = missing_scopes(response_body) or [DEFAULT_SCOPE]
        hint = hint % {"scopes": ", ".join(scopes)}
    return hint


def attempt_hint(attempt: SyncAttempt) -> str:
    hint = code_hint(attempt.feishu_code, attempt.response_body)
    if hint:
        return hint
    if attempt.http_status == 429:
        return code_hint(99991400)
    return ""


def pretty_body(body: str) -> str:
    """A JSON body indented for reading; anything else as it is."""
    try:
        return json.dumps(json.loads(body), ensure_ascii=False, indent=2)
    except ValueError:
        return body


# --- readable diffs ------------------------------------------------------------------


@dataclass(frozen=True)
class FieldDiff:
    label: str
    old: str
    new: str


def field_label(name: str) -> str:
    try:
        return str(ExamResult._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def display_value(name: str, value: Any) -> str:
    """A recorded value as staff read it: choices by their label, times local."""
    if value is None or value == "":
        return "—"
    if name == "status":
        return str(Status(value).label) if value in Status.values else str(value)
    if name == "operate_time" and isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is not None:
            return localize(timezone.localtime(parsed))
    return str(value)


def change_diffs(change: ExamResultChange) -> list[FieldDiff]:
    """The fields one change touched, old → new, in the model's field order."""
    order = {name: i for i, name in enumerate(ExamResult.TRACKED_FIELDS)}
    items = sorted(
        (change.changes or {}).items(), key=lambda item: order.get(item[0], 99)
    )
    return [
        FieldDiff(field_label(name), display_value(name, old), display_value(name, new))
        for name, (old, new) in items
    ]


def actor_label(user: AbstractBaseUser | None) -> str:
    """Who made a change: the login, or the system (the delivery engine, beat)."""
    return user.get_username() if user is not None else _("System")


# --- score corrections ------------------------------------------------------------------


def score_correction_record(
    *,
    result: ExamResult,
    new_score: Any,
    reason: str,
    actor: AbstractBaseUser,
) -> ScoreCorrection:
    """Record that a delivered result's score was corrected by hand in Feishu.

    The result itself is not changed: Feishu has no API to update an exam result,
    and the score the portal sent stays visible beside the correction.
    """
    score = parse_score(new_score)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            _("Say why the score was corrected."), code="reason_required"
        )
    with transaction.atomic():
        locked = (
            ExamResult.objects.select_for_update()
            .only("status", "score")
            .get(pk=result.pk)
        )
        if locked.status != Status.SYNCED:
            raise ValidationError(
                _(
                    "Only a delivered result can have a correction made in Feishu "
                    "recorded; this one is %(status)s. Change it and send it instead."
                )
                % {"status": locked.get_status_display()},
                code="not_synced",
            )
        latest = (
            ScoreCorrection.objects.filter(result_id=result.pk)
            .order_by("-created_at", "-id")
            .values_list("new_score", flat=True)
            .first()
        )
        previous = latest if latest is not None else locked.score
        if Decimal(previous) == score:
            raise ValidationError(
                _("The score in Feishu is already %(score)s.") % {"score": score},
                code="unchanged",
            )
        return ScoreCorrection.objects.create(
            result_id=result.pk,
            previous_score=previous,
            new_score=score,
            corrected_by=actor,
            reason=reason,
        )


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


def changes_for(filters: AuditFilters) -> QuerySet[ExamResultChange]:
    """Field-level history, newest first. "Person" is who made the change."""
    qs = ExamResultChange.objects.select_related("actor", "result").filter(
        filters.time_range("changed_at") & filters.result_q()
    )
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.person == SYSTEM:
        qs = qs.filter(actor__isnull=True)
    elif filters.person:
        qs = qs.filter(actor__username=filters.person)
    if filters.status:
        # Changes that set this status (the recorded value: the history of a
        # deleted draft has no row to join).
        qs = qs.filter(changes__status__1=filters.status)
    return qs.order_by("-changed_at", "-id")


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
        attempt.feishu_msg,
        attempt_hint(attempt),
        attempt.log_id,
        attempt.request_body,
        attempt.response_body,
    ]


def change_row(change: ExamResultChange) -> list[Any]:
    result = change.result if _result_exists(change) else None
    return [
        _when(change.changed_at),
        change.result_id,
        result.application_id if result else _value(change, "application_id"),
        result.exam_resource_name if result else _value(change, "exam_resource_name"),
        actor_label(change.actor),
        change.get_source_display(),
        change.get_kind_display(),
        "; ".join(f"{d.label}: {d.old} → {d.new}" for d in change_diffs(change)),
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


def _result_exists(change: ExamResultChange) -> bool:
    # The history of a deleted draft outlives it (no database constraint).
    try:
        return change.result is not None
    except ExamResult.DoesNotExist:
        return False


def _value(change: ExamResultChange, name: str) -> Any:
    old, new = (change.changes or {}).get(name, [None, None])
    return new if new is not None else old


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


ROWS = {
    "attempts": (attempts_for, attempt_row),
    "changes": (changes_for, change_row),
    "corrections": (corrections_for, correction_row),
    "events": (events_for, event_row),
}


def csv_chunks(view: str, filters: AuditFilters) -> Iterator[bytes]:
    """The filtered list as CSV, streamed a few hundred rows at a time, with a BOM
    so Excel reads UTF-8; cells that a spreadsheet would run as formulas are
    neutralised."""
    select, to_row = ROWS[view]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_headers(view))
    yield codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    rows: Iterable[Any] = select(filters).iterator(chunk_size=CSV_CHUNK)
    for count, item in enumerate(rows, start=1):
        writer.writerow([neutralise("" if v is None else str(v)) for v in to_row(item)])
        if count % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")
