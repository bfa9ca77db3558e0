"""The sandbox's candidate world over raw HTTP: its control endpoints, the
candidate APIs' errors and limits, and which applications exist."""

from __future__ import annotations

import pytest

from tests.feishu.feishu_helpers import APPLICATION_ID, OPERATOR, start_sandbox

HIRE = "/open-apis/hire/v1"
WRITTEN = "6960663240925956512"
INTERVIEW = "6960663240925956513"
BACKEND = "6990000000000000101"
APP = "6930000000000000001"
TALENT = {"id": "7020000000000000001", "name": "陈思远", "email": "s@example.com"}


@pytest.fixture
def api(sandbox):
    """GET / POST a Feishu API with a valid token; returns (status, body)."""
    token, _ = sandbox.token()
    headers = {"Authorization": f"Bearer {token}"}

    def call(method: str, path: str, **kwargs):
        response = sandbox.http.request(
            method, f"{sandbox.url}{path}", headers=headers, **kwargs
        )
        return response.status_code, response.json()

    return call


def add_candidate(sandbox, **application) -> None:
    sandbox.merge_world(
        talents=[TALENT],
        applications=[
            {
                "id": APP,
                "talent_id": TALENT["id"],
                "job_id": BACKEND,
                "stage_id": WRITTEN,
                **application,
            }
        ],
    )


# -- control -------------------------------------------------------------------------


def test_merged_candidates_are_in_the_world_and_answered(sandbox, api):
    add_candidate(sandbox)

    world = sandbox.world()
    status, body = api("GET", f"{HIRE}/applications/{APP}")

    assert [a["id"] for a in world["applications"]] == [APP]
    assert world["talents"][0]["name"] == "陈思远"
    assert len(world["processes"]) == 3  # the catalogue is always there
    assert status == 200
    application = body["data"]["application"]
    assert (application["talent_id"], application["stage"]["type"]) == (
        TALENT["id"],
        3,
    )


@pytest.mark.parametrize(
    "world",
    [
        {
            "applications": [
                {
                    "id": APP,
                    "talent_id": "nobody",
                    "job_id": BACKEND,
                    "stage_id": WRITTEN,
                }
            ]
        },
        {
            "applications": [
                {
                    "id": APP,
                    "talent_id": TALENT["id"],
                    "job_id": BACKEND,
                    "stage_id": "1",
                }
            ]
        },
        {"jobs": [{"id": "1", "name": "x", "process_id": "none"}]},
        {"talents": [{"name": "no id"}]},
        {"people": []},
    ],
    ids=[
        "unknown talent",
        "stage of another process",
        "unknown process",
        "no id",
        "unknown key",
    ],
)
def test_a_world_that_does_not_hold_together_is_refused_whole(sandbox, world):
    world.setdefault("talents", [TALENT])

    response = sandbox.http.post(f"{sandbox.url}/_sandbox/world", json=world)

    assert response.status_code == 400
    assert sandbox.world()["talents"] == []


def test_a_move_to_a_stage_outside_the_process_is_refused(sandbox):
    add_candidate(sandbox)

    response = sandbox.http.post(
        f"{sandbox.url}/_sandbox/applications/{APP}/move",
        json={"stage_id": "6960663240925956522"},
    )

    assert response.status_code == 400


def test_reset_goes_back_to_the_start_up_world():
    demo = start_sandbox("--world", "demo")
    try:
        assert "world=demo" in demo.startup_line
        before = demo.world()
        demo.delete_applications(before["applications"][0]["id"])
        demo.load_world("empty")
        assert demo.world()["applications"] == []

        demo.reset()

        assert demo.world() == before
    finally:
        demo.proc.terminate()
        demo.proc.wait(timeout=10)


def test_the_demo_world_loads_by_command(sandbox):
    loaded = sandbox.load_world("demo")

    world = sandbox.world()
    assert loaded["applications"] == len(world["applications"]) >= 40
    assert 40 <= len(world["talents"]) <= 50
    sandbox.reset()
    assert sandbox.world()["applications"] == []


