"""The import templates in Chromium: downloaded from the import page, filled in
(here: as they come, with their example row) and imported back."""

from __future__ import annotations

import io

import openpyxl
import pytest

from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.embedded]


def test_a_downloaded_template_imports_back(page, live_server, sender_login, tmp_path):
    log_in(page, live_server, sender_login.username)
    page.goto(f"{live_server.url}/admin/exams/examresult/import/")
    links = page.locator("#import-templates a")
    assert links.count() == 4
    with page.expect_download() as xlsx:
        page.click("#import-templates a[data-format=xlsx][data-headers=zh]")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.value.path().read_bytes())).active
    assert sheet["A1"].value == "投递ID"
    assert sheet.column_dimensions["A"].number_format == "@"

    with page.expect_download() as csv:
        page.click("#import-templates a[data-format=csv][data-headers=en]")
    saved = tmp_path / csv.value.suggested_filename
    csv.value.save_as(saved)
    page.set_input_files("#id_file", str(saved))
    page.click("#import-form input[type=submit]")
    page.wait_for_selector("#import-confirm")
    assert page.locator("#count-new").inner_text().startswith("1")
    assert page.locator("#count-invalid").inner_text().startswith("0")
