"""The sweeper: recovers whatever a lost message or a dead worker left behind.

Runs on beat (``DELIVERY_SWEEP_INTERVAL_SECONDS``) and when a worker starts, one
sweep at a time across every machine: reclaims expired leases (back to
``pending`` if no create call was recorded under that lease, ``unknown`` if one
was), queues due reconciliations, and runs the pump.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Now

from ..gateway import enqueue
from ..gateway.locks import lock_held
from ..models import ExamResult, SyncAttempt
from ..wording import stored
from .claims import Claim, claim_finish
from .pump import exam_results_dispatch_due
from .reconcile import settle_seconds
from .timing import seconds

logger = logging.getLogger(__name__)
Status = ExamResult.Status
Outcome = SyncAttempt.Outcome
SWEEP_LOCK = "sweep"
DELIVERY_RECONCILE_BATCH = 100  # one tests/search call covers 100 applications


def delivery_sweep() -> dict[str, int]:
    """One round of recovery; returns what it did, for logs and tests."""
    lock_seconds = max(5, settings.DELIVERY_SWEEP_INTERVAL_SECONDS - 1)
    with lock_held(SWEEP_LOCK, lock_seconds) as held:
        if not held:
            return {"skipped": 1}
        counts = {"reclaimed": 0, "to_reconcile": 0, "reconcile_batches": 0}
        batch = settings.DELIVERY_SWEEP_BATCH
        expired = list(
            ExamResult.objects.filter(
                status=Status.SENDING, lease_expires_at__lt=Now()
            ).values_list("pk", "lease_token")[:batch]
        )
        for pk, token in expired:
            counts["reclaimed"] += _reclaim(pk, token)
        due_unknown = list(
            ExamResult.objects.filter(
                status=Status.UNKNOWN,
                next_attempt_at__isnull=False,
                next_attempt_at__lte=Now(),
            )
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:batch]
        )
        counts["to_reconcile"] = len(due_unknown)
        for start in range(0, len(due_unknown), DELIVERY_RECONCILE_BATCH):
            enqueue.reconcile(due_unknown[start : start + DELIVERY_RECONCILE_BATCH])
            counts["reconcile_batches"] += 1
        counts["redispatched"] = _redispatch_if_messages_lost()
        counts["dispatched"] = exam_results_dispatch_due()
        return counts


def _redispatch_if_messages_lost() -> int:
    """The broker lost its queues: the rows handed out and not yet claimed are due
    again now, not after ``DELIVERY_REDISPATCH_AFTER_SECONDS``. A message that did
    survive only finds its row claimed or not due: the claim decides, never the
    message."""
    if not enqueue.broker_lost_messages():
        return 0
    redispatched = ExamResult.objects.filter(
        status=Status.PENDING, dispatched_at__isnull=False
    ).update(dispatched_at=None)
    if redispatched:
        logger.warning(
            "the broker lost its queued messages; %d results handed out again",
            redispatched,
        )
    return redispatched


def _reclaim(result_id: int, token: uuid.UUID | None) -> int:
    """An expired claim: if its request may have left, reconcile; else pending.

    A claim without a token (left by hand or by an older version) cannot have sent
    anything through today's engine, which sends only under its own token; but
    safety first: any create call of this row that never got an answer makes it
    ``unknown``.
    """
    attempts = SyncAttempt.objects.filter(
        result_id=result_id, call=SyncAttempt.Call.CREATE_EXAM
    )
    if token is not None:
        attempts = attempts.filter(lease_token=token)
    else:
        attempts = attempts.filter(outcome=Outcome.IN_FLIGHT)
    sent = attempts.exists()
    claim = Claim(ExamResult.objects.get(pk=result_id), token)
    with transaction.atomic():
        if sent:
            attempts.filter(outcome=Outcome.IN_FLIGHT).update(outcome=Outcome.UNKNOWN)
            done = claim_finish(
                claim,
                status=Status.UNKNOWN,
                unknown_since=Now(),
                next_attempt_at=Now() + seconds(settle_seconds()),
                last_error_message=stored("delivery.worker_stopped"),
            )
        else:
            done = claim_finish(claim, status=Status.PENDING, dispatched_at=None)
    return int(done)
