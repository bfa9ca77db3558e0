"""Writes to exam results: entering, changing, sending and deleting them.

Every function here records history (exams.history) and guards the state first:
a result that is being sent, whose outcome is unknown or that was delivered is never
changed, because Feishu offers no way to update an exam result once it is there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ..candidates.lookups import applications_request_lookup
from ..delivery.pump import pump_request_after_commit
from ..models import ExamResult, HistorySource
from ..models.recording import delete_recorded, save_recorded, update_recorded
from ..rules import operator_from_other_app, result_operator_problem
from ..wording import stored
from .operators import operator_for

Status = ExamResult.Status
Source = HistorySource


def _after_commit_deliver(ids: list[int]) -> None:
    if ids:
        pump_request_after_commit()


def exam_result_fill_operator(*, result: ExamResult, user: User) -> None:
    """Fill in the operator from ``user``'s Feishu identity when none was given."""
    if not result.user_id_type:
        result.user_id_type = settings.FEISHU_USER_ID_TYPE
    if result.operator_id:
        if not result.operator_app_id:
            result.operator_app_id = settings.FEISHU_APP_ID
        return
    result.operator_id, result.operator_app_id = operator_for(
        user=user, user_id_type=result.user_id_type
    )


def _send_blocker(result: ExamResult) -> str | None:
    """Why ``result`` cannot be queued for delivery now, or None."""
    if result.status not in ExamResult.EDITABLE_STATUSES:
        return _("it is %(status)s") % {"status": result.get_status_display()}
    problem = result_operator_problem(result)
    return str(problem) if problem else None


def exam_result_save(
    *,
    result: ExamResult,
    actor: User,
    send: bool = False,
    source: str = Source.ADMIN,
) -> ExamResult:
    """Create or change a result entered by ``actor``; with ``send``, queue it.

    A new result starts as a draft (or pending when sent). A result may be changed
    only while it is a draft, failed, or pending and not yet claimed by a worker.
    """
    with transaction.atomic():
        if not result._state.adding:
            current = (
                ExamResult.objects.select_for_update()
                .only("status", "application_id")
                .get(pk=result.pk)
            )
            if current.status not in ExamResult.EDITABLE_STATUSES:
                raise ValidationError(
                    _(
                        "This result is %(status)s and can no longer be changed: "
                        "Feishu offers no way to update an exam result."
                    )
                    % {"status": current.get_status_display()},
                    code="read_only",
                )
            result.status = current.status
            if result.application_id != current.application_id:
                # Another application: what was found or decided about the old
                # one no longer applies.
                _clear_check(result)
                result.check_override = ""
        else:
            result.entered_by = actor
            result.status = Status.DRAFT
        exam_result_fill_operator(result=result, user=actor)
        if send:
            blocker = _send_blocker(result)
            if blocker:
                raise ValidationError(
                    _("Cannot send: %(reason)s") % {"reason": blocker}, code="send"
                )
            _mark_pending(result)
        save_recorded(result, actor=actor, source=source)
        if send:
            _after_commit_deliver([result.pk])
        application_id = result.application_id
        transaction.on_commit(lambda: applications_request_lookup([application_id]))
    return result


def _clear_check(result: ExamResult) -> None:
    result.hold_code = ""
    result.hold_params = {}


def _mark_pending(result: ExamResult) -> None:
    result.status = Status.PENDING
    result.attempts = 0
    result.next_attempt_at = None
    result.last_error_code = None
    result.last_error_message = ""
    _clear_check(result)


@dataclass
class SendReport:
    """What a bulk send did: how many were queued and why the others were not.

    ``skipped`` counts the others by reason, each reason a stored message
    (``wording.stored``): an import keeps the report, and whoever reads it later
    reads the reasons in their language (``wording.render``)."""

    queued: list[int] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)


def exam_results_send(
    *,
    queryset: QuerySet[ExamResult],
    actor: User | None,
    source: str = Source.BULK_ACTION,
    statuses: tuple[str, ...] = (Status.DRAFT, Status.FAILED, Status.HELD),
) -> SendReport:
    """Queue every result of ``queryset`` in one of ``statuses`` for delivery.

    One UPDATE marks them pending; the ids go to the dispatcher after commit, which
    enqueues them in batches outside the request.
    """
    report = SendReport()
    with transaction.atomic():
        others = queryset.exclude(status__in=statuses).count()
        candidates = queryset.filter(status__in=statuses)
        wrong_app = candidates.filter(operator_from_other_app())
        wrong_app_count = wrong_app.count()
        sendable = candidates.exclude(pk__in=wrong_app.values("pk"))
        report.queued = update_recorded(
            sendable,
            actor=actor,
            source=source,
            status=Status.PENDING,
            attempts=0,
            next_attempt_at=None,
            last_error_code=None,
            last_error_message="",
            hold_code="",
            hold_params={},
        )
        if wrong_app_count:
            report.skipped[stored("send.operator_other_app")] = wrong_app_count
        if others:
            report.skipped[stored("send.not_sendable")] = others
        _after_commit_deliver(report.queued)
    return report


def exam_result_delete(*, result: ExamResult, actor: User) -> None:
    """Delete a draft. Anything that may have reached Feishu is kept for the audit."""
    if result.status != Status.DRAFT:
        raise PermissionDenied(_("Only a draft result can be deleted."))
    delete_recorded(result, actor=actor, source=Source.ADMIN)
