"""Typos and damaged files get a message that says what to fix, never a 500, and
nothing is stored: numbers a Decimal would take but no score looks like, cells
longer than any column, text in encodings that do not decode, headers of
thousands of columns, control characters on the way in and on the way out."""

from __future__ import annotations

import codecs
import io
import zipfile

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from exams import rules
from exams.importing import reading, service
from exams.models import ExamResult, ImportBatch
from exams.wording import render
from tests.admin.test_forms import VALID, form_errors
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

ADD_URL = reverse("admin:exams_examresult_add")
IMPORT_URL = reverse("admin:exams_examresult_import")
HEADER = "application_id,exam_resource_name,score,operator_id\n"
ROW = "6891565253964859661,后端工程师笔试（A卷）,{score},ou_f476cb099ac9227c9bae09ce46112579\n"


def sheet(score: str = "88.5") -> str:
    return HEADER + ROW.format(score=score)


def upload(client, content: bytes, name: str = "results.csv"):
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, content)})


def row_errors(content: bytes, staff) -> dict[str, str]:
    batch = service.import_batch_create(
        content=content, file_name="results.csv", actor=staff
    )
    return {field: render(message) for _row, field, message in batch.report["errors"]}


@pytest.mark.parametrize(
    ("score", "says"),
    [
        ("1e100", "is not a number"),
        ("1" * 29, "larger than"),
        ("1" * 29 + ".5", "larger than"),
        ("1_0", "is not a number"),
        ("٩٥.٥", "is not a number"),  # Arabic-Indic digits
        ("1e2", "is not a number"),
        ("-0", "cannot be negative"),
        ("+5", "is not a number"),
        ("88.", "is not a number"),
        (".5", "is not a number"),
        ("Infinity", "is not a number"),
        ("88.5" + "0" * 40 + "1", "more than one decimal place"),
    ],
)
def test_scores_a_decimal_would_take_loosely_are_refused_with_the_reason(score, says):
    with pytest.raises(ValidationError) as refused:
        rules.parse_score(score)
    assert says in " ".join(refused.value.messages)


@pytest.mark.parametrize(
    ("written", "read"),
    [("８８．５", "88.5"), ("0088.50", "88.50"), ("99999.9", "99999.9"), ("0", "0")],
)
def test_full_width_digits_are_read_as_digits(written, read):
    assert str(rules.parse_score(written)) == read


def test_a_huge_score_on_the_add_form_is_a_message_not_a_500(client, superuser):
    client.force_login(superuser)
    response = client.post(ADD_URL, {**VALID, "score": "1e100", "_save": "Save"})
    assert response.status_code == 200
    assert "is not a number" in response.content.decode()
    response = client.post(ADD_URL, {**VALID, "score": "9" * 29, "_save": "Save"})
    assert response.status_code == 200
    assert "larger than" in response.content.decode()
    assert not ExamResult.objects.exists()


def test_a_huge_score_in_an_import_refuses_the_row(staff):
    assert "larger than" in row_errors(sheet("9" * 29).encode(), staff)["score"]
    assert "is not a number" in row_errors(sheet("1e100").encode(), staff)["score"]


def test_a_huge_number_cell_in_a_workbook_is_refused_in_digits(staff):
    workbook = openpyxl.Workbook()
    sheet_ = workbook.active
    sheet_.append(["application_id", "exam_resource_name", "score", "operator_id"])
    sheet_.append(["6891565253964859661", "笔试", 1e100, "ou_f476"])
    out = io.BytesIO()
    workbook.save(out)
    assert "larger than" in row_errors(out.getvalue(), staff)["score"]


def test_application_id_zero_and_loose_attachment_ids_are_refused(staff):
    assert "never begin with 0" in form_errors(application_id="0")["application_id"]
    assert "attachment ID" in form_errors(uuid="report.pdf")["uuid"]
    assert "uuid" not in form_errors(uuid="6949805467799537964")
    content = (
        "application_id,exam_resource_name,score,operator_id,uuid\n"
        "0,笔试,88,ou_f476,\n"
        "6891565253964859661,笔试,88,ou_f476,not-an-id\n"
    ).encode()
    batch = service.import_batch_create(
        content=content, file_name="ids.csv", actor=staff
    )
    errors = {
        (row, field): render(message) for row, field, message in batch.report["errors"]
    }
    assert "never begin with 0" in errors[(2, "application_id")]
    assert "attachment ID" in errors[(3, "uuid")]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (codecs.BOM_UTF8 + sheet().encode() + b"\xff\xfe\xfa", "damaged at byte"),
        (codecs.BOM_UTF16_LE + sheet().encode("utf-16-le") + b"\x00", "damaged"),
        (  # a lone surrogate
            codecs.BOM_UTF16_LE + sheet().encode("utf-16-le") + b"\x00\xd8a\x00",
            "damaged",
        ),
    ],
    ids=["BOM then bad UTF-8", "odd-length UTF-16", "lone surrogate"],
)
def test_damaged_files_are_refused_with_what_to_do(client, staff, content, says):
    client.force_login(staff)
    response = upload(client, content)
    assert response.status_code == 200
    page = response.content.decode()
    assert says in page
    assert "CSV" in page
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read(staff, encoding):
    content = sheet().encode(encoding)
    table = reading.read_table(content)
    assert table.encoding == encoding
    batch = service.import_batch_create(
        content=content, file_name="results.csv", actor=staff
    )
    assert batch.report["counts"]["new"] == 1


