"""What the web checks of a large upload before a worker reads it: what can be
told without reading its rows. A workbook's parts (its directory only: openpyxl
would scan a whole sheet that does not state its size), a CSV's header line from
its first bytes. The rest, and any error in it, is the worker's
(``service.import_batch_match``)."""

from __future__ import annotations

import codecs
import csv
import io

from .csv_text import csv_error, decode, utf16_without_bom
from .reading import XLSX_MAGIC, check_xlsx_parts, match_header, refuse_xls

HEADER_BYTES = 256 * 1024


def check_header(content: bytes, file_name: str = "") -> None:
    """Raises ImportFileError for a file whose header (or format) is wrong."""
    if content.startswith(XLSX_MAGIC):
        check_xlsx_parts(content)
        return
    refuse_xls(content, file_name)
    text = _first_lines(content[:HEADER_BYTES])
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    try:
        header = next(
            csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), []
        )
    except csv.Error as error:
        raise csv_error(error, 1) from None
    match_header(header)


def _first_lines(prefix: bytes) -> str:
    """The whole lines of a file's first bytes, decoded as the importer would
    decode the file, no character cut in two."""
    utf16 = (
        "utf-16"
        if prefix.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        else utf16_without_bom(prefix)
    )
    if utf16:
        # An incremental decoder keeps a cut character (or surrogate pair) back.
        text = codecs.getincrementaldecoder(utf16)().decode(prefix, final=False)
    else:
        # A newline byte is never inside a UTF-8 or GB18030 character.
        newline = prefix.rfind(b"\n")
        text, _encoding = decode(prefix[: newline + 1] if newline >= 0 else prefix)
    return text.lstrip("\ufeff")
