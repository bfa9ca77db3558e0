"""Staff's steering of delivery: retry now, resend anyway, mark as delivered.

Each records who decided it in the result's history, with the reason.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.db.models.functions import Now

from ..models import ExamResult, HistorySource
from ..models.history import HistoryReason
from ..models.recording import update_recorded
from ..wording import stored
from .pump import pump_request_after_commit

Status = ExamResult.Status


def exam_results_retry_now(
    *, queryset: QuerySet[ExamResult], actor: User | None
) -> list[int]:
    """Pending results waiting for a backoff go out now."""
    ids = update_recorded(
        queryset.filter(status=Status.PENDING),
        actor=actor,
        source=HistorySource.BULK_ACTION,
        reason=HistoryReason.RETRY_NOW,
        next_attempt_at=None,
        dispatched_at=None,
    )
    pump_request_after_commit()
    return ids


def exam_results_resend_anyway(
    *, queryset: QuerySet[ExamResult], actor: User | None
) -> list[int]:
    """Staff decided: send results whose outcome is unknown again, accepting that
    Feishu may then hold the result twice."""
    ids = update_recorded(
        queryset.filter(status=Status.UNKNOWN),
        actor=actor,
        source=HistorySource.BULK_ACTION,
        reason=HistoryReason.RESEND_ANYWAY,
        status=Status.PENDING,
        unknown_since=None,
        next_attempt_at=None,
        dispatched_at=None,
        last_error_message=stored("delivery.resent_by_staff"),
    )
    pump_request_after_commit()
    return ids


def exam_result_mark_delivered(
    *, result: ExamResult, exam_id: str, actor: User | None
) -> bool:
    """Staff found the result in Feishu: record its exam_id, ``synced``."""
    ids = update_recorded(
        ExamResult.objects.filter(pk=result.pk, status=Status.UNKNOWN),
        actor=actor,
        source=HistorySource.ADMIN,
        reason=HistoryReason.MARK_DELIVERED,
        status=Status.SYNCED,
        exam_id=exam_id,
        synced_at=Now(),
        unknown_since=None,
        next_attempt_at=None,
        last_error_message=stored("delivery.marked_delivered"),
    )
    return bool(ids)


def exam_results_mark_due_for_check(*, result_ids: list[int]) -> int:
    """Staff asked to check these unknown results in Feishu now: they become due
    for reconciliation, so the sweeper checks them even if the background check's
    message is lost."""
    return ExamResult.objects.filter(pk__in=result_ids, status=Status.UNKNOWN).update(
        next_attempt_at=Now()
    )


def exam_results_send_anyway(
    *, queryset: QuerySet[ExamResult], actor: User | None, why: str
) -> list[int]:
    """Staff decided to send held results although the check found the
    application terminated or in another stage, saying why. An application that
    does not exist can only be fixed, never sent anyway."""
    why = why.strip()
    if not why:
        raise ValueError("say why the results are sent anyway")
    ids = update_recorded(
        queryset.filter(status=Status.HELD).exclude(
            hold_code=ExamResult.Hold.NOT_FOUND
        ),
        actor=actor,
        source=HistorySource.BULK_ACTION,
        reason=HistoryReason.SEND_ANYWAY,
        status=Status.PENDING,
        check_override=why,
        hold_code="",
        hold_params={},
        attempts=0,
        next_attempt_at=None,
        dispatched_at=None,
    )
    pump_request_after_commit()
    return ids
