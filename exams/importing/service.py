"""Importing exam results from a spreadsheet: preview, confirm, run, cancel.

The flow is the same from the admin and the command line:

1. read the file and check every row on its own (``plan.check_rows``);
2. classify the valid rows against the database (``plan.classify``): new,
   unchanged, changed, in conflict;
3. write, in one transaction: ``history.bulk_create_recorded`` for new rows and
   ``history.update_recorded`` for changed ones, grouped by their new values, so
   50,000 rows cost a few hundred statements, history included.

Confirmation classifies again against the database as it is then, and reports
where that differs from the preview. Files larger than
``EXAMS_IMPORT_BACKGROUND_ROWS`` rows are written by a Celery worker.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .. import history, services
from ..models import ExamResult, ExamResultChange, ImportBatch
from . import plan as planning
from . import reading

logger = logging.getLogger(__name__)

Source = ExamResultChange.Source
BatchStatus = ImportBatch.Status
CHUNK = planning.CHUNK
FINISHED = (BatchStatus.DONE, BatchStatus.REFUSED, BatchStatus.FAILED)

Progress = Callable[[int, int], None]  # (rows done, rows in the file)

# A background import runs in one transaction: it may take longer than the
# delivery tasks' limit, while staying below the broker's visibility timeout so the
# message is never redelivered while it runs.
IMPORT_TIME_LIMIT = 30 * 60


def background_threshold() -> int:
    """Files with more rows than this are written by a worker, not the request."""
    return int(getattr(settings, "EXAMS_IMPORT_BACKGROUND_ROWS", 5000))


def preview_ttl() -> dt.timedelta:
    hours = getattr(settings, "EXAMS_IMPORT_PREVIEW_TTL_HOURS", 24)
    return dt.timedelta(hours=hours)


def max_upload_bytes() -> int:
    return int(getattr(settings, "EXAMS_IMPORT_MAX_BYTES", 50 * 1024 * 1024))


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


def _operator_default(
    actor: AbstractBaseUser | None,
) -> tuple[tuple[str, str] | None, str | None]:
    """(operator id, app id) to fill in rows without an operator, or why there is
    none (then such rows are invalid)."""
    if actor is None:
        return None, _(
            "The row has no operator ID, and the import was not run as a staff member "
            "whose Feishu identity could fill it in (give --operator USERNAME)."
        )
    try:
        return services.operator_for(
            user=actor, user_id_type=settings.FEISHU_USER_ID_TYPE
        ), None
    except services.OperatorMissingError as error:
        return None, " ".join(str(m) for m in error.messages)


def _check(
    *,
    content: bytes,
    file_name: str,
    actor: AbstractBaseUser | None,
    progress: Progress | None = None,
) -> tuple[reading.Table, planning.Checked, tuple[str, str] | None]:
    if len(content) > max_upload_bytes():
        raise reading.ImportFileError(
            _("The file is larger than %(max)s MB; split it into smaller files.")
            % {"max": max_upload_bytes() // (1024 * 1024)},
            code="too_large",
        )
    table = reading.read_table(content, file_name)
    default, missing = _operator_default(actor)
    checked = planning.check_rows(
        table.rows,
        operator_missing=missing,
        progress=(lambda done: progress(done, 0)) if progress else None,
    )
    return table, checked, default


def _report(table: reading.Table, plan: planning.Plan) -> dict[str, Any]:
    kinds = plan.kinds
    samples = []
    for sample in plan.checked.samples:
        sample = list(sample)
        sample[1] = planning.KIND_NAMES.get(kinds[sample[0] - 2], "")
        samples.append(sample)
    statuses = dict(ExamResult.Status.choices)
    return {
        "format": table.format,
        "encoding": table.encoding,
        "headers": table.headers,
        "counts": plan.counts(),
        "errors": plan.errors,
        "changes": [
            [
                change.row.number,
                change.row.application_id,
                change.row.exam_resource_name,
                str(statuses[change.status]),
                change.diff,
            ]
            for change in plan.changes
        ],
        "conflicts": plan.conflicts,
        "rows": samples,
        "kinds": kinds,
    }


def _set_counts(batch: ImportBatch, counts: dict[str, int]) -> None:
    batch.total_rows = counts["rows"]
    batch.invalid_count = counts["invalid"]
    batch.conflict_count = counts["conflict"]
    batch.unchanged_count = counts["unchanged"] + counts["duplicate"]


def import_batch_create(
    *,
    content: bytes,
    file_name: str,
    actor: AbstractBaseUser,
    source: str = Source.IMPORT,
) -> ImportBatch:
    """Keep an upload and preview it: nothing is written to the results.

    Raises ``reading.ImportFileError`` when the file as a whole cannot be read
    (format, encoding, unknown or missing column); then nothing is kept.
    """
    import_batches_expire()
    table, checked, _default = _check(content=content, file_name=file_name, actor=actor)
    plan = planning.classify(checked, operator_app_id=settings.FEISHU_APP_ID)
    batch = ImportBatch(
        created_by=actor,
        source=source,
        file_name=file_name[:255],
        file_size=len(content),
        content=content,
        status=BatchStatus.PREVIEWED,
        report=_report(table, plan),
    )
    _set_counts(batch, plan.counts())
    batch.processed_rows = batch.total_rows
    batch.save()
    return batch


def import_batch_confirm(
    *,
    batch: ImportBatch,
    actor: AbstractBaseUser,
    all_or_nothing: bool = False,
    send: bool = False,
) -> ImportBatch:
    """Import a previewed file. Small files are written now; larger ones are queued
    for a worker (``import_batch_run_task``) and the batch says how far it got."""
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != BatchStatus.PREVIEWED:
            raise ValidationError(
                _("This import is %(status)s: it cannot be confirmed again.")
                % {"status": locked.get_status_display()},
                code="not_previewed",
            )
        background = locked.total_rows > background_threshold()
        locked.options = {
            "all_or_nothing": all_or_nothing,
            "send": send,
            "background": background,
            "language": translation.get_language() or settings.LANGUAGE_CODE,
        }
        locked.status = BatchStatus.QUEUED
        locked.phase = ""
        locked.processed_rows = 0
        locked.save(update_fields=["options", "status", "phase", "processed_rows"])
        if background:
            # exams.tasks imports this module; importing it at call time keeps
            # the services loadable without the task registry.
            from ..tasks import import_batch_run_task

            transaction.on_commit(lambda: import_batch_run_task.delay(locked.pk))
    if not background:
        import_batch_run(batch_id=batch.pk)
    return ImportBatch.objects.defer("content").get(pk=batch.pk)


def import_batch_cancel(*, batch: ImportBatch, actor: AbstractBaseUser) -> bool:
    """Drop a previewed upload. Returns False when it was no longer previewed."""
    return bool(
        ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.PREVIEWED).update(
            status=BatchStatus.CANCELLED, content=b"", finished_at=timezone.now()
        )
    )


def import_batches_expire(*, now: dt.datetime | None = None) -> int:
    """Forget uploads previewed longer ago than the preview lifetime."""
    now = now or timezone.now()
    return ImportBatch.objects.filter(
        status=BatchStatus.PREVIEWED, created_at__lt=now - preview_ttl()
    ).update(status=BatchStatus.EXPIRED, content=b"", finished_at=now)


def import_batch_run(*, batch_id: int, progress: Progress | None = None) -> None:
    """Write a confirmed import (what the worker runs). Safe to call twice: only
    the call that claims the batch writes; a claim older than the task's time
    limit (its worker died, the transaction rolled back) may be taken over."""
    now = timezone.now()
    claimed = ImportBatch.objects.filter(pk=batch_id, status=BatchStatus.QUEUED).update(
        status=BatchStatus.RUNNING, started_at=now, phase="reading"
    ) or ImportBatch.objects.filter(
        pk=batch_id,
        status=BatchStatus.RUNNING,
        started_at__lt=now - dt.timedelta(seconds=IMPORT_TIME_LIMIT + 120),
    ).update(started_at=now, phase="reading")
    if not claimed:
        return
    batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
    language = batch.options.get("language") or settings.LANGUAGE_CODE
    with translation.override(language):
        _run(batch, bytes(batch.content), progress=progress)


def import_file(
    *,
    content: bytes,
    file_name: str,
    actor: AbstractBaseUser | None,
    send: bool = False,
    all_or_nothing: bool = False,
    dry_run: bool = False,
    source: str = Source.COMMAND,
    progress: Progress | None = None,
) -> ImportBatch:
    """Import a file in one go (the command line). With ``dry_run``, classify and
    report only: the returned batch is not saved and nothing is written."""
    batch = ImportBatch(
        created_by=actor,
        source=source,
        file_name=file_name[:255],
        file_size=len(content),
        options={"all_or_nothing": all_or_nothing, "send": send, "dry_run": dry_run},
    )
    if dry_run:
        table, checked, _default = _check(
            content=content, file_name=file_name, actor=actor, progress=progress
        )
        plan = planning.classify(checked, operator_app_id=settings.FEISHU_APP_ID)
        batch.report = _report(table, plan)
        batch.status = BatchStatus.PREVIEWED
        _set_counts(batch, plan.counts())
        return batch
    # Checked before anything is recorded: an unreadable file leaves no trace.
    reading.read_table(content, file_name)
    batch.status = BatchStatus.RUNNING
    batch.started_at = timezone.now()
    # The command prints its own report: nothing to tell on the admin's pages.
    batch.notified_at = batch.started_at
    batch.save()
    _run(batch, content, progress=progress)
    batch.refresh_from_db()
    return batch


def _run(batch: ImportBatch, content: bytes, *, progress: Progress | None) -> None:
    actor = batch.created_by
    options = batch.options
    preview = batch.report or {}

    total = batch.total_rows or reading.estimate_rows(content)

    def reading_progress(done: int, _total: int) -> None:
        ImportBatch.objects.filter(pk=batch.pk).update(processed_rows=done)
        if progress is not None:
            progress(done, total)

    try:
        table, checked, default = _check(
            content=content,
            file_name=batch.file_name,
            actor=actor,
            progress=reading_progress,
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
                        checked, operator_app_id=settings.FEISHU_APP_ID
                    )
                    written = _write(
                        plan=plan,
                        batch=batch,
                        actor=actor,
                        default_operator=default,
                        all_or_nothing=bool(options.get("all_or_nothing")),
                        send=bool(options.get("send")),
                    )
                    _finish(batch, table, plan, written, preview, BatchStatus.DONE)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
    except ImportRefusedError:
        _finish(batch, table, plan, Written(), preview, BatchStatus.REFUSED)
    except Exception as error:
        # Nothing was written (one transaction); the batch says why, and the
        # admin, the status page and the command show it.
        logger.exception("Import %s failed", batch.pk)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.FAILED,
            error=str(error)[:2000] or error.__class__.__name__,
            content=b"",
            finished_at=timezone.now(),
            phase="",
        )


def _write(
    *,
    plan: planning.Plan,
    batch: ImportBatch,
    actor: AbstractBaseUser | None,
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
        history.bulk_create_recorded(
            [
                build(
                    application_id=row.application_id,
                    exam_resource_name=row.exam_resource_name,
                    score=row.score,
                    uuid=row.uuid,
                    operator_id=row.operator_id or default_id,
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
            chunk = changes[start : start + CHUNK]
            ids = [change.pk for change in chunk]
            updated = set(
                history.update_recorded(
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
            for change in chunk:
                if change.pk not in updated:
                    written.lost_races.append(
                        planning.conflict_entry(
                            change.row, _("claimed for delivery"), change.diff
                        )
                    )
    if written.lost_races and all_or_nothing:
        raise ImportRefusedError
    if send:
        report = services.exam_results_send(
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
) -> None:
    report = _report(table, plan)
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
    batch.report = report
    batch.status = status
    batch.phase = ""
    batch.created_count = written.created
    batch.updated_count = written.changed
    batch.sent_count = written.queued
    _set_counts(batch, report["counts"])
    batch.processed_rows = batch.total_rows
    batch.content = b""
    batch.finished_at = timezone.now()
    batch.error = ""
    batch.save()


def import_batches_to_notify(*, user: AbstractBaseUser) -> list[ImportBatch]:
    """Background imports of ``user`` that ended since they were last told, marked
    as told."""
    batches = list(
        ImportBatch.objects.defer("content", "report")
        .filter(created_by=user, status__in=FINISHED, notified_at__isnull=True)
        .order_by("finished_at")
    )
    if batches:
        ImportBatch.objects.filter(pk__in=[b.pk for b in batches]).update(
            notified_at=timezone.now()
        )
    return batches


def import_batch_mark_notified(*, batch: ImportBatch) -> None:
    ImportBatch.objects.filter(pk=batch.pk, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
