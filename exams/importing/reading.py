"""Reading a spreadsheet into rows of text: CSV in any encoding staff's tools write,
or XLSX; headers matched by the Feishu field names or the Feishu page's Chinese
labels.

Nothing here knows about the database. Cells come out as text exactly as the
spreadsheet held them, except for the quote that the portal's own CSV export puts
before a cell a spreadsheet would evaluate (see ``neutralise``), which is removed.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings

from ..wording import Message, listing, message, refusal
from .columns import (
    CANDIDATE_FIELDS,
    EXPORT_ONLY,
    FIELDS,
    IDENTIFYING,
    LABELS,
    REQUIRED,
    unneutralise,
)
from .csv_text import csv_error, decode
from .errors import ImportFileError, file_refusal

_WHITESPACE = re.compile(r"\s+")
_SCIENTIFIC = re.compile(r"^[0-9](\.[0-9]+)?[eE]\+?[0-9]+$")
_DECIMAL_ID = re.compile(r"^[0-9]+\.[0-9]+$")
# Spreadsheets keep 15 significant digits of a number; Feishu ids have 19.
SPREADSHEET_DIGITS = 15

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"

# An XLSX is a zip of XML parts: a few bytes can unpack into gigabytes. Each part's
# size is checked before anything is unpacked (Python's zipfile never unpacks more
# than a part declares); openpyxl keeps the shared strings in memory, so their part
# is bounded tighter than a sheet's, which is streamed.
XLSX_MAX_PART_BYTES = 512 * 1024 * 1024
XLSX_MAX_SHARED_STRINGS_BYTES = 128 * 1024 * 1024
XLSX_MAX_RATIO = 100  # uncompressed / compressed; spreadsheets are 5-30
XLSX_RATIO_FROM_BYTES = 1024 * 1024  # small parts compress as they like
# Excel's own limit of a cell, and of the columns an import reads.
MAX_CELL_CHARS = 32_767
MAX_COLUMNS = 100


def _header_key(text: str) -> str:
    return _WHITESPACE.sub("", text.replace("\ufeff", "")).casefold()


_HEADER_TO_FIELD: dict[str, str] = {}
for _name, _labels in {**FIELDS, **CANDIDATE_FIELDS}.items():
    _HEADER_TO_FIELD[_header_key(_name)] = _name
    for _label in _labels:
        _HEADER_TO_FIELD[_header_key(_label)] = _name
for _column in EXPORT_ONLY:
    _HEADER_TO_FIELD[_header_key(_column)] = ""


@dataclass
class Table:
    """A readable file: which column holds which field, and its rows as text."""

    columns: dict[str, int]
    rows: Iterator[tuple[int, dict[str, Any]]]
    format: str
    encoding: str = ""
    # Field -> the header as the file wrote it, to name columns in staff's words.
    headers: dict[str, str] = field(default_factory=dict)


def match_header(cells: list[Any]) -> dict[str, int]:
    """Field name → column index, or ImportFileError naming what is wrong."""
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for index, cell in enumerate(cells):
        text = "" if cell is None else str(cell)
        key = _header_key(text)
        if not key:
            continue
        name = _HEADER_TO_FIELD.get(key)
        if name is None:
            unknown.append(text.strip())
        elif name:
            if name in columns:
                raise file_refusal(
                    "import_file.column_twice",
                    code="duplicate_column",
                    column=LABELS[name],
                )
            columns[name] = index
    problems = []
    if unknown:
        problems.append(
            file_refusal(
                "import_file.unknown_columns",
                code="header",
                columns=_some(unknown),
                known=", ".join(LABELS.values()),
            )
        )
    missing: list[Any] = [LABELS[name] for name in REQUIRED if name not in columns]
    if not any(name in columns for name in IDENTIFYING):
        missing.insert(
            0,
            message(
                "import_file.identity_columns",
                id=LABELS["application_id"],
                email=LABELS["email"],
                mobile=LABELS["mobile"],
            ),
        )
    if missing:
        problems.append(
            file_refusal(
                "import_file.missing_columns", code="header", columns=listing(missing)
            )
        )
    if problems:
        raise ImportFileError(problems)
    return columns


UNKNOWN_COLUMNS_LISTED = 10


def _some(names: list[str]) -> Message:
    """The first few unknown column names, and how many more there are."""
    listed: list[Any] = [f"“{name[:60]}”" for name in names[:UNKNOWN_COLUMNS_LISTED]]
    more = len(names) - UNKNOWN_COLUMNS_LISTED
    if more > 0:
        listed.append(message("import_file.and_more", count=f"{more:,}"))
    return listing(listed)


def _headers(cells: list[Any], columns: dict[str, int]) -> dict[str, str]:
    return {
        name: str(cells[index]).replace("\ufeff", "").strip()
        for name, index in columns.items()
    }


def read_table(content: bytes, file_name: str = "") -> Table:
    """Open ``content`` as CSV or XLSX (by what it is, not what it is called)."""
    if content.startswith(XLSX_MAGIC):
        return _read_xlsx(content)
    refuse_xls(content, file_name)
    return _read_csv(content)


def refuse_xls(content: bytes, file_name: str) -> None:
    if content.startswith(XLS_MAGIC) or file_name.lower().endswith(".xls"):
        raise file_refusal("import_file.xls", code="xls", name=file_name)


def _read_csv(content: bytes) -> Table:
    text, encoding = decode(content)
    first_line = text.split("\n", 1)[0]
    delimiter = (
        "\t" if first_line.count("\t") > first_line.count(",") else ","
    )  # Excel's "Unicode text" is tab-separated
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise file_refusal("import_file.empty", code="empty") from None
    except csv.Error as error:
        raise csv_error(error, reader.line_num) from None
    columns = match_header(header)

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            yield from numbered(reader)
        except csv.Error as error:
            raise csv_error(error, reader.line_num) from None

    def numbered(reader: Any) -> Iterator[tuple[int, dict[str, Any]]]:
        max_rows = settings.EXAMS_IMPORT_MAX_ROWS
        for number, cells in enumerate(reader, start=2):
            if number > max_rows + 1:
                raise _too_many_rows()
            if not any(cell.strip() for cell in cells):
                continue
            yield (
                number,
                {
                    name: unneutralise(cells[index]) if index < len(cells) else ""
                    for name, index in columns.items()
                },
            )

    return Table(
        columns=columns,
        rows=rows(),
        format="csv",
        encoding=encoding,
        headers=_headers(header, columns),
    )


def check_xlsx_parts(content: bytes) -> None:
    """Refuse a workbook whose parts would unpack into more than a spreadsheet of
    results could ever need, before any of it is unpacked."""
    try:
        parts = zipfile.ZipFile(io.BytesIO(content)).infolist()
    except (zipfile.BadZipFile, ValueError) as error:
        raise file_refusal(
            "import_file.workbook_unreadable", code="xlsx", error=str(error)
        ) from None
    for part in parts:
        limit = (
            XLSX_MAX_SHARED_STRINGS_BYTES
            if part.filename.endswith("sharedStrings.xml")
            else XLSX_MAX_PART_BYTES
        )
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > limit or (
            part.file_size > XLSX_RATIO_FROM_BYTES and ratio > XLSX_MAX_RATIO
        ):
            raise file_refusal(
                "import_file.workbook_part_too_large",
                code="xlsx_too_large",
                part=part.filename,
                size=f"{part.file_size / 1024 / 1024:,.0f}",
                ratio=f"{ratio:,.0f}",
                limit=f"{limit // 1024 // 1024:,}",
                max_ratio=XLSX_MAX_RATIO,
            )


def _too_many_rows() -> ImportFileError:
    return file_refusal(
        "import_file.too_many_rows",
        code="too_many_rows",
        max=f"{settings.EXAMS_IMPORT_MAX_ROWS:,}",
    )


def _cell_too_long(number: int, field: str) -> ImportFileError:
    return file_refusal(
        "import_file.cell_too_long",
        code="cell_too_long",
        row=f"{number:,}",
        max=f"{MAX_CELL_CHARS:,}",
        column=LABELS[field],
    )


def _read_xlsx(content: bytes) -> Table:
    import openpyxl  # only XLSX imports pay for loading it

    check_xlsx_parts(content)
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(content), read_only=True, data_only=False
        )
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise file_refusal(
            "import_file.workbook_unreadable", code="xlsx", error=str(error)
        ) from None
    sheet = workbook.worksheets[0]
    header = next(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), None)
    if header is None:
        raise file_refusal("import_file.empty", code="empty")
    columns = match_header(list(header))
    max_rows = settings.EXAMS_IMPORT_MAX_ROWS
    # The rows, as wide as the columns imported: openpyxl pads every row to the
    # width asked for.
    cells = sheet.iter_rows(
        min_row=2, max_col=max(columns.values()) + 1, values_only=True
    )

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for number, values in enumerate(cells, start=2):
                if number > max_rows + 1:
                    # Empty rows too: openpyxl yields one for each row skipped.
                    raise _too_many_rows()
                if not any(
                    value is not None and str(value).strip() for value in values
                ):
                    continue
                for name, index in columns.items():
                    value = values[index] if index < len(values) else None
                    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                        raise _cell_too_long(number, name)
                # XLSX cells stay typed here: a number in the application ID column
                # must be told apart from text (see application_id_text).
                yield (
                    number,
                    {
                        name: values[index] if index < len(values) else None
                        for name, index in columns.items()
                    },
                )
        finally:
            workbook.close()

    return Table(
        columns=columns,
        rows=rows(),
        format="xlsx",
        headers=_headers(list(header), columns),
    )


def estimate_rows(content: bytes) -> int:
    """About how many rows a file has, for a progress bar, without reading it."""
    if content.startswith(XLSX_MAGIC):
        import openpyxl

        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        try:
            return max((workbook.worksheets[0].max_row or 1) - 1, 0)
        finally:
            workbook.close()
    return max(content.count(b"\n") - 1, 0) + (0 if content.endswith(b"\n") else 1)


def application_id_text(raw: Any) -> str:
    """The application ID cell as text, or a ValidationError when a spreadsheet
    turned it into a number and so may have changed its digits. Never guessed back."""
    if isinstance(raw, bool):
        raw = str(raw)
    if isinstance(raw, float):
        if raw.is_integer() and abs(raw) < 10**SPREADSHEET_DIGITS:
            return str(int(raw))
        raise refusal(
            "import.id_number_cell", value=repr(raw), digits=SPREADSHEET_DIGITS
        )
    if isinstance(raw, int):
        if len(str(abs(raw))) > SPREADSHEET_DIGITS:
            raise refusal(
                "import.id_long_number_cell", value=raw, digits=SPREADSHEET_DIGITS
            )
        return str(raw)
    text = "" if raw is None else str(raw).strip()
    if _SCIENTIFIC.fullmatch(text):
        raise refusal("import.id_scientific", value=text)
    if _DECIMAL_ID.fullmatch(text):
        raise refusal("import.id_decimal", value=text, digits=SPREADSHEET_DIGITS)
    return text


def cell_text(raw: Any) -> str:
    """A non-ID cell as text. Floats use their shortest exact form (88.5, not
    88.50000001), so a score is checked as the spreadsheet showed it."""
    if raw is None:
        return ""
    if isinstance(raw, float):
        if not math.isfinite(raw):
            return str(raw)
        # The shortest exact form, written out in digits (1e+20 as 100000...).
        return format(Decimal(repr(raw)).normalize(), "f")
    return str(raw)
