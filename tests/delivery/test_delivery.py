"""Delivery end to end: admin or service → broker → real worker → sandbox → row."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from exams.audit.history import result_changes
from exams.entry import services
from exams.models import ExamResult, HistorySource, SyncAttempt
from exams.wording import render
from tests.broker import broker_down
from tests.delivery.conftest import wait_until
from tests.factories import exam_result_form

pytestmark = [pytest.mark.embedded]

Status = ExamResult.Status


def status_of(result: ExamResult) -> str:
    return ExamResult.objects.values_list("status", flat=True).get(pk=result.pk)


def settled(result: ExamResult, *statuses: str) -> ExamResult | None:
    row = ExamResult.objects.get(pk=result.pk)
    return row if row.status in statuses else None


def send(exam_result_factory, **fields) -> ExamResult:
    result = exam_result_factory(**fields)
    services.exam_results_send(
        queryset=ExamResult.objects.filter(pk=result.pk), actor=None
    )
    return result


def unknown_after(sandbox, exam_result_factory, **fault) -> ExamResult:
    """A result whose create call met ``fault``, once a delivered probe has let
    reconciliation see whether search lists this portal's exams; the fault is
    then cleared."""
    probe = send(exam_result_factory)
    wait_until(lambda: settled(probe, Status.SYNCED), what="probe synced")
    sandbox.configure(**fault)
    result = send(exam_result_factory)
    wait_until(lambda: settled(result, Status.UNKNOWN), what="unknown")
    sandbox.configure(fail_ratio=0.0, drop_ratio=0.0)
    return result


def sandbox_count(sandbox, result: ExamResult) -> int:
    counts = sandbox.exams()["counts"]
    key = f"{result.application_id}|{result.exam_resource_name}"
    if isinstance(counts, dict):
        return counts.get(key, 0)
    return sum(
        c["count"]
        for c in counts
        if c["application_id"] == result.application_id
        and c["exam_resource_name"] == result.exam_resource_name
    )


def test_save_and_send_in_the_admin_ends_synced_with_exam_id_and_operate_time(
    start_worker, sandbox, client, sender
):
    start_worker()
    client.force_login(sender)
    client.post(
        reverse("admin:exams_examresult_add"),
        exam_result_form(_send="1"),
    )
    result = ExamResult.objects.get()
    row = wait_until(lambda: settled(result, Status.SYNCED), what="synced")
    assert row.exam_id
    assert row.operate_time is not None
    assert row.last_log_id
    assert sandbox_count(sandbox, result) == 1
    attempt = SyncAttempt.objects.get(result=result)
    assert attempt.outcome == "success"
    assert b'"score":88.5' in attempt.request_body.encode()
    statuses = [
        c.changes["status"][1]
        for c in reversed(result_changes(result.pk))
        if "status" in c.changes
    ]
    assert statuses == ["pending", "sending", "synced"]


def test_a_parameter_error_fails_the_result_once_without_retry(
    start_worker, sandbox, exam_result_factory
):
    # With the check before sending off, Feishu's own refusal is what stops it.
    sandbox.configure(missing_applications=["6891565253964800001"])
    start_worker(env={"CANDIDATE_CHECK_BEFORE_SEND": "false"})
    result = send(exam_result_factory, application_id="6891565253964800001")
    row = wait_until(lambda: settled(result, Status.FAILED), what="failed")
    assert "1002002" in render(row.last_error_message)
    assert "Feishu said: “application not exist" in render(row.last_error_message)
    assert row.last_error_code == 1002002
    assert SyncAttempt.objects.filter(result=result).count() == 1


def test_a_500_before_recording_is_resent_once_reconciliation_can_tell(
    start_worker, sandbox, exam_result_factory
):
    start_worker()
    result = unknown_after(
        sandbox, exam_result_factory, fail_ratio=1.0, fail_mode="before"
    )
    row = wait_until(lambda: settled(result, Status.SYNCED), what="resent and synced")
    assert row.exam_id
    assert sandbox_count(sandbox, result) == 1
    calls = list(
        SyncAttempt.objects.filter(result=result, call="create_exam")
        .order_by("id")
        .values_list("outcome", flat=True)
    )
    assert calls == ["unknown", "success"]


@pytest.mark.parametrize(
    "fault", [{"fail_ratio": 1.0, "fail_mode": "after"}, {"drop_ratio": 1.0}]
)
def test_an_exam_recorded_before_a_500_or_a_dropped_answer_is_adopted_not_resent(
    start_worker, sandbox, exam_result_factory, fault
):
    start_worker()
    result = unknown_after(sandbox, exam_result_factory, **fault)
    row = wait_until(lambda: settled(result, Status.SYNCED), what="adopted")
    assert row.exam_id
    assert sandbox_count(sandbox, result) == 1
    assert SyncAttempt.objects.filter(result=result, call="create_exam").count() == 1


def test_when_search_does_not_list_created_exams_the_result_stays_unknown(
    start_worker, sandbox, exam_result_factory
):
    sandbox.configure(search_lists_api_exams=False)
    start_worker()
    result = unknown_after(
        sandbox, exam_result_factory, fail_ratio=1.0, fail_mode="before"
    )
    wait_until(
        lambda: (
            SyncAttempt.objects.filter(result=result, call="search_tests").count() >= 2
        ),
        what="reconciliation tried twice",
    )
    assert status_of(result) == Status.UNKNOWN
    assert SyncAttempt.objects.filter(result=result, call="create_exam").count() == 1
    assert sandbox_count(sandbox, result) == 0


def test_a_429_is_waited_out_then_the_result_is_synced(
    start_worker, sandbox, exam_result_factory
):
    # Feishu allows less than the portal thinks: it answers 429.
    sandbox.configure(rate_per_second=1)
    start_worker(env={"FEISHU_RATE_PER_SECOND": "100"})
    results = [send(exam_result_factory) for _ in range(4)]
    for result in results:
        wait_until(lambda r=result: settled(r, Status.SYNCED), what="synced")
    assert sandbox.stats()["rate_limited"] >= 1
    outcomes = set(SyncAttempt.objects.values_list("outcome", flat=True))
    assert outcomes <= {"retry", "success"}
    assert all(sandbox_count(sandbox, r) == 1 for r in results)
    # Waiting out a 429 is not an attempt.
    assert max(ExamResult.objects.values_list("attempts", flat=True)) == 1


def test_a_revoked_token_is_refreshed_once_and_the_result_synced(
    start_worker, sandbox, exam_result_factory
):
    start_worker()
    first = send(exam_result_factory)
    wait_until(lambda: settled(first, Status.SYNCED), what="first synced")
    tokens_before = sandbox.stats()["tokens_issued"]
    sandbox.revoke_tokens()
    second = send(exam_result_factory)
    wait_until(lambda: settled(second, Status.SYNCED), what="second synced")
    assert sandbox.stats()["tokens_issued"] == tokens_before + 1


def test_a_missing_scope_pauses_delivery_fails_nothing_and_resumes_once_fixed(
    start_worker, sandbox, exam_result_factory, client, superuser
):
    sandbox.configure(withheld_scopes=["hire:exam"])
    start_worker()
    results = [send(exam_result_factory) for _ in range(3)]
    from exams.models import FeishuAppState

    state = wait_until(
        lambda: FeishuAppState.objects.filter(paused_since__isnull=False).first(),
        what="paused",
    )
    assert "hire:exam" in render(state.pause_reason)
    client.force_login(superuser)
    page = client.get(reverse("admin:exams_examresult_changelist")).content.decode()
    assert "hire:exam" in page
    assert not ExamResult.objects.filter(status=Status.FAILED).exists()
    sandbox.configure(withheld_scopes=[])
    for result in results:
        wait_until(lambda r=result: settled(r, Status.SYNCED), what="resumed")
    assert not FeishuAppState.objects.filter(paused_since__isnull=False).exists()


def test_results_sent_while_the_broker_is_down_are_delivered_by_the_sweeper(
    start_worker, sandbox, exam_result_factory, settings
):
    start_worker()
    # The web process cannot reach any broker when the results are sent.
    with broker_down():
        results = [send(exam_result_factory) for _ in range(3)]
    # Sent all the same (the worker's sweeper, which reaches its broker, may
    # already have taken the first ones).
    moving = {Status.PENDING, Status.SENDING, Status.SYNCED}
    assert all(status_of(r) in moving for r in results)
    for result in results:
        wait_until(lambda r=result: settled(r, Status.SYNCED), what="swept")
    assert all(sandbox_count(sandbox, r) == 1 for r in results)


def test_a_score_is_sent_with_one_decimal_as_typed(
    start_worker, sandbox, exam_result_factory
):
    start_worker()
    result = send(exam_result_factory, score=Decimal("70"))
    wait_until(lambda: settled(result, Status.SYNCED), what="synced")
    body = SyncAttempt.objects.get(result=result).request_body
    assert '"score":70.0' in body


def test_a_report_file_is_uploaded_first_then_sent_with_its_attachment_id(
    start_worker, sandbox, exam_result_factory
):
    from django.core.files.base import ContentFile

    start_worker()
    result = exam_result_factory()
    result = ExamResult.objects.get(pk=result.pk)
    result.report.save(
        "report.pdf", ContentFile(b"%PDF-1.4\n%test report\n"), save=False
    )
    from exams.models.recording import save_recorded

    save_recorded(result, actor=None, source=HistorySource.ADMIN)
    services.exam_results_send(
        queryset=ExamResult.objects.filter(pk=result.pk), actor=None
    )
    row = wait_until(lambda: settled(result, Status.SYNCED), what="synced")
    assert row.uuid
    assert sandbox.stats()["attachments"] == 1
    calls = list(
        SyncAttempt.objects.filter(result=result)
        .order_by("id")
        .values_list("call", flat=True)
    )
    assert calls == ["upload_attachment", "create_exam"]
    exam = sandbox.exams()["exams"][0]
    assert exam["uuid"] == row.uuid


def test_a_batch_is_delivered_once_each_by_worker_and_beat(
    start_worker, sandbox, staff
):
    from tests.delivery.test_resilience import make_pending

    start_worker()
    ids = make_pending(30, staff)
    services.exam_results_send(
        queryset=ExamResult.objects.filter(pk__in=ids), actor=None
    )
    wait_until(
        lambda: ExamResult.objects.filter(status=Status.SYNCED).count() == 30,
        timeout=90,
        what="30 delivered",
    )
    recorded = sandbox.exams()
    assert recorded["total"] == 30
    assert recorded["duplicates"] == []
