"""Every page staff use reads in Chinese to a browser set to Chinese (issue 14):
on a laptop (1366 px) and a phone (390 px), the visible text of each page holds
no English word beyond machine values, data as staff or Feishu wrote it, and a
short allowlist kept here with a reason per entry.

The world behind the pages is made as staff would make it: results delivered to
the sandbox by a real worker (their history and calls to Feishu), one held by
the check before sending, one failed and one unknown with their stored reasons,
a score correction, an identity set, alerts, candidates awaiting a result, and
the sample sheets uploaded through the import page.

The count of English words is printed per page (``pytest -s`` or ``-rA``) and
must be 0.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from exams.audit.alerts import alerts_check
from exams.audit.corrections import score_correction_record
from exams.entry import services
from exams.entry.identities import feishu_identity_record
from exams.models import (
    AlertSent,
    CandidateApplication,
    ExamResult,
    FeishuIdentity,
    ImportBatch,
    SyncAttempt,
)
from exams.wording import stored
from tests.browser.conftest import PASSWORD, language_context, log_in
from tests.delivery.conftest import wait_until
from tests.factories import ExamResultFactory, FeishuIdentityFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.embedded]

Status = ExamResult.Status
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
UPLOADS = ("exam_results.csv", "exam_results_bad.csv")

# Words a Chinese recruiter reads in Chinese software as they are, each with why
# (compared whatever their case). Anything else in Latin letters on a zh-hans
# page is a missing translation.
ALLOWED = {
    "ID": "飞书's own Chinese UI says 投递 ID, 用户 ID; recruiters use it as is",
    "HTTP": "a protocol's name (HTTP 状态码), never translated",
    "CSV": "a file format, named as the file picker and Excel name it",
    "XLSX": "a file format, as above",
    "Excel": "a product's name, written so in Chinese",
    "PDF": "a file format (the report's)",
    "JPG": "a file format (the report's)",
    "PNG": "a file format (the report's)",
    "MB": "a unit",
    "open_id": "a kind of Feishu user ID, named so in Feishu's Chinese console",
    "union_id": "as open_id",
    "user_id": "as open_id",
    "people_admin_id": "as open_id",
}
_ALLOWED = {word.casefold() for word in ALLOWED}

# Printable ASCII runs, cut at punctuation into pieces; a piece holding a digit,
# @, / or a dot between letters is a machine value, not a word: an ID, an
# open_id, a log ID, an email, a path or URL, a file or login name (mei.lin). A
# Feishu app ID (cli_…) is one too. ``result_failed:3:1`` is cut into
# ``result_failed`` (a word: a key shown instead of words) and two numbers.
CHUNK = re.compile(r"[!-~]+")
PUNCTUATION = re.compile(r"[:;,()\[\]{}<>\"'|=!?*#&%+]")
MACHINE = re.compile(r"[0-9@/\\]|[A-Za-z]\.[A-Za-z]|^cli_")
WORD = re.compile(r"[A-Za-z]{2,}(?:_[A-Za-z]+)*")


def english_words(text: str, data: Iterable[str]) -> list[str]:
    """The English words of ``text``, once data shown as it was written (an exam
    name, a candidate's job, what Feishu said) is taken out."""
    for value in sorted({v for v in data if v}, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z]){re.escape(value)}(?![A-Za-z])", " ", text)
    words = []
    for chunk in CHUNK.findall(text):
        for piece in PUNCTUATION.split(chunk):
            if MACHINE.search(piece):
                continue
            words += [w for w in WORD.findall(piece) if w.casefold() not in _ALLOWED]
    return words


def shown_data() -> set[str]:
    """What the pages show as staff, a sheet or Feishu wrote it: never translated,
    so not counted."""
    data: set[str] = set()
    data |= set(get_user_model().objects.values_list("username", flat=True))
    data |= set(ExamResult.objects.values_list("exam_resource_name", flat=True))
    data |= set(SyncAttempt.objects.values_list("feishu_msg", flat=True))
    for row in CandidateApplication.objects.values_list(
        "candidate_name", "email", "job_name", "stage_name_zh"
    ):
        data |= set(row)
    data |= set(ImportBatch.objects.values_list("file_name", flat=True))
    for name in UPLOADS:
        with (SAMPLES / name).open(encoding="utf-8-sig", newline="") as sheet:
            for row in list(csv.reader(sheet))[1:]:  # the header is no data
                data |= {cell.strip() for cell in row}
    return data