def test_a_header_of_ten_thousand_columns_names_a_few_and_counts_the_rest(
    client, staff
):
    header = HEADER.strip() + "," + ",".join(f"col{i}" for i in range(9_997))
    client.force_login(staff)
    response = upload(client, (header + "\n").encode())
    page = response.content.decode()
    assert response.status_code == 200
    assert "“col0”" in page and "“col9”" in page
    assert "col10" not in page
    assert "and 9,987 more" in page
    assert len(page) < 100_000


def test_control_characters_are_refused_on_the_form_and_in_an_import(staff):
    message = form_errors(exam_resource_name="笔试\x01")["exam_resource_name"]
    assert "U+0001" in message and "character 3" in message
    assert "U+0007" in form_errors(operator_id="ou_\x07x")["operator_id"]
    batch = service.import_batch_create(
        content=(HEADER + "6891565253964859661,笔试\x00A,8\x018,ou_f476\n").encode(),
        file_name="controls.csv",
        actor=staff,
    )
    errors = {field: render(message) for _row, field, message in batch.report["errors"]}
    assert "U+0000" in errors["exam_resource_name"]
    assert "“8␁8” is not a number" in errors["score"]
    # The preview shows what the file held, control characters made visible (a
    # NUL is stored in no PostgreSQL text or jsonb).
    assert "笔试␀A" in str(batch.report["rows"])


def test_a_control_character_stored_earlier_is_exported_not_a_500(
    client, superuser, exam_result_factory
):
    stored = exam_result_factory(exam_resource_name="笔试\x01卷")
    client.force_login(superuser)
    response = client.post(
        reverse("admin:exams_examresult_changelist"),
        {"action": "export_selected_xlsx", "_selected_action": [stored.pk]},
    )
    assert response.status_code == 200
    content = (
        b"".join(response.streaming_content)
        if response.streaming
        else (response.content)
    )
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    names = [row[1] for row in workbook.worksheets[0].iter_rows(values_only=True)]
    assert "笔试_x0001_卷" in names  # SpreadsheetML's escape of U+0001


# --- workbooks that unpack into far more than they weigh ---------------------------

SHEET = "xl/worksheets/sheet1.xml"


def inline_row(number: int, *values: str) -> str:
    cells = "".join(
        f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{value}</t></is></c>'
        for i, value in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


def workbook(rows_xml: str, extra: dict[str, bytes] | None = None) -> bytes:
    """A valid workbook whose first sheet holds ``rows_xml``, and ``extra`` parts."""
    base = io.BytesIO()
    openpyxl.Workbook().save(base)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(base) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == SHEET:
                data = (
                    '<worksheet xmlns="http://schemas.openxmlformats.org/'
                    'spreadsheetml/2006/main"><sheetData>'
                    + inline_row(1, "application_id", "exam_resource_name", "score")
                    + rows_xml
                    + "</sheetData></worksheet>"
                ).encode()
            target.writestr(item.filename, data)
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def test_a_workbook_is_read_when_it_is_what_it_claims(staff):
    content = workbook(inline_row(2, "6891565253964859661", "笔试", "88.5"))
    table = reading.read_table(content)
    assert [row for _number, row in table.rows] == [
        {
            "application_id": "6891565253964859661",
            "exam_resource_name": "笔试",
            "score": "88.5",
        }
    ]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (  # one shared string of 40 MB, packed into a few KB
            workbook("", {"xl/sharedStrings.xml": b"<sst><si><t>" + b"a" * 40_000_000}),
            "xl/sharedStrings.xml would unpack to 38 MB",
        ),
        (  # two million empty rows
            workbook("<row/>" * 2_000_000),
            f"{SHEET} would unpack to 11 MB",
        ),
    ],
    ids=["shared-string bomb", "empty-row bomb"],
)
def test_a_workbook_bomb_is_refused_before_it_is_unpacked(client, staff, content, says):
    assert len(content) < 200_000
    client.force_login(staff)
    response = upload(client, content, "bomb.xlsx")
    page = response.content.decode()
    assert response.status_code == 200
    assert says in page and "save the sheet again" in page
    assert not ImportBatch.objects.exists()


