"""Claims: a worker's exclusive hold on one row while it calls Feishu.

A claim is one conditional UPDATE (``pending`` → ``sending`` with a lease and a
fresh fencing token, ``next_attempt_at <= now()`` on the database's clock). The
attempt is recorded, and the lease renewed under the same token, just before the
request leaves; if the claim was lost meanwhile, nothing is sent. The outcome is
written only ``WHERE status='sending' AND lease_token=<ours>``, so a late answer
after a reclaim cannot overwrite what reconciliation decided.

A worker runs these on every result it delivers, so each is one round trip on
PostgreSQL (``update_one_recorded``): the claim returns the row it claimed with
its snapshot taken, and the outcome is written with its snapshot and Feishu's
answer on the attempt.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Now

from feishu import FeishuError

from ..gateway import breaker
from ..gateway.limiter import get_limiter
from ..models import ExamResult, FeishuAppState, HistorySource, SyncAttempt
from ..models.recording import compiled_update, update_one_recorded
from ..models.statements import Rows
from .pump import pump_wake_in
from .timing import seconds

logger = logging.getLogger(__name__)
Status = ExamResult.Status
ENGINE = HistorySource.ENGINE
UNREAD = breaker.UNREAD
# Due: on the database's clock.
DUE = (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=Now()),)
# A claim this young still holds most of its lease (seconds to minutes).
FRESH_CLAIM_SECONDS = 1.0


@dataclass(frozen=True)
class PlannedCall:
    """A call to Feishu made from the row as read before its claim, recorded by
    the claim itself: the claim then matches only while the fields the request
    was made from (``made_from``) are still what they were."""

    call: str
    body: bytes
    made_from: dict[str, Any]


@dataclass
class Claim:
    result: ExamResult
    token: uuid.UUID | None  # None only for a claim left without one (see sweep)
    # When it was taken (this process's monotonic clock); None: unknown.
    taken: float | None = None
    # The attempt recorded with the claim (a PlannedCall), or None.
    attempt: SyncAttempt | None = None

    def fresh(self, lease_seconds: float) -> bool:
        """Taken so recently that its lease cannot have run out: the sweeper
        reclaims a row only after ``lease_expires_at``, set at the claim."""
        return self.taken is not None and time.monotonic() - self.taken < min(
            FRESH_CLAIM_SECONDS, lease_seconds / 4
        )


def claim_defer(result_id: int, wait_seconds: float) -> None:
    """Not now (no permit, or delivery paused): due again later, no attempt spent."""
    ExamResult.objects.filter(pk=result_id, status=Status.PENDING).update(
        next_attempt_at=Now() + seconds(wait_seconds), dispatched_at=None
    )
    pump_wake_in(wait_seconds)


def claim_take(
    result_id: int, lease_seconds: float, *, planned: PlannedCall | None = None
) -> Claim | None:
    """Claim a due pending row for this worker, or None when it is not ours to send
    (another worker has it, it is not due, or it is no longer pending).

    ``planned``: the call to record with the claim, in the same statement. When
    the row has changed since the request was made from it, it is claimed as it
    is now, without the call (the caller makes the request again from the row)."""
    token = uuid.uuid4()
    taken = time.monotonic()
    equal = {"pk": result_id, "status": Status.PENDING}
    attempt = None
    if planned is not None:
        equal.update(planned.made_from)
        attempt = SyncAttempt(
            result_id=result_id,
            call=planned.call,
            request_body=planned.body.decode(),
            lease_token=token,
            started_at=Now(),
        )
    result = update_one_recorded(
        Rows(ExamResult, equal, DUE),
        source=ENGINE,
        insert=attempt,
        status=Status.SENDING,
        lease_token=token,
        lease_expires_at=Now() + seconds(lease_seconds),
        dispatched_at=None,
        attempts=F("attempts") + 1,
    )
    if result is None:
        return claim_take(result_id, lease_seconds) if planned is not None else None
    return Claim(result, token, taken, attempt)


def claim_with_permit(
    result_id: int,
    *,
    api: str,
    lease_seconds: float,
    breaker_state: FeishuAppState | breaker.Unread | None = UNREAD,
    planned: PlannedCall | None = None,
) -> Claim | str:
    """The breaker, then a permit for ``api``, then the claim: a Claim, or why not
    now (the row deferred without spending an attempt). ``breaker_state``: the
    breaker as the caller read it moments ago, when it did; ``planned``: the call
    to record with the claim (``claim_take``)."""
    wait = breaker.paused_for(state=breaker_state)
    if wait is not None:
        claim_defer(result_id, wait)
        return "paused"
    wait = get_limiter().acquire(api)
    if wait:
        claim_defer(result_id, wait)
        return "deferred"
    claim = claim_take(result_id, lease_seconds, planned=planned)
    return claim if claim is not None else "not due"


@dataclass(frozen=True)
class Answer:
    """Feishu's answer to a recorded call (or the error instead of one), to be
    written onto its attempt: with the outcome (``claim_finish(answer=…)``) or on
    its own (``attempt_complete``)."""

    attempt_id: int
    values: dict[str, Any]

    def statement(self) -> tuple[str, tuple[Any, ...]]:
        return compiled_update(Rows(SyncAttempt, {"pk": self.attempt_id}), self.values)


def claim_finish(claim: Claim, *, answer: Answer | None = None, **values: Any) -> bool:
    """Write an outcome (and ``answer`` on its attempt) if the row is still ours;
    False when the claim was lost (the answer is written all the same)."""
    result = claim.result
    before = result.tracked_values()
    for name, value in values.items():
        if name in ExamResult.TRACKED_FIELDS:
            setattr(result, name, value)
    written = update_one_recorded(
        Rows(
            ExamResult,
            {"pk": result.pk, "status": Status.SENDING, "lease_token": claim.token},
        ),
        source=ENGINE,
        record=result.tracked_values() != before,
        also=[answer.statement()] if answer is not None else (),
        lease_token=None,
        lease_expires_at=None,
        **values,
    )
    if written is None:
        logger.warning(
            "late answer ignored: the claim was lost",
            extra={"result_id": result.pk},
        )
        return False
    claim.result = written
    return True


def attempt_record(
    claim: Claim, call: str, body: bytes, lease_seconds: float
) -> SyncAttempt | None:
    """Record the attempt and renew the lease in one transaction, just before the
    request leaves. None when the claim was lost meanwhile: then nothing is sent.

    A claim taken moments ago (``Claim.fresh``) cannot have been lost: its attempt
    is recorded without renewing the lease, one statement fewer on every call."""
    if claim.fresh(lease_seconds):
        return SyncAttempt.objects.create(
            result_id=claim.result.pk,
            call=call,
            request_body=body.decode(),
            lease_token=claim.token,
        )
    with transaction.atomic():
        renewed = ExamResult.objects.filter(
            pk=claim.result.pk, status=Status.SENDING, lease_token=claim.token
        ).update(lease_expires_at=Now() + seconds(lease_seconds))
        if not renewed:
            return None
        return SyncAttempt.objects.create(
            result_id=claim.result.pk,
            call=call,
            request_body=body.decode(),
            lease_token=claim.token,
        )


def attempt_answer(
    attempt: SyncAttempt,
    started: float,
    outcome: str,
    *,
    error: FeishuError | None = None,
    http_status: int | None = None,
    log_id: str = "",
    response_body: str = "",
    code: int | None = None,
    msg: str = "",
) -> Answer:
    """Feishu's answer (or the error) to a recorded attempt started at ``started``
    (this process's monotonic clock), as it is written onto the attempt."""
    if error is not None:
        http_status = error.http_status
        code = error.code
        msg = error.msg
        log_id = error.log_id or ""
        response_body = error.response_body or ""
    return Answer(
        attempt.pk,
        {
            "duration_ms": int((time.monotonic() - started) * 1000),
            "http_status": http_status,
            "feishu_code": code,
            "feishu_msg": msg[:2000],
            "log_id": log_id[:128],
            "response_body": response_body,
            "outcome": outcome,
        },
    )


def attempt_complete(
    attempt: SyncAttempt, started: float, outcome: str, **answer: Any
) -> None:
    """Complete a recorded attempt with Feishu's answer (or the error), on its own:
    ``attempt_answer``'s arguments."""
    written = attempt_answer(attempt, started, outcome, **answer)
    SyncAttempt.objects.filter(pk=written.attempt_id).update(**written.values)
