"""Several rows to a delivery message: the pump hands out the rows it has permits
for in as few messages as ``DELIVERY_TASK_ROWS`` allows, evened out, and a worker
delivers a message's rows one by one, each with its own claim. A message that
has run for ``DELIVERY_TASK_START_SECONDS`` starts no more rows: they are handed
out again at once."""

from __future__ import annotations

import re

import pytest
from django.db.models.functions import Now

from exams.delivery import pump
from exams.delivery.sending import exam_results_deliver
from exams.entry import services
from exams.gateway.limiter import limiter_start_fresh
from exams.models import ExamResult, HistorySource
from exams.models.recording import update_recorded
from tests.delivery.conftest import wait_until
from tests.delivery.test_delivery import sandbox_count
from tests.delivery.test_resilience import make_pending

Status = ExamResult.Status
DELIVERED = re.compile(
    r"Task exams\.tasks\.exam_results_deliver_task\[[^\]]+\] succeeded in "
    r"[0-9.e-]+s: (\{.*\})"
)


def _handed_out(ids):
    """Pending, and handed to a worker just now (as the pump leaves them)."""
    rows = ExamResult.objects.filter(pk__in=ids)
    update_recorded(
        rows, actor=None, source=HistorySource.ENGINE, status=Status.PENDING
    )
    rows.update(dispatched_at=Now())


@pytest.mark.parametrize(
    ("rows", "most", "sizes"),
    [
        (0, 8, []),
        (1, 8, [1]),
        (8, 8, [8]),
        (9, 8, [5, 4]),
        (50, 8, [8, 7, 7, 7, 7, 7, 7]),
        (3, 1, [1, 1, 1]),
    ],
)
def test_rows_are_split_into_as_few_even_messages_as_allowed(rows, most, sizes):
    messages = pump._messages(list(range(rows)), most)
    assert [len(m) for m in messages] == sizes
    # Every row once, and each message's first row among the earliest due.
    assert sorted(i for m in messages for i in m) == list(range(rows))
    assert [m[0] for m in messages] == list(range(len(messages)))


@pytest.mark.embedded
def test_a_message_starts_no_row_after_its_time_and_hands_the_rest_out_again(
    sandbox, transactional_db, staff, settings
):
    settings.DELIVERY_TASK_START_SECONDS = 0
    limiter_start_fresh()
    ids = make_pending(3, staff)
    _handed_out(ids)

    outcomes = exam_results_deliver(result_ids=ids)

    assert outcomes == {"synced": 1, "handed out again": 2}
    first, *rest = ExamResult.objects.filter(pk__in=ids).order_by("pk")
    assert first.status == Status.SYNCED
    assert [(r.status, r.dispatched_at) for r in rest] == [(Status.PENDING, None)] * 2
    assert [r.attempts for r in rest] == [0, 0]  # never tried: no attempt spent


@pytest.mark.embedded
def test_a_worker_delivers_a_batch_in_few_messages_each_row_once(
    start_worker, sandbox, staff
):
    worker = start_worker("w1", concurrency=2, env={"DELIVERY_TASK_ROWS": "4"})
    ids = make_pending(20, staff)
    services.exam_results_send(
        queryset=ExamResult.objects.filter(pk__in=ids), actor=None
    )

    wait_until(
        lambda: (
            ExamResult.objects.filter(pk__in=ids, status=Status.SYNCED).count() == 20
        ),
        timeout=60,
    )
    rows = ExamResult.objects.filter(pk__in=ids)
    assert all(sandbox_count(sandbox, r) == 1 for r in rows)
    messages = [
        eval(m.group(1))  # noqa: S307 (the worker's own log: a dict of counts)
        for m in DELIVERED.finditer(worker.log.read_text())
    ]
    assert sum(m.get("synced", 0) for m in messages) == 20
    assert all(sum(m.values()) <= 4 for m in messages)
    assert len(messages) < 20


@pytest.mark.embedded
def test_after_a_row_that_pauses_delivery_the_rest_of_its_message_go_back(
    sandbox, transactional_db, staff
):
    """The message's rows were read together, the breaker closed; once the first
    row's answer paused delivery, the next rows must not go out as read."""
    limiter_start_fresh()
    sandbox.configure(missing_scope=True)
    ids = make_pending(3, staff)
    _handed_out(ids)

    outcomes = exam_results_deliver(result_ids=ids)

    assert outcomes == {"paused": 1, "handed out again": 2}
    calls = sandbox.stats()["api_requests"]
    calls.pop("token", None)
    assert calls == {"application_get": 1}  # the first row's, answered 99991672
    rest = ExamResult.objects.filter(pk__in=ids[1:])
    assert [(r.status, r.dispatched_at, r.attempts) for r in rest] == [
        (Status.PENDING, None, 0)
    ] * 2
