"""One pending wakeup per rate-limit bucket: what makes Celery 5.7's per-worker
``rate_limit`` run at its rate instead of about one task a second (issue 15; the
measurement is bench/celery_rate_limit.py).

Celery holds a rate-limited request in its task's ``TokenBucket`` and, when the
bucket has no token, schedules a call of ``Consumer._schedule_bucket_request``
on the event loop's timer (celery/worker/consumer/consumer.py:350-372). It does
so on *every* call that finds no token: once per message that arrives
(``_limit_task``, :374-376; ``_limit_post_eta``, :378-381) and again from every
such wakeup that still finds requests waiting. Nothing ever cancels the extra
ones, so one bucket ends up with one timer entry per message that arrived while
it was empty of tokens, all due at about the same moment (+1/rate), and each of
them that fires reschedules itself while the bucket holds requests. kombu's hub
fires at most ``max_timers=10`` due entries per loop iteration, and when it stops
at that cap the last delay it saw is ``None``, so ``fire_timers`` returns its
``min_delay`` of 1 s (kombu/asynchronous/hub.py:195-216) and the loop polls with a
one-second timeout (:397, :406) although entries are overdue. With the prefetch
taken by the requests held in the bucket (they count against it: no
``qos.increment_eventually`` for them, celery/worker/strategy.py:216-217, unlike
an ETA's at :199) the Redis channel has no BRPOP out, so nothing wakes the poll
early, and the bucket's capacity of 1 (consumer.py:313-315) lets one request
through per wakeup: about one task a second, once more than ten entries are due
together (after a second or two of a backlog).

Installed by bench/bench_settings.py only for the baseline's workers (when
``BENCH_DELIVER_RATE_LIMIT`` is set); the portal's own workers never carry it. It
changes nothing but the bookkeeping of wakeups: the same bucket, the same rate,
the same order; a request that arrives while a wakeup is pending joins the
bucket's queue and is served by that wakeup, as the documentation's "at most N
tasks a second, per worker" implies.
"""

from __future__ import annotations

import time
from typing import Any

from celery.worker.consumer import consumer as _consumer

#: On the bucket: (monotonic time its pending wakeup is due, that wakeup's mark).
_PENDING = "_bench_wakeup"
#: A wakeup later than this past its due time is taken as lost (a cleared timer,
#: a loop blocked that long), and the next arrival schedules a new one.
_LOST_AFTER_S = 1.0


def _wakeup_pending(bucket: Any) -> bool:
    pending = getattr(bucket, _PENDING, None)
    return pending is not None and time.monotonic() < pending[0] + _LOST_AFTER_S


def _on_wakeup(self: Any, bucket: Any, mark: object) -> None:
    pending = getattr(bucket, _PENDING, None)
    if pending is None or pending[1] is not mark:
        return  # superseded by a newer wakeup (this one was taken as lost)
    setattr(bucket, _PENDING, None)
    _schedule_bucket_request(self, bucket)


def _schedule_bucket_request(self: Any, bucket: Any) -> None:
    """Celery's own loop, but the wakeup it schedules is the bucket's only one."""
    while True:
        try:
            request, tokens = bucket.pop()
        except IndexError:
            break
        if bucket.can_consume(tokens):
            self._limit_move_to_pool(request)
            continue
        bucket.contents.appendleft((request, tokens))
        pri = self._limit_order = (self._limit_order + 1) % 10
        hold = bucket.expected_time(tokens)
        mark = object()
        setattr(bucket, _PENDING, (time.monotonic() + hold, mark))
        self.timer.call_after(hold, _on_wakeup, (self, bucket, mark), priority=pri)
        break


def _limit_task(self: Any, request: Any, bucket: Any, tokens: int) -> None:
    bucket.add((request, tokens))
    if not _wakeup_pending(bucket):
        _schedule_bucket_request(self, bucket)


def _limit_post_eta(self: Any, request: Any, bucket: Any, tokens: int) -> None:
    self.qos.decrement_eventually()
    _limit_task(self, request, bucket, tokens)


def install() -> None:
    # The task strategy binds consumer._limit_task / _limit_post_eta when the
    # worker starts, after settings are read: patching the class is enough.
    consumer_class: Any = _consumer.Consumer
    consumer_class._schedule_bucket_request = _schedule_bucket_request
    consumer_class._limit_task = _limit_task
    consumer_class._limit_post_eta = _limit_post_eta


install()
