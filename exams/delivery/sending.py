"""Sending one result to Feishu, and what each kind of failure leads to.

- rate limited (429): back to ``pending`` at Feishu's reset, no attempt counted;
- deployment-wide (scope, credentials, token): ``pending`` and delivery paused;
- refused as invalid (1002002 …): ``failed``, for staff to fix;
- safe to retry (the request never left …): ``pending`` with backoff, up to
  ``DELIVERY_MAX_ATTEMPTS``;
- anything that may have reached Feishu (1002001, 5xx, timeout, dropped answer,
  the worker stopping mid-call): ``unknown``, reconciled before anything is
  posted again.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db.models import F
from django.db.models.functions import Now

from feishu import (
    FeishuError,
    InvalidRequestError,
    OutcomeUnknownError,
    RateLimitedError,
    Retry,
    exam_body,
)

from ..gateway import breaker
from ..gateway.client import get_client
from ..gateway.limiter import get_limiter
from ..gateway.messages import deployment_wide, staff_message
from ..models import ExamResult, SyncAttempt
from ..rules import result_operator_problem
from ..wording import stored
from .claims import (
    Claim,
    PlannedCall,
    attempt_answer,
    attempt_record,
    claim_defer,
    claim_finish,
    claim_with_permit,
)
from .gate import exam_result_gate
from .pump import pump_request, pump_wake_in
from .reading import (
    NOTHING,
    SENT_FIELDS,
    Reading,
    delivery_reading,
    delivery_readings,
)
from .reconcile import settle_seconds
from .timing import backoff, seconds
from .upload import exam_result_upload_report

logger = logging.getLogger(__name__)
Status = ExamResult.Status
Outcome = SyncAttempt.Outcome
# Outcomes that leave the next row of a message to meet what it was read with.
ROW_OUTCOMES = frozenset(
    {"synced", "uploaded", "failed", "held", "not pending", "not due", "claim lost"}
)


def exam_results_deliver(*, result_ids: Sequence[int]) -> dict[str, int]:
    """Deliver the rows of one message, one after the other, each as
    ``exam_result_deliver`` does (its own permit, claim and outcome); what they
    share is the message's cost and the reading, made for all of them at once.
    Returns how many rows had each outcome.

    The reading holds for the rows after a row whose outcome stays with that
    row (sent, refused, held, …). After one that changed what the next would
    meet (delivery paused, no permit, Feishu failing), the rest go back to the
    pump, which hands them out again when they can go. So does every row not
    started within ``DELIVERY_TASK_START_SECONDS`` (the task's time limits allow
    one more lease beyond it): a slow Feishu does not keep them waiting."""
    deadline = time.monotonic() + settings.DELIVERY_TASK_START_SECONDS
    readings = delivery_readings(result_ids)
    outcomes: Counter[str] = Counter()
    for done, result_id in enumerate(result_ids):
        if done and (
            time.monotonic() > deadline or not outcomes.keys() <= ROW_OUTCOMES
        ):
            left = list(result_ids[done:])
            ExamResult.objects.filter(pk__in=left, status=Status.PENDING).update(
                dispatched_at=None
            )
            pump_request()
            outcomes["handed out again"] += len(left)
            break
        reading = readings.get(result_id, NOTHING)
        outcomes[exam_result_deliver(result_id=result_id, reading=reading)] += 1
    return dict(outcomes)


def exam_result_deliver(*, result_id: int, reading: Reading | None = None) -> str:
    """Deliver one result to Feishu. Returns what happened, for logs and tests.
    ``reading``: the row's ``delivery_reading``, when the caller has just made it."""
    if reading is None:
        reading = delivery_reading(result_id)
    result, breaker_state = reading.result, reading.breaker_state
    if result is None or result.status != Status.PENDING:
        return "not pending"
    wait = breaker.paused_for(take_probe=False, state=breaker_state)
    if wait is not None:
        claim_defer(result_id, wait)
        return "paused"
    held = exam_result_gate(result, mirror=reading.mirror)
    if held is not None:
        return held
    if result.report and not result.uuid:
        return exam_result_upload_report(result_id=result_id, checked=True)
    # The request is made from the row as read, and recorded with the claim,
    # which matches only while the row still says what the request says.
    body = _request_body(result)
    claim = claim_with_permit(
        result_id,
        api="exams",
        lease_seconds=settings.DELIVERY_LEASE_SECONDS,
        breaker_state=breaker_state,
        planned=(
            PlannedCall(SyncAttempt.Call.CREATE_EXAM, body, _made_from(result))
            if isinstance(body, bytes)
            else None
        ),
    )
    if isinstance(claim, str):
        return claim
    result = claim.result
    attempt = claim.attempt
    if attempt is None:  # not sendable as read, or changed since: as claimed
        body = _request_body(result)
        if not isinstance(body, bytes):
            claim_finish(
                claim,
                status=Status.FAILED,
                last_error_code=None,
                last_error_message=body,
            )
            return "failed"
        attempt = attempt_record(
            claim, SyncAttempt.Call.CREATE_EXAM, body, settings.DELIVERY_LEASE_SECONDS
        )
        if attempt is None:
            return "claim lost"
    started = time.monotonic()
    try:
        created = get_client().create_exam(
            result.application_id,
            result.exam_resource_name,
            result.score,
            result.operator_id,
            user_id_type=result.user_id_type,
            uuid=result.uuid or None,
        )
    except FeishuError as error:
        return _failed(claim, attempt, started, error)
    except BaseException as error:
        # A soft time limit, a bug, a kill: the request may have left.
        unknown = OutcomeUnknownError(f"{type(error).__name__}: {error}")
        _failed(claim, attempt, started, unknown)
        raise
    answer = attempt_answer(
        attempt,
        started,
        Outcome.SUCCESS,
        http_status=created.http_status,
        log_id=created.log_id or "",
        response_body=created.response_body,
        code=0,
        msg="ok",
    )
    claim_finish(
        claim,
        answer=answer,
        status=Status.SYNCED,
        exam_id=created.exam_id,
        operate_time=created.operate_time,
        synced_at=Now(),
        last_log_id=created.log_id or "",
        last_error_code=None,
        last_error_message="",
        next_attempt_at=None,
        unknown_since=None,
    )
    if breaker.record_success(was_clean=breaker.is_clean(breaker_state)):
        pump_request()  # the probe succeeded: the paused rows go out now
    logger.info(
        "exam result delivered",
        extra={
            "result_id": result.pk,
            "attempt": attempt.pk,
            "exam_id": created.exam_id,
            "log_id": created.log_id,
        },
    )
    return "synced"


