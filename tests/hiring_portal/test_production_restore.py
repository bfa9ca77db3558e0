"""After a restore from backup, rows in flight are looked up in Feishu, not resent.

Runs the real stack: the sandbox and a Celery worker with beat (the delivery tests'
fixtures), against the test database.
"""

# The delivery tests' fixtures are imported by name, then requested as arguments.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.management import call_command
from django.utils import timezone

from exams.audit.history import result_changes
from exams.entry import services
from exams.gateway.client import get_client
from exams.models import ExamResult, HistorySource, SyncAttempt
from exams.wording import render
from tests.delivery.conftest import (  # noqa: F401 - fixtures used by name
    sandbox,
    sandbox_server,
    start_worker,
    wait_until,
)

pytestmark = [pytest.mark.embedded]
Status = ExamResult.Status


def status_of(result: ExamResult) -> str:
    return ExamResult.objects.values_list("status", flat=True).get(pk=result.pk)


def exams_in_sandbox(sandbox, result: ExamResult) -> int:
    return sum(
        c["count"]
        for c in sandbox.exams()["counts"]
        if c["application_id"] == result.application_id
    )


def test_mark_restored_in_flight_moves_pending_and_sending_to_unknown_with_history(
    transactional_db, exam_result_factory
):
    pending = exam_result_factory(status=Status.PENDING)
    sending = exam_result_factory(
        status=Status.SENDING,
        lease_token=uuid.uuid4(),
        lease_expires_at=timezone.now() + dt.timedelta(minutes=1),
    )
    synced = exam_result_factory(status=Status.SYNCED, exam_id="7001")
    failed = exam_result_factory(status=Status.FAILED)

    call_command("mark_restored_in_flight")

    assert [status_of(r) for r in (pending, sending, synced, failed)] == [
        "unknown",
        "unknown",
        "synced",
        "failed",
    ]
    for row in (pending, sending):
        change = result_changes(row.pk)[0]
        assert change.source == HistorySource.COMMAND
        assert change.changes["status"][1] == "unknown"
        attempt = SyncAttempt.objects.get(result_id=row.pk)
        assert attempt.outcome == SyncAttempt.Outcome.UNKNOWN
        assert "Restored from a backup" in render(attempt.feishu_msg)
    fresh = ExamResult.objects.get(pk=sending.pk)
    assert fresh.lease_token is None
    assert fresh.unknown_since is not None


def test_after_a_restore_a_result_delivered_since_the_backup_is_adopted_not_resent(
    start_worker, sandbox, exam_result_factory
):
    # Given a portal that has delivered before (so tests/search is known to list
    # the exams it creates)
    worker = start_worker()
    probe = exam_result_factory()
    services.exam_results_send(
        queryset=ExamResult.objects.filter(pk=probe.pk), actor=None
    )
    wait_until(lambda: status_of(probe) == Status.SYNCED, what="probe delivered")
    worker.stop()
    # and a database restored from a backup taken while two results were pending:
    # one of them reached Feishu after the backup (its attempt is lost), one did not
    delivered_after_backup = exam_result_factory(status=Status.PENDING)
    never_sent = exam_result_factory(status=Status.PENDING)
    posted = get_client().create_exam(
        delivered_after_backup.application_id,
        delivered_after_backup.exam_resource_name,
        delivered_after_backup.score,
        delivered_after_backup.operator_id,
    )

    # When the restore runbook marks what was in flight and the workers start again
    call_command("mark_restored_in_flight")
    start_worker(name="w2")

    # Then the one delivered is adopted with Feishu's id, the other is sent once
    wait_until(
        lambda: (
            status_of(delivered_after_backup) == Status.SYNCED
            and status_of(never_sent) == Status.SYNCED
        ),
        timeout=60,
        what="both reconciled and synced",
    )
    adopted = ExamResult.objects.get(pk=delivered_after_backup.pk)
    assert adopted.exam_id == posted.exam_id
    assert exams_in_sandbox(sandbox, delivered_after_backup) == 1
    assert exams_in_sandbox(sandbox, never_sent) == 1
    assert sandbox.exams()["duplicates"] == []
    assert not SyncAttempt.objects.filter(
        result=adopted, call=SyncAttempt.Call.CREATE_EXAM, outcome="success"
    ).exists()
