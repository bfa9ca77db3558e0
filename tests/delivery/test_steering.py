"""Staff steering delivery from the change list and the command line."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from exams.audit.alerts import exam_results_check_feishu
from exams.audit.history import result_changes
from exams.models import ExamResult, HistorySource, SyncAttempt
from exams.models.recording import save_recorded
from exams.wording import render

pytestmark = [pytest.mark.embedded]
Status = ExamResult.Status
LIST_URL = reverse("admin:exams_examresult_changelist")


def make_unknown(exam_result_factory, outcome: str = "unknown", **fields) -> ExamResult:
    """A result whose create call got no clear answer a minute ago."""
    result = exam_result_factory(**fields)
    result = ExamResult.objects.get(pk=result.pk)
    result.status = Status.UNKNOWN
    save_recorded(result, actor=None, source=HistorySource.ENGINE)
    SyncAttempt.objects.create(
        result=result,
        call="create_exam",
        outcome=outcome,
        started_at=timezone.now() - dt.timedelta(minutes=1),
    )
    return result


def check_feishu(client, result: ExamResult):
    """The change list's "Check Feishu" action on ``result``, as staff run it."""
    return client.post(
        LIST_URL,
        {"action": "check_feishu", "_selected_action": [result.pk]},
        follow=True,
    )


def test_check_feishu_adopts_a_result_found_in_feishu(
    sandbox, transactional_db, client, sender, exam_result_factory
):
    result = make_unknown(exam_result_factory)
    # It reached Feishu after all: the sandbox lists it.
    sandbox.add_test(
        application_id=result.application_id,
        test_paper_name=result.exam_resource_name,
        score=str(result.score),
    )
    client.force_login(sender)
    response = check_feishu(client, result)
    assert "1 found there" in response.content.decode()
    result.refresh_from_db()
    assert result.status == Status.SYNCED
    assert result.exam_id
    assert SyncAttempt.objects.filter(result=result, call="search_tests").exists()


def test_a_result_whose_call_answered_after_its_claim_was_lost_is_adopted(
    sandbox, transactional_db, client, sender, exam_result_factory
):
    # The lease ran out while the call was in flight: the sweeper made the row
    # unknown, then the answer came (success, recorded on the attempt, ignored for
    # the row). That call is the one to find in Feishu, not "a record undated".
    result = make_unknown(exam_result_factory, outcome="success")
    sandbox.add_test(
        application_id=result.application_id,
        test_paper_name=result.exam_resource_name,
        score=str(result.score),
    )
    client.force_login(sender)
    response = check_feishu(client, result)
    assert "1 found there" in response.content.decode()
    result.refresh_from_db()
    assert result.status == Status.SYNCED


def test_check_feishu_leaves_a_result_unknown_when_search_cannot_be_trusted(
    sandbox, transactional_db, client, sender, exam_result_factory
):
    result = make_unknown(exam_result_factory)
    client.force_login(sender)
    response = check_feishu(client, result)
    assert "1 still unknown" in response.content.decode()
    result.refresh_from_db()
    assert result.status == Status.UNKNOWN
    assert "has not been shown to list" in render(result.last_error_message)


def test_resend_anyway_asks_first_and_carries_select_all_as_the_filter(
    transactional_db, client, sender, exam_result_factory
):
    unknown = [make_unknown(exam_result_factory) for _ in range(3)]
    synced = exam_result_factory(status="synced", exam_id="1")
    client.force_login(sender)
    page = client.post(
        LIST_URL + "?status__exact=unknown",
        {
            "action": "resend_anyway",
            "select_across": "1",
            "index": "0",
            "_selected_action": [unknown[0].pk],
        },
    )
    text = page.content.decode()
    assert "second record" in text
    # The selection travels as the filter in the URL, not as every id.
    assert text.count('name="_selected_action"') == 1
    assert all(
        r.status == Status.UNKNOWN for r in ExamResult.objects.filter(status="unknown")
    )
    client.post(
        LIST_URL + "?status__exact=unknown",
        {
            "action": "resend_anyway",
            "select_across": "1",
            "index": "0",
            "_selected_action": [unknown[0].pk],
            "confirm": "yes",
        },
    )
    statuses = dict(ExamResult.objects.values_list("pk", "status"))
    assert [statuses[r.pk] for r in unknown] == ["pending"] * 3
    assert statuses[synced.pk] == "synced"
    change = result_changes(unknown[0].pk)[0]
    assert change.actor == sender
    assert change.changes["status"] == ["unknown", "pending"]
    assert change.reason_display == "Resend anyway"


