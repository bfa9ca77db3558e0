"""Whose result it is, wherever staff see results: the list's Candidate column and
search, the result page's card, the add form's lookup, personal data masked in
lists and shown only to those who may view results."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from exams.candidates.display import mask_mobile
from exams.models import CandidateApplication, ExamResult
from tests.delivery.conftest import wait_until
from tests.factories import UserFactory

pytestmark = [pytest.mark.embedded]
LIST_URL = reverse("admin:exams_examresult_changelist")
JSON_URL = reverse("admin:exams_examresult_candidate")


def mirror(application_id: str, **fields) -> CandidateApplication:
    now = timezone.now()
    values = {
        "exists": True,
        "candidate_name": "陈思远",
        "email": "siyuan.chen@example.com",
        "mobile_code": "86",
        "mobile_number": "13800138001",
        "job_name": "后端开发工程师",
        "stage_name_zh": "笔试",
        "stage_name_en": "Written test",
        "stage_type": 3,
        "active": True,
        "checked_at": now,
        "detail_fetched_at": now,
        **fields,
    }
    return CandidateApplication.objects.create(application_id=application_id, **values)


@pytest.mark.parametrize(
    ("number", "masked"),
    [("13800138001", "138****8001"), ("91234567", "912*4567"), ("12345", "1**45")],
)
def test_mobiles_are_masked_in_lists(number, masked):
    assert mask_mobile(number) == masked


def test_the_list_shows_whose_result_it_is_and_masks_the_mobile(
    db, client, superuser, exam_result_factory
):
    known = exam_result_factory(application_id="6912000000000000001")
    unknown = exam_result_factory(application_id="6912000000000000099")
    mirror(known.application_id)
    client.force_login(superuser)
    page = client.get(LIST_URL).content.decode()
    assert "陈思远 · 后端开发工程师" in page
    assert "138****8001" in page and "13800138001" not in page
    assert f'data-application-id="{unknown.application_id}"' in page


@pytest.mark.parametrize(
    "term",
    [
        "陈思远",
        "陈思",
        "思远",
        "siyuan.chen@example",
        "13800138001",
        "138 0013 8001",
        "0138001",
    ],
)
def test_results_are_found_by_the_candidates_name_email_or_mobile(
    db, client, superuser, exam_result_factory, term
):
    found = exam_result_factory(application_id="6912000000000000001")
    exam_result_factory(application_id="6912000000000000002")
    mirror(found.application_id)
    mirror(
        "6912000000000000002",
        candidate_name="李雪",
        email="li.xue@example.com",
        mobile_number="13800138002",
    )
    client.force_login(superuser)
    response = client.get(LIST_URL, {"q": term})
    assert [r.pk for r in response.context["cl"].result_list] == [found.pk]


def test_the_result_page_shows_the_whole_card(
    db, client, superuser, exam_result_factory
):
    result = exam_result_factory(application_id="6912000000000000011")
    mirror(
        result.application_id,
        candidate_name="黄丽",
        mobile_number="13900139009",
        active=False,
        termination_reason_en="Candidate declined",
        termination_reason_zh="候选人拒绝",
    )
    client.force_login(superuser)
    page = client.get(
        reverse("admin:exams_examresult_change", args=[result.pk])
    ).content.decode()
    assert 'id="candidate-card"' in page
    assert '"mobile": "13900139009"' in page  # whole, on the result's own page
    assert '"terminated_because": "Candidate declined"' in page
    assert 'id="candidate-check-again"' in page


def test_the_lookup_answers_only_those_who_may_view_results(
    db, client, exam_result_factory
):
    mirror("6912000000000000001")
    nobody = UserFactory(is_staff=True)
    client.force_login(nobody)
    assert (
        client.get(JSON_URL, {"application_id": "6912000000000000001"}).status_code
        == 403
    )
    viewer = UserFactory(is_staff=True, perms=["view_examresult"])
    client.force_login(viewer)
    data = client.get(JSON_URL, {"application_id": "6912000000000000001"}).json()
    assert (data["state"], data["name"], data["check"]["ok"]) == (
        "found",
        "陈思远",
        True,
    )
    assert client.get(JSON_URL, {"application_id": "12ab"}).json()["state"] == "invalid"


def test_the_add_form_lookup_fills_in_once_a_worker_has_read_feishu(
    sandbox, start_worker, client, staff
):
    sandbox.load_world("demo")
    start_worker()
    client.force_login(staff)
    first = client.get(JSON_URL, {"application_id": "6912000000000000002"}).json()
    assert first["state"] == "pending"  # the page never waits on Feishu
    data = wait_until(
        lambda: (
            d
            if (
                d := client.get(
                    JSON_URL, {"application_id": "6912000000000000002"}
                ).json()
            )["state"]
            == "found"
            else None
        ),
        what="looked up",
    )
    assert (data["name"], data["email"], data["stage"]) == (
        "李雪",
        "li.xue@example.com",
        "Written test",
    )
    assert data["mobile"] == "13800138002"


def test_retention_removes_candidates_no_result_names_any_more(db, exam_result_factory):
    old = timezone.now() - dt.timedelta(days=400)
    kept = exam_result_factory(application_id="6912000000000000001")
    mirror(kept.application_id, checked_at=old, detail_fetched_at=old)
    mirror("6912000000000000050", checked_at=old, detail_fetched_at=old)
    mirror("6912000000000000051")  # read recently: kept for now
    call_command("purge_candidate_data", "--older-than-days", "365")
    assert set(
        CandidateApplication.objects.values_list("application_id", flat=True)
    ) == {
        "6912000000000000001",
        "6912000000000000051",
    }
    assert ExamResult.objects.filter(pk=kept.pk).exists()
