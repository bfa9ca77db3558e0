"""Writing a confirmed import, in one transaction: ``bulk_create_recorded`` for new
rows and ``update_recorded`` for changed ones, grouped by their new values, so
50,000 rows cost a few hundred statements, history included."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import rules
from ..entry.services import exam_results_send
from ..models import ExamResult, ImportBatch
from ..models.recording import bulk_create_recorded, update_recorded
from ..wording import stored
from . import plan as planning
from . import reading
from .candidate_rows import resolve_matches
from .checking import (
    Progress,
    check,
    match_candidates,
    matching_report,
    preview_report,
    set_counts,
)

logger = logging.getLogger(__name__)
BatchStatus = ImportBatch.Status
CHUNK = planning.CHUNK


class ImportRefusedError(Exception):
    """All or nothing was chosen and some rows cannot be imported."""


@dataclass
class Written:
    created: int = 0
    changed: int = 0
    queued: int = 0
    # Rows that were editable when classified but were claimed for delivery before
    # the write could lock them.
    lost_races: list[list[Any]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)


def batch_write(
    batch: ImportBatch, content: bytes, *, progress: Progress | None
) -> None:
    actor = batch.created_by
    options = batch.options
    preview = batch.report or {}

    total = batch.total_rows or reading.estimate_rows(content)

    def reading_progress(done: int, _total: int) -> None:
        ImportBatch.objects.filter(pk=batch.pk).update(processed_rows=done)
        if progress is not None:
            progress(done, total)

    try:
        table, checked, default = check(
            content=content,
            file_name=batch.file_name,
            actor=actor,
            progress=reading_progress,
        )
        # Candidates' rows: as matched for the preview (and picked by staff), or
        # matched now (the command line, which has no preview).
        kept: dict[str, dict[str, Any]] | None = preview.get("matches")
        matches = (
            kept
            if kept is not None
            else match_candidates(checked, progress=reading_progress)
        )
        resolved = resolve_matches(
            checked, matches, options.get("picks") or {}, refuse_unpicked=True
        )
        ImportBatch.objects.filter(pk=batch.pk).update(
            phase="writing", processed_rows=len(checked.kinds)
        )
        # A result created by someone else between classification and insert makes
        # the insert fail on the unique constraint: classify again, once.
        for attempt in (1, 2):
            try:
                with transaction.atomic():
                    plan = planning.classify(
                        resolved, operator_app_id=settings.FEISHU_APP_ID
                    )
                    written = _write(
                        plan=plan,
                        batch=batch,
                        actor=actor,
                        default_operator=default,
                        all_or_nothing=bool(options.get("all_or_nothing")),
                        send=bool(options.get("send")),
                    )
                    _finish(
                        batch,
                        table,
                        plan,
                        written,
                        preview,
                        BatchStatus.DONE,
                        matching_report(checked, matches),
                    )
                break
            except IntegrityError:
                if attempt == 2:
                    raise
    except ImportRefusedError:
        _finish(
            batch,
            table,
            plan,
            Written(),
            preview,
            BatchStatus.REFUSED,
            matching_report(checked, matches),
        )
    except Exception as error:
        # Nothing was written (one transaction); the batch says why, and the
        # admin, the status page and the command show it.
        logger.exception("Import %s failed", batch.pk)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.FAILED,
            error=_unexpected(error),
            content=b"",
            finished_at=timezone.now(),
            phase="",
        )


def _unexpected(error: Exception) -> str:
    """An error no one foresaw, as the batch keeps it: the portal's sentence as a
    code, the exception's class and text beside it as technical detail."""
    detail = f"{error.__class__.__name__}: {error}"[:1500]
    return stored("import.failed", detail=detail)


