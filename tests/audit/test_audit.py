"""The audit: history on every write path, read-only history and attempts, the
result page's diffs and attempts, score corrections, the reviewers' audit page."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from exams.audit.hints import code_hint
from exams.audit.history import changes_of, result_changes
from exams.delivery.sending import exam_result_deliver
from exams.entry import services
from exams.importing import service as importing
from exams.models import (
    AuditEvent,
    ExamResult,
    HistoricalExamResult,
    HistorySource,
    ScoreCorrection,
    SyncAttempt,
)
from exams.models.recording import update_recorded
from tests.delivery.conftest import sandbox, sandbox_server  # noqa: F401
from tests.factories import UserFactory, exam_result_form

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

Source = HistorySource
LIST_URL = reverse("admin:exams_examresult_changelist")
REVIEW_URL = reverse("exams_audit:review")
EXPORT_URL = reverse("exams_audit:export")
CSV = (
    "application_id,exam_resource_name,score\n"
    "7000000000000000001,Go 笔试,91.5\n"
    "7000000000000000002,Go 笔试,77\n"
)


def change_url(result):
    return reverse("admin:exams_examresult_change", args=[result.pk])


def attempt(result, **fields):
    values = {
        "request_body": f'{{"application_id": "{result.application_id}"}}',
        "outcome": SyncAttempt.Outcome.PERMANENT,
        "http_status": 400,
        **fields,
    }
    return SyncAttempt.objects.create(result=result, **values)


# --- history on every write path ---------------------------------------------------


def test_the_admin_form_records_who_created_and_changed_what(client, sender):
    client.force_login(sender)
    client.post(reverse("admin:exams_examresult_add"), exam_result_form(_save="1"))
    result = ExamResult.objects.get()
    client.post(change_url(result), exam_result_form(score="90", _save="1"))

    changed, created = result_changes(result.pk)
    assert (created.actor, created.source, created.kind) == (sender, "admin", "created")
    assert created.changes["score"] == [None, "88.5"]
    assert changed.changes == {"score": ["88.5", "90.0"]}
    assert changed.actor == sender


def test_the_send_action_records_each_row_as_a_bulk_action(
    client, sender, exam_result_factory
):
    results = [exam_result_factory(entered_by=sender) for _ in range(3)]
    client.force_login(sender)
    client.post(
        LIST_URL,
        {"action": "send_to_feishu", "_selected_action": [r.pk for r in results]},
    )
    sent = changes_of(HistoricalExamResult.objects.filter(source=Source.BULK_ACTION))
    assert sorted(c.result_id for c in sent) == sorted(r.pk for r in results)
    assert all(c.changes["status"] == ["draft", "pending"] for c in sent)
    assert {c.actor for c in sent} == {sender}


def test_an_import_records_a_created_change_per_row(staff):
    batch = importing.import_file(
        content=CSV.encode(), file_name="a.csv", actor=staff, source=Source.IMPORT
    )
    assert batch.created_count == 2
    changes = changes_of(
        HistoricalExamResult.objects.filter(source=Source.IMPORT, history_user=staff)
    )
    assert len(changes) == 2
    assert {c.changes["application_id"][1] for c in changes} == {
        "7000000000000000001",
        "7000000000000000002",
    }


def test_the_import_command_records_its_changes_as_the_command_line(tmp_path, staff):
    path = tmp_path / "results.csv"
    path.write_text(CSV, encoding="utf-8")
    call_command("import_exam_results", str(path), "--operator", staff.username)
    changes = changes_of(HistoricalExamResult.objects.filter(source=Source.COMMAND))
    assert len(changes) == 2
    assert {c.actor for c in changes} == {staff}


def test_the_delivery_engine_records_its_changes_as_the_system(
    sandbox,  # noqa: F811
    exam_result_factory,
):
    result = exam_result_factory()
    services.exam_results_send(
        queryset=ExamResult.objects.filter(pk=result.pk), actor=None
    )
    exam_result_deliver(result_id=result.pk)

    result.refresh_from_db()
    assert result.status == "synced"
    engine = [
        c for c in reversed(result_changes(result.pk)) if c.source == Source.ENGINE
    ]
    statuses = [c.changes["status"] for c in engine]
    assert statuses == [["pending", "sending"], ["sending", "synced"]]
    assert all(c.actor is None for c in engine)
    assert "exam_id" in engine[-1].changes


# --- nothing in history or attempts is editable ------------------------------------


@pytest.mark.parametrize(
    "model_name",
    ["historicalexamresult", "syncattempt", "scorecorrection", "auditevent"],
)
def test_no_one_can_add_change_or_delete_history_or_attempts_through_the_admin(
    client, superuser, exam_result_factory, model_name
):
    result = exam_result_factory(status="synced", exam_id="70001")
    objects = {
        "historicalexamresult": lambda: HistoricalExamResult.objects.filter(
            id=result.pk
        ).first(),
        "syncattempt": lambda: attempt(result),
        "scorecorrection": lambda: ScoreCorrection.objects.create(
            result=result,
            previous_score=Decimal("88.5"),
            new_score=Decimal("90"),
            corrected_by=superuser,
            reason="typo",
        ),
        "auditevent": lambda: AuditEvent.objects.create(kind="purge", details={}),
    }
    obj = objects[model_name]()
    client.force_login(superuser)
    prefix = f"admin:exams_{model_name}"

    assert client.get(reverse(f"{prefix}_changelist")).status_code == 200
    assert client.get(reverse(f"{prefix}_add")).status_code == 403
    change = client.get(reverse(f"{prefix}_change", args=[obj.pk]))
    assert change.status_code == 200
    assert b'type="submit"' not in change.content.split(b'id="content-main"')[1]
    assert client.post(reverse(f"{prefix}_change", args=[obj.pk]), {}).status_code == (
        403
    )
    assert client.post(reverse(f"{prefix}_delete", args=[obj.pk])).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


# --- the result page -----------------------------------------------------------------


def test_the_result_page_shows_history_as_diffs_and_attempts_with_hints(
    client, superuser, exam_result_factory
):
    result = exam_result_factory(entered_by=superuser)
    update_recorded(
        ExamResult.objects.filter(pk=result.pk),
        actor=None,
        source=Source.ENGINE,
        status="failed",
        last_error_code=1002002,
    )
    attempt(
        result,
        feishu_code=1002002,
        feishu_msg="invalid application_id",
        log_id="20261124LOGID",
        response_body='{"code":1002002,"msg":"invalid application_id"}',
    )
    attempt(
        result,
        feishu_code=99991672,
        feishu_msg="Access denied",
        response_body='{"code":99991672,"error":{"permission_violations":'
        '[{"subject":"hire:exam"}]}}',
    )
    client.force_login(superuser)
    page = client.get(change_url(result)).content.decode()

    assert 'id="result-history"' in page
    assert "System" in page
    assert "<del>Draft</del> → <ins>Failed</ins>" in page
    assert "invalid application_id" in page  # Feishu's own words
    assert "20261124LOGID" in page
    assert "Check the application ID" in page  # our hint for 1002002
    assert "Grant it in the Feishu developer console" in page
    assert "hire:exam" in page
    assert "&quot;application_id&quot;" in page  # the request body sent


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (1002002, "Check the application ID"),
        (99991672, "lacks the permission hire:exam"),
        (99991400, "rate limit"),
        (1002001, "reconciles it"),
        (12345, ""),
    ],
)
def test_common_codes_have_a_hint(code, words):
    hint = code_hint(code)
    assert (words in hint) if words else hint == ""


# --- score corrections ------------------------------------------------------------------


def test_a_sender_records_a_correction_made_in_feishu_and_the_original_stays(
    client, sender, exam_result_factory
):
    result = exam_result_factory(status="synced", exam_id="70001")
    client.force_login(sender)
    url = reverse("admin:exams_examresult_correction", args=[result.pk])
    response = client.post(url, {"new_score": "92.5", "reason": "Marking error"})

    assert response.status_code == 302
    correction = ScoreCorrection.objects.get()
    assert (correction.previous_score, correction.new_score) == (
        Decimal("88.5"),
        Decimal("92.5"),
    )
    assert correction.corrected_by == sender
    result.refresh_from_db()
    assert result.score == Decimal("88.5")
    page = client.get(change_url(result)).content.decode()
    assert "88.5 → <strong>92.5</strong>" in page
    assert "Marking error" in page


def test_a_correction_is_validated_like_a_score_and_needs_a_delivered_result(
    client, sender, exam_result_factory
):
    synced = exam_result_factory(status="synced", exam_id="70001")
    draft = exam_result_factory()
    client.force_login(sender)
    bad = client.post(
        reverse("admin:exams_examresult_correction", args=[synced.pk]),
        {"new_score": "95.55", "reason": "x"},
    )
    assert bad.status_code == 200
    assert "more than one decimal place" in bad.content.decode()
    client.post(
        reverse("admin:exams_examresult_correction", args=[draft.pk]),
        {"new_score": "90", "reason": "x"},
    )
    assert not ScoreCorrection.objects.exists()


def test_the_correction_action_sends_one_delivered_result_to_the_form(
    client, sender, exam_result_factory
):
    result = exam_result_factory(status="synced", exam_id="70001")
    client.force_login(sender)
    response = client.post(
        LIST_URL, {"action": "record_correction", "_selected_action": [result.pk]}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:exams_examresult_correction", args=[result.pk]
    )


# --- the reviewers' audit page -----------------------------------------------------------


@pytest.fixture
def auditor(db):
    from django.contrib.auth.models import Group

    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="auditor"))
    return user


def test_the_audit_page_filters_attempts_by_code_outcome_person_and_exam(
    client, auditor, exam_result_factory
):
    alice = UserFactory(username="alice")
    mine = exam_result_factory(entered_by=alice, exam_resource_name="Go 笔试")
    other = exam_result_factory(exam_resource_name="Java 笔试")
    attempt(mine, feishu_code=1002002, feishu_msg="bad operator")
    attempt(other, feishu_code=99991400, outcome="retry", feishu_msg="limited")
    client.force_login(auditor)

    def rows(**params):
        page = client.get(REVIEW_URL, {"view": "attempts", **params})
        assert page.status_code == 200
        return page.content.decode()

    assert "bad operator" in rows(code=1002002)
    assert "limited" not in rows(code=1002002)
    assert "limited" in rows(outcome="retry")
    assert "bad operator" in rows(person="alice")
    assert "limited" not in rows(person="alice")
    assert "limited" in rows(exam="Java")
    assert "Nothing matches" in rows(date_from="2000-01-01", date_to="2000-01-02")


def test_the_audit_page_lists_changes_with_the_system_and_filters_by_source(
    client, auditor, exam_result_factory
):
    result = exam_result_factory()
    update_recorded(
        ExamResult.objects.filter(pk=result.pk),
        actor=None,
        source=Source.ENGINE,
        status="failed",
    )
    client.force_login(auditor)
    page = client.get(REVIEW_URL, {"view": "changes", "source": "engine"})
    text = page.content.decode()
    assert "System" in text
    assert "<del>Draft</del> → <ins>Failed</ins>" in text
    assert "Admin form" not in text.split('id="audit-rows"')[1]


def test_the_audit_export_streams_the_filtered_rows_as_csv(
    client, auditor, exam_result_factory
):
    result = exam_result_factory()
    attempt(result, feishu_code=1002002, feishu_msg="=cmd|' /C calc'!A0")
    attempt(result, feishu_code=99991400, outcome="retry")
    client.force_login(auditor)
    response = client.get(EXPORT_URL, {"view": "attempts", "code": "1002002"})

    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][0] == "started at"
    assert len(rows) == 2
    assert rows[1][9] == "1002002"
    assert rows[1][10].startswith("'=")  # neutralised formula
    assert "Check the application ID" in rows[1][11]
