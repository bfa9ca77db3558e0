"""Every page staff use fits the window, on a laptop (1366 px) and a phone
(390 px), in English and in Chinese: ``scrollWidth <= innerWidth``, so nothing
hides off to the side. One browser context per width and language visits them
all, so the test stays quick; each page is photographed as it was measured
(``make screenshots`` keeps them in docs/screenshots/, laptop and phone)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from exams.importing import service
from exams.models import CandidateApplication, ExamResult, SyncAttempt
from tests.browser.conftest import (
    LANGUAGES,
    PASSWORD,
    language_context,
    log_in,
    screenshot,
)
from tests.factories import ExamResultFactory, FeishuIdentityFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.embedded]

Status = ExamResult.Status
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
LONG_EXAM = "后端工程师笔试（A卷）综合能力测评与编程题目第二轮在线考试 Backend engineering written exam"
LONG_MESSAGE = (
    "param error: operator_id_of_the_person_who_entered_the_result_was_not_"
    "recognised_by_this_tenant_and_the_request_was_refused "
)


@pytest.fixture
def world(transactional_db):
    """A superuser (every page open to them) and something on each page."""
    user = UserFactory(
        username="admin.zhao", is_staff=True, is_superuser=True, password=PASSWORD
    )
    FeishuIdentityFactory(user=user, open_id="ou_f476cb099ac9227c9bae09ce46112579")
    failed = ExamResultFactory(
        status=Status.FAILED,
        exam_resource_name=LONG_EXAM,
        last_error_code=1002002,
        last_error_message=LONG_MESSAGE * 2,
        entered_by=user,
    )
    SyncAttempt.objects.create(
        result=failed,
        call=SyncAttempt.Call.CREATE_EXAM,
        started_at=timezone.now(),
        outcome=SyncAttempt.Outcome.PERMANENT,
        http_status=400,
        feishu_code=1002002,
        feishu_msg=LONG_MESSAGE,
        request_body={"application_id": failed.application_id, "note": LONG_MESSAGE},
    )
    ExamResultFactory(
        status=Status.SYNCED,
        exam_resource_name=LONG_EXAM,
        exam_id="7031822096580868396",
        synced_at=timezone.now(),
        operate_time=timezone.now(),
    )
    ExamResultFactory(status=Status.HELD, hold_code=ExamResult.Hold.TERMINATED)
    CandidateApplication.objects.create(
        application_id="6891565253964800077",
        exists=True,
        active=True,
        candidate_name="欧阳思远",
        email="ouyang.siyuan.long.address@example.com",
        job_name="高级后端工程师（分布式存储与数据库内核方向）",
        stage_name_zh="笔试",
        stage_name_en="Written exam",
        stage_type=3,
        entered_stage_at=timezone.now(),
    )
    batch = service.import_batch_create(
        content=(SAMPLES / "exam_results_bad.csv").read_bytes(),
        file_name="exam_results_bad.csv",
        actor=user,
    )
    return {"user": user, "result": failed, "batch": batch}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
@pytest.mark.parametrize("width", [1366, 390])
def test_no_page_scrolls_sideways(browser, live_server, world, width, language):
    context = language_context(browser, language, width)
    page = context.new_page()
    pages = {
        "index": "/admin/",
        "results list": "/admin/exams/examresult/",
        "result page": f"/admin/exams/examresult/{world['result'].pk}/change/",
        "add form": "/admin/exams/examresult/add/",
        "import preview": f"/admin/exams/examresult/import/{world['batch'].pk}/",
        "worklist": "/admin/exams/awaitingresult/",
        "audit page": "/admin/exams/audit/",
    }
    too_wide = {}
    try:
        device = "phone" if width < 800 else "laptop"
        page.goto(f"{live_server.url}/admin/login/")
        widths = [("login", page.evaluate(SIZES))]
        screenshot(page, f"{device}_login_{language}")
        log_in(page, live_server, world["user"].username)
        for name, url in pages.items():
            response = page.goto(f"{live_server.url}{url}")
            assert response.status == 200, (name, response.status)
            widths.append((name, page.evaluate(SIZES)))
            screenshot(page, f"{device}_{name.replace(' ', '_')}_{language}")
        too_wide = {name: size for name, size in widths if size[0] > size[1]}
        print(f"{width} px, {language}: {len(too_wide)} pages too wide {too_wide}")
    finally:
        context.close()
    assert too_wide == {}


SIZES = "[document.documentElement.scrollWidth, window.innerWidth]"