@pytest.fixture
def world(start_worker, live_server, sandbox):
    """A superuser (every page open to them) and something on every page."""
    start_worker()
    user = UserFactory(
        username="admin.zhao", is_staff=True, is_superuser=True, password=PASSWORD
    )
    identity = FeishuIdentityFactory(
        user=user, open_id="ou_f476cb099ac9227c9bae09ce46112579"
    )
    feishu_identity_record(actor=user, identity=identity, previous=None, how="lookup")

    # Delivered by the worker: history from the form to synced, calls to Feishu.
    delivered = ExamResultFactory(application_id="6891565253964859661", entered_by=user)
    # The check before sending finds no such application: held with its reason.
    held = ExamResultFactory(application_id="6891565253964800001", entered_by=user)
    sandbox.configure(missing_applications=[held.application_id])
    services.exam_results_send(
        queryset=ExamResult.objects.filter(pk__in=[delivered.pk, held.pk]),
        actor=user,
    )
    wait_until(
        lambda: (
            set(
                ExamResult.objects.filter(pk__in=[delivered.pk, held.pk]).values_list(
                    "status", flat=True
                )
            )
            == {Status.SYNCED, Status.HELD}
        ),
        timeout=60,
        what="one delivered, one held",
    )
    delivered.refresh_from_db()
    score_correction_record(
        result=delivered, new_score="90.5", reason="阅卷复核后更正", actor=user
    )

    failed = ExamResultFactory(
        application_id="6891565253964800002",
        status=Status.FAILED,
        last_error_code=1002002,
        last_error_message=stored("feishu.param_error", feishu_msg="param error"),
        entered_by=user,
    )
    SyncAttempt.objects.create(
        result=failed,
        call=SyncAttempt.Call.CREATE_EXAM,
        started_at=timezone.now(),
        duration_ms=120,
        outcome=SyncAttempt.Outcome.PERMANENT,
        http_status=400,
        feishu_code=1002002,
        feishu_msg="param error",
        log_id="202611281035000A1B2C3D4E5F",
        request_body=json.dumps({"application_id": failed.application_id}),
        response_body=json.dumps({"code": 1002002, "msg": "param error"}),
    )
    unknown = ExamResultFactory(
        application_id="6891565253964800003",
        status=Status.UNKNOWN,
        last_error_message=stored(
            "reconcile.later", why={"code": "reconcile.untrusted", "params": {}}
        ),
        entered_by=user,
    )
    # Told by email as the beat does it, in the deployment's language (English):
    # the alert pages word each alert for their reader.
    alerts_check(now=timezone.now())
    assert AlertSent.objects.count() == 2
    CandidateApplication.objects.create(
        application_id="6891565253964800077",
        exists=True,
        active=True,
        candidate_name="欧阳思远",
        email="ouyang.siyuan@example.com",
        job_name="高级后端工程师",
        stage_name_zh="笔试",
        stage_name_en="Written exam",
        stage_type=3,
        entered_stage_at=timezone.now(),
    )
    assert FeishuIdentity.objects.filter(user=user).exists()
    return {
        "user": user,
        "delivered": delivered,
        "held": held,
        "failed": failed,
        "unknown": unknown,
    }


def pages(world: dict[str, Any]) -> dict[str, str]:
    alert = AlertSent.objects.order_by("pk").first()
    assert alert is not None
    return {
        "index": "/admin/",
        "results list": "/admin/exams/examresult/",
        "result page (delivered)": (
            f"/admin/exams/examresult/{world['delivered'].pk}/change/"
        ),
        "result page (held)": f"/admin/exams/examresult/{world['held'].pk}/change/",
        "result page (failed)": f"/admin/exams/examresult/{world['failed'].pk}/change/",
        "result page (unknown)": (
            f"/admin/exams/examresult/{world['unknown'].pk}/change/"
        ),
        "result history": f"/admin/exams/examresult/{world['delivered'].pk}/history/",
        "correction form": (
            f"/admin/exams/examresult/{world['delivered'].pk}/correction/"
        ),
        "add form": "/admin/exams/examresult/add/",
        "import page": "/admin/exams/examresult/import/",
        "worklist": "/admin/exams/awaitingresult/",
        "audit: calls": "/admin/exams/audit/?view=attempts",
        "audit: changes": "/admin/exams/audit/?view=changes",
        "audit: corrections": "/admin/exams/audit/?view=corrections",
        "audit: events": "/admin/exams/audit/?view=events",
        "audit events": "/admin/exams/auditevent/",
        "alerts": "/admin/exams/alertsent/",
        "alert": f"/admin/exams/alertsent/{alert.pk}/change/",
        "import history": "/admin/exams/importbatch/",
    }


# The visible text, with what the page shows on buttons and in empty fields.
# Chromium draws a file input's "Choose File" / "No file chosen" itself, in the
# browser's language: it is not in innerText, and nothing here removes it.
VISIBLE = """() => [
  document.body.innerText,
  ...[...document.querySelectorAll('input[type=submit], input[type=button]')]
    .filter(e => e.offsetParent !== null).map(e => e.value),
  ...[...document.querySelectorAll('[placeholder]')]
    .filter(e => e.offsetParent !== null).map(e => e.placeholder),
].join('\\n')"""


def read_pages(page: Any, server: Any, world: dict[str, Any]) -> dict[str, list[str]]:
    url = server.url
    found: dict[str, list[str]] = {}
    page.goto(f"{url}/admin/login/")
    found["login"] = english_words(page.evaluate(VISIBLE), shown_data())
    log_in(page, server, world["user"].username)
    for name, path in pages(world).items():
        response = page.goto(f"{url}{path}")
        assert response.status == 200, (name, response.status)
        found[name] = english_words(page.evaluate(VISIBLE), shown_data())
    for sample in UPLOADS:
        page.goto(f"{url}/admin/exams/examresult/import/")
        page.set_input_files("#id_file", str(SAMPLES / sample))
        page.click("#import-form input[type=submit]")
        page.wait_for_selector("#import-confirm, #errors")
        found[f"import preview ({sample})"] = english_words(
            page.evaluate(VISIBLE), shown_data()
        )
    batch = ImportBatch.objects.order_by("-pk").first()
    assert batch is not None
    page.goto(f"{url}/admin/exams/importbatch/{batch.pk}/change/")
    found["import record"] = english_words(page.evaluate(VISIBLE), shown_data())
    return found


def test_every_page_reads_in_chinese(browser, live_server, world):
    report = []
    for width in (1366, 390):
        context = language_context(browser, "zh", width)
        try:
            found = read_pages(context.new_page(), live_server, world)
        finally:
            context.close()
        for name, words in found.items():
            line = f"{width} px, {name}: {len(words)} English words {sorted(words)}"
            print(line)
            if words:
                report.append(line)
    assert not report, "\n".join(report)
