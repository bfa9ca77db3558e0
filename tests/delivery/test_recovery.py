"""Recovering what a lost message, a dead process or a slow one left behind:
shared locks released only by their holder, a claim without a token, imports
queued while the broker was down or interrupted mid-way, a background "Check
Feishu" that could not be handed to a worker."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from exams.delivery.pump import PUMP_AGAIN, PUMP_LOCK, exam_results_dispatch_due
from exams.delivery.sweep import delivery_sweep
from exams.gateway import locks
from exams.importing import service
from exams.models import ExamResult, ImportBatch, SyncAttempt
from exams.wording import render
from tests.broker import broker_down

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.embedded]
Status = ExamResult.Status


@pytest.fixture(autouse=True)
def _clean_locks():
    cache.clear()
    yield
    cache.clear()


def test_a_holder_whose_lock_expired_does_not_release_the_next_holders_lock():
    # Given a slow pump whose lock expired while it ran, and another that took it
    slow = locks.lock_acquire("pump-test", 1)
    time.sleep(2.1)  # the database cache keeps whole seconds
    fast = locks.lock_acquire("pump-test", 30)
    assert slow is not None and fast is not None
    # When the slow one finishes and releases its lock
    locks.lock_release("pump-test", slow)
    # Then the other still holds it
    assert locks.lock_acquire("pump-test", 30) is None
    locks.lock_release("pump-test", fast)
    assert locks.lock_acquire("pump-test", 30) is not None


def test_a_pump_that_finds_the_lock_held_asks_for_another_round_and_leaves_it():
    holder = locks.lock_acquire(PUMP_LOCK, 30)
    assert exam_results_dispatch_due() == 0
    assert cache.get(PUMP_AGAIN)
    assert locks.lock_acquire(PUMP_LOCK, 30) is None
    locks.lock_release(PUMP_LOCK, holder)


def _sending_without_token(exam_result_factory):
    result = exam_result_factory(status=Status.SENDING)
    ExamResult.objects.filter(pk=result.pk).update(
        lease_token=None, lease_expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    return result


def test_a_claim_left_without_a_token_is_reclaimed_once(exam_result_factory):
    result = _sending_without_token(exam_result_factory)
    assert delivery_sweep()["reclaimed"] == 1
    result.refresh_from_db()
    assert result.status == Status.PENDING
    # Picked up once, not on every sweep.
    assert delivery_sweep()["reclaimed"] == 0


def test_a_claim_without_a_token_whose_call_never_answered_is_reconciled(
    exam_result_factory,
):
    result = _sending_without_token(exam_result_factory)
    SyncAttempt.objects.create(result=result, call=SyncAttempt.Call.CREATE_EXAM)
    delivery_sweep()
    result.refresh_from_db()
    assert result.status == Status.UNKNOWN
    assert SyncAttempt.objects.get(result=result).outcome == "unknown"


def _queued_import(staff, **fields):
    batch = service.import_batch_create(
        content="application_id,exam_resource_name,score\n1,笔试,1\n".encode(),
        file_name="a.csv",
        actor=staff,
    )
    ImportBatch.objects.filter(pk=batch.pk).update(**fields)
    return ImportBatch.objects.get(pk=batch.pk)


def test_an_import_whose_message_was_lost_is_sent_again(staff, settings):
    old = timezone.now() - dt.timedelta(
        seconds=settings.EXAMS_IMPORT_REQUEUE_SECONDS + 5
    )
    batch = _queued_import(staff, status=ImportBatch.Status.QUEUED, queued_at=old)
    fresh = _queued_import(
        staff, status=ImportBatch.Status.QUEUED, queued_at=timezone.now()
    )
    assert service.import_batches_sweep()["requeued"] == 1
    batch.refresh_from_db()
    assert batch.queued_at > old
    # What the worker does with the message sent again: the import runs once.
    service.import_batch_run(batch_id=batch.pk)
    service.import_batch_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.created_count) == ("done", 1)
    fresh.refresh_from_db()
    assert fresh.status == ImportBatch.Status.QUEUED


def test_an_import_whose_process_died_is_failed_saying_nothing_was_written(staff):
    long_ago = timezone.now() - dt.timedelta(seconds=service.IMPORT_TIME_LIMIT + 300)
    batch = _queued_import(
        staff, status=ImportBatch.Status.RUNNING, started_at=long_ago, phase="writing"
    )
    assert service.import_batches_sweep()["interrupted"] == 1
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert "nothing was written" in render(batch.error)
    assert not ExamResult.objects.exists()


def test_confirming_a_large_import_while_the_broker_is_down_says_it_is_queued(
    client, staff, settings
):
    settings.EXAMS_IMPORT_BACKGROUND_ROWS = 1
    client.force_login(staff)
    content = b"application_id,exam_resource_name,score,operator_id\n" + b"".join(
        f"{7000000000000000000 + n},E,1,ou_x\n".encode() for n in range(3)
    )
    batch = service.import_batch_create(content=content, file_name="a.csv", actor=staff)
    url = reverse("admin:exams_examresult_import_batch", args=[batch.pk])
    with broker_down():
        response = client.post(url, {"_confirm": "1"}, follow=True)
    assert response.status_code == 200
    assert "in the background" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.QUEUED


def test_check_feishu_in_the_background_with_the_broker_down_leaves_it_to_the_sweeper(
    client, sender, exam_result_factory, settings
):
    settings.DELIVERY_RECONCILE_GIVE_UP_SECONDS = 3600
    unknown = [exam_result_factory(status=Status.UNKNOWN) for _ in range(101)]
    client.force_login(sender)
    with broker_down():
        response = client.post(
            reverse("admin:exams_examresult_changelist"),
            {"action": "check_feishu", "_selected_action": [r.pk for r in unknown]},
            follow=True,
        )
    assert response.status_code == 200
    assert "as soon as a worker is available" in response.content.decode()
    # Due now: the sweeper hands them to reconciliation.
    assert (
        ExamResult.objects.filter(
            status=Status.UNKNOWN, next_attempt_at__lte=timezone.now()
        ).count()
        == 101
    )
