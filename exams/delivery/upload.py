"""Uploading a result's report to Feishu, as a step of its own before the exam is
posted (the attachment id goes into the exam's ``uuid``)."""

from __future__ import annotations

import time

from django.conf import settings
from django.db.models.functions import Now

from feishu import FeishuError, InvalidRequestError, RateLimitedError

from ..gateway import breaker
from ..gateway.client import get_client
from ..gateway.limiter import get_limiter
from ..gateway.messages import deployment_wide, staff_message
from ..models import ExamResult, SyncAttempt
from ..wording import stored
from .claims import attempt_answer, attempt_record, claim_finish, claim_with_permit
from .gate import exam_result_gate
from .pump import pump_request
from .timing import backoff, seconds

Status = ExamResult.Status
Outcome = SyncAttempt.Outcome


def exam_result_upload_report(*, result_id: int, checked: bool = False) -> str:
    """Upload a result's report to get its attachment id, as a step of its own,
    once the result's application passed the check (``checked``: just done).

    Uploading again is harmless (an unused attachment creates no exam record), so
    any failure simply returns the row to pending with a backoff.
    """
    if not checked:
        result = (
            ExamResult.objects.filter(pk=result_id, status=Status.PENDING)
            .only("application_id", "check_override")
            .first()
        )
        if result is None:
            return "not pending"
        held = exam_result_gate(result)
        if held is not None:
            return held
    claim = claim_with_permit(
        result_id,
        api="attachments",
        lease_seconds=settings.DELIVERY_UPLOAD_LEASE_SECONDS,
    )
    if isinstance(claim, str):
        return claim
    result = claim.result
    attempt = attempt_record(
        claim,
        SyncAttempt.Call.UPLOAD_ATTACHMENT,
        f"report: {result.report.name}".encode(),
        settings.DELIVERY_UPLOAD_LEASE_SECONDS,
    )
    if attempt is None:
        return "claim lost"
    started = time.monotonic()
    try:
        with result.report.open("rb") as fh:
            attachment = get_client().upload_attachment(
                fh, filename=result.report.name.rsplit("/", 1)[-1]
            )
    except FeishuError as error:
        if isinstance(error, RateLimitedError):
            get_limiter().block("attachments", error.reset_seconds)
        if deployment_wide(error):
            breaker.trip(reason=staff_message(error), code=error.code)
        permanent = isinstance(error, InvalidRequestError)
        answer = attempt_answer(
            attempt,
            started,
            Outcome.PERMANENT if permanent else Outcome.RETRY,
            error=error,
        )
        delay = backoff(
            1,
            settings.DELIVERY_BACKOFF_BASE_SECONDS,
            settings.DELIVERY_BACKOFF_CAP_SECONDS,
        )
        claim_finish(
            claim,
            answer=answer,
            status=Status.FAILED if permanent else Status.PENDING,
            next_attempt_at=None if permanent else Now() + seconds(delay),
            last_error_code=error.code,
            last_error_message=stored(
                "delivery.report_upload_failed", feishu_msg=error.msg
            ),
        )
        return "failed" if permanent else "retry"
    except OSError as error:
        answer = attempt_answer(attempt, started, Outcome.PERMANENT, msg=str(error))
        claim_finish(
            claim,
            answer=answer,
            status=Status.FAILED,
            last_error_message=stored("delivery.report_unreadable", error=str(error)),
        )
        return "failed"
    answer = attempt_answer(
        attempt,
        started,
        Outcome.SUCCESS,
        log_id=attachment.log_id or "",
        code=0,
        msg="ok",
    )
    claim_finish(
        claim,
        answer=answer,
        status=Status.PENDING,
        uuid=attachment.id,
        next_attempt_at=None,
    )
    pump_request()
    return "uploaded"
