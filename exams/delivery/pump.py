"""The pump: hands due ``pending`` rows to workers, only as many as the shared rate
limit has permits for, and remembers when each was dispatched so a long backlog
is not republished. It wakes itself when permits free or deferred rows fall due.
"""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Now

from ..candidates.checks import fresh_mirrors
from ..gateway import breaker, enqueue
from ..gateway.limiter import get_limiter
from ..gateway.locks import lock_acquire, lock_release
from ..models import ExamResult, ExamResultQuerySet
from .timing import seconds

logger = logging.getLogger(__name__)
Status = ExamResult.Status

PUMP_LOCK = "pump"
PUMP_AGAIN = "hp:delivery:pump-again"
WAKEUP = "hp:delivery:wakeup"
PUMP_LOCK_SECONDS = 5
# A row handed out is claimed within moments by a worker with a free slot; one
# still unclaimed after this long sits behind slow work or its message was lost,
# and stops holding back the next rows (it is handed out again after
# DELIVERY_REDISPATCH_AFTER_SECONDS).
HANDED_OUT_SECONDS = 10.0
# While rows handed out hold every free permit, the pump looks again this soon:
# often enough to keep Feishu's per-second window full, rarely enough to cost
# little (a pump round is two reads: the breaker and the rows handed out).
HANDED_OUT_RECHECK_SECONDS = 0.25


def exam_results_due() -> ExamResultQuerySet:
    """Pending rows whose time has come and that no worker was handed recently."""
    redispatch = seconds(settings.DELIVERY_REDISPATCH_AFTER_SECONDS)
    return ExamResult.objects.filter(status=Status.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=Now()),
        Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=Now() - redispatch),
    )


def exam_results_handed_out() -> ExamResultQuerySet:
    """Pending rows handed to a worker moments ago and not claimed yet."""
    window = min(HANDED_OUT_SECONDS, settings.DELIVERY_REDISPATCH_AFTER_SECONDS)
    return ExamResult.objects.filter(
        status=Status.PENDING,
        dispatched_at__isnull=False,
        dispatched_at__gte=Now() - seconds(window),
    )


def exam_results_dispatch_due(*, limit: int | None = None) -> int:
    """Hand due pending rows to workers, as many as there are permits for.

    One pump runs at a time. A caller that finds it running flags "go round again"
    and tries the lock once more, and the running pump looks at the flag after
    releasing the lock, so no request to pump is lost between the two.
    Returns how many rows were dispatched.
    """
    dispatched = 0
    while True:
        # Short-lived: a pump killed with its worker must not stall delivery long.
        token = lock_acquire(PUMP_LOCK, PUMP_LOCK_SECONDS)
        if token is None:
            cache.set(PUMP_AGAIN, "1", timeout=PUMP_LOCK_SECONDS * 2)
            token = lock_acquire(PUMP_LOCK, PUMP_LOCK_SECONDS)
            if token is None:
                return dispatched
        try:
            cache.delete(PUMP_AGAIN)
            dispatched += _pump(limit=None if limit is None else limit - dispatched)
        finally:
            lock_release(PUMP_LOCK, token)
        if not cache.get(PUMP_AGAIN) or (limit is not None and dispatched >= limit):
            return dispatched


