"""Export of exam results as CSV (UTF-8 with BOM, for Excel) or XLSX.

Rows are read with ``iterator(chunk_size=...)`` and written as they come, so
100,000 rows never sit in memory at once. Cells a spreadsheet would evaluate are
neutralised: a quote before them in CSV (which the importer removes again), text
cells in XLSX. Ids are always text, so no spreadsheet turns them into numbers.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ..models import ExamResult
from ..wording import render
from .columns import EXPORT_COLUMNS, EXPORT_VALUES, neutralise

CHUNK = 2000
COLUMNS = EXPORT_COLUMNS
# Read from the database once each; a label column repeats its value's column.
_VALUES = tuple(dict.fromkeys(EXPORT_VALUES[column] for column in COLUMNS))
_POSITIONS = tuple(_VALUES.index(EXPORT_VALUES[column]) for column in COLUMNS)
# Columns for staff to read beside the machine's values: in the exporter's
# language; the values stay as stored, so the export imports back as it is.
_SHOWN: dict[str, Callable[[Any], Any]] = {
    "status_label": lambda value: (
        ExamResult.Status(value).label if value in ExamResult.Status.values else value
    ),
    "last_error": render,
}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return timezone.localtime(value).isoformat()
    return str(value)


def xlsx_text(text: str) -> str:
    """``text`` as an XLSX cell can hold it: a control character (stored before the
    portal refused them) is written as SpreadsheetML's escape, _x0001_, so the
    export never fails on it and the character is still there to be seen."""
    return ILLEGAL_CHARACTERS_RE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


Progress = Callable[[int], None]


def export_rows(
    queryset: QuerySet[ExamResult], progress: Progress | None = None
) -> Iterator[tuple[Any, ...]]:
    """The exported columns of each result, as stored (``COLUMNS`` order)."""
    count = 0
    for count, row in enumerate(
        queryset.values_list(*_VALUES).iterator(chunk_size=CHUNK), start=1
    ):
        if progress is not None and count % CHUNK == 0:
            progress(count)
        yield tuple(
            _SHOWN[column](row[position]) if column in _SHOWN else row[position]
            for column, position in zip(COLUMNS, _POSITIONS, strict=True)
        )
    if progress is not None:
        progress(count)


def csv_chunks(
    queryset: QuerySet[ExamResult], progress: Progress | None = None
) -> Iterator[bytes]:
    """The CSV export, a few hundred rows per chunk, starting with a UTF-8 BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(export_rows(queryset, progress), start=1):
        writer.writerow([neutralise(_text(value)) for value in row])
        if count % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def write_xlsx(
    queryset: QuerySet[ExamResult], out: IO[bytes], progress: Progress | None = None
) -> None:
    """Write the XLSX export to ``out``. openpyxl's write-only mode keeps the rows
    in a temporary file, not in memory."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("exam results")
    sheet.append(COLUMNS)
    score_index = COLUMNS.index("score")
    attempts_index = COLUMNS.index("attempts")

    def text_cell(value: Any) -> Any:
        text = xlsx_text(_text(value))
        if not text.startswith("="):
            return text  # openpyxl writes any other string as a text cell
        # A string starting with "=" would otherwise be written as a formula.
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"
        return cell

    for row in export_rows(queryset, progress):
        cells: list[Any] = [text_cell(value) for value in row]
        # Scores and attempts stay numbers, so staff can sort and sum them; a score
        # has one decimal place at most, which a float shows exactly.
        if isinstance(row[score_index], Decimal):
            cells[score_index] = float(row[score_index])
        cells[attempts_index] = row[attempts_index]
        sheet.append(cells)
    workbook.save(out)


def xlsx_file(queryset: QuerySet[ExamResult]) -> IO[bytes]:
    """The XLSX export in a temporary file (deleted when closed), at its start."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    write_xlsx(queryset, out)
    out.seek(0)
    return out


def export_to(
    queryset: QuerySet[ExamResult],
    fmt: str,
    out: IO[bytes],
    progress: Progress | None = None,
) -> None:
    if fmt == "xlsx":
        write_xlsx(queryset, out, progress)
        return
    for chunk in csv_chunks(queryset, progress):
        out.write(chunk)


def file_name(fmt: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return f"exam_results_{stamp}.{fmt}"


# --- the worklist's fill-in sheet ---------------------------------------------------

FILL_IN_HEADERS = ("投递 ID", "姓名", "试卷名称", "笔试分数")


def fill_in_rows(applications: Any) -> Iterator[tuple[str, str, str, str]]:
    """The candidates awaiting a result, one row each, with the paper and score
    left for staff to fill in."""
    for application_id, name in applications.values_list(
        "application_id", "candidate_name"
    ).iterator(chunk_size=CHUNK):
        yield (application_id, name, "", "")


def fill_in_csv(applications: Any) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FILL_IN_HEADERS)
    for row in fill_in_rows(applications):
        writer.writerow([neutralise(value) for value in row])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def fill_in_xlsx(applications: Any) -> IO[bytes]:
    """The sheet as XLSX: the ID column is text (``@``) so Excel never turns a
    19-digit ID into a rounded number, even when staff paste over it."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("笔试成绩")
    sheet.column_dimensions["A"].width = 24
    sheet.append(FILL_IN_HEADERS)

    def text(value: str) -> Any:
        cell = WriteOnlyCell(sheet, value=xlsx_text(value))
        cell.data_type = "s"
        cell.number_format = "@"
        return cell

    for application_id, name, paper, score in fill_in_rows(applications):
        sheet.append([text(application_id), text(name), text(paper), score])
    out = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    workbook.save(out)
    out.seek(0)
    return out
