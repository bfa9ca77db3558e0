"""The candidate calls against the sandbox over HTTP: one application's detail,
talents by email or mobile, application ids page by page, job processes; each
one HTTP call, with Feishu's errors."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from feishu import (
    ApplicationDetail,
    MissingScopeError,
    RateLimitedError,
    StageTime,
    TalentMatch,
    WrongMobileError,
)

SCREENING = "6960663240925956511"
WRITTEN = "6960663240925956512"  # 社招标准流程 / 笔试, type 3
INTERVIEW = "6960663240925956513"
BACKEND = "6990000000000000101"
PM = "6990000000000000105"
ASSESSMENT = "6960663240925956532"  # 产品岗流程 / 逻辑测评, type 3

TALENT = {
    "id": "7020000000000000001",
    "name": "陈思远",
    "email": "siyuan.chen@example.com",
    "mobile_code": "86",
    "mobile_number": "13800138001",
}
APPLICATION = {
    "id": "6930000000000000001",
    "talent_id": TALENT["id"],
    "job_id": BACKEND,
    "stage_id": WRITTEN,
    "create_time": 1767225600000,
    "stage_time_list": [
        {
            "stage_id": SCREENING,
            "enter_time": 1767225600000,
            "exit_time": 1767312000000,
        },
        {"stage_id": WRITTEN, "enter_time": 1767312000000},
    ],
}


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def calls(sandbox, api: str) -> int:
    return sandbox.stats()["api_requests"].get(api, 0)


@pytest.fixture
def world(sandbox):
    sandbox.merge_world(talents=[TALENT], applications=[APPLICATION])
    return sandbox


# -- get_application_detail --------------------------------------------------------


def test_detail_of_a_world_application_names_talent_job_and_stage(world, client):
    detail = client.get_application_detail(APPLICATION["id"])

    assert isinstance(detail, ApplicationDetail)
    assert (detail.application_id, detail.talent_id, detail.job_id) == (
        APPLICATION["id"],
        TALENT["id"],
        BACKEND,
    )
    assert (detail.talent_name, detail.email, detail.mobile_number) == (
        "陈思远",
        "siyuan.chen@example.com",
        "13800138001",
    )
    assert (detail.job_name, detail.job_code) == ("后端工程师", "BE-2026-01")
    assert (detail.stage_id, detail.stage_zh_name, detail.stage_type) == (
        WRITTEN,
        "笔试",
        3,
    )
    assert detail.active and detail.in_written_exam
    assert detail.talent_visible and detail.job_visible
    assert detail.stage_times == (
        StageTime(SCREENING, ms(1767225600000), ms(1767312000000)),
        StageTime(WRITTEN, ms(1767312000000), None),
    )
    assert detail.entered_stage_at == ms(1767312000000)
    assert detail.create_time == ms(1767225600000)
    assert detail.termination_reason_zh is None
    assert detail.log_id
    assert calls(world, "application_detail") == 1


def test_an_unknown_numeric_id_is_a_made_up_candidate_in_a_written_exam(
    sandbox, client
):
    detail = client.get_application_detail("6891565253964800123")

    assert detail is not None
    assert detail.in_written_exam
    assert detail.email == "cand800123@example.com"
    assert detail.talent_name and len(detail.talent_name) in (2, 3)
    assert detail == client.get_application_detail("6891565253964800123")


def test_detail_of_a_missing_application_is_none(sandbox, client):
    sandbox.configure(missing_applications=["6891565253964800001"])

    assert client.get_application_detail("6891565253964800001") is None


def test_a_strict_world_has_only_its_own_applications(world, client):
    world.configure(strict_world=True)

    assert client.get_application_detail("6891565253964800002") is None
    assert client.get_application_detail(APPLICATION["id"]) is not None


def test_a_terminated_application_carries_its_reason_with_details(world, client):
    world.terminate(
        APPLICATION["id"],
        "候选人拒绝",
        "Candidate declined",
        children=[{"reason_zh": "薪资不符", "reason_en": "Salary"}],
    )

    detail = client.get_application_detail(APPLICATION["id"])

    assert detail is not None
    assert not detail.active
    assert not detail.in_written_exam
    assert detail.termination_reason_zh == "候选人拒绝：薪资不符"
    assert detail.termination_reason_en == "Candidate declined: Salary"


def test_a_move_shows_in_the_detail_with_the_stage_times(world, client):
    world.move(APPLICATION["id"], INTERVIEW)

    detail = client.get_application_detail(APPLICATION["id"])

    assert detail is not None
    assert (detail.stage_id, detail.stage_type) == (INTERVIEW, 4)
    assert not detail.in_written_exam
    written = [t for t in detail.stage_times if t.stage_id == WRITTEN]
    assert written[0].exited_at is not None
    assert detail.entered_stage_at == written[0].exited_at
    assert detail.modify_time == detail.entered_stage_at


@pytest.mark.parametrize(
    ("scope", "talent_visible", "job_visible"),
    [("hire:talent:readonly", False, True), ("hire:job:readonly", True, False)],
)
def test_without_a_field_scope_the_talent_or_job_is_not_visible(
    world, client, scope, talent_visible, job_visible
):
    world.configure(withheld_scopes=[scope])

    detail = client.get_application_detail(APPLICATION["id"])

    assert detail is not None
    assert (detail.talent_visible, detail.job_visible) == (talent_visible, job_visible)
    assert (detail.talent_name is not None) is talent_visible
    assert (detail.job_name is not None) is job_visible
    assert detail.talent_id == TALENT["id"]
    assert detail.stage_type == 3


def test_without_the_application_scope_reads_are_missing_scope(world, client):
    world.configure(withheld_scopes=["hire:application:readonly"])

    with pytest.raises(MissingScopeError) as detail:
        client.get_application_detail(APPLICATION["id"])
    with pytest.raises(MissingScopeError) as listing:
        client.list_applications(talent_id=TALENT["id"])

    assert detail.value.scopes == ["hire:application:readonly"]
    assert listing.value.scopes == ["hire:application:readonly"]
    assert detail.value.code == 99991672


def test_get_detail_is_limited_to_10_per_second_and_the_caller_waits_it_out(
    sandbox, client
):
    for i in range(10):
        client.get_application_detail(f"689156525396480{i:04d}")

    with pytest.raises(RateLimitedError) as caught:
        client.get_application_detail("6891565253964809999")

    assert caught.value.http_status == 429
    assert 1 <= caught.value.reset_seconds <= 2
    time.sleep(caught.value.reset_seconds)
    assert client.get_application_detail("6891565253964809999") is not None
    stats = sandbox.stats()
    assert stats["rate_limited_by_api"] == {"application_detail": 1}
    assert stats["api_requests"]["application_detail"] == 12


@pytest.mark.parametrize("bad", ["", "12a", "../exams", 6891565253964859661])
def test_detail_refuses_a_malformed_id_before_any_call(sandbox, client, bad):
    with pytest.raises(ValueError, match="numeric"):
        client.get_application_detail(bad)

    assert calls(sandbox, "application_detail") == 0


# -- find_talents -------------------------------------------------------------------


def test_find_talents_by_email_ignores_case_and_echoes_what_was_passed(world, client):
    found = client.find_talents(emails=["Siyuan.Chen@Example.COM", "nobody@x.com"])

    assert found == [TalentMatch(TALENT["id"], "Siyuan.Chen@Example.COM", None, None)]


@pytest.mark.parametrize(
    "written", ["13800138001", "+86 138-0013-8001", "138 0013 8001", "+8613800138001"]
)
def test_find_talents_by_mobile_normalises_the_number(world, client, written):
    (match,) = client.find_talents(mobiles=[written])

    assert match == TalentMatch(TALENT["id"], None, "86", written)


def test_a_mobile_with_another_country_code_does_not_match(world, client):
    assert client.find_talents(mobiles=["13800138001"], mobile_code="852") == []


def test_a_malformed_mobile_is_a_wrong_mobile_error(world, client):
    with pytest.raises(WrongMobileError) as caught:
        client.find_talents(mobiles=["12345"])

    assert caught.value.code == 1002009
    assert "mobile_code" in str(caught.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"emails": ["a@example.com"], "mobiles": ["13800138001"]},
        {},
        {"emails": []},
        {"emails": "a@example.com"},
        {"emails": [f"u{i}@example.com" for i in range(101)]},
        {"mobiles": ["13800138001"], "mobile_code": "x"},
    ],
    ids=["both kinds", "neither", "empty", "a string", "101", "bad code"],
)
def test_find_talents_refuses_what_the_api_does_not_allow(sandbox, client, kwargs):
    with pytest.raises(ValueError):
        client.find_talents(**kwargs)

    assert calls(sandbox, "talent_batch_get_id") == 0


def test_the_sandbox_ands_kinds_given_together_as_documented(world, client):
    token = client._auth.token()
    answer = world.http.post(
        f"{world.url}/open-apis/hire/v1/talents/batch_get_id",
        json={"email_list": [TALENT["email"]], "mobile_number_list": ["13900000000"]},
        headers={"Authorization": f"Bearer {token}"},
    ).json()

    assert answer["data"]["talent_list"] == []


def test_find_talents_without_the_talent_scope_is_missing_scope(world, client):
    world.configure(withheld_scopes=["hire:talent:readonly"])

    with pytest.raises(MissingScopeError) as caught:
        client.find_talents(emails=[TALENT["email"]])

    assert caught.value.scopes == ["hire:talent:readonly"]


# -- list_applications ------------------------------------------------------------


def many_applications(count: int, talent_id: str) -> list[dict]:
    return [
        {
            "id": f"69400000000000{i:05d}",
            "talent_id": talent_id,
            "job_id": BACKEND,
            "stage_id": WRITTEN,
            "create_time": 1767225600000 + i,
        }
        for i in range(count)
    ]


def test_list_applications_pages_with_page_token_one_call_per_page(world, client):
    world.merge_world(applications=many_applications(25, TALENT["id"]))
    seen: list[str] = []
    token = None

    while True:
        page = client.list_applications(
            talent_id=TALENT["id"], page_size=10, page_token=token
        )
        seen.extend(page.items)
        if not page.has_more:
            break
        token = page.page_token

    assert len(seen) == 26 == len(set(seen))
    assert page.page_token is None
    assert calls(world, "application_list") == 3


def test_list_applications_filters_by_stage_job_status_and_update_time(world, client):
    other = "6930000000000000002"
    world.merge_world(
        applications=[{**APPLICATION, "id": other, "stage_id": SCREENING}]
    )
    before_move = int(time.time() * 1000)
    world.move(other, WRITTEN)
    world.terminate(APPLICATION["id"])

    def ids(**filters) -> set[str]:
        return set(client.list_applications(**filters).items)

    assert ids(stage_id=WRITTEN) == {APPLICATION["id"], other}
    assert ids(stage_id=WRITTEN, active_status="1") == {other}
    assert ids(active_status="2") == {APPLICATION["id"]}
    assert ids(active_status="3", job_id=BACKEND) == {APPLICATION["id"], other}
    assert ids(job_id=PM) == set()
    assert ids(update_start_time_ms=before_move) == {APPLICATION["id"], other}
    assert ids(update_start_time_ms=int(time.time() * 1000) + 60_000) == set()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"page_size": 0},
        {"page_size": 101},
        {"active_status": "4"},
        {"active_status": 1},
        {"talent_id": "abc"},
        {"update_start_time_ms": "1767225600000"},
    ],
)
def test_list_applications_refuses_what_the_api_does_not_allow(sandbox, client, kwargs):
    with pytest.raises(ValueError):
        client.list_applications(**kwargs)

    assert calls(sandbox, "application_list") == 0


# -- list_job_processes ----------------------------------------------------------


def test_job_processes_list_stages_with_their_types_page_by_page(sandbox, client):
    first = client.list_job_processes(page_size=2)
    second = client.list_job_processes(page_size=2, page_token=first.page_token)

    processes = first.items + second.items
    assert first.has_more and not second.has_more
    assert len(processes) == 3
    exam_stages = {
        p.zh_name: [s.zh_name for s in p.written_exam_stages] for p in processes
    }
    assert exam_stages == {
        "社招标准流程": ["笔试"],
        "校招流程": ["在线笔试", "专业笔试"],
        "产品岗流程": ["逻辑测评"],
    }
    assert {p.type for p in processes} == {1, 2}
    assert calls(sandbox, "job_processes") == 2


def test_job_processes_are_limited_to_20_per_second(sandbox, client):
    sandbox.configure(rate_limits={"job_processes": [3, 1000]})
    for _ in range(3):
        client.list_job_processes()

    with pytest.raises(RateLimitedError):
        client.list_job_processes()

    assert sandbox.stats()["rate_limited_by_api"] == {"job_processes": 1}
