"""The portal's own footing giving way: Redis losing its state (the broker's queued
messages, the limiter's windows) and the database failing a task for a moment.
Nothing is sent twice, nothing waits for the redispatch timeout, and Feishu sees
no burst."""

from __future__ import annotations

import time
from collections import Counter

import pytest
import redis
from django.conf import settings
from django.db import OperationalError

from exams import tasks
from exams.delivery.pump import exam_results_dispatch_due
from exams.entry import services
from exams.models import ExamResult
from tests.delivery.conftest import wait_until
from tests.delivery.test_resilience import make_pending

Status = ExamResult.Status

needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL, reason="the broker and the limiter are on Redis"
)


def redis_emptied() -> None:
    """What a Redis restarted without persistence (or flushed) leaves: nothing."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.mark.services
@needs_redis
def test_rows_whose_messages_the_broker_lost_are_handed_out_again_at_the_next_sweep(
    start_worker, sandbox, staff
):
    ids = make_pending(20, staff)
    services.exam_results_send(
        queryset=ExamResult.objects.filter(pk__in=ids), actor=None
    )
    # The pump hands the rows out while no worker listens; then Redis is emptied.
    assert exam_results_dispatch_due() == 20
    assert ExamResult.objects.filter(dispatched_at__isnull=False).count() == 20
    redis_emptied()
    # A redispatch timeout of five minutes: only noticing the loss delivers them.
    start_worker("w1", env={"DELIVERY_REDISPATCH_AFTER_SECONDS": "300"})
    wait_until(
        lambda: (
            ExamResult.objects.filter(pk__in=ids, status=Status.SYNCED).count() == 20
        ),
        timeout=30,
        what="the 20 results delivered after the broker lost their messages",
    )
    recorded = sandbox.exams()
    assert recorded["total"] == 20
    assert recorded["duplicates"] == []


@pytest.mark.services
@needs_redis
def test_after_redis_loses_the_limiters_windows_feishu_sees_no_burst(
    start_worker, sandbox, staff
):
    # Feishu (strict) allows 5 a second and 20 a minute; the portal knows it.
    sandbox.configure(rate_per_second=5, rate_per_minute=20)
    worker = start_worker(
        "w1",
        concurrency=4,
        env={
            "FEISHU_RATE_PER_SECOND": "5",
            "FEISHU_RATE_PER_MINUTE": "20",
            "CANDIDATE_CHECK_BEFORE_SEND": "false",
        },
    )
    ids = make_pending(30, staff)
    services.exam_results_send(
        queryset=ExamResult.objects.filter(pk__in=ids), actor=None
    )
    delivered(20, timeout=60, worker=worker)
    # The minute is spent. Redis loses everything: were the windows believed
    # empty, the next 10 would go at once and Feishu would answer 429.
    redis_emptied()
    time.sleep(5)
    assert sandbox.stats()["rate_limited"] == 0
    assert ExamResult.objects.filter(status=Status.SYNCED).count() == 20
    delivered(30, timeout=90, worker=worker)
    stats = sandbox.stats()
    assert stats["rate_limited"] == 0
    recorded = sandbox.exams()
    assert recorded["total"] == 30
    assert recorded["duplicates"] == []


def delivered(count: int, *, timeout: float, worker) -> None:
    """Wait for ``count`` results synced; fail saying where the others are."""
    deadline = time.monotonic() + timeout
    while ExamResult.objects.filter(status=Status.SYNCED).count() < count:
        if time.monotonic() > deadline:
            rows = ExamResult.objects.exclude(status=Status.SYNCED)
            pytest.fail(
                f"{count} not delivered in {timeout:.0f} s: "
                f"{Counter(rows.values_list('status', flat=True))}, e.g. "
                f"{list(rows.values_list('next_attempt_at', 'last_error_message')[:3])}"
                f"\n{worker.output(3000)}"
            )
        time.sleep(0.2)


@pytest.mark.embedded
def test_a_deliver_task_meeting_the_database_down_tries_again_soon(monkeypatch):
    # The database failing at one exact moment of a task: not something a real
    # database can be made to do on cue, hence the stand-in for the service.
    calls = []

    def deliver(*, result_id: int) -> str:
        calls.append(result_id)
        if len(calls) < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return "delivered"

    monkeypatch.setattr(tasks, "exam_result_deliver", deliver)
    # Run in place (as eager tasks are), each retry in turn.
    tasks.exam_result_deliver_task.apply(args=[7])
    assert calls == [7, 7, 7]  # the third try delivered


@pytest.mark.embedded
def test_a_deliver_task_gives_up_after_a_bounded_number_of_tries(monkeypatch):
    calls = []

    def deliver(*, result_id: int) -> str:
        calls.append(result_id)
        raise OperationalError("the database is down")

    monkeypatch.setattr(tasks, "exam_result_deliver", deliver)
    outcome = tasks.exam_result_deliver_task.apply(args=[7])
    assert outcome.failed()
    assert len(calls) == tasks.RETRY_OWN_FAULTS["max_retries"] + 1