def test_a_row_two_billion_down_is_refused_without_walking_to_it(staff, settings):
    settings.EXAMS_IMPORT_MAX_ROWS = 1000
    content = workbook(inline_row(2_000_000_000, "6891565253964859661", "笔试", "8"))
    assert len(content) < 10_000
    with pytest.raises(reading.ImportFileError) as refused:
        service.import_batch_create(content=content, file_name="r.xlsx", actor=staff)
    assert "more than 1,000 rows" in " ".join(refused.value.messages)
    assert not ImportBatch.objects.exists()


def test_a_csv_of_more_rows_than_allowed_is_refused(staff, settings):
    settings.EXAMS_IMPORT_MAX_ROWS = 2
    with pytest.raises(reading.ImportFileError) as refused:
        service.import_batch_create(
            content=(sheet() * 4).encode(), file_name="r.csv", actor=staff
        )
    assert "more than 2 rows" in " ".join(refused.value.messages)


def test_a_workbook_cell_longer_than_a_spreadsheet_cell_is_refused(staff):
    content = workbook(inline_row(2, "6891565253964859661", "x" * 40_000, "88"))
    with pytest.raises(reading.ImportFileError) as refused:
        service.import_batch_create(content=content, file_name="c.xlsx", actor=staff)
    message = " ".join(refused.value.messages)
    assert "Row 2 holds a cell of more than 32,767 characters" in message


def test_uploads_waiting_for_confirmation_are_bounded_per_person(
    client, staff, settings
):
    content = sheet().encode()
    settings.EXAMS_IMPORT_USER_QUOTA_BYTES = len(content) * 2
    first = service.import_batch_create(content=content, file_name="1.csv", actor=staff)
    service.import_batch_create(content=content, file_name="2.csv", actor=staff)
    client.force_login(staff)
    page = upload(client, content).content.decode()
    assert "waiting for confirmation already keep" in page
    assert ImportBatch.objects.count() == 2
    # Someone else's quota is their own.
    other = service.import_batch_create(
        content=content, file_name="3.csv", actor=UserFactory(is_staff=True)
    )
    assert other.pk
    # Cancelling one makes room again.
    service.import_batch_cancel(batch=first, actor=staff)
    assert upload(client, content).status_code == 302


def test_a_large_file_is_read_for_its_preview_by_a_worker(client, staff, settings):
    """Past EXAMS_IMPORT_PREVIEW_INLINE_BYTES the web checks the header only; the
    rows are read in the background with progress, then the preview shows."""
    rows = "".join(
        f"{6891565253964859661 + n},笔试,{n % 100},ou_f476\n" for n in range(3000)
    )
    content = (HEADER + rows).encode()
    settings.EXAMS_IMPORT_PREVIEW_INLINE_BYTES = len(content) // 2
    client.force_login(staff)
    response = upload(client, content)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert (batch.status, batch.phase, batch.total_rows) == (
        "matching",
        "reading",
        3000,
    )
    service.import_batch_match(batch_id=batch.pk)  # what the worker runs
    batch.refresh_from_db()
    assert batch.status == "previewed"
    assert batch.report["counts"]["new"] == 3000
    # A wrong header is still refused at once, nothing kept.
    assert (
        "Unknown column"
        in upload(client, b"name,mark\n" + b"x,1\n" * 50_000).content.decode()
    )
    assert ImportBatch.objects.count() == 1


def test_a_5_mb_cell_fails_the_background_preview_with_what_to_fix(client, staff):
    # An unclosed quote, or a paste gone wrong: larger than the inline preview.
    content = (
        HEADER + '6891565253964859661,"' + "x" * 5_000_000 + '",88,ou\n'
    ).encode()
    client.force_login(staff)
    assert upload(client, content).status_code == 302
    batch = ImportBatch.objects.get()
    service.import_batch_match(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == "failed"
    assert "Line 2 holds a cell of more than 131,072 characters" in render(batch.error)
    assert not batch.content


@pytest.mark.parametrize(
    "encoding", ["utf-8-sig", "utf-8", "gb18030", "utf-16", "utf-16-le", "utf-16-be"]
)
def test_a_large_files_header_is_checked_from_its_first_bytes(encoding):
    """No character cut in two at the end of the bytes read, in any encoding the
    importer reads."""
    from exams.importing.upload_checks import HEADER_BYTES, check_header

    rows = "".join(
        f"{6891565253964859661 + n},后端工程师笔试（A卷）{n},88.5,ou_x\n"
        for n in range(HEADER_BYTES // 20)
    )
    check_header((HEADER + rows).encode(encoding))
    with pytest.raises(reading.ImportFileError, match="Unknown column"):
        check_header(("名字,分数\n" + rows).encode(encoding))
