"""Exporting results: the columns, CSV with BOM and XLSX, formula neutralisation
that the importer removes exactly, and an export that imports back unchanged."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from exams.importing import columns, exporting, service
from exams.models import ExamResult, HistorySource
from exams.models.recording import bulk_create_recorded

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

LIST_URL = reverse("admin:exams_examresult_changelist")
EXPORT_URL = reverse("admin:exams_examresult_export")
TRICKY_NAMES = [
    '=HYPERLINK("http://x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "'=already quoted",
    "'plain with a quote",
    "\tTabbed",
    "后端工程师笔试（A卷）",
]


def body(response) -> bytes:
    if isinstance(response, StreamingHttpResponse):
        return b"".join(response.streaming_content)
    return b"".join(response)


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.fixture
def results(exam_result_factory):
    made = [
        exam_result_factory(
            application_id=str(6891565253964859661 + n),
            exam_resource_name=name,
            score=Decimal("88.5") if n % 2 else Decimal("70"),
        )
        for n, name in enumerate(TRICKY_NAMES)
    ]
    delivered = exam_result_factory(
        application_id="6891565253964859999",
        exam_resource_name="Java Backend Written Test",
        status="synced",
        exam_id="7031822096580868396",
        operate_time=dt.datetime(2026, 3, 1, 4, 5, 6, tzinfo=dt.UTC),
        attempts=2,
        last_error_message="=1+1 from an old attempt",
    )
    return [*made, delivered]


def test_the_csv_export_has_a_bom_the_issue_columns_and_ids_as_written(
    client, staff, results
):
    client.force_login(staff)

    response = client.get(EXPORT_URL, {"format": "csv"})

    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(body(response))
    assert rows[0] == list(exporting.COLUMNS)
    assert len(rows) == len(results) + 1
    delivered = next(row for row in rows if row[0] == "6891565253964859999")
    record = dict(zip(rows[0], delivered, strict=True))
    assert record["status"] == "synced"
    assert record["exam_id"] == "7031822096580868396"
    assert record["operate_time"] == "2026-03-01T12:05:06+08:00"
    assert record["attempts"] == "2"
    assert record["last_error"] == "'=1+1 from an old attempt"
    assert record["entered_by"] == results[-1].entered_by.username


def test_csv_cells_a_spreadsheet_would_evaluate_start_with_a_quote(
    client, staff, results
):
    client.force_login(staff)

    rows = csv_rows(body(client.get(EXPORT_URL, {"format": "csv"})))

    names = {row[1] for row in rows[1:]}
    assert '\'=HYPERLINK("http://x")' in names
    assert "'+cmd|' /C calc'!A0" in names
    assert "'-2+3" in names
    assert "'@SUM(A1:A2)" in names
    assert "''=already quoted" in names
    assert "'plain with a quote" in names  # not a formula: left alone
    assert "后端工程师笔试（A卷）" in names
    assert not any(name[:1] in "=+-@" for name in names)


def test_xlsx_cells_are_text_so_no_formula_is_evaluated(client, staff, results):
    client.force_login(staff)

    response = client.get(EXPORT_URL, {"format": "xlsx"})

    assert response["Content-Type"] == exporting.CONTENT_TYPES["xlsx"]
    sheet = openpyxl.load_workbook(io.BytesIO(body(response))).active
    rows = list(sheet.iter_rows(min_row=2))
    by_name = {row[1].value: row for row in rows}
    formula_cell = by_name['=HYPERLINK("http://x")'][1]
    assert formula_cell.data_type == "s"
    id_cell = by_name['=HYPERLINK("http://x")'][0]
    assert (id_cell.data_type, id_cell.value) == ("s", "6891565253964859661")
    assert all(row[1].data_type == "s" for row in rows)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_imports_back_with_everything_unchanged(client, staff, results, fmt):
    client.force_login(staff)
    exported = body(client.get(EXPORT_URL, {"format": fmt}))
    before = set(
        ExamResult.objects.values_list("application_id", "exam_resource_name", "score")
    )

    batch = service.import_batch_create(
        content=exported, file_name=f"export.{fmt}", actor=staff
    )

    assert batch.report["errors"] == []
    assert batch.report["counts"]["unchanged"] == len(results)
    assert batch.report["counts"]["rows"] == len(results)
    batch = service.import_batch_confirm(batch=batch, actor=staff)
    assert (batch.created_count, batch.updated_count) == (0, 0)
    after = set(
        ExamResult.objects.values_list("application_id", "exam_resource_name", "score")
    )
    assert after == before


@pytest.mark.parametrize("text", [*TRICKY_NAMES, "", "'", "''", "=", "'-", "abc"])
def test_the_importer_removes_exactly_the_quote_the_export_adds(text):
    assert columns.unneutralise(columns.neutralise(text)) == text


def test_the_export_follows_the_current_filter(client, staff, results):
    client.force_login(staff)

    rows = csv_rows(
        body(client.get(EXPORT_URL, {"format": "csv", "status__exact": "synced"}))
    )

    assert [row[0] for row in rows[1:]] == ["6891565253964859999"]


def test_export_selected_rows_from_the_action(client, staff, results):
    client.force_login(staff)
    chosen = results[:2]

    response = client.post(
        LIST_URL,
        {"action": "export_selected_csv", "_selected_action": [r.pk for r in chosen]},
    )

    rows = csv_rows(body(response))
    assert sorted(row[0] for row in rows[1:]) == sorted(
        r.application_id for r in chosen
    )


def test_export_selected_as_xlsx_from_the_action(client, staff, results):
    client.force_login(staff)

    response = client.post(
        LIST_URL,
        {"action": "export_selected_xlsx", "_selected_action": [results[0].pk]},
    )

    sheet = openpyxl.load_workbook(io.BytesIO(body(response))).active
    assert sheet.max_row == 2


def test_a_large_export_streams_in_chunks(staff):
    bulk_create_recorded(
        [
            ExamResult(
                application_id=str(7000000000000000000 + n),
                exam_resource_name="大型综合能力测评",
                score=Decimal("60.5"),
                operator_id="ou_x",
                operator_app_id="cli_sandbox",
            )
            for n in range(3000)
        ],
        actor=staff,
        source=HistorySource.IMPORT,
    )

    chunks = list(exporting.csv_chunks(ExamResult.objects.order_by("pk")))

    assert len(chunks) > 5  # written as rows arrive, not built whole
    assert sum(chunk.count(b"\r\n") for chunk in chunks) == 3001
