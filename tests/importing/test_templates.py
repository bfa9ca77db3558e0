"""The import templates: the import's columns and one example row, in CSV and
XLSX, with Chinese or English headers; each imports back as it is, and the XLSX
keeps application IDs as text."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from exams.importing import reading, template_sheets
from exams.importing.columns import FIELDS
from tests.conftest import staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def template(language: str, fmt: str) -> bytes:
    if fmt == "xlsx":
        return template_sheets.template_xlsx(language)
    return template_sheets.template_csv(language)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("language", "first_header"), [("zh", "投递ID"), ("en", "application_id")]
)
def test_a_template_reads_back_as_the_columns_and_its_example_row(
    fmt, language, first_header
):
    table = reading.read_table(template(language, fmt))
    assert list(table.columns) == list(FIELDS)
    assert table.headers["application_id"] == first_header
    rows = [row for _number, row in table.rows]
    assert len(rows) == 1
    assert rows[0]["application_id"] == "6891565253964859661"
    assert reading.cell_text(rows[0]["score"]) == "88.5"


def test_the_xlsx_template_keeps_application_ids_as_text():
    sheet = openpyxl.load_workbook(
        io.BytesIO(template_sheets.template_xlsx("zh"))
    ).active
    assert sheet["A1"].value == "投递ID"
    assert sheet["A2"].data_type == "s"
    assert sheet["A2"].number_format == "@"
    # the whole column, for the IDs staff paste under the example
    assert sheet.column_dimensions["A"].number_format == "@"


def test_the_import_page_offers_the_templates_to_those_who_may_import(client, staff):
    client.force_login(staff)
    page = client.get(reverse("admin:exams_examresult_import")).content.decode()
    url = reverse("admin:exams_examresult_import_template", args=["zh", "xlsx"])
    assert f'href="{url}"' in page
    response = client.get(url)
    assert response["Content-Disposition"] == (
        'attachment; filename="exam_results_template_zh.xlsx"'
    )
    assert response.content.startswith(b"PK")

    viewer = staff_member("view_examresult")
    client.force_login(viewer)
    assert client.get(url).status_code == 403