def _pump(*, limit: int | None) -> int:
    dispatched = 0
    while True:
        state = breaker.current_state()
        wait = breaker.paused_for(take_probe=False, state=state)
        if wait is not None:
            pump_wake_in(wait)
            return dispatched
        free, wait = get_limiter().available("exams")
        probing = breaker.half_open(state)
        if probing:
            # One row goes out as the probe; the rest wait for its answer.
            free = min(free, 1)
        if not free:
            if exam_results_due().exists():
                pump_wake_in(wait)
            else:
                _wake_when_next_due(not_before=wait)
            return dispatched
        # Rows handed out and not claimed yet will each take one of these permits:
        # handing out more would only have them deferred (a task run for nothing).
        free -= exam_results_handed_out().count()
        if free <= 0:
            # Their permits are taken within moments; look again shortly, when
            # the ones taken earliest may have freed.
            pump_wake_in(HANDED_OUT_RECHECK_SECONDS)
            return dispatched
        batch = min(free, settings.DELIVERY_DISPATCH_BATCH)
        if limit is not None:
            batch = min(batch, limit - dispatched)
        if batch <= 0:
            return dispatched
        due, lookups_wait = _due_with_lookup_permits()
        rows = list(
            due.order_by(F("next_attempt_at").asc(nulls_first=True), "id").values_list(
                "pk", "report", "uuid"
            )[:batch]
        )
        if not rows:
            if lookups_wait is not None:
                pump_wake_in(lookups_wait)
            _wake_when_next_due()
            return dispatched
        ExamResult.objects.filter(pk__in=[r[0] for r in rows]).update(
            dispatched_at=Now()
        )
        to_deliver = []
        for pk, report, attachment_id in rows:
            if report and not attachment_id:
                enqueue.upload_report(pk)
            else:
                to_deliver.append(pk)
        for message in _messages(to_deliver, settings.DELIVERY_TASK_ROWS):
            enqueue.deliver(message)
        dispatched += len(rows)
        if probing or len(rows) < batch:
            if not probing:
                if lookups_wait is not None:
                    pump_wake_in(lookups_wait)
                _wake_when_next_due()
            return dispatched


def _messages(ids: list[int], most: int) -> list[list[int]]:
    """``ids`` in as few messages as hold at most ``most`` rows each, evened out
    (9 rows at most 8: 5 and 4, not 8 and 1), so the workers share them."""
    count = math.ceil(len(ids) / most)
    return [ids[start::count] for start in range(count)]


def _due_with_lookup_permits() -> tuple[ExamResultQuerySet, float | None]:
    """The due rows a worker can send now, and when lookups free if they can't.

    With the check before sending, a row whose application has no fresh mirror
    needs a lookup (``application_get``, its own budget) before its exam. When
    every lookup permit is taken, such a row would only be deferred at the check:
    a task run for nothing, and rows never tried (first in the pump's order)
    kept a row checked moments ago from the exam permit it needed. Then only
    rows that need no lookup go: fresh mirror, or sent anyway."""
    due = exam_results_due()
    if not settings.CANDIDATE_CHECK_BEFORE_SEND:
        return due, None
    lookups, wait = get_limiter().available("application_get")
    if lookups:
        return due, None
    fresh = fresh_mirrors().filter(application_id=OuterRef("application_id"))
    return due.filter(Q(check_override=True) | Exists(fresh)), wait


def _wake_when_next_due(*, not_before: float = 0.0) -> None:
    """Rows deferred to a later time (no permit then, a backoff, a 429's reset)
    need the pump at that time, not at the next sweep."""
    wait = (
        ExamResult.objects.filter(status=Status.PENDING, next_attempt_at__gt=Now())
        .annotate(wait=F("next_attempt_at") - Now())  # the database's clock
        .order_by("next_attempt_at")
        .values_list("wait", flat=True)
        .first()
    )
    if wait is not None:
        pump_wake_in(max(wait.total_seconds(), not_before))


def pump_wake_in(wait_seconds: float) -> None:
    """Run the pump again when permits free (or a pause ends), once for everyone."""
    wait_seconds = max(
        0.05, min(wait_seconds, settings.DELIVERY_SWEEP_INTERVAL_SECONDS)
    )
    # One message per tenth of a second, however many rows ask for it. One key for
    # every wakeup lost them: a wakeup set for one time swallowed a request for a
    # later one, and a pump woken before the key expired could not set the next.
    slot = math.ceil((time.time() + wait_seconds) * 10)
    if cache.add(f"{WAKEUP}:{slot}", "1", timeout=int(wait_seconds) + 2):
        enqueue.dispatch_due(countdown=max(0.0, slot / 10 - time.time()))


def pump_request() -> None:
    """Results became pending: one message runs the pump. When the broker is down
    the rows wait for the sweeper; nothing is lost."""
    try:
        enqueue.dispatch_due()
    except Exception:  # any broker failure: the sweeper recovers
        logger.warning("broker unreachable: pending results wait for the sweeper")


def pump_request_after_commit() -> None:
    enqueue.after_commit(enqueue.dispatch_due, what="pending results")
