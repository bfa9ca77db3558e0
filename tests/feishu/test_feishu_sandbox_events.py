"""The sandbox pushes Hire events like Feishu: v2.0 envelope, encrypted and signed
with an Encrypt Key, retried on anything but 200, re-sent on demand; received
here by a small local request URL and checked with feishu.events."""

from __future__ import annotations

import itertools
import json

import pytest

from feishu.events import (
    ApplicationsDeleted,
    EventRejected,
    StageChanged,
    UrlVerification,
    parse_callback,
)
from tests.feishu.feishu_helpers import wait_until

KEY = "sandbox-encrypt-key"
TOKEN = "sandbox-verification-token"
APP = "6930000000000000001"
WRITTEN = "6960663240925956512"
INTERVIEW = "6960663240925956513"


@pytest.fixture(autouse=True)
def world(sandbox):
    """One candidate in the written-exam stage of a job whose process has an
    interview stage."""
    sandbox.merge_world(
        talents=[{"id": "7020000000000000001", "name": "陈思远"}],
        applications=[
            {
                "id": APP,
                "talent_id": "7020000000000000001",
                "job_id": "6990000000000000101",
                "stage_id": WRITTEN,
            }
        ],
    )


def parse(body: bytes, headers: dict[str, str]):
    return parse_callback(body, headers, verification_token=TOKEN, encrypt_key=KEY)


def configure(sandbox, url: str, **more) -> None:
    settings = {
        "callback_url": url,
        "verification_token": TOKEN,
        "encrypt_key": KEY,
        "retry_delays": [0.1, 0.1],
        **more,
    }
    sandbox.configure_events(**settings)


def test_a_move_pushes_an_encrypted_signed_stage_change(sandbox, receiver):
    url = receiver()
    configure(sandbox, url.url)

    moved = sandbox.move(APP, INTERVIEW)

    ((headers, body),) = url.wait_for(1)
    assert set(json.loads(body)) == {"encrypt"}
    assert headers["X-Lark-Signature"]
    event = parse(body, headers)
    assert isinstance(event, StageChanged)
    assert event.event_id == moved["event_id"]
    assert (event.application_id, event.origin_stage_id, event.target_stage_id) == (
        APP,
        moved["origin_stage_id"],
        INTERVIEW,
    )
    assert event.update_time is not None
    (pushed,) = wait_until(lambda: [e for e in sandbox.events() if e["delivered"]])
    assert pushed["type"] == "hire.application.stage_changed_v1"
    assert pushed["application_ids"] == [APP]
    assert [a["status"] for a in pushed["attempts"]] == [200]


def test_without_an_encrypt_key_the_push_is_plain_json(sandbox, receiver):
    url = receiver()
    configure(sandbox, url.url, encrypt_key="")

    sandbox.move(APP, INTERVIEW)

    ((headers, body),) = url.wait_for(1)
    envelope = json.loads(body)
    assert envelope["schema"] == "2.0"
    assert envelope["header"]["token"] == TOKEN
    assert "X-Lark-Signature" not in headers
    event = parse_callback(body, headers, verification_token=TOKEN, encrypt_key=None)
    assert isinstance(event, StageChanged)


def test_a_push_answered_500_is_retried_on_the_delays_until_200(sandbox, receiver):
    url = receiver(statuses=[500, 503])
    configure(sandbox, url.url)

    sandbox.move(APP, INTERVIEW)

    deliveries = url.wait_for(3)
    ids = {parse(body, headers).event_id for headers, body in deliveries}
    assert len(ids) == 1  # the same event each time
    (pushed,) = wait_until(lambda: [e for e in sandbox.events() if e["delivered"]])
    assert [a["status"] for a in pushed["attempts"]] == [500, 503, 200]
    times = [a["at"] for a in pushed["attempts"]]
    assert all(later - earlier >= 90 for earlier, later in itertools.pairwise(times))


def test_a_push_never_answered_200_gives_up_after_the_last_delay(sandbox, receiver):
    url = receiver(statuses=[500] * 10)
    configure(sandbox, url.url, retry_delays=[0.05])

    sandbox.move(APP, INTERVIEW)

    url.wait_for(2)
    (pushed,) = wait_until(
        lambda: [e for e in sandbox.events() if len(e["attempts"]) == 2]
    )
    assert not pushed["delivered"]
    assert [a["status"] for a in pushed["attempts"]] == [500, 500]


def test_an_unreachable_url_is_recorded_as_an_attempt_without_status(sandbox):
    configure(sandbox, "http://127.0.0.1:9/nothing", retry_delays=[])

    sandbox.move(APP, INTERVIEW)

    (pushed,) = wait_until(lambda: [e for e in sandbox.events() if e["attempts"]])
    assert pushed["attempts"][0]["status"] is None
    assert pushed["attempts"][0]["error"]


