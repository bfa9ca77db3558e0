"""The dashboard in Chromium, on a laptop and a phone: it fits the window, and its
last failures are the results still failed or unknown, each a link."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from exams import dashboard
from exams.models import ExamResult, SyncAttempt
from tests.browser.conftest import log_in
from tests.factories import ExamResultFactory

pytestmark = [pytest.mark.browser, pytest.mark.embedded]

Status = ExamResult.Status
LONG_MESSAGE = (
    "param error: the field operator_id_of_the_person_who_entered_the_result_"
    "was_not_recognised_by_the_tenant " * 3
)


@pytest.mark.parametrize("width", [1366, 390])
def test_the_dashboard_fits_and_lists_the_results_still_failing(
    browser, live_server, sender_login, width
):
    failed = ExamResultFactory(
        status=Status.FAILED,
        exam_resource_name="后端工程师笔试（A卷）综合能力测评与编程题目第二轮在线考试",
        last_error_code=1002002,
        last_error_message=LONG_MESSAGE,
    )
    fixed = ExamResultFactory(
        status=Status.SYNCED, exam_id="7000000000000000009", synced_at=timezone.now()
    )
    SyncAttempt.objects.create(
        result=fixed,
        outcome=SyncAttempt.Outcome.PERMANENT,
        feishu_code=1002002,
        feishu_msg="refused before it was fixed",
    )
    cache.delete(dashboard.cache_key())
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        log_in(page, live_server, sender_login.username)
        sizes = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert sizes[0] <= sizes[1], sizes
        rows = page.locator("#dashboard-failures tr.failing-result")
        assert rows.count() == 1
        assert "refused before it was fixed" not in page.content()
        link = rows.first.locator("a")
        assert link.get_attribute("href").endswith(
            f"/admin/exams/examresult/{failed.pk}/change/"
        )
        page.click("#dashboard-failing-list")
        expect(page.locator("#result_list tbody tr")).to_have_count(1)
    finally:
        context.close()