def test_mark_as_delivered_records_the_exam_id_staff_found(
    transactional_db, client, sender, exam_result_factory
):
    result = make_unknown(exam_result_factory)
    client.force_login(sender)
    form = client.post(
        LIST_URL, {"action": "mark_delivered", "_selected_action": [result.pk]}
    )
    assert 'name="exam_id"' in form.content.decode()
    client.post(
        LIST_URL,
        {
            "action": "mark_delivered",
            "_selected_action": [result.pk],
            "confirm": "yes",
            "exam_id": "7031822096580868396",
        },
    )
    result.refresh_from_db()
    assert result.status == Status.SYNCED
    assert result.exam_id == "7031822096580868396"


def test_steering_actions_are_refused_without_the_send_permission(
    transactional_db, client, staff, exam_result_factory
):
    result = make_unknown(exam_result_factory)
    client.force_login(staff)
    for action in ("retry_now", "check_feishu", "resend_anyway", "mark_delivered"):
        client.post(
            LIST_URL,
            {
                "action": action,
                "_selected_action": [result.pk],
                "confirm": "yes",
                "exam_id": "1",
            },
        )
    result.refresh_from_db()
    assert result.status == Status.UNKNOWN


def test_sync_command_waits_for_delivery_and_exits_zero(
    start_worker, sandbox, exam_result_factory, capsys
):
    start_worker()
    results = exam_result_factory.create_batch(3)
    call_command("sync_exam_results", "--wait", "--timeout", "60")
    assert "All 3 results delivered" in capsys.readouterr().out
    assert all(
        r.status == Status.SYNCED
        for r in ExamResult.objects.filter(pk__in=[r.pk for r in results])
    )


def test_sync_command_exits_non_zero_and_says_which_failed_and_why(
    start_worker, sandbox, exam_result_factory, capsys
):
    sandbox.configure(missing_applications=["6891565253964800009"])
    start_worker()
    exam_result_factory(application_id="6891565253964800009")
    exam_result_factory()
    with pytest.raises(CommandError, match="1 of 2 results are not delivered"):
        call_command("sync_exam_results", "--wait", "--timeout", "60")
    out = capsys.readouterr().out
    assert "6891565253964800009" in out
    assert "Needs attention" in out
    assert "does not exist in Feishu" in out


def test_a_background_check_emails_the_person_who_asked_what_it_found(
    sandbox, transactional_db, sender, exam_result_factory, mailoutbox
):
    found = make_unknown(exam_result_factory)
    missing = make_unknown(exam_result_factory)
    sandbox.add_test(
        application_id=found.application_id,
        test_paper_name=found.exam_resource_name,
        score=str(found.score),
    )
    report = exam_results_check_feishu(
        result_ids=[found.pk, missing.pk], user_id=sender.pk
    )
    assert (report.adopted, report.still_unknown) == (1, 1)
    assert [m.to for m in mailoutbox] == [[sender.email]]
    body = mailoutbox[0].body
    assert "Found in Feishu (now delivered): 1" in body
    assert "Still unknown: 1" in body


def test_a_viewer_is_offered_no_save_or_send_button(
    transactional_db, client, exam_result_factory
):
    from tests.factories import UserFactory

    viewer = UserFactory(is_staff=True, perms=["view_examresult"])
    result = exam_result_factory()
    client.force_login(viewer)
    page = client.get(
        reverse("admin:exams_examresult_change", args=[result.pk])
    ).content.decode()
    assert 'name="_send"' not in page
    assert 'name="_save"' not in page