# -- which applications exist ------------------------------------------------------------


def test_a_deleted_application_is_gone_for_every_api(sandbox, api):
    sandbox.delete_applications(APPLICATION_ID)

    detail = api("GET", f"{HIRE}/applications/{APPLICATION_ID}/get_detail")
    exam = api(
        "POST",
        f"{HIRE}/exams",
        json={
            "application_id": APPLICATION_ID,
            "exam_resource_name": "Paper",
            "score": 70.0,
            "operator_id": OPERATOR,
        },
    )

    assert detail == (400, {"code": 1002201, "msg": "application not exist"})
    assert exam[1]["code"] == 1002002
    assert sandbox.exams()["total"] == 0


def test_strict_world_refuses_results_for_applications_outside_it(sandbox, api):
    add_candidate(sandbox)
    sandbox.configure(strict_world=True)
    body = {"exam_resource_name": "Paper", "score": 70.0, "operator_id": OPERATOR}

    outside = api("POST", f"{HIRE}/exams", json={**body, "application_id": "123"})
    inside = api("POST", f"{HIRE}/exams", json={**body, "application_id": APP})

    assert outside[1]["code"] == 1002002
    assert inside[1]["code"] == 0


def test_known_applications_limit_the_world_too(sandbox, api):
    add_candidate(sandbox)
    sandbox.configure(known_applications=["222"])

    assert api("GET", f"{HIRE}/applications/{APP}/get_detail")[1]["code"] == 1002201
    assert api("GET", f"{HIRE}/applications/222/get_detail")[1]["code"] == 0


# -- errors and limits -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", f"{HIRE}/applications/12a/get_detail", {}),
        ("GET", f"{HIRE}/applications/1/get_detail?options=with_everything", {}),
        ("GET", f"{HIRE}/applications?page_size=101", {}),
        ("GET", f"{HIRE}/applications?active_status=4", {}),
        ("GET", f"{HIRE}/job_processes?page_size=0", {}),
        ("POST", f"{HIRE}/talents/batch_get_id", {"json": {}}),
        ("POST", f"{HIRE}/talents/batch_get_id", {"json": {"email_list": ["a"] * 101}}),
    ],
)
def test_parameter_errors_are_1002002(api, method, path, kwargs):
    status, body = api(method, path, **kwargs)

    assert (status, body["code"]) == (400, 1002002)


def test_get_detail_allows_10_per_second_and_counts_per_api(sandbox, api):
    answers = [
        api("GET", f"{HIRE}/applications/{i + 1}/get_detail")[0] for i in range(11)
    ]
    api("GET", f"{HIRE}/applications/1")

    assert answers == [200] * 10 + [429]
    stats = sandbox.stats()
    assert stats["api_requests"]["application_detail"] == 11
    assert stats["api_requests"]["application_get"] == 1
    assert stats["rate_limited_by_api"] == {"application_detail": 1}


def test_per_api_limits_are_configurable_and_exam_limits_stay_apart(sandbox, api):
    sandbox.configure(rate_limits={"application_list": [1, 10]}, rate_per_second=1)

    lists = [api("GET", f"{HIRE}/applications")[0] for _ in range(2)]
    details = [api("GET", f"{HIRE}/applications/1/get_detail")[0] for _ in range(2)]

    assert lists == [200, 429]
    assert details == [200, 200]


def test_withholding_hire_exam_refuses_results_only(sandbox, api):
    sandbox.configure(withheld_scopes=["hire:exam"])

    exam = api("POST", f"{HIRE}/exams", json={})
    detail = api("GET", f"{HIRE}/applications/1/get_detail")

    assert exam[1]["code"] == 99991672
    assert exam[1]["error"]["permission_violations"][0]["subject"] == "hire:exam"
    assert detail[1]["code"] == 0
