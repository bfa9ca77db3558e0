"""After restoring the database from a backup: nothing in flight is sent blindly.

A backup is a picture of the past. Results that were ``pending`` or ``sending`` in
it may have reached Feishu after the picture was taken, and the attempts that would
say so were lost with the rest of the newer data. Posting them again could give a
candidate a second exam record (Feishu has no idempotency key for this call).

:func:`exam_results_mark_restored_in_flight` moves every such row to ``unknown`` with
a recorded attempt of unknown outcome dated from when the row was created, so the
reconciler looks each one up in Feishu's tests/search first: one record since then
→ adopted (``synced``); none, with search trusted → ``pending`` (sent); anything
else → stays ``unknown`` for staff. Run it on the restored database before any
worker starts (``python manage.py mark_restored_in_flight``; docs/deploy.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from ..models import ExamResult, HistorySource, SyncAttempt
from ..models.recording import CHUNK, update_recorded
from ..wording import stored

Status = ExamResult.Status
IN_FLIGHT_STATUSES = (Status.PENDING, Status.SENDING)


@dataclass
class RestoreReport:
    pending: int = 0
    sending: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.sending


def exam_results_in_flight() -> dict[str, int]:
    """How many restored rows are pending or sending, by status."""
    counts = {str(s): 0 for s in IN_FLIGHT_STATUSES}
    for status in ExamResult.objects.filter(status__in=IN_FLIGHT_STATUSES).values_list(
        "status", flat=True
    ):
        counts[status] += 1
    return counts


def exam_results_mark_restored_in_flight() -> RestoreReport:
    """Move every pending and sending result to ``unknown``, recorded in its history
    and attempts, so that reconciliation checks Feishu before anything is re-posted.
    """
    report = RestoreReport()
    message = stored("delivery.restored")
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            ExamResult.objects.filter(status__in=IN_FLIGHT_STATUSES)
            .select_for_update()
            .values_list("pk", "status", "created_at")
        )
        if not rows:
            return report
        SyncAttempt.objects.bulk_create(
            [
                SyncAttempt(
                    result_id=pk,
                    call=SyncAttempt.Call.CREATE_EXAM,
                    # The earliest moment a post of this row could have been made:
                    # any Feishu record of it since then counts as a match.
                    started_at=created_at,
                    outcome=SyncAttempt.Outcome.UNKNOWN,
                    feishu_msg=message,
                )
                for pk, _status, created_at in rows
            ],
            batch_size=CHUNK,
        )
        update_recorded(
            ExamResult.objects.filter(pk__in=[pk for pk, *_rest in rows]),
            actor=None,
            source=HistorySource.COMMAND,
            status=Status.UNKNOWN,
            last_error_message=message,
        )
        ExamResult.objects.filter(pk__in=[pk for pk, *_rest in rows]).update(
            unknown_since=now,
            next_attempt_at=now,
            lease_token=None,
            lease_expires_at=None,
            dispatched_at=None,
        )
    for _pk, status, _created in rows:
        if status == Status.PENDING:
            report.pending += 1
        else:
            report.sending += 1
    return report
