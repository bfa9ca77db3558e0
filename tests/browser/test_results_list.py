"""The results list in Chromium: on a laptop beside the sidebar and the filters,
and on a phone, without scrolling sideways; an action that cannot apply to the
selection says so instead of asking to confirm nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from exams.models import ExamResult
from tests.browser.conftest import log_in
from tests.factories import ExamResultFactory

pytestmark = [pytest.mark.browser, pytest.mark.embedded]

Status = ExamResult.Status
LONG_EXAM = (
    "后端工程师笔试（A卷）综合能力测评与编程题目第二轮在线考试 "
    "Backend engineering written exam, round two"
)
COLUMNS = {
    1366: ["status", "candidate / application", "exam name", "score", "delivered at"],
    390: ["status", "candidate / application", "score"],
}


@pytest.mark.parametrize("width", sorted(COLUMNS))
def test_the_results_list_fits_a_laptop_and_a_phone(
    browser, live_server, sender_login, width
):
    for n in range(3):
        ExamResultFactory(
            status=Status.SYNCED,
            exam_resource_name=f"{LONG_EXAM} {n}",
            exam_id=f"700000000000000000{n}",
            synced_at=timezone.now(),
            operate_time=timezone.now(),
        )
    ExamResultFactory(status=Status.HELD, hold_code=ExamResult.Hold.TERMINATED)
    draft = ExamResultFactory(status=Status.DRAFT)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        log_in(page, live_server, sender_login.username)
        page.goto(f"{live_server.url}/admin/exams/examresult/")
        headers = [
            text.strip().lower()
            for text in page.locator(
                "#result_list thead th:visible"
            ).all_text_contents()
            if text.strip()
        ]
        assert headers == COLUMNS[width]
        results = page.locator("#changelist .results")
        assert results.evaluate("e => e.scrollWidth <= e.clientWidth"), (
            results.evaluate("e => [e.scrollWidth, e.clientWidth]")
        )
        assert page.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth"
        )
        if width == 1366:  # a long exam name is cut, and whole on hover
            name = page.locator("#result_list .exam-name", has_text="综合能力").first
            assert name.get_attribute("title").startswith(LONG_EXAM)
            assert name.evaluate("e => e.scrollWidth > e.clientWidth")

        # "Resend anyway" on a draft: said not to apply, no confirmation.
        page.check(f"#result_list input.action-select[value='{draft.pk}']")
        page.select_option("select[name=action]", "resend_anyway")
        page.click("button[name=index]")
        assert page.locator("#confirm-action").count() == 0
        assert (
            "only to results whose outcome is unknown"
            in page.locator(".messagelist").inner_text()
        )
    finally:
        context.close()