def _request_body(result: ExamResult) -> bytes | str:
    """The request adding ``result`` in Feishu, or why it cannot be sent (a
    stored message)."""
    problem = result_operator_problem(result)
    if problem:
        return problem.stored()
    try:
        return exam_body(
            result.application_id,
            result.exam_resource_name,
            result.score,
            result.operator_id,
            result.uuid or None,
        )
    except InvalidRequestError as error:
        return stored("delivery.not_sendable", detail=error.msg)


def _made_from(result: ExamResult) -> dict[str, Any]:
    values = {name: getattr(result, name) for name in SENT_FIELDS}
    values["report"] = result.report.name or ""
    return values


def _failed(
    claim: Claim, attempt: SyncAttempt, started: float, error: FeishuError
) -> str:
    result = claim.result
    if error.http_status is not None:
        breaker.record_answer()
    common = {"last_error_code": error.code, "last_log_id": (error.log_id or "")[:128]}
    log_extra = {
        "result_id": result.pk,
        "attempt": attempt.pk,
        "feishu_code": error.code,
        "log_id": error.log_id,
    }
    if isinstance(error, RateLimitedError):
        answer = attempt_answer(attempt, started, Outcome.RETRY, error=error)
        get_limiter().block("exams", error.reset_seconds)
        # Waiting out a 429 never counts as an attempt.
        claim_finish(
            claim,
            answer=answer,
            status=Status.PENDING,
            attempts=F("attempts") - 1,
            next_attempt_at=Now() + seconds(error.reset_seconds),
            **common,
        )
        pump_wake_in(error.reset_seconds)
        logger.warning("rate limited by Feishu", extra=log_extra)
        return "rate limited"
    if deployment_wide(error):
        answer = attempt_answer(attempt, started, Outcome.PERMANENT, error=error)
        message = staff_message(error)
        breaker.trip(reason=message, code=error.code)
        claim_finish(
            claim,
            answer=answer,
            status=Status.PENDING,
            attempts=F("attempts") - 1,
            next_attempt_at=Now() + seconds(settings.DELIVERY_BREAKER_COOLDOWN_SECONDS),
            last_error_message=message,
            **common,
        )
        logger.error("delivery paused by a deployment-wide error", extra=log_extra)
        return "paused"
    if error.retry == Retry.PERMANENT:
        answer = attempt_answer(attempt, started, Outcome.PERMANENT, error=error)
        claim_finish(
            claim,
            answer=answer,
            status=Status.FAILED,
            last_error_message=staff_message(error),
            **common,
        )
        logger.warning("exam result refused by Feishu", extra=log_extra)
        return "failed"
    if error.retry == Retry.SAFE:
        answer = attempt_answer(attempt, started, Outcome.RETRY, error=error)
        attempts = result.attempts
        if attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            claim_finish(
                claim,
                answer=answer,
                status=Status.FAILED,
                last_error_message=stored(
                    "delivery.gave_up", n=attempts, feishu_msg=error.msg
                ),
                **common,
            )
            return "failed"
        delay = backoff(
            attempts,
            settings.DELIVERY_BACKOFF_BASE_SECONDS,
            settings.DELIVERY_BACKOFF_CAP_SECONDS,
        )
        claim_finish(
            claim,
            answer=answer,
            status=Status.PENDING,
            next_attempt_at=Now() + seconds(delay),
            last_error_message=staff_message(error),
            **common,
        )
        pump_wake_in(delay)
        return "retry"
    # Outcome unknown: reconcile before anything is sent again.
    answer = attempt_answer(attempt, started, Outcome.UNKNOWN, error=error)
    claim_finish(
        claim,
        answer=answer,
        status=Status.UNKNOWN,
        unknown_since=Now(),
        next_attempt_at=Now() + seconds(settle_seconds()),
        last_error_message=staff_message(error),
        **common,
    )
    if error.http_status is None or error.http_status >= 500:
        breaker.record_server_failure(code=error.code, message=error.msg)
    logger.warning("delivery outcome unknown; will reconcile", extra=log_extra)
    return "unknown"
