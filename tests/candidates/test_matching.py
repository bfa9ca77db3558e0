"""A vendor's score sheet (name, email, mobile, score; no application ID) matched
to Feishu's applications, against the sandbox's demo world over real HTTP."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from exams.candidates.lookups import candidate_applications_lookup
from exams.candidates.matching import SheetRow, normalise_mobile, sheet_rows_match
from exams.importing import service
from exams.models import (
    CandidateApplication,
    ExamResult,
    HistoricalExamResult,
    ImportBatch,
)
from exams.wording import render
from hiring_portal.log import JsonFormatter

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.embedded]

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
VENDOR = (SAMPLES / "vendor_scores.csv").read_bytes()


@pytest.fixture
def demo(sandbox):
    sandbox.load_world("demo")
    return sandbox


@pytest.mark.parametrize(
    ("written", "code", "expected"),
    [
        ("13800138001", "", ("86", "13800138001")),
        ("+86 139-0013-9002", "", ("86", "13900139002")),
        ("139 0013 9003", "", ("86", "13900139003")),
        ("0086 13800138001", "", ("86", "13800138001")),
        ("+852 9123 4567", "", ("852", "91234567")),
        ("9123 4567", "852", ("852", "91234567")),
        ("１３８００１３８００１", "", ("86", "13800138001")),
    ],
)
def test_mobiles_are_read_as_staff_write_them(written, code, expected):
    assert normalise_mobile(written, code) == expected


def test_each_case_of_the_vendor_sheet(demo, staff):
    batch = service.import_batch_create(
        content=VENDOR, file_name="vendor_scores.csv", actor=staff
    )
    report = batch.report
    matches = report["matches"]
    # Rows 2-9: one application each in a written-exam stage, by email or mobile.
    assert all(matches[str(row)]["status"] == "matched" for row in range(2, 10))
    assert matches["2"]["by"] == "email"
    assert matches["3"]["by"] == "email"  # Li.Xue@Example.com: any case
    assert matches["4"]["by"] == "mobile"  # +86 139-0013-9002
    assert matches["5"]["by"] == "mobile"  # 139 0013 9003
    assert report["matched_by"] == {"email": 6, "mobile": 2}
    # 刘洋: two active applications in written-exam stages, staff pick one.
    assert matches["10"]["status"] == "pick"
    assert len(matches["10"]["candidates"]) == 2
    # 黄丽: her only application is terminated: refused with the reason.
    errors = {row: render(message) for row, _field, message in report["errors"]}
    assert "terminated" in errors[11] and "Candidate declined" in errors[11]
    # 林晨: Feishu knows the email as 林琛's: shown for staff to confirm.
    assert matches["12"]["reason"] == "name_differs"
    assert matches["12"]["candidates"][0]["name"] == "林琛"
    # 何静: nobody in Feishu has that email.
    assert "No candidate in Feishu has" in errors[13]
    assert report["counts"]["new"] == 8
    assert report["counts"]["to_pick"] == 2
    assert report["counts"]["invalid"] == 2
    assert not ExamResult.objects.exists()


def test_confirming_with_picks_imports_the_matched_rows_and_records_how(demo, staff):
    batch = service.import_batch_create(
        content=VENDOR, file_name="vendor_scores.csv", actor=staff
    )
    liu_yang = batch.report["matches"]["10"]["candidates"][1]["application_id"]
    lin_chen = batch.report["matches"]["12"]["candidates"][0]["application_id"]
    batch = service.import_batch_confirm(
        batch=batch, actor=staff, picks={"10": liu_yang, "12": lin_chen}
    )
    assert batch.status == ImportBatch.Status.DONE
    assert batch.created_count == 10
    picked = ExamResult.objects.get(application_id=liu_yang)
    assert picked.matched_by == "email"
    assert ExamResult.objects.get(application_id="6912000000000000003").matched_by == (
        "mobile"
    )
    # How each was matched is in its history.
    snapshot = HistoricalExamResult.objects.get(id=picked.pk, history_type="+")
    assert snapshot.matched_by == "email"
    assert snapshot.source == "import"


def test_rows_left_unpicked_are_refused_at_confirmation(demo, staff):
    batch = service.import_batch_create(
        content=VENDOR, file_name="vendor_scores.csv", actor=staff
    )
    batch = service.import_batch_confirm(batch=batch, actor=staff)
    assert batch.created_count == 8
    errors = {row: render(message) for row, _f, message in batch.report["errors"]}
    assert "No candidate was picked" in errors[10]


def test_the_command_refuses_what_it_cannot_decide_and_says_why(
    demo, staff, tmp_path, capsys
):
    path = tmp_path / "vendor.csv"
    path.write_bytes(VENDOR)
    with pytest.raises(CommandError, match="refused"):
        call_command("import_exam_results", str(path), "--operator", staff.username)
    out = capsys.readouterr().out
    assert "candidates found in Feishu: 6 by email, 2 by mobile" in out
    assert "row 11" in out and "Candidate declined" in out
    assert "row 10" in out and "pick" in out
    assert ExamResult.objects.count() == 8
    # --skip-invalid: the same refusals listed, exit 0.
    call_command(
        "import_exam_results",
        str(path),
        "--operator",
        staff.username,
        "--skip-invalid",
    )


def test_the_admin_preview_offers_a_pick_per_undecided_row(demo, client, staff):
    client.force_login(staff)
    response = client.post(
        reverse("admin:exams_examresult_import"),
        {"file": SimpleUploadedFile("vendor_scores.csv", VENDOR)},
        follow=True,
    )
    page = response.content.decode()
    assert 'id="to-pick"' in page
    assert page.count('name="pick_10"') == 3  # two applications, or leave it out
    assert 'name="pick_12"' in page and "林琛" in page
    batch = ImportBatch.objects.get()
    liu_yang = batch.report["matches"]["10"]["candidates"][0]["application_id"]
    response = client.post(
        reverse("admin:exams_examresult_import_batch", args=[batch.pk]),
        {"_confirm": "1", "pick_10": liu_yang, "pick_12": ""},
    )
    assert ExamResult.objects.filter(application_id=liu_yang).exists()
    assert ExamResult.objects.count() == 9


def test_matching_waits_out_a_429_and_stays_within_the_calls_it_needs(demo):
    # Feishu's limit for batch_get_id made tiny: the matcher waits, never fails.
    demo.configure(rate_limits={"talent_batch_get_id": [1, 1000]})
    rows = [
        SheetRow(n, email=f"cand{app[-6:]}@example.com")
        for n, app in enumerate(
            ["6891565253964859661", "6891565253964867580", "6891565253964875499"],
            start=2,
        )
    ] + [SheetRow(9, mobile_code="86", mobile="13900139002")]
    matches, stats = sheet_rows_match(rows)
    assert all(m.status == "matched" for m in matches.values())
    assert stats.waited_429 >= 1
    # One call per kind (emails, then mobiles), one list and one detail a row;
    # a call refused with 429 is made again once Feishu's reset has passed.
    assert stats.calls == {
        "talent_batch_get_id": 2 + stats.waited_429,
        "application_list": 4,
        "application_detail": 4,
    }


def test_the_preview_says_which_rows_the_check_would_hold(demo, staff):
    content = (
        "application_id,exam_resource_name,score\n"
        "6912000000000000001,后端工程师笔试（A卷）,88\n"
        "6912000000000000011,产品经理逻辑测评,70\n"
    ).encode()
    batch = service.import_batch_create(content=content, file_name="a.csv", actor=staff)
    # (GET /applications/:id gives the reason in Feishu's words only.)
    [(row, application_id, why)] = batch.report["checks"]
    assert (row, application_id) == (3, "6912000000000000011")
    assert render(why) == "The application was terminated: 候选人拒绝"
    assert batch.report["counts"]["new"] == 2


def test_candidates_personal_data_never_reaches_the_logs(demo, staff, caplog):
    """Names, emails and mobiles from the sheet and from Feishu's answers appear
    in no log record, at any level, in its message, its context or a traceback."""
    caplog.set_level(logging.DEBUG)
    batch = service.import_batch_create(
        content=VENDOR, file_name="vendor_scores.csv", actor=staff
    )
    liu_yang = batch.report["matches"]["10"]["candidates"][1]["application_id"]
    lin_chen = batch.report["matches"]["12"]["candidates"][0]["application_id"]
    service.import_batch_confirm(
        batch=batch, actor=staff, picks={"10": liu_yang, "12": lin_chen}
    )
    candidate_applications_lookup(
        list(ExamResult.objects.values_list("application_id", flat=True))
    )
    assert CandidateApplication.objects.exclude(candidate_name="").count() >= 10

    personal = set()
    for row in csv.DictReader(io.StringIO(VENDOR.decode("utf-8-sig"))):
        mobile = normalise_mobile(row["手机号"], "")[1] if row["手机号"] else ""
        personal |= {row["姓名"], row["邮箱"].lower(), mobile}
    for mirror in CandidateApplication.objects.exclude(candidate_name=""):
        personal |= {mirror.candidate_name, mirror.email.lower(), mirror.mobile_number}
    personal.discard("")
    formatter = JsonFormatter()
    logged = "\n".join(
        formatter.format(record) + repr(vars(record)) for record in caplog.records
    ).lower()
    assert caplog.records  # the paths above do log
    assert not sorted(value for value in personal if value.lower() in logged)
