"""The portal's own footing giving way: Redis losing the broker's queued messages,
and the database failing a task for a moment. Nothing is sent twice, nothing waits
for the redispatch timeout. (The limiter after Redis lost its windows: the unit
tests in tests/gateway/test_limiter.py and the chaos test.)"""

from __future__ import annotations

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
def test_a_message_of_rows_meeting_the_database_down_tries_again_soon(monkeypatch):
    """The same for a message of several rows: the retry runs the message again,
    and the claims decide, row by row, whether anything is sent."""
    calls = []

    def deliver(*, result_ids: list[int]) -> dict[str, int]:
        calls.append(list(result_ids))
        if len(calls) < 2:
            raise OperationalError("server closed the connection unexpectedly")
        return {"synced": len(result_ids)}

    monkeypatch.setattr(tasks, "exam_results_deliver", deliver)
    outcome = tasks.exam_results_deliver_task.apply(args=[[7, 8]])
    assert calls == [[7, 8], [7, 8]]
    assert outcome.get() == {"synced": 2}


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