def _write(
    *,
    plan: planning.Plan,
    batch: ImportBatch,
    actor: User | None,
    default_operator: tuple[str, str] | None,
    all_or_nothing: bool,
    send: bool,
) -> Written:
    counts = plan.counts()
    if all_or_nothing and (counts["invalid"] or counts["conflict"]):
        raise ImportRefusedError
    written = Written()
    source = batch.source
    app_id = settings.FEISHU_APP_ID
    user_id_type = settings.FEISHU_USER_ID_TYPE
    default_id = default_operator[0] if default_operator else ""
    build = _result_builder(
        constants={
            "user_id_type": user_id_type,
            "operator_app_id": app_id,
            "entered_by_id": actor.pk if actor is not None else None,
            "status": ExamResult.Status.DRAFT,
            "import_batch_id": batch.pk,
        }
    )
    for start in range(0, len(plan.new), CHUNK):
        chunk = plan.new[start : start + CHUNK]
        bulk_create_recorded(
            [
                build(
                    application_id=row.application_id,
                    exam_resource_name=row.exam_resource_name,
                    score=row.score,
                    uuid=row.uuid,
                    operator_id=row.operator_id or default_id,
                    matched_by=row.matched_by,
                )
                for row in chunk
            ],
            actor=actor,
            source=source,
        )
        written.created += len(chunk)

    # One UPDATE per distinct set of new values (scores repeat a lot), each row's
    # history recorded by update_recorded with its own old values.
    groups: dict[tuple[tuple[str, str], ...], list[planning.Change]] = {}
    for change in plan.changes:
        key = tuple(sorted((name, str(value)) for name, value in change.values.items()))
        groups.setdefault(key, []).append(change)
    now = timezone.now()
    for changes in groups.values():
        values = changes[0].values
        for start in range(0, len(changes), CHUNK):
            part = changes[start : start + CHUNK]
            ids = [change.pk for change in part]
            updated = set(
                update_recorded(
                    ExamResult.objects.filter(
                        pk__in=ids, status__in=ExamResult.EDITABLE_STATUSES
                    ),
                    actor=actor,
                    source=source,
                    import_batch=batch,
                    updated_at=now,
                    **values,
                )
            )
            written.changed += len(updated)
            for change in part:
                if change.pk not in updated:
                    written.lost_races.append(
                        planning.conflict_entry(change.row, "claimed", change.diff)
                    )
    if written.lost_races and all_or_nothing:
        raise ImportRefusedError
    if send:
        report = exam_results_send(
            queryset=ExamResult.objects.filter(
                import_batch=batch,
                status__in=(ExamResult.Status.DRAFT, ExamResult.Status.FAILED),
            ),
            actor=actor,
            source=source,
        )
        written.queued = len(report.queued)
        written.skipped = report.skipped
    return written


def _result_builder(*, constants: dict[str, Any]) -> Callable[..., ExamResult]:
    """Make new ExamResult instances through Model.__init__'s positional fast path
    (the one Django uses for rows read from the database), several times cheaper
    than keyword arguments, which shows at 50,000 rows. Defaults come from the
    fields, so a field added later still gets its default."""
    fields = ExamResult._meta.concrete_fields
    position = {each.attname: index for index, each in enumerate(fields)}
    per_row_defaults = [
        (index, each)
        for index, each in enumerate(fields)
        if each.has_default()
        and callable(each.default)
        and each.attname not in constants
    ]
    per_row = {index for index, _each in per_row_defaults}
    template = [
        None if index in per_row else each.get_default()
        for index, each in enumerate(fields)
    ]
    for name, value in constants.items():
        template[position[name]] = value

    def build(**values: Any) -> ExamResult:
        row = template.copy()
        for index, each in per_row_defaults:
            row[index] = each.get_default()
        for name, value in values.items():
            row[position[name]] = value
        return ExamResult(*row)

    return build


def _finish(
    batch: ImportBatch,
    table: reading.Table,
    plan: planning.Plan,
    written: Written,
    preview: dict[str, Any],
    status: str,
    matching: dict[str, Any],
) -> None:
    report = preview_report(table, plan)
    report.update(matching)
    if written.lost_races:
        report["conflicts"] = sorted(
            report["conflicts"] + written.lost_races, key=lambda c: c[0]
        )
        report["counts"]["conflict"] += len(written.lost_races)
        report["counts"]["changed"] -= len(written.lost_races)
    if preview.get("kinds"):
        before = preview["kinds"]
        after = report["kinds"]
        report["preview_counts"] = preview.get("counts", {})
        report["differences"] = [
            [
                index + 2,
                planning.KIND_NAMES.get(was, ""),
                planning.KIND_NAMES.get(now, ""),
            ]
            for index, (was, now) in enumerate(zip(before, after, strict=False))
            if was != now
        ]
    report["written"] = {
        "created": written.created,
        "changed": written.changed,
        "queued": written.queued,
        "skipped": written.skipped,
    }
    batch.report = rules.visible_all(report)
    batch.status = status
    batch.phase = ""
    batch.created_count = written.created
    batch.updated_count = written.changed
    batch.sent_count = written.queued
    set_counts(batch, report["counts"])
    batch.processed_rows = batch.total_rows
    batch.content = b""
    batch.finished_at = timezone.now()
    batch.error = ""
    batch.save()
