"""Reading the history of exam results: each snapshot beside the one before it,
as the change staff made (who, when, through what, every field old → new).

Snapshots are written by simple-history (``exams.models.history``); a change is
the difference between a snapshot and the previous snapshot of the same result,
found for a whole page of snapshots in one query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.files import FieldFile
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from ..candidates.checks import hold_message
from ..models import ExamResult, HistoricalExamResult
from ..models.history import HistoryReason
from ..wording import render

Status = ExamResult.Status
KINDS = {"+": "created", "~": "changed", "-": "deleted"}


def kind_label(kind: str) -> str:
    return {
        "created": _("Created"),
        "changed": _("Changed"),
        "deleted": _("Deleted"),
    }.get(kind, kind)


@dataclass(frozen=True)
class FieldDiff:
    name: str
    label: str
    old: str
    new: str


@dataclass
class Change:
    """One snapshot read as a change."""

    record: Any  # a HistoricalExamResult
    previous: Any | None
    diffs: list[FieldDiff] = field(default_factory=list)
    changes: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def result_id(self) -> int:
        return int(self.record.id)

    @property
    def kind(self) -> str:
        return KINDS.get(self.record.history_type, "changed")

    @property
    def kind_display(self) -> str:
        return kind_label(self.kind)

    @property
    def changed_at(self) -> dt.datetime:
        return self.record.history_date

    @property
    def actor(self) -> User | None:
        return self.record.history_user

    @property
    def who(self) -> str:
        return actor_label(self.actor)

    @property
    def source(self) -> str:
        return str(self.record.source)

    @property
    def source_display(self) -> str:
        return str(self.record.get_source_display())

    @property
    def reason_display(self) -> str:
        reason = self.record.history_change_reason or ""
        return str(HistoryReason(reason).label) if reason in HistoryReason else reason


def plain(value: Any) -> Any:
    """A snapshot's value as compared and exported: scores with their one decimal
    place (88.50 and 88.5 are the same score), aware datetimes, file names."""
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.1")))
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, FieldFile):
        return value.name or ""
    return value


def field_label(name: str) -> str:
    try:
        field = ExamResult._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    # A reverse relation has no label of its own.
    return str(field.verbose_name) if isinstance(field, Field) else name


def display_value(name: str, value: Any, facts: Any = None) -> str:
    """A recorded value as staff read it: choices by their label, a hold by why
    (worded from its facts, ``facts``), times local."""
    if value is None or value == "":
        return "—"
    if name == "hold_code":
        return hold_message(str(value), facts or {}) or str(value)
    if name == "last_error_message":
        return render(value)
    choices = _choices(name)
    if choices:
        return str(choices.get(value, value))
    if isinstance(value, dt.datetime):
        return str(formats.localize(timezone.localtime(value)))
    return str(value)


def _choices(name: str) -> dict[Any, Any]:
    try:
        field = ExamResult._meta.get_field(name)
    except FieldDoesNotExist:
        return {}
    return dict(field.flatchoices) if isinstance(field, Field) else {}


def actor_label(user: User | None) -> str:
    """Who made a change: the login, or the system (the delivery engine, beat)."""
    return user.get_username() if user is not None else _("System")


def _values(record: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in ExamResult.TRACKED_FIELDS:
        if name == "entered_by":
            user = record.entered_by if record.entered_by_id else None
            values[name] = user.get_username() if user is not None else None
        elif name == "import_batch":
            values[name] = record.import_batch_id
        else:
            values[name] = getattr(record, name)
    return values


def _diff(record: Any, previous: Any | None) -> dict[str, tuple[Any, Any]]:
    new = _values(record)
    if record.history_type == "-":
        diff = {k: (v, None) for k, v in new.items() if v not in (None, "")}
    elif previous is None:
        diff = {k: (None, v) for k, v in new.items() if v not in (None, "")}
    else:
        old = _values(previous)
        diff = {k: (old[k], new[k]) for k in new if plain(old[k]) != plain(new[k])}
    # A hold's facts are shown in the words of its reason, not as their own field:
    # facts that changed under the same reason change those words.
    if diff.pop("hold_params", None) is not None and "hold_code" not in diff:
        code = new["hold_code"]
        if code:
            diff["hold_code"] = (code, code)
    return diff


def _facts(record: Any, previous: Any | None) -> tuple[Any, Any]:
    """The hold facts before and after ``record``, for wording its hold."""
    if record.history_type == "-":
        return record.hold_params, None
    return (previous.hold_params if previous is not None else None), record.hold_params


def as_changes(records: Sequence[Any]) -> list[Change]:
    """Each snapshot of ``records`` with its predecessor and the fields that differ,
    in two queries whatever the number of records."""
    previous_ids = {
        r.history_id: r.previous_history_id
        for r in records
        if getattr(r, "previous_history_id", None)
    }
    missing = [r.history_id for r in records if not hasattr(r, "previous_history_id")]
    if missing:
        previous_ids.update(
            with_previous(HistoricalExamResult.objects.filter(history_id__in=missing))
            .exclude(previous_history_id=None)
            .values_list("history_id", "previous_history_id")
        )
    previous = HistoricalExamResult.objects.select_related("entered_by").in_bulk(
        list(previous_ids.values())
    )
    changes = []
    for record in records:
        before = previous.get(previous_ids.get(record.history_id))
        diff = _diff(record, before)
        old_facts, new_facts = _facts(record, before)
        changes.append(
            Change(
                record,
                before,
                [
                    FieldDiff(
                        name,
                        field_label(name),
                        display_value(name, old, old_facts),
                        display_value(name, new, new_facts),
                    )
                    for name, (old, new) in diff.items()
                ],
                {name: [plain(old), plain(new)] for name, (old, new) in diff.items()},
            )
        )
    return changes


def with_previous(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Annotate snapshots with the id of the snapshot before each (same result)."""
    return queryset.annotate(
        previous_history_id=Subquery(
            HistoricalExamResult.objects.filter(
                id=OuterRef("id"), history_id__lt=OuterRef("history_id")
            )
            .order_by("-history_id")
            .values("history_id")[:1]
        )
    )


def snapshots() -> QuerySet[Any]:
    return HistoricalExamResult.objects.select_related("history_user", "entered_by")


def result_changes(result_id: int, *, limit: int | None = None) -> list[Change]:
    """A result's changes, newest first."""
    records = snapshots().filter(id=result_id).order_by("-history_id")
    rows = list(records[:limit] if limit else records)
    # Within one result the snapshot before each is the next one in this list.
    for index, record in enumerate(rows):
        following = rows[index + 1] if index + 1 < len(rows) else None
        if following is not None:
            record.previous_history_id = following.history_id
        elif limit is None or len(rows) < limit:
            record.previous_history_id = None
    return as_changes(rows)


def changes_setting_status(queryset: QuerySet[Any], status: str) -> QuerySet[Any]:
    """Snapshots whose change set ``status`` (the status before was another)."""
    previous_status = Subquery(
        HistoricalExamResult.objects.filter(
            id=OuterRef("id"), history_id__lt=OuterRef("history_id")
        )
        .order_by("-history_id")
        .values("status")[:1]
    )
    return (
        queryset.filter(status=status)
        .exclude(history_type="-")
        .annotate(status_before=previous_status)
        .filter(Q(status_before__isnull=True) | ~Q(status_before=status))
    )


def changes_of(queryset: QuerySet[Any]) -> list[Change]:
    """The snapshots of ``queryset`` read as changes, oldest first."""
    return as_changes(list(with_previous(queryset).order_by("history_id")))
