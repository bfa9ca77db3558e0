"""What one delivery costs the database: the statements a worker runs to send one
pending result whose application was checked moments ago (the steady state of a
batch), counted over a real delivery to the sandbox, and what they wrote.

On PostgreSQL a delivery is three statements and no transaction: the reading
(result, breaker and mirror joined), the claim with its snapshot and the
attempt, and the outcome with its snapshot and Feishu's answer on the attempt."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exams.candidates.checks import application_gate
from exams.delivery.claims import PlannedCall, claim_take
from exams.delivery.sending import _made_from, _request_body, exam_result_deliver
from exams.gateway.limiter import limiter_start_fresh
from exams.models import ExamResult, HistorySource, SyncAttempt

pytestmark = [pytest.mark.embedded]

Status = ExamResult.Status
TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
# Per backend: the statements of one delivery, and what they are.
EXPECTED = {
    "postgresql": ["SELECT", "WITH", "WITH"],
    # UPDATE … RETURNING, the snapshot and the attempt in one transaction; the
    # answer, UPDATE … RETURNING and the snapshot in another.
    "sqlite": [
        "SELECT",
        "UPDATE",
        "INSERT",
        "INSERT",
        "UPDATE",
        "UPDATE",
        "INSERT",
    ],
}


def test_one_delivery_is_three_statements_on_postgresql_and_writes_it_all(
    sandbox, transactional_db, exam_result_factory
):
    limiter_start_fresh()
    warm = exam_result_factory(status=Status.PENDING)  # the token, fetched once
    assert exam_result_deliver(result_id=warm.pk) == "synced"
    result = exam_result_factory(status=Status.PENDING)
    application_gate(result.application_id)  # the mirror is fresh, as in a batch
    history_before = result.history.count()

    with CaptureQueriesContext(connection) as queries:
        assert exam_result_deliver(result_id=result.pk) == "synced"

    statements = [
        q["sql"].split(None, 1)[0]
        for q in queries.captured_queries
        if not q["sql"].startswith(TRANSACTION)
        and "hiring_portal_cache" not in q["sql"]  # SQLite's cache: the token
    ]
    assert statements == EXPECTED[connection.vendor]

    row = ExamResult.objects.get(pk=result.pk)
    assert row.status == Status.SYNCED
    assert row.exam_id and row.operate_time and row.synced_at
    assert row.lease_token is None and row.lease_expires_at is None
    assert row.attempts == 1
    # The claim's and the outcome's snapshots, by the engine, as written.
    snapshots = list(result.history.order_by("history_date", "history_id"))
    assert len(snapshots) == history_before + 2
    sending, synced = snapshots[-2:]
    assert (sending.status, sending.source) == (Status.SENDING, HistorySource.ENGINE)
    assert (synced.status, synced.source) == (Status.SYNCED, HistorySource.ENGINE)
    assert synced.exam_id == row.exam_id
    assert synced.history_type == sending.history_type == "~"
    # The attempt, with Feishu's answer written by the outcome's statement.
    (attempt,) = SyncAttempt.objects.filter(result=result)
    assert attempt.outcome == SyncAttempt.Outcome.SUCCESS
    assert attempt.http_status == 200 and attempt.feishu_code == 0
    assert attempt.log_id == row.last_log_id != ""
    assert row.exam_id in attempt.response_body
    assert attempt.duration_ms is not None


@pytest.mark.parametrize(
    "change", [{"score": "61.5"}, {"operator_id": "ou_other"}, {"uuid": "att-1"}]
)
def test_a_row_changed_after_its_request_was_made_is_claimed_as_it_is_now(
    transactional_db, exam_result_factory, change
):
    """A request made from the row as read goes with the claim only while the row
    still says the same; changed meanwhile (staff corrected it), the row is
    claimed as it is, with no call recorded, and the request is made again."""
    result = exam_result_factory(status=Status.PENDING)
    read = ExamResult.objects.get(pk=result.pk)
    body = _request_body(read)
    assert isinstance(body, bytes)
    for name, value in change.items():
        setattr(result, name, value)
    result.save()

    claim = claim_take(
        result.pk,
        5,
        planned=PlannedCall(SyncAttempt.Call.CREATE_EXAM, body, _made_from(read)),
    )

    assert claim is not None and claim.attempt is None
    ((name, value),) = change.items()
    assert str(getattr(claim.result, name)) == value
    assert claim.result.status == Status.SENDING
    assert not SyncAttempt.objects.filter(result=result).exists()


def test_a_claim_with_its_planned_call_records_the_call_under_its_token(
    transactional_db, exam_result_factory
):
    result = exam_result_factory(status=Status.PENDING)
    body = _request_body(result)
    assert isinstance(body, bytes)

    claim = claim_take(
        result.pk,
        5,
        planned=PlannedCall(SyncAttempt.Call.CREATE_EXAM, body, _made_from(result)),
    )

    assert claim is not None and claim.attempt is not None
    (attempt,) = SyncAttempt.objects.filter(result=result)
    assert attempt.pk == claim.attempt.pk
    assert attempt.lease_token == claim.token
    assert attempt.request_body == body.decode()
    assert attempt.outcome == SyncAttempt.Outcome.IN_FLIGHT
    assert attempt.started_at is not None
    # Not due any more: a second claim, planned or not, gets nothing.
    assert claim_take(result.pk, 5) is None
