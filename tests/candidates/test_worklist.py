"""The worklist of candidates awaiting a written-exam result: built by polling the
sandbox's demo world over real HTTP, kept current by Feishu's stage-change events
(pushed by the sandbox to the live server, handled by a real worker), and worked
from: a score entered on the row, a sheet to fill in that imports back."""

from __future__ import annotations

import csv
import io
import json
import time

import lark_oapi as lark
import openpyxl
import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from lark_oapi.api.hire.v1 import P2HireApplicationStageChangedV1

from exams.candidates.events import event_handle
from exams.candidates.long_connection import on_stage_changed
from exams.candidates.worklist import awaiting_results, worklist_poll
from exams.importing import service
from exams.models import AuditEvent, CandidateApplication, ExamResult, FeishuEvent
from feishu.events import encrypt, signature
from tests.delivery.conftest import wait_until

pytestmark = [pytest.mark.embedded]

# The demo world (feishu/sandbox/demo.py).
CHEN = "6912000000000000001"  # 陈思远, in 笔试
TERMINATED = "6912000000000000011"  # 黄丽
PENG = "6912000000000000100"  # 彭嘉怡, in 技术面试
WRITTEN_TEST = "6960663240925956512"  # 笔试, in PENG's process
INTERVIEW = "6960663240925956513"
EVENTS_URL = reverse("feishu_events")


@pytest.fixture
def demo(sandbox):
    sandbox.load_world("demo")
    return sandbox


def awaiting_ids() -> set[str]:
    return set(awaiting_results().values_list("application_id", flat=True))


@pytest.mark.django_db(transaction=True)
def test_polling_builds_the_worklist_and_repairs_what_events_missed(
    demo, exam_result_factory
):
    # A result already entered for one candidate in a written exam
    exam_result_factory(application_id="6912000000000000002")
    report = worklist_poll()
    awaiting = awaiting_ids()
    assert CHEN in awaiting
    assert "6912000000000000002" not in awaiting  # has its result
    assert TERMINATED not in awaiting and PENG not in awaiting
    assert report.stages >= 3 and report.read == report.in_stages
    chen = CandidateApplication.objects.get(application_id=CHEN)
    assert chen.entered_stage_at is not None and chen.candidate_name == "陈思远"
    # Oldest first.
    entered = list(awaiting_results().values_list("entered_stage_at", flat=True))
    assert entered == sorted(entered)

    # Moves Feishu made while no event reached the portal: the next poll sees them.
    demo.move(CHEN, INTERVIEW)
    demo.move(PENG, WRITTEN_TEST)
    repaired = worklist_poll()
    assert CHEN not in awaiting_ids()
    assert PENG in awaiting_ids()
    # Only what changed is read again.
    assert repaired.read == 1 and repaired.left == 1


def _post_event(client, envelope: dict, *, token_key: str | None = None, **headers):
    key = settings.FEISHU_ENCRYPT_KEY if token_key is None else token_key
    body = json.dumps({"encrypt": encrypt(envelope, key)}).encode()
    stamp, nonce = str(int(time.time())), "nonce-1"
    sign = signature(stamp, nonce, key, body)
    return client.post(
        EVENTS_URL,
        data=body,
        content_type="application/json",
        HTTP_X_LARK_REQUEST_TIMESTAMP=headers.get("stamp", stamp),
        HTTP_X_LARK_REQUEST_NONCE=nonce,
        HTTP_X_LARK_SIGNATURE=headers.get("sign", sign),
    )


def _stage_changed(event_id: str, application_id: str, token: str | None = None):
    return {
        "schema": "2.0",
        "header": {
            "event_id": event_id,
            "event_type": "hire.application.stage_changed_v1",
            "create_time": str(int(time.time() * 1000)),
            "token": token or settings.FEISHU_VERIFICATION_TOKEN,
            "app_id": settings.FEISHU_APP_ID,
            "tenant_key": "2ca1d211f64f6438",
        },
        "event": {
            "application_id": application_id,
            "origin_stage_id": INTERVIEW,
            "target_stage_id": WRITTEN_TEST,
            "update_time": int(time.time() * 1000),
        },
    }


