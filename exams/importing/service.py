"""Importing exam results from a spreadsheet: preview, confirm, run, cancel.

The flow is the same from the admin and the command line:

1. read the file and check every row on its own (``plan.check_rows``);
2. classify the valid rows against the database (``plan.classify``): new,
   unchanged, changed, in conflict;
3. write, in one transaction (``writing.batch_write``).

Confirmation classifies again against the database as it is then, and reports
where that differs from the preview. Files larger than
``EXAMS_IMPORT_BACKGROUND_ROWS`` rows are written by a Celery worker.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .. import rules
from ..gateway import enqueue
from ..models import HistorySource, ImportBatch
from ..wording import stored, stored_refusal
from . import plan as planning
from . import reading
from .checking import (
    Progress,
    check,
    check_size,
    match_candidates,
    max_upload_bytes,
    preview,
    set_counts,
)
from .errors import file_refusal
from .upload_checks import check_header
from .writing import batch_write

Source = HistorySource
BatchStatus = ImportBatch.Status
FINISHED = (BatchStatus.DONE, BatchStatus.REFUSED, BatchStatus.FAILED)

# A background import runs in one transaction: it may take longer than the
# delivery tasks' limit, while staying below the broker's visibility timeout so the
# message is never redelivered while it runs.
IMPORT_TIME_LIMIT = 30 * 60

__all__ = ["max_upload_bytes"]


def background_threshold() -> int:
    """Files with more rows than this are written by a worker, not the request."""
    return int(settings.EXAMS_IMPORT_BACKGROUND_ROWS)


def preview_ttl() -> dt.timedelta:
    return dt.timedelta(hours=settings.EXAMS_IMPORT_PREVIEW_TTL_HOURS)


def import_batch_create(
    *,
    content: bytes,
    file_name: str,
    actor: User,
    source: str = Source.IMPORT,
) -> ImportBatch:
    """Keep an upload and preview it: nothing is written to the results.

    Raises ``reading.ImportFileError`` when the file as a whole cannot be read
    (format, encoding, unknown or missing column); then nothing is kept.
    """
    import_batches_expire()
    _check_quota(actor, len(content))
    batch = ImportBatch(
        created_by=actor,
        source=source,
        file_name=file_name[:255],
        file_size=len(content),
        content=content,
    )
    if len(content) > settings.EXAMS_IMPORT_PREVIEW_INLINE_BYTES:
        # Seconds to minutes of reading: the header is checked now (a wrong file
        # is refused at once), the rows by a worker, while the page shows how far
        # it got. The web process never holds a large file's rows.
        check_size(content)
        check_header(content, file_name)
        batch.status = BatchStatus.MATCHING
        batch.phase = "reading"
        batch.queued_at = timezone.now()
        batch.total_rows = min(
            reading.estimate_rows(content), settings.EXAMS_IMPORT_MAX_ROWS
        )
        return _hand_to_worker(batch)
    table, checked, _default = check(content=content, file_name=file_name, actor=actor)
    if len(checked.to_match) > settings.CANDIDATE_MATCH_INLINE_ROWS:
        # Minutes of Feishu calls at its limits: a worker finds the candidates,
        # the page shows how far it got, then the preview.
        batch.status = BatchStatus.MATCHING
        batch.queued_at = timezone.now()
        batch.total_rows = len(checked.to_match)
        return _hand_to_worker(batch)
    report, plan = preview(table, checked, match_candidates(checked))
    _previewed(batch, report, plan)
    batch.save()
    return batch


def import_batch_check_again(*, batch: ImportBatch, actor: User) -> bool:
    """Preview a kept upload again, against the database and the catalogue of
    exam papers as they are now (after staff added the papers its rows named).
    Candidates' rows keep the applications found for the first preview. Returns
    False when the batch was no longer previewed."""
    kept = ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.PREVIEWED).first()
    if kept is None:
        return False
    content = bytes(kept.content)
    if len(content) > settings.EXAMS_IMPORT_PREVIEW_INLINE_BYTES:
        # Read again by a worker, as the first time, while the page shows how
        # far it got.
        handed = ImportBatch.objects.filter(
            pk=batch.pk, status=BatchStatus.PREVIEWED
        ).update(
            status=BatchStatus.MATCHING,
            phase="reading",
            started_at=None,
            queued_at=timezone.now(),
            processed_rows=0,
        )
        if handed:
            enqueue.after_commit(
                lambda: enqueue.match_run(batch.pk),
                what=f"preview of import {batch.pk}",
            )
        return bool(handed)
    # Checked outside any lock: the check may ask Feishu about applications.
    table, checked, _default = check(
        content=content, file_name=kept.file_name, actor=kept.created_by
    )
    report, plan = preview(table, checked, _kept_matches(kept, checked))
    with transaction.atomic():
        locked = (
            ImportBatch.objects.select_for_update()
            .defer("content")
            .filter(pk=batch.pk)
            .first()
        )
        if locked is None or locked.status != BatchStatus.PREVIEWED:
            return False
        _previewed(locked, report, plan)
        locked.save(
            update_fields=[
                "status",
                "report",
                "total_rows",
                "invalid_count",
                "conflict_count",
                "unchanged_count",
                "processed_rows",
            ]
        )
    return True


def _kept_matches(
    batch: ImportBatch, checked: planning.Checked, progress: Progress | None = None
) -> dict[str, dict[str, Any]]:
    """The candidates found for the batch's earlier preview, or found now."""
    kept = (batch.report or {}).get("matches")
    if kept is not None:
        return dict(kept)
    return match_candidates(checked, progress=progress)


