"""Reading a spreadsheet into rows of text: CSV in any encoding staff's tools write,
or XLSX; headers matched by the Feishu field names or the Feishu page's Chinese
labels.

Nothing here knows about the database. Cells come out as text exactly as the
spreadsheet held them, except for the quote that the portal's own CSV export puts
before a cell a spreadsheet would evaluate (see ``neutralise``), which is removed.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .columns import (
    CANDIDATE_FIELDS,
    EXPORT_ONLY,
    FIELDS,
    IDENTIFYING,
    LABELS,
    REQUIRED,
    unneutralise,
)

_WHITESPACE = re.compile(r"\s+")
_SCIENTIFIC = re.compile(r"^[0-9](\.[0-9]+)?[eE]\+?[0-9]+$")
_DECIMAL_ID = re.compile(r"^[0-9]+\.[0-9]+$")
# Spreadsheets keep 15 significant digits of a number; Feishu ids have 19.
SPREADSHEET_DIGITS = 15

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"


class ImportFileError(ValidationError):
    """The file as a whole cannot be read: wrong format, unknown or missing column."""


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
                raise ImportFileError(
                    _("The column %(column)s appears twice in the header row.")
                    % {"column": LABELS[name]},
                    code="duplicate_column",
                )
            columns[name] = index
    problems = []
    if unknown:
        problems.append(
            _(
                "Unknown column(s): %(columns)s. The columns are %(known)s (the Feishu "
                "field names or the Chinese labels of the Feishu page)."
            )
            % {
                "columns": _some(unknown),
                "known": ", ".join(LABELS.values()),
            }
        )
    missing = [LABELS[name] for name in REQUIRED if name not in columns]
    if not any(name in columns for name in IDENTIFYING):
        missing.insert(
            0,
            _("%(id)s, or the candidate's %(email)s or %(mobile)s")
            % {
                "id": LABELS["application_id"],
                "email": LABELS["email"],
                "mobile": LABELS["mobile"],
            },
        )
    if missing:
        problems.append(
            _("Missing required column(s): %(columns)s.")
            % {"columns": ", ".join(missing)}
        )
    if problems:
        raise ImportFileError(" ".join(problems), code="header")
    return columns


UNKNOWN_COLUMNS_LISTED = 10


def _some(names: list[str]) -> str:
    """The first few unknown column names, and how many more there are."""
    listed = ", ".join(f"“{name[:60]}”" for name in names[:UNKNOWN_COLUMNS_LISTED])
    more = len(names) - UNKNOWN_COLUMNS_LISTED
    if more > 0:
        listed += " " + _("and %(count)s more") % {"count": f"{more:,}"}
    return listed


def _headers(cells: list[Any], columns: dict[str, int]) -> dict[str, str]:
    return {
        name: str(cells[index]).replace("\ufeff", "").strip()
        for name, index in columns.items()
    }


def read_table(content: bytes, file_name: str = "") -> Table:
    """Open ``content`` as CSV or XLSX (by what it is, not what it is called)."""
    if content.startswith(XLSX_MAGIC):
        return _read_xlsx(content)
    if content.startswith(XLS_MAGIC) or file_name.lower().endswith(".xls"):
        raise ImportFileError(
            _(
                "“%(name)s” is an old Excel 97–2003 (.xls) file. Save it as Excel "
                "Workbook (.xlsx) or CSV and import that."
            )
            % {"name": file_name},
            code="xls",
        )
    return _read_csv(content)


def decode(content: bytes) -> tuple[str, str]:
    """The text of a CSV and the encoding it was in.

    A byte-order mark decides (UTF-8 or UTF-16); UTF-16 without one is told by its
    zero bytes. Otherwise UTF-8 is tried first: valid UTF-8 is almost never anything
    else. Then GB18030, the superset of GBK that Excel on a Chinese Windows writes,
    which decodes any text GBK does.
    """
    if content.startswith(codecs.BOM_UTF8):
        return _strict(content[len(codecs.BOM_UTF8) :], "utf-8"), "utf-8-sig"
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(content, "utf-16"), "utf-16"
    unmarked = _utf16_without_bom(content)
    if unmarked:
        return _strict(content, unmarked), unmarked
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise ImportFileError(
            _(
                "The file is neither UTF-8 nor GBK/GB18030 text, nor an XLSX workbook. "
                "Save it from the spreadsheet as CSV UTF-8 or Excel Workbook (.xlsx)."
            ),
            code="encoding",
        ) from None


def _strict(content: bytes, encoding: str) -> str:
    """``content`` decoded, or an ImportFileError saying where it is damaged."""
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _(
                "The file says it is %(encoding)s text, but it is damaged at byte "
                "%(position)s (%(reason)s). Save it again from the spreadsheet as "
                "CSV UTF-8 or Excel Workbook (.xlsx)."
            )
            % {
                "encoding": encoding.upper(),
                "position": error.start + 1,
                "reason": error.reason,
            },
            code="encoding",
        ) from None


def _utf16_without_bom(content: bytes) -> str:
    """ "utf-16-le" or "utf-16-be" when ``content`` is plainly UTF-16 without a
    byte-order mark (a header of Latin or CJK text leaves one zero byte in every
    pair on the same side), else ""."""
    start = content[:512]
    if len(start) < 4 or b"\x00" not in start:
        return ""
    pairs = len(start) // 2
    if start[1::2].count(0) > pairs * 0.9:
        return "utf-16-le"
    if start[0::2].count(0) > pairs * 0.9:
        return "utf-16-be"
    return ""


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
        raise ImportFileError(_("The file is empty."), code="empty") from None
    except csv.Error as error:
        raise _csv_error(error, reader.line_num) from None
    columns = match_header(header)

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            yield from numbered(reader)
        except csv.Error as error:
            raise _csv_error(error, reader.line_num) from None

    def numbered(reader: Any) -> Iterator[tuple[int, dict[str, Any]]]:
        for number, cells in enumerate(reader, start=2):
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


def _csv_error(error: csv.Error, line: int) -> ImportFileError:
    """What Python's CSV reader refused, in words that say what to fix."""
    if "field larger than field limit" in str(error):
        return ImportFileError(
            _(
                "Line %(line)s holds a cell of more than %(limit)s characters, far "
                'more than any column of an exam result. If a quote (") opens a cell '
                "and is never closed, the cell runs on to the end of the file: close "
                "it, or remove the quote."
            )
            % {"line": line, "limit": f"{csv.field_size_limit():,}"},
            code="cell_too_long",
        )
    return ImportFileError(
        _("Line %(line)s cannot be read as CSV (%(error)s).")
        % {"line": line, "error": error},
        code="csv",
    )


