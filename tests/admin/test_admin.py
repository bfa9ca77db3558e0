"""Entering and changing results through the admin, as staff do."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from exams.audit.history import result_changes
from exams.models import ExamResult, HistorySource
from exams.models.recording import save_recorded
from tests.factories import exam_result_form

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

ADD_URL = reverse("admin:exams_examresult_add")
LIST_URL = reverse("admin:exams_examresult_changelist")


def change_url(result):
    return reverse("admin:exams_examresult_change", args=[result.pk])


def test_save_as_draft_stores_a_draft_with_the_staff_members_operator(client, staff):
    client.force_login(staff)
    response = client.post(ADD_URL, exam_result_form(_save="1"))
    assert response.status_code == 302
    result = ExamResult.objects.get()
    assert result.status == "draft"
    assert result.score == Decimal("88.5")
    assert result.entered_by == staff
    identity = staff.feishu_identities.get()
    assert result.operator_id == identity.open_id
    assert result.operator_app_id == identity.app_id
    [created] = result_changes(result.pk)
    assert created.actor == staff


def test_save_and_send_leaves_the_result_pending(client, sender):
    client.force_login(sender)
    response = client.post(ADD_URL, exam_result_form(_send="1"))
    assert response.status_code == 302
    assert ExamResult.objects.get().status == "pending"


def test_staff_without_the_send_permission_cannot_send(client, staff):
    client.force_login(staff)
    page = client.get(ADD_URL)
    assert b'name="_send"' not in page.content
    response = client.post(ADD_URL, exam_result_form(_send="1"))
    assert response.status_code == 403
    assert not ExamResult.objects.exists()


def test_the_send_action_is_refused_without_the_send_permission(
    client, staff, exam_result_factory
):
    result = exam_result_factory()
    client.force_login(staff)
    client.post(
        LIST_URL,
        {"action": "send_to_feishu", "_selected_action": [result.pk]},
    )
    result.refresh_from_db()
    assert result.status == "draft"


def test_the_send_action_queues_drafts_and_failed_and_says_what_it_skipped(
    client, sender, exam_result_factory
):
    draft = exam_result_factory()
    failed = exam_result_factory(status="failed")
    synced = exam_result_factory(status="synced", exam_id="7031822096580868396")
    client.force_login(sender)
    response = client.post(
        LIST_URL,
        {
            "action": "send_to_feishu",
            "_selected_action": [draft.pk, failed.pk, synced.pk],
        },
        follow=True,
    )
    text = response.content.decode()
    assert "2 results queued" in text
    assert "1 result skipped" in text
    statuses = dict(ExamResult.objects.values_list("pk", "status"))
    assert statuses == {draft.pk: "pending", failed.pk: "pending", synced.pk: "synced"}


def test_a_bad_score_is_refused_with_the_reason_and_nothing_is_saved(client, staff):
    client.force_login(staff)
    response = client.post(ADD_URL, exam_result_form(score="95.55", _save="1"))
    assert response.status_code == 200
    assert "more than one decimal place" in response.content.decode()
    assert not ExamResult.objects.exists()


def test_a_draft_can_be_changed_and_the_change_is_recorded(
    client, staff, exam_result_factory
):
    result = exam_result_factory()
    client.force_login(staff)
    response = client.post(
        change_url(result),
        exam_result_form(result, score="91.0", _save="1"),
    )
    assert response.status_code == 302
    result.refresh_from_db()
    assert result.score == Decimal("91.0")
    change = result_changes(result.pk)[0]
    assert change.changes == {"score": ["88.5", "91.0"]}
    assert change.actor == staff
    assert change.source == HistorySource.ADMIN


@pytest.mark.parametrize("status", ["synced", "sending", "unknown"])
def test_a_result_that_may_be_in_feishu_is_read_only_and_says_why(
    client, staff, exam_result_factory, status
):
    result = exam_result_factory(status=status, exam_id="7031822096580868396")
    client.force_login(staff)
    page = client.get(change_url(result)).content.decode()
    assert "cannot be changed" in page
    assert 'name="score"' not in page
    client.post(change_url(result), exam_result_form(score="10.0", _save="1"))
    result.refresh_from_db()
    assert result.score == Decimal("88.5")


def test_only_a_draft_can_be_deleted(client, superuser, exam_result_factory):
    failed = exam_result_factory(status="failed")
    client.force_login(superuser)
    response = client.post(
        reverse("admin:exams_examresult_delete", args=[failed.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert ExamResult.objects.filter(pk=failed.pk).exists()
    draft = exam_result_factory()
    client.post(
        reverse("admin:exams_examresult_delete", args=[draft.pk]), {"post": "yes"}
    )
    assert not ExamResult.objects.filter(pk=draft.pk).exists()


def test_operate_time_is_stored_in_utc_and_shown_in_the_portals_time_zone(
    client, superuser, exam_result_factory
):
    result = exam_result_factory()
    result = ExamResult.objects.get(pk=result.pk)
    result.status = "synced"
    result.exam_id = "7031822096580868396"
    result.operate_time = dt.datetime(2021, 11, 19, 4, 18, 36, tzinfo=dt.UTC)
    save_recorded(result, actor=None, source=HistorySource.ENGINE)
    client.force_login(superuser)
    page = client.get(LIST_URL).content.decode()
    # 04:18 UTC is 12:18 in Asia/Shanghai.
    assert "12:18" in page
    assert "7031822096580868396" in page


def test_the_change_list_filters_and_searches(client, superuser, exam_result_factory):
    exam_result_factory(application_id="111", exam_resource_name="前端工程师笔试")
    exam_result_factory(
        application_id="222", exam_resource_name="Java Backend", status="failed"
    )
    client.force_login(superuser)

    def ids(**params):
        response = client.get(LIST_URL, params)
        assert response.status_code == 200
        return {r.application_id for r in response.context["cl"].result_list}

    assert ids() == {"111", "222"}
    assert ids(status__exact="failed") == {"222"}
    assert ids(q="11") == {"111"}
    assert ids(q="backend") == {"222"}
    assert ids(exam="前端工程师笔试") == {"111"}
    page = client.get(LIST_URL).content.decode()
    assert "前端工程师笔试" in page  # the exam filter lists the names


def test_the_history_button_shows_each_change_with_who_through_what_and_values(
    client, staff, exam_result_factory
):
    # Given a draft entered, then changed through the form
    result = exam_result_factory()
    staff.user_permissions.add(
        Permission.objects.get(codename="view_historicalexamresult")
    )
    client.force_login(staff)
    client.post(
        change_url(result),
        exam_result_form(result, score="91.0", _save="1"),
    )
    # When the HISTORY button is followed
    page = client.get(
        reverse("admin:exams_examresult_history", args=[result.pk])
    ).content.decode()
    # Then each change is listed with who made it, through what, and the values
    assert "doesn’t have a change history" not in page
    assert staff.username in page
    assert "Admin form" in page
    assert "<del>88.5</del> → <ins>91.0</ins>" in page
    assert "Created" in page and "Changed" in page