def _hand_to_worker(batch: ImportBatch) -> ImportBatch:
    """Keep the batch; a worker reads it and finds its candidates
    (``import_batch_match``), then the page shows the preview."""
    batch.save()
    batch_id = batch.pk
    enqueue.after_commit(
        lambda: enqueue.match_run(batch_id), what=f"preview of import {batch_id}"
    )
    return batch


# Batches whose upload is still kept, waiting for staff or a worker.
_KEPT = (BatchStatus.MATCHING, BatchStatus.PREVIEWED, BatchStatus.QUEUED)


def _check_quota(actor: User, size: int) -> None:
    """Refuse an upload that would keep more than the staff member's quota of
    files waiting for confirmation (each is kept whole until then)."""
    quota = settings.EXAMS_IMPORT_USER_QUOTA_BYTES
    kept = (
        ImportBatch.objects.filter(created_by=actor, status__in=_KEPT)
        .exclude(content=b"")
        .aggregate(total=Sum("file_size"))["total"]
        or 0
    )
    if kept + size > quota:
        raise file_refusal(
            "import_file.quota",
            code="quota",
            kept=f"{kept / 1024 / 1024:,.1f}",
            quota=f"{quota // 1024 // 1024:,}",
        )


def _previewed(batch: ImportBatch, report: dict[str, Any], plan: planning.Plan) -> None:
    batch.status = BatchStatus.PREVIEWED
    batch.report = rules.visible_all(report)
    set_counts(batch, plan.counts())
    batch.processed_rows = batch.total_rows


def import_batch_match(*, batch_id: int) -> None:
    """Read a large file, find its candidates in Feishu, then preview it (what the
    worker runs). Safe to call twice: only the call that claims it reads."""
    claimed = ImportBatch.objects.filter(
        pk=batch_id, status=BatchStatus.MATCHING, started_at__isnull=True
    ).update(started_at=timezone.now(), phase="reading", processed_rows=0)
    if not claimed:
        return
    batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)

    def progress(done: int, total: int) -> None:
        ImportBatch.objects.filter(pk=batch_id).update(processed_rows=done)

    try:
        table, checked, _default = check(
            content=bytes(batch.content),
            file_name=batch.file_name,
            actor=batch.created_by,
            progress=progress,
        )
        if checked.to_match:
            ImportBatch.objects.filter(pk=batch_id).update(
                phase="matching", processed_rows=0, total_rows=len(checked.to_match)
            )
        report, plan = preview(table, checked, _kept_matches(batch, checked, progress))
    except reading.ImportFileError as error:
        ImportBatch.objects.filter(pk=batch_id).update(
            status=BatchStatus.FAILED,
            error=stored_refusal(error),
            content=b"",
            phase="",
            finished_at=timezone.now(),
        )
        return
    _previewed(batch, report, plan)
    batch.started_at = None
    batch.phase = ""
    batch.save()


