"""Blank import templates: the import's columns (``columns.FIELDS``) and one example
row, as CSV or XLSX, headed by Feishu's field names or by their Chinese labels.
Both import back as they are (``reading`` accepts either header).

In the XLSX the application-ID column is text (``@``), its example cell and the
column itself, so an ID staff paste or type under it stays 19 digits instead of a
number Excel rounds after 15.
"""

from __future__ import annotations

import codecs
import csv
import io

from openpyxl import Workbook

from .columns import FIELDS

HEADER_LANGUAGES = ("zh", "en")
EXAMPLE = {
    "application_id": "6891565253964859661",
    "exam_resource_name": "后端工程师笔试（A卷）",
    "score": "88.5",
    "uuid": "",
    "operator_id": "",
}
WIDTHS = {
    "application_id": 24,
    "exam_resource_name": 30,
    "score": 12,
    "uuid": 20,
    "operator_id": 38,
}


def headers(language: str) -> list[str]:
    """The header row: the Chinese labels staff see in Feishu, or the field
    names of Feishu's API."""
    return [labels[0] if language == "zh" else name for name, labels in FIELDS.items()]


def example_row() -> list[str]:
    return [EXAMPLE.get(name, "") for name in FIELDS]


def template_csv(language: str) -> bytes:
    """UTF-8 with a BOM, as Excel opens it without asking."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers(language))
    writer.writerow(example_row())
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def template_xlsx(language: str) -> bytes:
    workbook = Workbook()
    # The new workbook's own sheet goes: one named for what it holds.
    workbook.remove(workbook.worksheets[0])
    sheet = workbook.create_sheet("笔试成绩" if language == "zh" else "exam results")
    sheet.append(headers(language))
    sheet.append(example_row())
    for index, name in enumerate(FIELDS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = WIDTHS.get(name, 16)
    id_letter = sheet.cell(row=1, column=1 + list(FIELDS).index("application_id"))
    column = sheet.column_dimensions[id_letter.column_letter]
    column.number_format = "@"
    example = sheet[f"{id_letter.column_letter}2"]
    example.number_format = "@"
    example.data_type = "s"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_file_name(fmt: str, language: str) -> str:
    return f"exam_results_template_{language}.{fmt}"
