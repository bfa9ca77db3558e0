"""The catalogue of exam papers in Chromium, in English and in Chinese: the
result form refuses 1000 for a paper marked out of 100 and says why; a paper not
in the catalogue is refused with a link that opens its add page, after which the
same result is accepted."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exams.models import ExamPaper, ExamResult
from tests.browser.conftest import screenshot
from tests.factories import ExamPaperFactory

pytestmark = [pytest.mark.browser, pytest.mark.embedded]

WORDS = {
    "en": {
        "above": "The score 1000 is above the full mark of 笔试A (100).",
        "unknown": "“笔试新卷” is not in the catalogue of exam papers",
        "add": "Add it to the catalogue",
        "saved": "was added successfully",
    },
    "zh": {
        "above": "分数 1000 超过了试卷“笔试A”的满分（100）。",
        "unknown": "试卷“笔试新卷”不在试卷目录中",
        "add": "添加到试卷目录",
        "saved": "成功添加了",
    },
}


def enter(page, url: str, paper: str, score: str) -> None:
    page.goto(f"{url}/admin/exams/examresult/add/")
    page.fill("#id_application_id", "6891565253964859661")
    page.fill("#id_exam_resource_name", paper)
    page.fill("#id_score", score)
    with page.expect_navigation():
        page.click("input[name=_save]")


def test_the_form_refuses_a_score_above_the_full_mark_and_says_why(
    staff_page, portal, language
):
    ExamPaperFactory(name="笔试A", full_mark=Decimal(100))
    page = staff_page

    enter(page, portal.url, "笔试A", "1000")

    error = page.locator(".field-score .errorlist")
    assert error.is_visible()
    assert error.inner_text().strip() == WORDS[language]["above"]
    assert not ExamResult.objects.exists()
    screenshot(page, f"paper_full_mark_refused_{language}")


def test_an_unknown_paper_links_to_its_add_page_then_the_result_is_accepted(
    staff_page, portal, language
):
    words = WORDS[language]
    page = staff_page

    enter(page, portal.url, "笔试新卷", "88")

    error = page.locator(".field-exam_resource_name .errorlist")
    assert words["unknown"] in error.inner_text()
    # The link opens the paper's add page in a new tab, its name filled in, so
    # what was typed on the result's form stays.
    with page.context.expect_page() as opened:
        error.get_by_text(words["add"]).click()
    add = opened.value
    add.wait_for_load_state()
    assert add.locator("#id_name").input_value() == "笔试新卷"
    add.fill("#id_full_mark", "100")
    with add.expect_navigation():
        add.click("input[name=_save]")
    assert words["saved"] in add.locator(".messagelist").inner_text()
    assert ExamPaper.objects.get(name="笔试新卷").full_mark == Decimal(100)
    screenshot(add, f"papers_{language}")
    add.close()

    assert page.locator("#id_score").input_value() == "88"
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert ExamResult.objects.get().exam_resource_name == "笔试新卷"
