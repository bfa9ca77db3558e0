"""Retention: candidates' data older than the configured age is removed (PIPL).

Removed: exam results no longer in flight, their calls to Feishu, their history
and score corrections, the history of drafts deleted long ago, finished imports
no result points at any more, the report files uploaded with the results, and
the candidates read from Feishu (names, emails, mobiles) once no result names
their application and they were not read since the cutoff.

Kept: results that are ``pending``, ``sending`` or ``unknown``, however old. A
pending result is about to be sent and a sending one is held by a worker; for an
unknown one the attempts and history are what reconciliation and staff need to
find out whether Feishu recorded it, and deleting them could let the same result
be entered and posted twice. They are removed once they settle.

Each chunk is deleted in its own transaction, so a purge of millions of rows
never holds one long transaction or lock; an ``AuditEvent`` records every run:
who ran it, the age, and how much was removed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import (
    AuditEvent,
    CandidateApplication,
    ExamResult,
    HistoricalExamResult,
    ImportBatch,
    ScoreCorrection,
    SyncAttempt,
)
from ..models.history import history_suspended

Status = ExamResult.Status
IN_FLIGHT = (Status.PENDING, Status.SENDING, Status.UNKNOWN)
CHUNK = 1000
BUSY_IMPORTS = (
    ImportBatch.Status.PREVIEWED,
    ImportBatch.Status.QUEUED,
    ImportBatch.Status.RUNNING,
)


@dataclass
class PurgeReport:
    older_than_days: int
    cutoff: str
    dry_run: bool
    results: int = 0
    attempts: int = 0
    changes: int = 0
    corrections: int = 0
    orphan_changes: int = 0
    imports: int = 0
    report_files: int = 0
    kept_in_flight: int = 0
    candidates: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _purgeable(cutoff: dt.datetime) -> Any:
    return ExamResult.objects.filter(
        created_at__lt=cutoff, updated_at__lt=cutoff
    ).exclude(status__in=IN_FLIGHT)


def _orphan_changes(cutoff: dt.datetime) -> Any:
    # The history of results deleted earlier (drafts) outlives them on purpose;
    # past the retention age it goes too.
    return HistoricalExamResult.objects.filter(history_date__lt=cutoff).filter(
        ~Exists(ExamResult.objects.filter(pk=OuterRef("id")))
    )


def _old_candidates(cutoff: dt.datetime) -> Any:
    # Candidates' names, emails and mobiles read from Feishu, once no result
    # names their application and nothing has read them since the cutoff.
    return CandidateApplication.objects.annotate(
        seen=Coalesce("checked_at", "detail_fetched_at", "lookup_requested_at")
    ).filter(
        Q(seen__lt=cutoff) | Q(seen__isnull=True),
        ~Exists(ExamResult.objects.filter(application_id=OuterRef("application_id"))),
    )


def _finished_imports(cutoff: dt.datetime) -> Any:
    return (
        ImportBatch.objects.filter(created_at__lt=cutoff)
        .exclude(status__in=BUSY_IMPORTS)
        .filter(~Exists(ExamResult.objects.filter(import_batch=OuterRef("pk"))))
    )


def candidate_data_purge(
    *,
    older_than_days: int,
    dry_run: bool = False,
    actor: User | None = None,
    actor_label: str = "",
    chunk: int = CHUNK,
) -> PurgeReport:
    """Remove candidates' data older than ``older_than_days`` (see the module).

    With ``dry_run``, count what would go and change nothing.
    """
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = timezone.now() - dt.timedelta(days=older_than_days)
    report = PurgeReport(
        older_than_days=older_than_days, cutoff=cutoff.isoformat(), dry_run=dry_run
    )
    report.kept_in_flight = ExamResult.objects.filter(
        created_at__lt=cutoff, updated_at__lt=cutoff, status__in=IN_FLIGHT
    ).count()
    if dry_run:
        ids = _purgeable(cutoff).values("pk")
        report.results = _purgeable(cutoff).count()
        report.attempts = SyncAttempt.objects.filter(result_id__in=ids).count()
        report.changes = HistoricalExamResult.objects.filter(id__in=ids).count()
        report.corrections = ScoreCorrection.objects.filter(result_id__in=ids).count()
        report.orphan_changes = _orphan_changes(cutoff).count()
        report.report_files = _purgeable(cutoff).exclude(report="").count()
        report.imports = _finished_imports(cutoff).count()
        report.candidates = _old_candidates(cutoff).count()
        return report
    while _purge_chunk(cutoff, chunk, report):
        pass
    while True:
        with transaction.atomic():
            ids = list(
                _orphan_changes(cutoff).values_list("history_id", flat=True)[:chunk]
            )
            if not ids:
                break
            report.orphan_changes += HistoricalExamResult.objects.filter(
                history_id__in=ids
            ).delete()[0]
    with transaction.atomic():
        ids = list(_finished_imports(cutoff).values_list("pk", flat=True))
        for start in range(0, len(ids), chunk):
            report.imports += ImportBatch.objects.filter(
                pk__in=ids[start : start + chunk]
            ).delete()[0]
    while True:
        with transaction.atomic():
            ids = list(_old_candidates(cutoff).values_list("pk", flat=True)[:chunk])
            if not ids:
                break
            report.candidates += CandidateApplication.objects.filter(
                pk__in=ids
            ).delete()[0]
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.PURGE,
        actor=actor,
        actor_label=actor_label[:150],
        details=report.as_dict(),
    )
    return report


def _purge_chunk(cutoff: dt.datetime, chunk: int, report: PurgeReport) -> bool:
    """Delete one chunk of results with everything hanging off them. False when
    nothing was left."""
    with transaction.atomic():
        # Locked and checked again: a result sent meanwhile is no longer removable.
        rows = list(
            _purgeable(cutoff)
            .order_by("pk")
            .select_for_update()
            .values_list("pk", "report")[:chunk]
        )
        if not rows:
            return False
        ids = [pk for pk, _report in rows]
        files = [name for _pk, name in rows if name]
        report.corrections += ScoreCorrection.objects.filter(
            result_id__in=ids
        ).delete()[0]
        report.attempts += SyncAttempt.objects.filter(result_id__in=ids).delete()[0]
        report.changes += HistoricalExamResult.objects.filter(id__in=ids).delete()[0]
        # The rows and their history go together (the AuditEvent records the
        # purge): deleting them records no "deleted" entry.
        with history_suspended():
            report.results += ExamResult.objects.filter(
                Q(pk__in=ids) & ~Q(status__in=IN_FLIGHT)
            ).delete()[0]
        if files:
            transaction.on_commit(lambda: _delete_files(files, report))
    return True


def _delete_files(names: list[str], report: PurgeReport) -> None:
    for name in names:
        try:
            default_storage.delete(name)
            report.report_files += 1
        except OSError:
            pass
