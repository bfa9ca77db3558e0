"""The check before sending, with a real worker against the sandbox's demo world:
a result reaches Feishu only for an application that exists, is active and is in
a written-exam stage; otherwise it needs attention, with the reason."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from exams.audit.history import result_changes
from exams.candidates.checks import result_hold_message
from exams.entry import services
from exams.models import CandidateApplication, ExamResult, FeishuAppState
from tests.delivery.conftest import wait_until

pytestmark = [pytest.mark.embedded]
Status = ExamResult.Status

WRITTEN_EXAM = "6912000000000000001"  # 陈思远, 笔试
TERMINATED = "6912000000000000011"  # 黄丽, 候选人拒绝
INTERVIEW_STAGE = "6960663240925956513"  # 技术面试, in 陈思远's process


@pytest.fixture
def demo(sandbox):
    sandbox.load_world("demo")
    return sandbox


def send(exam_result_factory, **fields) -> ExamResult:
    result = exam_result_factory(**fields)
    services.exam_results_send(
        queryset=ExamResult.objects.filter(pk=result.pk), actor=None
    )
    return result


def settled(result: ExamResult, *statuses: str) -> ExamResult | None:
    row = ExamResult.objects.get(pk=result.pk)
    return row if row.status in statuses else None


def posted(sandbox, application_id: str) -> int:
    return sum(
        1 for e in sandbox.exams()["exams"] if e["application_id"] == application_id
    )


def test_a_result_for_an_application_in_a_written_exam_is_sent(
    demo, start_worker, exam_result_factory
):
    start_worker()
    result = send(exam_result_factory, application_id=WRITTEN_EXAM)
    wait_until(lambda: settled(result, Status.SYNCED), what="delivered")
    mirror = CandidateApplication.objects.get(application_id=WRITTEN_EXAM)
    assert (mirror.active, mirror.stage_type) == (True, 3)
    assert posted(demo, WRITTEN_EXAM) == 1


def test_each_failed_check_holds_the_result_with_its_reason_and_sends_nothing(
    demo, start_worker, exam_result_factory
):
    # Given an application moved out of its written exam, one terminated, and an
    # ID Feishu does not know (the demo world is strict about its own ids)
    demo.move(WRITTEN_EXAM, INTERVIEW_STAGE)
    demo.configure(strict_world=True)
    start_worker()
    moved = send(exam_result_factory, application_id=WRITTEN_EXAM)
    ended = send(exam_result_factory, application_id=TERMINATED)
    unknown = send(exam_result_factory, application_id="6912999999999999999")
    for result in (moved, ended, unknown):
        wait_until(lambda r=result: settled(r, Status.HELD), what="held")
    moved, ended, unknown = (
        ExamResult.objects.get(pk=r.pk) for r in (moved, ended, unknown)
    )
    assert (moved.hold_code, ended.hold_code, unknown.hold_code) == (
        "wrong_stage",
        "terminated",
        "not_found",
    )
    assert result_hold_message(moved) == (
        "陈思远 is in stage Technical interview, not a written exam."
    )
    assert result_hold_message(ended) == (
        "The application was terminated: Candidate declined"
    )
    assert "6912999999999999999 does not exist in Feishu" in result_hold_message(
        unknown
    )
    assert demo.exams()["total"] == 0
    # Recorded as what the lookup found.
    change = result_changes(ended.pk)[0]
    assert change.source == "feishu_lookup"
    assert change.changes["status"] == ["pending", "held"]


def test_the_reason_is_shown_in_the_readers_language(
    db, exam_result_factory, client, superuser
):
    result = exam_result_factory(
        status=Status.HELD,
        hold_code="terminated",
        hold_params={"reason_zh": "候选人拒绝", "reason_en": "Candidate declined"},
    )
    client.force_login(superuser)
    url = reverse("admin:exams_examresult_changelist") + "?status__exact=held"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"/{result.pk}/change/" in english
    assert "terminated: Candidate declined" in english
    assert "候选人拒绝" in chinese and "Candidate declined" not in chinese


def test_sending_anyway_records_who_and_why_and_delivers(
    demo, start_worker, exam_result_factory, client, sender
):
    start_worker()
    result = send(exam_result_factory, application_id=TERMINATED)
    wait_until(lambda: settled(result, Status.HELD), what="held")
    client.force_login(sender)
    why = "Declined after sitting the exam; HR asked for the score"
    client.post(
        reverse("admin:exams_examresult_changelist"),
        {
            "action": "send_anyway",
            "_selected_action": [result.pk],
            "confirm": "yes",
            "why": why,
        },
    )
    row = wait_until(lambda: settled(result, Status.SYNCED), what="sent anyway")
    assert row.check_override == why
    assert posted(demo, TERMINATED) == 1
    override = next(c for c in result_changes(result.pk) if c.reason_display)
    assert override.actor == sender
    assert override.changes["check_override"] == ["", why]


def test_an_application_that_does_not_exist_cannot_be_sent_anyway(
    demo, exam_result_factory, client, sender
):
    result = exam_result_factory(status=Status.HELD, hold_code="not_found")
    client.force_login(sender)
    client.post(
        reverse("admin:exams_examresult_changelist"),
        {
            "action": "send_anyway",
            "_selected_action": [result.pk],
            "confirm": "yes",
            "why": "sure",
        },
    )
    assert ExamResult.objects.get(pk=result.pk).status == Status.HELD


def test_fixing_the_application_id_and_sending_again_delivers(
    demo, start_worker, exam_result_factory, client, sender
):
    demo.configure(strict_world=True)
    start_worker()
    result = send(exam_result_factory, application_id="6912999999999999999")
    wait_until(lambda: settled(result, Status.HELD), what="held")
    client.force_login(sender)
    client.post(
        reverse("admin:exams_examresult_change", args=[result.pk]),
        {
            "application_id": WRITTEN_EXAM,
            "exam_resource_name": result.exam_resource_name,
            "score": "88.5",
            "uuid": "",
            "operator_id": result.operator_id,
            "user_id_type": "open_id",
            "sync_attempts-TOTAL_FORMS": "0",
            "sync_attempts-INITIAL_FORMS": "0",
            "_send": "1",
        },
    )
    row = wait_until(lambda: settled(result, Status.SYNCED), what="delivered")
    assert row.hold_code == ""


def test_a_429_on_a_lookup_is_waited_out(demo, start_worker, exam_result_factory):
    # Feishu's GET /applications/:id made to allow one call a second.
    demo.configure(rate_limits={"application_get": [1, 1000]})
    start_worker()
    results = [
        send(exam_result_factory, application_id=f"69120000000000000{n:02d}")
        for n in range(1, 6)
    ]
    for result in results:
        wait_until(lambda r=result: settled(r, Status.SYNCED), timeout=60, what="sent")
    assert demo.stats()["rate_limited_by_api"].get("application_get", 0) >= 1
    assert demo.exams()["duplicates"] == []


def test_with_the_check_off_nothing_is_looked_up_and_the_dashboard_says_so(
    demo, start_worker, exam_result_factory, client, superuser, settings
):
    start_worker(env={"CANDIDATE_CHECK_BEFORE_SEND": "false"})
    result = send(exam_result_factory, application_id=TERMINATED)
    wait_until(lambda: settled(result, Status.SYNCED), what="sent unchecked")
    assert demo.stats()["api_requests"].get("application_get", 0) == 0
    settings.CANDIDATE_CHECK_BEFORE_SEND = False
    client.force_login(superuser)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="dashboard-check-off"' in page


def test_an_app_that_may_not_read_applications_pauses_delivery_naming_the_scope(
    demo, start_worker, exam_result_factory
):
    demo.configure(withheld_scopes=["hire:application:readonly"])
    start_worker()
    result = send(exam_result_factory, application_id=WRITTEN_EXAM)
    state = wait_until(
        lambda: FeishuAppState.objects.filter(paused_since__isnull=False).first(),
        what="paused",
    )
    assert "hire:application:readonly" in state.pause_reason
    assert ExamResult.objects.get(pk=result.pk).status == Status.PENDING
    demo.configure(withheld_scopes=[])
    wait_until(lambda: settled(result, Status.SYNCED), what="resumed")


def test_save_and_send_is_refused_on_the_form_when_feishu_just_said_no(
    demo, client, sender
):
    CandidateApplication.objects.create(
        application_id=TERMINATED,
        exists=True,
        candidate_name="黄丽",
        active=False,
        stage_type=3,
        termination_reason_en="Candidate declined",
        checked_at=timezone.now(),
    )
    client.force_login(sender)
    response = client.post(
        reverse("admin:exams_examresult_add"),
        {
            "application_id": TERMINATED,
            "exam_resource_name": "产品经理逻辑测评",
            "score": "77",
            "uuid": "",
            "operator_id": "",
            "user_id_type": "open_id",
            "sync_attempts-TOTAL_FORMS": "0",
            "sync_attempts-INITIAL_FORMS": "0",
            "_send": "1",
        },
    )
    assert response.status_code == 200
    assert "The application was terminated: Candidate declined" in (
        response.content.decode()
    )
    assert not ExamResult.objects.exists()
