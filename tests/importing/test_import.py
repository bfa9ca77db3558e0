"""Importing spreadsheets through the import service: the sample files, encodings,
headers, mangled ids, XLSX, idempotence, conflicts, all or nothing, confirmation
against the database as it is then."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.utils import timezone

from exams.audit.history import changes_of, result_changes
from exams.importing import reading, service
from exams.models import ExamResult, HistoricalExamResult, ImportBatch
from exams.wording import render
from tests.factories import UserFactory, generated_csv

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
HEADER = "application_id,exam_resource_name,score,uuid,operator_id\n"
OPERATOR = "ou_f476cb099ac9227c9bae09ce46112579"


def sample(name: str) -> bytes:
    path = SAMPLES / name
    assert path.is_file(), f"the sample {path} is missing (shared/ beside the repo)"
    return path.read_bytes()


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return (header + "".join(row + "\n" for row in rows)).encode()


def preview(content: bytes, actor, name: str = "results.csv") -> ImportBatch:
    return service.import_batch_create(content=content, file_name=name, actor=actor)


def import_now(content: bytes, actor, name="results.csv", **options) -> ImportBatch:
    batch = preview(content, actor, name)
    return service.import_batch_confirm(batch=batch, actor=actor, **options)


def errors_by_row(batch: ImportBatch) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for number, field, message in batch.report["errors"]:
        found.setdefault(number, []).append((field, render(message)))
    return found


# --- the sample files ------------------------------------------------------------


def test_the_english_sample_creates_twenty_drafts_linked_to_the_import(staff):
    batch = import_now(sample("exam_results.csv"), staff, "exam_results.csv")

    assert batch.status == "done"
    assert (batch.created_count, batch.invalid_count, batch.conflict_count) == (
        20,
        0,
        0,
    )
    results = ExamResult.objects.all()
    assert results.count() == 20
    assert set(results.values_list("status", flat=True)) == {"draft"}
    assert set(results.values_list("import_batch", flat=True)) == {batch.pk}
    assert set(results.values_list("entered_by", flat=True)) == {staff.pk}
    first = ExamResult.objects.get(application_id="6891565253964859661")
    assert first.exam_resource_name == "后端工程师笔试（A卷）"
    assert first.score == Decimal("88.5")
    assert first.operator_id == OPERATOR
    created = HistoricalExamResult.objects.filter(source="import", history_type="+")
    assert created.count() == 20
    assert created.filter(history_user=staff).count() == 20


def test_the_chinese_sample_with_a_bom_is_read_by_its_chinese_headers(staff):
    batch = import_now(sample("exam_results_zh.csv"), staff, "exam_results_zh.csv")

    assert batch.report["encoding"] == "utf-8-sig"
    assert batch.report["headers"]["application_id"] == "投递 ID"
    assert batch.created_count == 10
    assert ExamResult.objects.filter(
        application_id="6891565253965018041",
        exam_resource_name="后端工程师笔试（A卷）",
        score=Decimal("60.5"),
    ).exists()


def test_a_gb18030_file_as_excel_on_chinese_windows_saves_it_is_detected(staff):
    text = sample("exam_results_zh.csv").decode("utf-8-sig")
    gbk = text.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        gbk.decode("utf-8")

    batch = import_now(gbk, staff, "gbk.csv")

    assert batch.report["encoding"] == "gb18030"
    assert batch.created_count == 10
    assert ExamResult.objects.filter(exam_resource_name="产品经理逻辑测评").count() == 2


BAD_ROWS = {
    2: ("score", "Rows 2, 9 are the same result"),
    3: ("application_id", "Enter the application ID."),
    4: ("exam_resource_name", "Enter the exam name."),
    5: ("score", "“ninety” is not a number"),
    6: ("score", "95.55 has more than one decimal place"),
    7: ("score", "The score cannot be negative (-3)."),
    8: ("application_id", "“68915652539648600x7” is not an application ID"),
    9: ("score", "Rows 2, 9 are the same result"),
}


def test_every_bad_row_of_the_bad_sample_is_refused_with_its_reason(staff):
    batch = preview(sample("exam_results_bad.csv"), staff, "exam_results_bad.csv")

    errors = errors_by_row(batch)
    assert set(errors) == set(BAD_ROWS)
    for number, (field, reason) in BAD_ROWS.items():
        assert len(errors[number]) == 1, errors[number]
        assert errors[number][0][0] == field
        assert reason in errors[number][0][1], (number, errors[number])
    assert batch.report["counts"] == {
        "rows": 9,
        "new": 1,
        "unchanged": 0,
        "changed": 0,
        "conflict": 0,
        "invalid": 8,
        "duplicate": 0,
    }
    assert not ExamResult.objects.exists()


def test_the_bad_sample_imports_only_its_formula_row_stored_as_typed(staff):
    batch = service.import_batch_confirm(
        batch=preview(sample("exam_results_bad.csv"), staff), actor=staff
    )

    assert batch.created_count == 1
    assert batch.invalid_count == 8
    result = ExamResult.objects.get()
    assert result.application_id == "6891565253964860009"
    assert result.exam_resource_name == '=HYPERLINK("http://x")'
    assert result.score == Decimal("70")


def test_a_score_with_two_decimals_is_never_rounded(staff):
    batch = import_now(csv_bytes(f"1,笔试,95.55,,{OPERATOR}"), staff)

    assert batch.invalid_count == 1
    assert not ExamResult.objects.exists()


# --- headers -----------------------------------------------------------------------


def test_headers_match_in_any_order_with_spaces_and_mixed_languages(staff):
    content = (
        " 笔试分数 ,添加人用户id, Application_ID ,试卷 名称\n"
        f"88.5,{OPERATOR},6891565253964859661,后端笔试\n"
    ).encode()

    batch = import_now(content, staff)

    assert batch.created_count == 1
    result = ExamResult.objects.get()
    assert (result.application_id, result.exam_resource_name, result.score) == (
        "6891565253964859661",
        "后端笔试",
        Decimal("88.5"),
    )


def test_an_unknown_column_is_an_error_naming_it(staff):
    content = "application_id,exam_resource_name,score,备注\n1,笔试,80,x\n".encode()

    with pytest.raises(reading.ImportFileError) as raised:
        preview(content, staff)

    assert "“备注”" in raised.value.messages[0]
    assert not ImportBatch.objects.exists()


def test_a_missing_required_column_is_an_error_naming_it(staff):
    content = b"application_id,exam_resource_name\n1,x\n"

    with pytest.raises(reading.ImportFileError) as raised:
        preview(content, staff)

    assert "Missing required column(s): score (笔试分数)" in raised.value.messages[0]


def test_an_old_xls_file_is_refused_with_what_to_do(staff):
    with pytest.raises(reading.ImportFileError) as raised:
        preview(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, staff, "old.xls")

    assert ".xlsx" in raised.value.messages[0]


# --- ids a spreadsheet mangled ---------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("6.89157E+18", "scientific notation"),
        ("6.89157e18", "scientific notation"),
        ("6891565253964859661.0", "decimal part"),
        ("6891565253964.0", "decimal part"),
    ],
)
def test_a_csv_application_id_mangled_by_a_spreadsheet_is_refused_not_guessed(
    staff, raw, reason
):
    batch = preview(csv_bytes(f"{raw},笔试,80,,{OPERATOR}"), staff)

    [(field, message)] = errors_by_row(batch)[2]
    assert field == "application_id"
    assert reason in message
    assert batch.report["counts"]["new"] == 0


def xlsx_bytes(rows, header=("application_id", "exam_resource_name", "score")):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_an_xlsx_number_cell_that_lost_digits_is_refused(staff):
    content = xlsx_bytes(
        [
            (6891565253964860000, "笔试", 80),  # 19 digits: the last ones are lost
            (6.89157e18, "笔试", 81),
            ("6891565253964859661", "笔试", 82),  # text: exact
        ]
    )

    batch = preview(content, staff, "ids.xlsx")

    errors = errors_by_row(batch)
    assert set(errors) == {2, 3}
    assert "number cell" in errors[2][0][1]
    assert "number cell" in errors[3][0][1]
    assert batch.report["counts"]["new"] == 1


def test_an_xlsx_file_is_imported_with_formulas_kept_as_text(staff):
    content = xlsx_bytes(
        [
            ("6891565253964859661", "后端笔试", 88.5),
            ("6891565253964859662", '=HYPERLINK("http://x")', "70"),
            ("6891565253964859663", "后端笔试", 95.55),
        ],
    )

    batch = import_now(content, staff, "results.xlsx")

    assert batch.report["format"] == "xlsx"
    assert batch.created_count == 2
    assert errors_by_row(batch)[4][0][0] == "score"
    assert ExamResult.objects.get(
        application_id="6891565253964859661"
    ).score == Decimal("88.5")
    assert (
        ExamResult.objects.get(application_id="6891565253964859662").exam_resource_name
        == '=HYPERLINK("http://x")'
    )


# --- identity, idempotence, changes, conflicts ------------------------------------


def test_importing_the_same_file_twice_creates_nothing_new(staff):
    content = sample("exam_results.csv")
    import_now(content, staff)
    history_before = HistoricalExamResult.objects.count()

    second = preview(content, staff)
    assert second.report["counts"]["unchanged"] == 20
    assert second.report["counts"]["new"] == 0
    second = service.import_batch_confirm(batch=second, actor=staff)

    assert (second.created_count, second.updated_count) == (0, 0)
    assert second.unchanged_count == 20
    assert ExamResult.objects.count() == 20
    assert HistoricalExamResult.objects.count() == history_before


def test_the_same_exam_name_with_other_spacing_is_the_same_result(staff):
    import_now(csv_bytes(f"1,后端笔试,80,,{OPERATOR}"), staff)

    batch = preview(csv_bytes(f"1, 后端笔试 ,80,,{OPERATOR}"), staff)

    assert batch.report["counts"]["unchanged"] == 1


@pytest.mark.parametrize("status", ["draft", "failed", "pending"])
def test_a_changed_score_updates_a_result_staff_may_still_change(
    staff, exam_result_factory, status
):
    result = exam_result_factory(
        application_id="1",
        exam_resource_name="笔试",
        score=Decimal("60.0"),
        status=status,
    )

    batch = preview(csv_bytes(f"1,笔试,61.5,,{OPERATOR}"), staff)
    [change] = batch.report["changes"]
    assert change[:3] == [2, "1", "笔试"]
    assert render(change[3]) == str(ExamResult.Status(status).label)
    assert change[4] == {"score": ["60.0", "61.5"]}
    batch = service.import_batch_confirm(batch=batch, actor=staff)

    assert batch.updated_count == 1
    result.refresh_from_db()
    assert result.score == Decimal("61.5")
    assert result.status == status
    assert result.import_batch == batch
    change = result_changes(result.pk)[0]
    assert (change.source, change.actor) == ("import", staff)
    assert change.changes["score"] == ["60.0", "61.5"]


@pytest.mark.parametrize("status", ["sending", "unknown", "synced"])
def test_a_changed_score_for_a_result_that_may_be_in_feishu_is_a_conflict(
    staff, exam_result_factory, status
):
    result = exam_result_factory(
        application_id="1",
        exam_resource_name="笔试",
        score=Decimal("60.0"),
        status=status,
        exam_id="7031822096580868396",
    )

    batch = import_now(csv_bytes(f"1,笔试,61.5,,{OPERATOR}"), staff)

    assert batch.conflict_count == 1
    [conflict] = batch.report["conflicts"]
    assert conflict[0] == 2
    assert conflict[4] == {"score": ["60.0", "61.5"]}
    assert "no way to update" in render(conflict[5])
    result.refresh_from_db()
    assert result.score == Decimal("60.0")
    assert ExamResult.objects.count() == 1


def test_a_delivered_result_imported_with_the_same_score_is_unchanged(
    staff, exam_result_factory
):
    exam_result_factory(
        application_id="1",
        exam_resource_name="笔试",
        score=Decimal("60.0"),
        status="synced",
        exam_id="7031822096580868396",
    )

    batch = import_now(csv_bytes(f"1,笔试,60,,{OPERATOR}"), staff)

    assert (batch.unchanged_count, batch.conflict_count) == (1, 0)


def test_the_same_result_twice_with_the_same_score_counts_once(staff):
    batch = import_now(
        csv_bytes(f"1,笔试,80,,{OPERATOR}", f"1,笔试,80.0,,{OPERATOR}"), staff
    )

    assert batch.report["counts"]["new"] == 1
    assert batch.report["counts"]["duplicate"] == 1
    assert batch.invalid_count == 0
    assert ExamResult.objects.count() == 1


def test_all_or_nothing_writes_nothing_when_one_row_is_refused(staff):
    content = csv_bytes(f"1,笔试,80,,{OPERATOR}", f"2,笔试,ninety,,{OPERATOR}")

    batch = import_now(content, staff, all_or_nothing=True)

    assert batch.status == "refused"
    assert batch.created_count == 0
    assert not ExamResult.objects.exists()
    assert bytes(ImportBatch.objects.get().content) == b""


def test_all_or_nothing_writes_nothing_when_one_row_is_in_conflict(
    staff, exam_result_factory
):
    exam_result_factory(
        application_id="1", exam_resource_name="笔试", status="synced", exam_id="7"
    )
    content = csv_bytes(f"1,笔试,10,,{OPERATOR}", f"2,笔试,80,,{OPERATOR}")

    batch = import_now(content, staff, all_or_nothing=True)

    assert batch.status == "refused"
    assert ExamResult.objects.count() == 1


def test_confirm_classifies_again_and_reports_what_changed_since_the_preview(
    staff, exam_result_factory
):
    result = exam_result_factory(
        application_id="1", exam_resource_name="笔试", score=Decimal("60.0")
    )
    batch = preview(
        csv_bytes(f"1,笔试,61.5,,{OPERATOR}", f"2,笔试,70,,{OPERATOR}"), staff
    )
    assert batch.report["counts"]["changed"] == 1
    # Delivered between the preview and the confirmation.
    ExamResult.objects.filter(pk=result.pk)._update_unrecorded(
        status="synced", exam_id="7031822096580868396"
    )

    batch = service.import_batch_confirm(batch=batch, actor=staff)

    assert batch.report["differences"] == [[2, "changed", "conflict"]]
    assert batch.report["preview_counts"]["changed"] == 1
    assert (batch.created_count, batch.updated_count, batch.conflict_count) == (
        1,
        0,
        1,
    )
    result.refresh_from_db()
    assert result.score == Decimal("60.0")


# --- operator --------------------------------------------------------------------


def test_the_operator_defaults_to_the_importing_staff_members_feishu_identity(
    staff,
):
    import_now(csv_bytes("1,笔试,80,,", "2,笔试,80,,ou_given"), staff)

    operators = dict(ExamResult.objects.values_list("application_id", "operator_id"))
    assert operators == {"1": staff.feishu_identities.get().open_id, "2": "ou_given"}


def test_rows_without_an_operator_are_invalid_when_the_staff_member_has_no_identity():
    user = UserFactory(is_staff=True)

    batch = import_now(csv_bytes("1,笔试,80,,", "2,笔试,80,,ou_given"), user)

    [(field, message)] = errors_by_row(batch)[2]
    assert field == "operator_id"
    assert "no Feishu open_id" in message
    assert list(ExamResult.objects.values_list("application_id", flat=True)) == ["2"]


# --- sending, the upload's life ------------------------------------------------------


def test_import_and_send_queues_the_imported_results(sender):
    batch = import_now(sample("exam_results.csv"), sender, send=True)

    assert batch.sent_count == 20
    assert set(ExamResult.objects.values_list("status", flat=True)) == {"pending"}
    sent = changes_of(HistoricalExamResult.objects.filter(source="import"))
    assert sum(1 for c in sent if c.changes.get("status") == ["draft", "pending"]) == 20


def test_the_upload_is_kept_until_confirmed_then_emptied(staff):
    content = sample("exam_results.csv")
    batch = preview(content, staff)
    assert bytes(ImportBatch.objects.get(pk=batch.pk).content) == content

    service.import_batch_confirm(batch=batch, actor=staff)

    assert bytes(ImportBatch.objects.get(pk=batch.pk).content) == b""


def test_a_cancelled_preview_writes_nothing_and_forgets_the_file(staff):
    batch = preview(sample("exam_results.csv"), staff)

    assert service.import_batch_cancel(batch=batch, actor=staff)

    batch.refresh_from_db()
    assert batch.status == "cancelled"
    assert bytes(batch.content) == b""
    assert not ExamResult.objects.exists()


def test_previews_left_unconfirmed_expire_and_their_files_are_dropped(staff):
    batch = preview(sample("exam_results.csv"), staff)

    expired = service.import_batches_expire(now=timezone.now() + dt.timedelta(hours=25))

    assert expired == 1
    batch.refresh_from_db()
    assert (batch.status, bytes(batch.content)) == ("expired", b"")


def test_a_batch_cannot_be_confirmed_twice(staff):
    batch = import_now(sample("exam_results.csv"), staff)

    with pytest.raises(Exception, match="cannot be confirmed again"):
        service.import_batch_confirm(batch=batch, actor=staff)
    assert ExamResult.objects.count() == 20


# --- large files ---------------------------------------------------------------------


def test_a_file_over_the_threshold_is_written_by_a_worker_with_progress(
    staff, settings, django_capture_on_commit_callbacks
):
    from exams.tasks import import_batch_run_task

    settings.EXAMS_IMPORT_BACKGROUND_ROWS = 50
    batch = preview(generated_csv(120), staff)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch = service.import_batch_confirm(batch=batch, actor=staff)

    assert batch.status == "queued"
    assert len(callbacks) == 1  # the task is enqueued once the request commits
    assert not ExamResult.objects.exists()

    import_batch_run_task(batch.pk)  # what the worker runs

    batch.refresh_from_db()
    assert batch.status == "done"
    assert batch.created_count == 120
    assert batch.processed_rows == batch.total_rows == 120
    assert ExamResult.objects.filter(import_batch=batch).count() == 120
    # A second delivery of the same message does nothing.
    import_batch_run_task(batch.pk)
    assert ExamResult.objects.count() == 120