def test_a_replayed_event_arrives_again_with_the_same_id(sandbox, receiver):
    url = receiver()
    configure(sandbox, url.url)
    moved = sandbox.move(APP, INTERVIEW)
    url.wait_for(1)

    sandbox.replay_event(moved["event_id"])

    first, second = (parse(b, h) for h, b in url.wait_for(2))
    assert first.event_id == second.event_id == moved["event_id"]


def test_terminate_pushes_a_stage_change_to_the_current_stage_unless_told_not_to(
    sandbox, receiver
):
    url = receiver()
    configure(sandbox, url.url)
    sandbox.move(APP, WRITTEN)
    url.wait_for(1)

    sandbox.terminate(APP)

    event = parse(*reversed(url.wait_for(2)[1]))
    assert isinstance(event, StageChanged)
    assert event.origin_stage_id == event.target_stage_id == WRITTEN
    configure(sandbox, url.url, push_on_terminate=False)
    assert sandbox.terminate(APP)["event_id"] is None


def test_delete_pushes_applications_deleted_and_they_are_gone(sandbox, receiver):
    url = receiver()
    configure(sandbox, url.url)

    sandbox.delete_applications(APP, "6930000000000000002")

    ((headers, body),) = url.wait_for(1)
    event = parse(body, headers)
    assert isinstance(event, ApplicationsDeleted)
    assert event.application_ids == (APP, "6930000000000000002")


def test_no_push_without_a_callback_url(sandbox):
    assert sandbox.move(APP, INTERVIEW)["event_id"] is None
    assert sandbox.events() == []


def answer_with_feishu_events(body: bytes, headers: dict[str, str]) -> bytes:
    try:
        result = parse(body, headers)
    except EventRejected as exc:
        return json.dumps({"error": exc.reason}).encode()
    assert isinstance(result, UrlVerification)
    return result.response_body()


def test_verify_url_sends_the_challenge_and_sees_it_echoed(sandbox, receiver):
    url = receiver(answer=answer_with_feishu_events)
    configure(sandbox, url.url)

    report = sandbox.verify_url()

    assert report["echoed"] is True
    assert report["status"] == 200
    ((_headers, body),) = url.wait_for(1)
    assert set(json.loads(body)) == {"encrypt"}


def test_verify_url_reports_an_answer_that_does_not_echo(sandbox, receiver):
    url = receiver(answer=answer_with_feishu_events)
    configure(sandbox, url.url, verification_token="not-what-the-receiver-expects")

    report = sandbox.verify_url()

    assert report["echoed"] is False
    assert "token" in report["answer"]


def test_reset_forgets_event_settings_and_pushes(sandbox, receiver):
    url = receiver()
    configure(sandbox, url.url)
    sandbox.move(APP, INTERVIEW)
    url.wait_for(1)

    sandbox.reset()

    assert sandbox.events() == []
    assert sandbox.delete_applications(APP)["event_id"] is None


def test_event_settings_are_checked(sandbox):
    for bad in ({"nope": 1}, {"retry_delays": "soon"}, {"callback_url": "file:///x"}):
        response = sandbox.http.post(f"{sandbox.url}/_sandbox/events/config", json=bad)
        assert response.status_code == 400


@pytest.mark.parametrize("command", ["move", "terminate"])
def test_moving_an_application_that_does_not_exist_is_404(sandbox, command):
    sandbox.configure(missing_applications=[APP])

    response = sandbox.http.post(
        f"{sandbox.url}/_sandbox/applications/{APP}/{command}",
        json={"stage_id": INTERVIEW},
    )

    assert response.status_code == 404


def test_lark_oapis_dispatcher_accepts_the_sandboxs_push(sandbox, receiver):
    from lark_oapi.core.model.raw_request import RawRequest
    from lark_oapi.event.dispatcher_handler import EventDispatcherHandler

    received = []
    handler = (
        EventDispatcherHandler.builder(KEY, TOKEN)
        .register_p2_hire_application_stage_changed_v1(received.append)
        .build()
    )
    url = receiver()
    configure(sandbox, url.url)
    sandbox.move(APP, INTERVIEW)
    ((headers, body),) = url.wait_for(1)
    request = RawRequest()
    request.uri, request.headers, request.body = "/callback", headers, body

    response = handler.do(request)

    assert response.status_code == 200, response.content
    assert received[0].event.application_id == APP
    assert received[0].event.target_stage_id == INTERVIEW