def _read_xlsx(content: bytes) -> Table:
    import openpyxl  # only XLSX imports pay for loading it

    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(content), read_only=True, data_only=False
        )
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise ImportFileError(
            _("The workbook cannot be read (%(error)s).") % {"error": error},
            code="xlsx",
        ) from None
    sheet = workbook.worksheets[0]
    cells = sheet.iter_rows(values_only=True)
    header = next(cells, None)
    if header is None:
        raise ImportFileError(_("The file is empty."), code="empty")
    columns = match_header(list(header))

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for number, values in enumerate(cells, start=2):
                if not any(
                    value is not None and str(value).strip() for value in values
                ):
                    continue
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
        raise ValidationError(
            _(
                "The application ID is a number cell (%(value)s): the spreadsheet keeps "
                "only %(digits)s digits of a number, so its last digits are lost. "
                "Format the column as text and paste the IDs again."
            ),
            code="mangled",
            params={"value": repr(raw), "digits": SPREADSHEET_DIGITS},
        )
    if isinstance(raw, int):
        if len(str(abs(raw))) > SPREADSHEET_DIGITS:
            raise ValidationError(
                _(
                    "The application ID %(value)s is a number cell: the spreadsheet "
                    "keeps only %(digits)s digits of a number, so its last digits may "
                    "have been lost. Format the column as text and paste the IDs again."
                ),
                code="mangled",
                params={"value": raw, "digits": SPREADSHEET_DIGITS},
            )
        return str(raw)
    text = "" if raw is None else str(raw).strip()
    if _SCIENTIFIC.fullmatch(text):
        raise ValidationError(
            _(
                "“%(value)s” is an application ID that a spreadsheet turned into a "
                "number in scientific notation: its digits are lost. Format the column "
                "as text in the source and export again."
            ),
            code="mangled",
            params={"value": text},
        )
    if _DECIMAL_ID.fullmatch(text):
        raise ValidationError(
            _(
                "“%(value)s” ends in a decimal part: a spreadsheet treated the "
                "application ID as a number, which keeps only %(digits)s digits, so "
                "its last digits may have changed. Format the column as text in the "
                "source and export again."
            ),
            code="mangled",
            params={"value": text, "digits": SPREADSHEET_DIGITS},
        )
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
