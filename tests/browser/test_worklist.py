"""The worklist in Chromium, in English and in Chinese: a score entered on a
candidate's row and sent, and a sheet to fill in downloaded for the rows
selected, filled in and imported back, each candidate leaving the list as their
result is entered. Against the live server, a worker and the sandbox's demo
world (polled once, as beat would)."""

from __future__ import annotations

import csv
import io

import pytest

from exams.candidates.worklist import awaiting_results, worklist_poll
from exams.models import ExamResult
from tests.browser.conftest import screenshot, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.embedded]

CHEN = "6912000000000000001"  # 陈思远, in 笔试
WORDS = {
    "en": {
        "title": "Candidates awaiting a result",
        "sent": "陈思远's result was saved and queued for delivery to Feishu.",
        "send": "Save and send",
    },
    "zh": {
        "title": "待录入结果的候选人",
        "sent": "陈思远 的结果已保存，并已加入同步到飞书的队列。",
        "send": "保存并发送",
    },
}


def status_of(application_id: str) -> str:
    return ExamResult.objects.get(application_id=application_id).status


def test_a_score_entered_on_the_row_is_sent(staff_page, portal, language):
    page = staff_page
    words = WORDS[language]
    worklist_poll()
    page.goto(f"{portal.url}/admin/exams/awaitingresult/")
    assert words["title"] in page.locator("#content h1").inner_text()
    row = page.locator("#result_list tbody tr", has_text="陈思远")
    assert row.count() == 1
    screenshot(page, f"worklist_{language}")

    row.locator("input[name=exam_resource_name]").fill("后端工程师笔试（A卷）")
    row.locator("input[name=score]").fill("88.5")
    row.locator(f"button:has-text('{words['send']}')").click()
    page.wait_for_selector(".messagelist")
    assert words["sent"] in page.locator(".messagelist").inner_text()
    assert page.locator("#result_list tbody tr", has_text="陈思远").count() == 0
    wait_until(lambda: status_of(CHEN) == "synced", what="delivered")


def test_a_sheet_for_the_rows_selected_imports_back(
    staff_page, portal, language, tmp_path
):
    page = staff_page
    worklist_poll()
    waiting = list(awaiting_results()[:3])
    page.goto(f"{portal.url}/admin/exams/awaitingresult/")
    for candidate in waiting:
        page.check(f"#result_list input.action-select[value='{candidate.pk}']")
    page.select_option("select[name=action]", "fill_in_csv")
    with page.expect_download() as download_info:
        page.click("button[name=index]")
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(download.path().read_text("utf-8-sig"))))
    assert {row[0] for row in rows[1:]} == {c.application_id for c in waiting}
    # Two filled in; the third left for later stays on the list.
    rows[1][2:] = ["后端工程师笔试（A卷）", "91"]
    rows[2][2:] = ["前端工程师笔试", "77.5"]
    filled = tmp_path / "filled.csv"
    with filled.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)

    page.goto(f"{portal.url}/admin/exams/examresult/import/")
    page.set_input_files("input[type=file]", str(filled))
    page.locator("form input[type=submit]").first.click()
    page.wait_for_selector("#import-confirm", timeout=60_000)
    screenshot(page, f"worklist_sheet_preview_{language}")
    page.check("#id_send")
    page.click("#import-confirm input[name=_confirm]")
    page.wait_for_selector("#import-written", timeout=60_000)
    sent = {rows[1][0], rows[2][0]}
    assert set(ExamResult.objects.values_list("application_id", flat=True)) == sent
    for application_id in sent:
        wait_until(
            lambda a=application_id: status_of(a) == "synced", what=application_id
        )

    page.goto(f"{portal.url}/admin/exams/awaitingresult/")
    listed = {
        box.get_attribute("value")
        for box in page.locator("#result_list input.action-select").all()
    }
    pks = {c.application_id: str(c.pk) for c in waiting}
    assert not {pks[a] for a in sent} & listed
    assert pks[rows[3][0]] in listed
