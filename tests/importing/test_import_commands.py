"""The import and export commands: the admin's checks and report, exit codes,
dry runs, progress on large files."""

from __future__ import annotations

import codecs
import csv
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from exams.models import ExamResult, HistoricalExamResult, ImportBatch
from tests.factories import OPERATOR, generated_csv

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"


def run(*args: str) -> tuple[str, int]:
    out = io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=io.StringIO())
    except CommandError as error:
        out.write(f"\n{error}")
        return out.getvalue(), error.returncode
    return out.getvalue(), 0


def import_as(user, path, *options: str) -> tuple[str, int]:
    """``import_exam_results`` of ``path``, entered as ``user``."""
    return run("import_exam_results", str(path), "--operator", user.username, *options)


def test_import_of_the_english_sample_exits_zero_and_records_the_import(staff):
    output, code = import_as(staff, SAMPLES / "exam_results.csv")

    assert code == 0
    assert "20 new" in output
    assert "20 created" in output
    batch = ImportBatch.objects.get()
    assert (batch.source, batch.created_by, batch.created_count) == (
        "command",
        staff,
        20,
    )
    assert HistoricalExamResult.objects.filter(source="command").count() == 20
    assert ExamResult.objects.filter(import_batch=batch).count() == 20


def test_import_of_the_bad_sample_reports_each_bad_row_and_exits_non_zero(staff):
    output, code = import_as(staff, SAMPLES / "exam_results_bad.csv")

    assert code == 1
    for line in (
        "row 3, Application ID: Enter the application ID.",
        "row 4, Exam name: Enter the exam name.",
        "row 5, Score: “ninety” is not a number",
        "row 6, Score: 95.55 has more than one decimal place",
        "row 7, Score: The score cannot be negative (-3).",
        "row 8, Application ID: “68915652539648600x7” is not an application ID",
        "row 2, Score: Rows 2, 9 are the same result",
        "row 9, Score: Rows 2, 9 are the same result",
    ):
        assert line in output
    assert "8 row(s) were refused" in output
    assert ExamResult.objects.get().exam_resource_name == '=HYPERLINK("http://x")'


def test_a_dry_run_reports_and_writes_nothing(staff):
    output, code = import_as(staff, SAMPLES / "exam_results_zh.csv", "--dry-run")

    assert code == 0
    assert "10 new" in output
    assert "dry run: nothing written" in output
    assert not ExamResult.objects.exists()
    assert not ImportBatch.objects.exists()


def test_without_operator_rows_without_one_are_refused(tmp_path, db):
    path = tmp_path / "results.csv"
    path.write_text(
        "application_id,exam_resource_name,score,operator_id\n"
        "1,笔试,80,\n"
        f"2,笔试,80,{OPERATOR}\n"
    )

    output, code = run("import_exam_results", str(path))

    assert code == 1
    assert "row 2, Operator's Feishu ID: The row has no operator ID" in output
    assert list(ExamResult.objects.values_list("application_id", flat=True)) == ["2"]


def test_import_with_send_queues_the_results(sender):
    output, code = import_as(sender, SAMPLES / "exam_results.csv", "--send")

    assert code == 0
    assert "20 queued for delivery" in output
    assert ExamResult.objects.filter(status="pending").count() == 20


def test_all_or_nothing_from_the_command_line(staff):
    output, code = import_as(
        staff, SAMPLES / "exam_results_bad.csv", "--all-or-nothing"
    )

    assert code == 1
    assert "Nothing was imported" in output
    assert not ExamResult.objects.exists()


def test_an_unreadable_file_exits_two_and_records_nothing(tmp_path, staff):
    path = tmp_path / "results.csv"
    path.write_text("投递 ID,分数 A\n1,2\n")

    output, code = import_as(staff, path)

    assert code == 2
    assert "Unknown column(s): “分数 A”" in output
    assert not ImportBatch.objects.exists()


def test_a_large_import_shows_a_progress_bar(tmp_path, staff, capsys):
    path = tmp_path / "large.csv"
    path.write_bytes(generated_csv(6000))

    _output, code = import_as(staff, path)

    assert code == 0
    assert "6000/6000 rows checked" in capsys.readouterr().err
    assert ExamResult.objects.count() == 6000


# --- export ------------------------------------------------------------------------


@pytest.fixture
def two_results(exam_result_factory):
    return [
        exam_result_factory(application_id="1", exam_resource_name="=1+1"),
        exam_result_factory(
            application_id="2", status="synced", exam_id="7031822096580868396"
        ),
    ]


def test_export_command_writes_csv_with_a_status_filter(tmp_path, two_results):
    path = tmp_path / "out.csv"

    call_command(
        "export_exam_results", str(path), "--status", "draft", stderr=io.StringIO()
    )

    content = path.read_bytes()
    assert content.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert [row[:3] for row in rows[1:]] == [["1", "'=1+1", "88.5"]]


def test_export_command_writes_xlsx_by_extension(tmp_path, two_results):
    path = tmp_path / "out.xlsx"

    call_command("export_exam_results", str(path), stderr=io.StringIO())

    sheet = openpyxl.load_workbook(path).active
    assert sheet.max_row == 3
    assert sheet["B2"].data_type == "s"


def test_export_command_to_standard_output(two_results, capfdbinary):
    call_command("export_exam_results", "-", "--status", "synced")

    out = capfdbinary.readouterr().out
    assert out.startswith(codecs.BOM_UTF8)
    assert b"7031822096580868396" in out


def test_an_exported_file_imports_back_unchanged_from_the_command_line(
    tmp_path, staff, two_results
):
    path = tmp_path / "out.csv"
    call_command("export_exam_results", str(path), stderr=io.StringIO())

    output, code = import_as(staff, path, "--dry-run")

    assert code == 0
    assert "2 unchanged" in output
    assert ExamResult.objects.get(application_id="1").score == Decimal("88.5")
