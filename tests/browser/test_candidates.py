"""Whose result it is, in Chromium: the candidate appearing on the add form as an
application ID is typed, and picking the candidate in a vendor sheet's preview,
in English and in Chinese, against the live server, a worker and the sandbox's
demo world."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from exams.models import ExamResult
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.embedded]

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
WORDS = {
    "en": {
        "name": "Name",
        "ok": "Written-exam stage: the result can be sent.",
        "terminated": "The application was terminated: Candidate declined",
        "pick": "Pick the candidate",
        "confirm": "Confirm import",
        "imported": "9 created",
    },
    "zh": {
        "name": "姓名",
        "ok": "处于笔试阶段：可以发送结果。",
        "terminated": "该投递已终止：候选人拒绝",
        "pick": "选择候选人",
        "confirm": "确认导入",
        "imported": "9",
    },
}


def test_the_candidate_appears_as_the_application_id_is_typed(
    staff_page, portal, language
):
    page = staff_page
    words = WORDS[language]
    page.goto(f"{portal.url}/admin/exams/examresult/add/")
    card = page.locator("#candidate-card")
    assert card.is_hidden()
    # Typed, nothing saved: the card fills in once the worker has read Feishu.
    page.fill("#id_application_id", "6912000000000000001")
    page.wait_for_selector("#candidate-card[data-state=found]", timeout=30_000)
    text = card.inner_text()
    assert "陈思远" in text and words["name"] in text
    assert "siyuan.chen@example.com" in text
    assert "13800138001" in text
    assert words["ok"] in text
    screenshot(page, f"candidate_on_add_form_{language}")
    # Another ID: the card follows, and says what the check will find.
    page.fill("#id_application_id", "6912000000000000011")
    # (A locator's wait, not wait_for_function: that evaluates a string, which the
    # portal's Content-Security-Policy forbids.)
    expect(card).to_contain_text("黄丽", timeout=30_000)
    assert words["terminated"] in card.inner_text()
    assert not ExamResult.objects.exists()


def test_the_preview_asks_staff_to_pick_the_candidate(staff_page, portal, language):
    page = staff_page
    words = WORDS[language]
    page.goto(f"{portal.url}/admin/exams/examresult/import/")
    page.set_input_files("input[type=file]", str(SAMPLES / "vendor_scores.csv"))
    page.locator("form input[type=submit]").first.click()
    page.wait_for_selector("#to-pick", timeout=60_000)
    section = page.locator("#to-pick")
    assert words["pick"] in section.inner_text()
    assert "刘洋" in section.inner_text() and "林琛" in section.inner_text()
    screenshot(page, f"import_pick_candidate_{language}")
    # 刘洋's first application, and 林晨 confirmed as Feishu's 林琛.
    page.locator("input[name=pick_10]").first.check()
    page.locator("input[name=pick_12]").first.check()
    page.click(f"input[value='{words['confirm']}']")
    page.wait_for_selector("#import-written", timeout=60_000)
    assert ExamResult.objects.count() == 10
    assert ExamResult.objects.filter(matched_by="mobile").count() == 2
