"""The catalogue of exam papers in the admin: a result's score is at most its
paper's full mark and its paper is in the catalogue, on the result form and the
worklist's rows; the catalogue's own pages; the results list's pass-mark filter."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone, translation

from exams.admin.forms import ExamResultForm
from exams.models import (
    WRITTEN_EXAM_STAGE,
    CandidateApplication,
    ExamPaper,
    ExamResult,
)
from tests.conftest import staff_member
from tests.factories import ExamPaperFactory, UserFactory, exam_result_form

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

ADD_URL = reverse("admin:exams_examresult_add")
LIST_URL = reverse("admin:exams_examresult_changelist")
PAPERS_URL = reverse("admin:exams_exampaper_changelist")
PAPER_ADD_URL = reverse("admin:exams_exampaper_add")
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def paper_a(db):
    return ExamPaperFactory(name="笔试A", full_mark=Decimal(100), pass_mark=Decimal(60))


@pytest.fixture
def editor(db):
    """A staff member in the editor role: enters results, keeps the catalogue."""
    user = staff_member()
    user.groups.add(Group.objects.get(name="editor"))
    return user


def errors_of(page) -> str:
    return " ".join(
        str(error)
        for errors in page.context["adminform"].form.errors.values()
        for error in errors
    )


# --- the result form ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        (EN, "The score 1000 is above the full mark of 笔试A (100)."),
        (ZH, "分数 1000 超过了试卷“笔试A”的满分（100）。"),
    ],
)
def test_a_score_above_the_full_mark_is_refused_with_the_reason(
    client, sender, paper_a, headers, says
):
    client.force_login(sender)

    page = client.post(
        ADD_URL,
        exam_result_form(exam_resource_name="笔试A", score="1000", _send="1"),
        **headers,
    )

    assert page.status_code == 200
    assert says in page.content.decode()
    assert not ExamResult.objects.exists()


@pytest.mark.parametrize("score", ["100", "100.0", "0", "59.5"])
def test_a_score_up_to_the_full_mark_is_accepted(client, staff, paper_a, score):
    client.force_login(staff)

    response = client.post(
        ADD_URL, exam_result_form(exam_resource_name=" 笔试A ", score=score)
    )

    assert response.status_code == 302
    assert ExamResult.objects.get().score == Decimal(score)


def test_a_change_above_the_full_mark_is_refused_too(
    client, staff, paper_a, exam_result_factory
):
    result = exam_result_factory(exam_resource_name="笔试A", score=Decimal(90))
    client.force_login(staff)

    page = client.post(
        reverse("admin:exams_examresult_change", args=[result.pk]),
        exam_result_form(result, score="100.5", _save="1"),
    )

    assert "above the full mark of 笔试A (100)" in errors_of(page)
    result.refresh_from_db()
    assert result.score == Decimal(90)


def test_a_paper_not_in_the_catalogue_is_refused_with_a_link_to_add_it(client, editor):
    client.force_login(editor)

    page = client.post(
        ADD_URL, exam_result_form(exam_resource_name="笔试Z", score="80"), **ZH
    )

    text = page.content.decode()
    assert "试卷“笔试Z”不在试卷目录中" in text
    assert f'href="{PAPER_ADD_URL}?name=%E7%AC%94%E8%AF%95Z"' in text
    assert "添加到试卷目录" in text
    assert not ExamResult.objects.exists()


def test_without_the_right_to_add_papers_the_refusal_has_no_link(db):
    user = staff_member("add_examresult", "change_examresult", "view_examresult")
    form = ExamResultForm(
        data={**exam_result_form(exam_resource_name="笔试Z"), "operator_id": "ou_x"},
        user=user,
    )

    with translation.override("en"):
        assert not form.is_valid()
        message = " ".join(form.errors["exam_resource_name"])
    assert "“笔试Z” is not in the catalogue of exam papers" in message
    assert "href" not in message


def test_the_form_offers_the_catalogues_papers_with_their_marks(client, staff, paper_a):
    ExamPaperFactory(name="笔试B", full_mark=Decimal(150))
    client.force_login(staff)

    page = client.get(ADD_URL, **ZH).content.decode()

    assert 'list="exam-papers"' in page
    assert '<option value="笔试A" label="满分 100 · 及格线 60"></option>' in page
    assert '<option value="笔试B" label="满分 150"></option>' in page


# --- the worklist's rows -----------------------------------------------------------


@pytest.fixture
def awaiting(db):
    return CandidateApplication.objects.create(
        application_id="6912000000000000001",
        exists=True,
        active=True,
        candidate_name="陈思远",
        stage_type=WRITTEN_EXAM_STAGE,
        stage_name_zh="笔试",
        stage_name_en="Written test",
        entered_stage_at=timezone.now(),
    )


def test_the_worklist_refuses_a_score_above_the_full_mark(
    client, staff, paper_a, awaiting
):
    client.force_login(staff)
    enter = reverse("admin:exams_awaitingresult_enter", args=[awaiting.application_id])

    page = client.post(
        enter, {"exam_resource_name": "笔试A", "score": "1000"}, follow=True, **ZH
    )

    assert "陈思远：分数 1000 超过了试卷“笔试A”的满分（100）。" in page.content.decode()
    assert not ExamResult.objects.exists()
    client.post(enter, {"exam_resource_name": "笔试A", "score": "95"})
    assert ExamResult.objects.get().score == Decimal(95)


def test_the_worklist_offers_the_catalogues_papers(client, staff, paper_a, awaiting):
    client.force_login(staff)

    page = client.get(
        reverse("admin:exams_awaitingresult_changelist"), **EN
    ).content.decode()

    assert '<datalist id="papers">' in page
    assert 'value="笔试A" label="full mark 100 · pass mark 60"' in page


def test_an_unknown_paper_on_the_worklist_links_to_adding_it(client, editor, awaiting):
    client.force_login(editor)
    enter = reverse("admin:exams_awaitingresult_enter", args=[awaiting.application_id])

    page = client.post(
        enter, {"exam_resource_name": "笔试Z", "score": "80"}, follow=True, **EN
    ).content.decode()

    assert "“笔试Z” is not in the catalogue of exam papers" in page
    assert f'<a href="{PAPER_ADD_URL}?name=' in page
    assert not ExamResult.objects.exists()


# --- the catalogue's pages ---------------------------------------------------------


def test_the_catalogue_lists_papers_with_their_marks_and_results_in_chinese(
    client, staff, paper_a, exam_result_factory
):
    staff.user_permissions.add(
        *Group.objects.get(name="editor").permissions.filter(
            codename__endswith="_exampaper"
        )
    )
    exam_result_factory(exam_resource_name="笔试A")
    exam_result_factory(exam_resource_name="笔试A ")
    ExamPaperFactory(name="笔试C", full_mark=Decimal("120.5"))
    client.force_login(staff)

    page = client.get(PAPERS_URL, {"q": "笔试"}, **ZH).content.decode()

    for words in (
        "试卷目录",
        "试卷名称",
        "满分",
        "及格线",
        "已录入成绩数",
        "增加 试卷",
    ):
        assert words in page, words
    assert "120.5" in page
    assert f'href="{LIST_URL}?exam=%E7%AC%94%E8%AF%95A">2</a>' in page


def test_the_add_page_takes_the_name_from_its_link_and_reads_in_chinese(client, staff):
    staff.user_permissions.add(
        *Group.objects.get(name="editor").permissions.filter(
            codename__endswith="_exampaper"
        )
    )
    client.force_login(staff)

    page = client.get(PAPER_ADD_URL, {"name": "笔试Z"}, **ZH).content.decode()

    assert 'value="笔试Z"' in page
    assert "满分" in page and "及格线" in page
    response = client.post(
        PAPER_ADD_URL, {"name": " 笔试Z ", "full_mark": "100", "pass_mark": "60"}
    )
    assert response.status_code == 302
    paper = ExamPaper.objects.get(name="笔试Z")
    assert (paper.full_mark, paper.pass_mark) == (Decimal(100), Decimal(60))


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        ({"full_mark": "0"}, "full_mark", "greater than or equal to 0.1"),
        ({"full_mark": "99.95"}, "full_mark", "1 decimal place"),
        ({"full_mark": "100", "pass_mark": "120"}, "pass_mark", "above the full mark"),
        ({"full_mark": "60"}, "full_mark", "scores up to 88.5"),
    ],
)
def test_the_paper_form_refuses_marks_that_cannot_be(
    client, superuser, paper_a, exam_result_factory, data, field, says
):
    exam_result_factory(exam_resource_name="笔试A", score=Decimal("88.5"))
    client.force_login(superuser)

    page = client.post(
        reverse("admin:exams_exampaper_change", args=[paper_a.pk]),
        {"name": "笔试A", "pass_mark": "", **data},
        **EN,
    )

    assert page.status_code == 200
    assert says in " ".join(page.context["adminform"].form.errors[field])
    paper_a.refresh_from_db()
    assert paper_a.full_mark == Decimal(100)


def test_a_paper_results_name_keeps_its_name_and_is_not_deleted(
    client, superuser, paper_a, exam_result_factory
):
    unused = ExamPaperFactory(name="笔试Y")
    exam_result_factory(exam_resource_name="笔试A")
    client.force_login(superuser)
    change = reverse("admin:exams_exampaper_change", args=[paper_a.pk])

    client.post(change, {"name": "笔试A2", "full_mark": "150", "pass_mark": ""})
    paper_a.refresh_from_db()
    delete = client.post(
        reverse("admin:exams_exampaper_delete", args=[paper_a.pk]), {"post": "yes"}
    )
    client.post(
        reverse("admin:exams_exampaper_delete", args=[unused.pk]), {"post": "yes"}
    )

    assert (paper_a.name, paper_a.full_mark) == ("笔试A", Decimal(150))
    assert delete.status_code == 403
    assert ExamPaper.objects.filter(pk=paper_a.pk).exists()
    assert not ExamPaper.objects.filter(pk=unused.pk).exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [("viewer", 403), ("auditor", 403), ("editor", 302), ("sender", 302)],
)
def test_the_roles_that_enter_results_keep_the_catalogue(client, role, status):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)

    assert client.get(PAPERS_URL).status_code == 200
    response = client.post(PAPER_ADD_URL, {"name": "笔试X", "full_mark": "100"})

    assert response.status_code == status
    assert ExamPaper.objects.filter(name="笔试X").exists() == (status == 302)


def test_the_catalogue_comes_after_the_results_pages_in_the_index(client, superuser):
    client.force_login(superuser)

    app = next(
        app
        for app in client.get(reverse("admin:index")).context["app_list"]
        if app["app_label"] == "exams"
    )

    names = [model["object_name"] for model in app["models"]]
    assert names.index("ExamPaper") == names.index("ImportBatch") + 1
    assert names[:3] == ["ExamResult", "AwaitingResult", "ImportBatch"]


# --- the results list's pass-mark filter ---------------------------------------------


def test_the_list_filters_results_above_or_not_above_their_pass_mark(
    client, staff, paper_a, exam_result_factory
):
    ExamPaperFactory(name="笔试无及格线", full_mark=Decimal(100))
    made = {
        name: exam_result_factory(exam_resource_name=paper, score=Decimal(score))
        for name, paper, score in [
            ("above", "笔试A", "60.5"),
            ("at", "笔试A", "60"),
            ("below", "笔试A ", "12"),
            ("no pass mark", "笔试无及格线", "99"),
        ]
    }
    client.force_login(staff)

    def listed(value: str) -> set[str]:
        page = client.get(LIST_URL, {"pass": value})
        shown = {result.pk for result in page.context["cl"].result_list}
        return {name for name, result in made.items() if result.pk in shown}

    assert listed("above") == {"above"}
    assert listed("not_above") == {"at", "below"}
    page = client.get(LIST_URL, **ZH).content.decode()
    assert "高于及格线" in page and "不高于及格线" in page