@pytest.mark.django_db
def test_the_callback_answers_the_url_verification_challenge(client):
    envelope = {
        "challenge": "ajls384kdjx98XX",
        "token": settings.FEISHU_VERIFICATION_TOKEN,
        "type": "url_verification",
    }
    response = _post_event(client, envelope)
    assert response.status_code == 200
    assert response.json() == {"challenge": "ajls384kdjx98XX"}


@pytest.mark.django_db
def test_forged_tampered_wrong_token_stale_and_replayed_requests_change_nothing(
    client,
):
    forged = _post_event(client, _stage_changed("ev-1", PENG), sign="0" * 64)
    wrong_key = _post_event(client, _stage_changed("ev-2", PENG), token_key="not-it")
    wrong_token = _post_event(client, _stage_changed("ev-3", PENG, token="guess"))
    stale = _post_event(
        client, _stage_changed("ev-4", PENG), stamp=str(int(time.time()) - 3600)
    )
    assert [r.status_code for r in (forged, wrong_key, wrong_token, stale)] == [400] * 4
    assert not FeishuEvent.objects.exists()
    first = _post_event(client, _stage_changed("ev-5", PENG))
    replay = _post_event(client, _stage_changed("ev-5", PENG))
    assert (first.status_code, replay.status_code) == (200, 409)
    assert FeishuEvent.objects.count() == 1
    # Tampered with after signing: the signature no longer matches.
    body = json.dumps(
        {"encrypt": encrypt(_stage_changed("ev-6", PENG), settings.FEISHU_ENCRYPT_KEY)}
    ).encode()
    stamp = str(int(time.time()))
    sign = signature(stamp, "n", settings.FEISHU_ENCRYPT_KEY, body)
    tampered = client.post(
        EVENTS_URL,
        data=body.replace(b'"}', b'X"}'),
        content_type="application/json",
        HTTP_X_LARK_REQUEST_TIMESTAMP=stamp,
        HTTP_X_LARK_REQUEST_NONCE="n",
        HTTP_X_LARK_SIGNATURE=sign,
    )
    assert tampered.status_code == 400
    assert FeishuEvent.objects.count() == 1


def test_a_stage_change_pushed_by_feishu_reaches_the_worklist_in_seconds(
    demo, start_worker, live_server
):
    # Given the sandbox pushing its events to the portal, signed and encrypted
    demo.configure_events(
        callback_url=f"{live_server.url}{EVENTS_URL}",
        verification_token=settings.FEISHU_VERIFICATION_TOKEN,
        encrypt_key=settings.FEISHU_ENCRYPT_KEY,
        retry_delays=[1, 2],
    )
    start_worker()
    worklist_poll()
    assert PENG not in awaiting_ids()
    # When a recruiter moves 彭嘉怡 into the written test in Feishu
    moved_at = time.monotonic()
    demo.move(PENG, WRITTEN_TEST)
    # Then she is on the worklist within seconds
    wait_until(lambda: PENG in awaiting_ids(), timeout=10, what="on the worklist")
    assert time.monotonic() - moved_at < 5
    pushes = demo.events()
    assert pushes[-1]["delivered"] and pushes[-1]["attempts"][0]["status"] == 200
    # And a termination takes her off it
    demo.terminate(PENG, reason_zh="候选人拒绝", reason_en="Candidate declined")
    # (No time promised here; on a loaded machine the embedded run once needed
    # more than 10 s for the push and its handling.)
    wait_until(
        lambda: PENG not in awaiting_ids(),
        timeout=30,
        what="off the list",
    )
    mirror = CandidateApplication.objects.get(application_id=PENG)
    assert mirror.active is False


@pytest.mark.django_db(transaction=True)
def test_the_long_connection_takes_the_sdks_own_event_object(demo):
    demo.move(PENG, WRITTEN_TEST)
    payload = _stage_changed("ev-ws-1", PENG)
    data = lark.JSON.unmarshal(json.dumps(payload), P2HireApplicationStageChangedV1)
    on_stage_changed(data)
    event = FeishuEvent.objects.get(event_id="ev-ws-1")
    assert event.payload["application_id"] == PENG
    assert event_handle("ev-ws-1") == "handled"
    assert PENG in awaiting_ids()
    on_stage_changed(data)  # pushed again: kept once
    assert FeishuEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_deleted_application_drops_off(demo):
    worklist_poll()
    payload = {
        "schema": "2.0",
        "header": {
            "event_id": "ev-del",
            "event_type": "hire.application.deleted_v1",
            "token": settings.FEISHU_VERIFICATION_TOKEN,
        },
        "event": {"application_ids": [CHEN]},
    }
    from django.test import Client

    assert _post_event(Client(), payload).status_code == 200
    event_handle("ev-del")
    assert CHEN not in awaiting_ids()