def import_batch_confirm(
    *,
    batch: ImportBatch,
    actor: User,
    all_or_nothing: bool = False,
    send: bool = False,
    picks: dict[str, str] | None = None,
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
            # Candidates staff picked for rows Feishu could not decide: row → id.
            "picks": picks or {},
        }
        locked.status = BatchStatus.QUEUED
        locked.queued_at = timezone.now()
        locked.phase = ""
        locked.processed_rows = 0
        locked.save(
            update_fields=["options", "status", "queued_at", "phase", "processed_rows"]
        )
        if background:
            # A lost message leaves the batch queued: import_batches_sweep sends
            # it again.
            batch_id = locked.pk
            enqueue.after_commit(
                lambda: enqueue.import_run(batch_id), what=f"import {batch_id}"
            )
    if not background:
        import_batch_run(batch_id=batch.pk)
    return ImportBatch.objects.defer("content").get(pk=batch.pk)


def import_batch_cancel(*, batch: ImportBatch, actor: User) -> bool:
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
    the call that claims the batch writes. A claim whose process died is failed by
    ``import_batches_sweep`` (one transaction: nothing was written)."""
    claimed = ImportBatch.objects.filter(pk=batch_id, status=BatchStatus.QUEUED).update(
        status=BatchStatus.RUNNING, started_at=timezone.now(), phase="reading"
    )
    if not claimed:
        return
    batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
    language = batch.options.get("language") or settings.LANGUAGE_CODE
    with translation.override(language):
        batch_write(batch, bytes(batch.content), progress=progress)


def import_file(
    *,
    content: bytes,
    file_name: str,
    actor: User | None,
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
        table, checked, _default = check(
            content=content, file_name=file_name, actor=actor, progress=progress
        )
        report, plan = preview(
            table, checked, match_candidates(checked, progress=progress)
        )
        _previewed(batch, report, plan)
        return batch
    # Checked before anything is recorded: an unreadable file leaves no trace.
    reading.read_table(content, file_name)
    batch.status = BatchStatus.RUNNING
    batch.started_at = timezone.now()
    # The command prints its own report: nothing to tell on the admin's pages.
    batch.notified_at = batch.started_at
    batch.save()
    batch_write(batch, content, progress=progress)
    batch.refresh_from_db()
    return batch


def import_batches_to_notify(*, user: User) -> list[ImportBatch]:
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


def import_batches_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Recover imports that a lost message or a dead process left behind:

    - queued for longer than ``EXAMS_IMPORT_REQUEUE_SECONDS`` (the message to the
      worker was lost, e.g. the broker was down at confirmation): sent again;
    - importing for longer than the task's time limit (its process was killed, on
      a worker or on the command line): failed, saying nothing was written, since
      an import is one transaction.
    """
    now = now or timezone.now()
    requeue_before = now - dt.timedelta(seconds=settings.EXAMS_IMPORT_REQUEUE_SECONDS)
    stale = list(
        ImportBatch.objects.filter(
            Q(status=BatchStatus.QUEUED)
            | Q(status=BatchStatus.MATCHING, started_at__isnull=True),
            queued_at__lt=requeue_before,
        ).values_list("pk", "status")
    )
    for batch_id, status in stale:
        ImportBatch.objects.filter(pk=batch_id, status=status).update(queued_at=now)
        if status == BatchStatus.QUEUED:
            enqueue.import_run(batch_id)
        else:
            enqueue.match_run(batch_id)
    interrupted = ImportBatch.objects.filter(
        status__in=(BatchStatus.RUNNING, BatchStatus.MATCHING),
        started_at__lt=now - dt.timedelta(seconds=IMPORT_TIME_LIMIT + 120),
    ).update(
        status=BatchStatus.FAILED,
        error=stored("import.interrupted"),
        content=b"",
        phase="",
        finished_at=now,
    )
    return {"requeued": len(stale), "interrupted": interrupted}
