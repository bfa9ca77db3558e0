"""Nothing lost, nothing twice: killed workers, competing workers, competing beats."""

from __future__ import annotations

import os
import signal

import pytest

from exams.delivery.sweep import SWEEP_LOCK, delivery_sweep
from exams.gateway import locks
from exams.models import ExamResult, HistorySource
from exams.models.recording import bulk_create_recorded
from tests.delivery.conftest import wait_until

Status = ExamResult.Status


def make_pending(count: int, user) -> list[int]:
    rows = [
        ExamResult(
            application_id=str(7000000000000000000 + n),
            exam_resource_name="后端工程师笔试（A卷）",
            score="75.5",
            operator_id="ou_f476cb099ac9227c9bae09ce46112579",
            operator_app_id="cli_sandbox",
            entered_by=user,
        )
        for n in range(count)
    ]
    bulk_create_recorded(rows, actor=user, source=HistorySource.IMPORT)
    return [r.pk for r in rows]


@pytest.mark.services
def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    start_worker, sandbox, staff
):
    from exams.entry import services

    first = start_worker("w1", concurrency=2)
    start_worker("w2", concurrency=2, beat=False)
    ids = make_pending(300, staff)
    services.exam_results_send(
        queryset=ExamResult.objects.filter(pk__in=ids), actor=None
    )
    wait_until(
        lambda: ExamResult.objects.filter(status=Status.SYNCED).count() >= 60,
        what="a third delivered",
    )
    for pid in first.children():
        os.kill(pid, signal.SIGKILL)
    try:
        wait_until(
            lambda: ExamResult.objects.filter(status=Status.SYNCED).count() == 300,
            timeout=150,
            what="all 300 delivered",
        )
    except BaseException:
        from collections import Counter

        print(Counter(ExamResult.objects.values_list("status", flat=True)))
        for r in ExamResult.objects.exclude(status=Status.SYNCED)[:5]:
            print(
                r.pk,
                r.status,
                r.next_attempt_at,
                r.lease_expires_at,
                r.dispatched_at,
                r.last_error_message,
            )
        print(first.output()[-3000:])
        raise
    recorded = sandbox.exams()
    assert recorded["total"] == 300
    assert recorded["duplicates"] == []


@pytest.mark.embedded
def test_a_sweep_started_while_another_runs_stands_aside(transactional_db, sandbox):
    # What a sweep on another machine's beat holds while it runs.
    token = locks.lock_acquire(SWEEP_LOCK, 30)
    assert token is not None
    try:
        assert delivery_sweep() == {"skipped": 1}
    finally:
        locks.lock_release(SWEEP_LOCK, token)
    assert "skipped" not in delivery_sweep()