WORKLIST = reverse("admin:exams_awaitingresult_changelist")


@pytest.mark.django_db(transaction=True)
def test_a_score_entered_on_the_worklist_is_checked_saved_or_sent(demo, client, sender):
    worklist_poll()
    client.force_login(sender)
    page = client.get(WORKLIST).content.decode()
    assert "陈思远" in page and f'form="enter-{CHEN}"' in page
    enter = reverse("admin:exams_awaitingresult_enter", args=[CHEN])
    # The form's own checks: a score with two decimals is refused, nothing stored
    bad = client.post(
        enter,
        {"exam_resource_name": "后端工程师笔试（A卷）", "score": "88.55"},
        follow=True,
    )
    assert "one decimal place" in bad.content.decode()
    assert not ExamResult.objects.exists()
    client.post(
        enter,
        {"exam_resource_name": "后端工程师笔试（A卷）", "score": "88.5", "_send": "1"},
    )
    result = ExamResult.objects.get(application_id=CHEN)
    assert (result.status, str(result.score)) == ("pending", "88.5")
    assert CHEN not in awaiting_ids()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_fill_in_sheet_imports_back_as_it_is(demo, client, staff, fmt):
    worklist_poll()
    client.force_login(staff)
    ids = sorted(awaiting_ids())[:3]
    response = client.post(
        WORKLIST,
        {
            "action": f"fill_in_{fmt}",
            "_selected_action": [
                CandidateApplication.objects.get(application_id=i).pk for i in ids
            ],
        },
    )
    content = (
        b"".join(response.streaming_content) if fmt == "xlsx" else response.content
    )
    (exported,) = AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT)
    assert exported.details["what"] == "fill-in sheet"
    assert exported.details["rows"] == 3
    # Filled in: two scores, the third candidate left for later
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        assert rows[0] == ["投递 ID", "姓名", "试卷名称", "笔试分数"]
        rows[1][2:] = ["后端工程师笔试（A卷）", "91"]
        rows[2][2:] = ["前端工程师笔试", "77.5"]
        filled_ids = {rows[1][0], rows[2][0]}
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        filled = out.getvalue().encode("utf-8-sig")
    else:
        book = openpyxl.load_workbook(io.BytesIO(content))
        sheet = book.active
        assert sheet["A2"].number_format == "@" and sheet["A2"].data_type == "s"
        sheet["C2"], sheet["D2"] = "后端工程师笔试（A卷）", 91
        sheet["C3"], sheet["D3"] = "前端工程师笔试", 77.5
        filled_ids = {sheet["A2"].value, sheet["A3"].value}
        out = io.BytesIO()
        book.save(out)
        filled = out.getvalue()
    batch = service.import_batch_create(
        content=filled, file_name=f"filled.{fmt}", actor=staff
    )
    assert batch.report["counts"]["new"] == 2
    assert batch.report["counts"]["invalid"] == 0
    service.import_batch_confirm(batch=batch, actor=staff)
    assert set(ExamResult.objects.values_list("application_id", flat=True)) == (
        filled_ids
    )
    assert filled_ids <= set(ids)


@pytest.mark.django_db(transaction=True)
def test_the_command_lists_who_waits_and_the_dashboard_counts_them(
    demo, capsys, client, superuser
):
    call_command("awaiting_results", "--refresh", "--format", "csv")
    out = capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["application_id", "name", "job", "stage", "entered", "days"]
    assert CHEN in {row[0] for row in rows[1:]}
    client.force_login(superuser)
    from django.core.cache import cache

    cache.clear()
    page = client.get(reverse("admin:index")).content.decode()
    assert f"{len(rows) - 1} candidates wait for a written-exam result" in page
