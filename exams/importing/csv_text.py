"""A CSV's bytes as text: the encodings staff's tools write, told apart, and what
Python's CSV reader refuses, in words that say what to fix."""

from __future__ import annotations

import codecs
import csv

from .errors import ImportFileError, file_refusal


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
    unmarked = utf16_without_bom(content)
    if unmarked:
        return _strict(content, unmarked), unmarked
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise file_refusal("import_file.not_text", code="encoding") from None


def _strict(content: bytes, encoding: str) -> str:
    """``content`` decoded, or an ImportFileError saying where it is damaged."""
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as error:
        raise file_refusal(
            "import_file.damaged_text",
            code="encoding",
            encoding=encoding.upper(),
            position=error.start + 1,
            reason=error.reason,
        ) from None


def utf16_without_bom(content: bytes) -> str:
    """ "utf-16-le" or "utf-16-be" when ``content`` is UTF-16 without a byte-order
    mark, else "". Text a spreadsheet writes holds no zero byte unless it is
    UTF-16; the byte order is the one whose first line has a comma or a tab
    (read the other way round, a comma is a CJK character)."""
    start = content[:4096]
    if b"\x00" not in start:
        return ""
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(
                start[: len(start) // 2 * 2], final=False
            )
        except UnicodeDecodeError:
            continue
        first_line = text.split("\n", 1)[0]
        if "," in first_line or "\t" in first_line:
            return encoding
    return ""


def csv_error(error: csv.Error, line: int) -> ImportFileError:
    """What Python's CSV reader refused, in words that say what to fix."""
    if "field larger than field limit" in str(error):
        return file_refusal(
            "import_file.csv_cell_too_long",
            code="cell_too_long",
            line=line,
            limit=f"{csv.field_size_limit():,}",
        )
    return file_refusal("import_file.csv", code="csv", line=line, error=str(error))
