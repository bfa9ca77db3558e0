"""Uploads built to take a process down (issue 13), and a real 1,000,000-row
file, read as the importer reads them: how long until each is refused or read,
and how much memory the reading process grew by.

Cases, each generated here (small on disk) and read in a process of its own:

- shared-string bomb: an XLSX of ~1.2 MB whose sharedStrings.xml holds one
  1.26 GB string;
- empty-row bomb: an XLSX of ~1.7 MB with 200 million empty ``<row/>``;
- far row: an XLSX of a few KB with one row at r="2000000000";
- 1M-row XLSX and 700k-row CSV (as many as fit under the 50 MB upload cap):
  valid results, read to the last row (the CSV's worker time is the baseline the
  times are divided by).

Each file is read twice, each time in a fresh process: as the web reads a large
upload (its header only) and as a worker reads it for the preview (every row
checked, as ``exams.importing.checking.check`` does). "RSS added" is the process's
peak resident memory (ru_maxrss) minus what it held before reading (Django loaded,
file read). Goal: a few hundred MB at most on any
upload; every bomb refused with a message, within seconds.

    .venv/bin/python bench/upload_bombs.py
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHEET = "xl/worksheets/sheet1.xml"
HEADER = ("application_id", "exam_resource_name", "score", "operator_id")
CHUNK = 1 << 20


def _cells(number: int, values: tuple[str, ...]) -> str:
    return "".join(
        f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{value}</t></is></c>'
        for i, value in enumerate(values)
    )


def _workbook(
    path: Path,
    sheet_chunks: Iterable[bytes],
    shared_strings_chunks: Iterable[bytes] | None = None,
) -> None:
    """Write a workbook whose sheet (and shared strings) stream from generators,
    so a part of gigabytes never sits in memory."""
    import openpyxl

    base = io.BytesIO()
    openpyxl.Workbook().save(base)
    with (
        zipfile.ZipFile(base) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            if item.filename == SHEET:
                continue
            target.writestr(item.filename, source.read(item.filename))
        with target.open(SHEET, "w", force_zip64=True) as out:
            for chunk in sheet_chunks:
                out.write(chunk)
        if shared_strings_chunks is not None:
            with target.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
                for chunk in shared_strings_chunks:
                    out.write(chunk)


def _sheet(rows: Iterable[bytes]) -> Iterator[bytes]:
    yield (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
        'main"><sheetData>' + f'<row r="1">{_cells(1, HEADER)}</row>'
    ).encode()
    yield from rows
    yield b"</sheetData></worksheet>"


def _result(i: int) -> tuple[str, ...]:
    return (str(6891565253964859661 + i), "后端工程师笔试（A卷）", "88.5", "ou_x")


def generate(case: str, path: Path) -> None:
    if case == "shared-string bomb":
        size = 1_260_000_000

        def strings() -> Iterator[bytes]:
            yield b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
            for _ in range(size // CHUNK):
                yield b"a" * CHUNK
            yield b"</t></si></sst>"

        _workbook(path, _sheet([]), strings())
    elif case == "empty-row bomb":

        def rows() -> Iterator[bytes]:
            block = b"<row/>" * (CHUNK // 6)
            for _ in range(200_000_000 // (CHUNK // 6)):
                yield block

        _workbook(path, _sheet(rows()))
    elif case == "far row":
        far = 2_000_000_000
        _workbook(
            path, _sheet([f'<row r="{far}">{_cells(far, _result(0))}</row>'.encode()])
        )
    elif case == "1M-row XLSX":

        def rows() -> Iterator[bytes]:
            batch = []
            for i in range(1_000_000):
                n = i + 2
                batch.append(f'<row r="{n}">{_cells(n, _result(i))}</row>')
                if len(batch) == 10_000:
                    yield "".join(batch).encode()
                    batch = []
            yield "".join(batch).encode()

        _workbook(path, _sheet(rows()))
    elif case == "700k-row CSV":  # as many rows as fit under the 50 MB upload cap
        with path.open("w", encoding="utf-8") as out:
            out.write(",".join(HEADER) + "\n")
            for i in range(700_000):
                out.write(",".join(_result(i)) + "\n")
    else:
        raise SystemExit(f"unknown case {case}")


CASES = (
    "700k-row CSV",
    "1M-row XLSX",
    "shared-string bomb",
    "empty-row bomb",
    "far row",
)


def child(path: str, header_only: bool) -> None:
    """Read the file as the importer does; print one JSON line."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiring_portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from exams.importing import reading
    from exams.importing.checking import check
    from exams.importing.upload_checks import check_header
    from exams.models import ExamPaper

    # The rows' paper is in the catalogue (as `make run`'s demo has it), so each
    # row is checked in full rather than refused with its paper unknown.
    ExamPaper.objects.get_or_create(
        name=_result(0)[1], defaults={"full_mark": Decimal(100)}
    )
    content = Path(path).read_bytes()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    outcome, rows = "read", 0
    try:
        if header_only:  # what the web does with a large upload
            check_header(content, path)
            outcome = "header accepted, rows left to a worker"
        else:  # what the worker does for its preview: read and check every row
            _table, checked, _default = check(
                content=content, file_name=path, actor=None
            )
            rows = len(checked.rows)
    except reading.ImportFileError as error:
        outcome = f"refused ({error.code}): {' '.join(error.messages)[:90]}…"
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rss_added_mb": (peak - before) / 1024,
                "rows": rows,
                "outcome": outcome,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child")
    parser.add_argument("--header-only", action="store_true")
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    if args.child:
        child(args.child, args.header_only)
        return
    print(
        f"{'case':<20} {'as':<7} {'file':>9} {'seconds':>8} {'x CSV':>6} "
        f"{'RSS added':>10}  rows / outcome"
    )
    print("-" * 118)
    baseline = None
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases.split(","):
            suffix = ".csv" if case.endswith("CSV") else ".xlsx"
            path = Path(tmp) / (case.replace(" ", "_") + suffix)
            generate(case, path)
            # The web checks a large upload's header; a worker reads every row.
            for role, flags in (("web", ["--header-only"]), ("worker", [])):
                ran = subprocess.run(
                    [sys.executable, __file__, "--child", str(path), *flags],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                    timeout=900,
                )
                if ran.returncode:
                    print(f"{case} ({role}): failed:\n{ran.stderr[-2000:]}")
                    continue
                found = json.loads(ran.stdout.strip().splitlines()[-1])
                if case == "700k-row CSV" and role == "worker":
                    baseline = found["seconds"]
                ratio = f"{found['seconds'] / baseline:.2f}" if baseline else "-"
                what = (
                    found["outcome"]
                    if found["outcome"] != "read"
                    else f"{found['rows']:,} rows checked"
                )
                print(
                    f"{case:<20} {role:<7} {path.stat().st_size / 1024 / 1024:>7.1f}MB "
                    f"{found['seconds']:>8.2f} {ratio:>6} "
                    f"{found['rss_added_mb']:>8.1f}MB  {what}"
                )
            path.unlink()
    print("goal: every bomb refused within seconds; RSS added at most a few hundred MB")


if __name__ == "__main__":
    main()
