"""Messages the portal stores are worded for whoever reads them: saved while
someone browsed (or a worker ran) in English, read in Chinese in Chinese."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import formats, timezone, translation

from exams import wording
from exams.audit.alerts import alerts_check
from exams.audit.history import result_changes
from exams.entry.identities import feishu_identity_record
from exams.gateway.messages import staff_message
from exams.importing import exporting, reading, service, writing
from exams.importing.errors import ImportFileError
from exams.models import (
    AlertSent,
    ExamResult,
    FeishuIdentity,
    ImportBatch,
    ScoreCorrection,
    SyncAttempt,
)
from exams.models.recording import update_recorded
from feishu import ParameterError

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

ENGLISH_WORDS = re.compile(r"\b(?:Enter|score|column|number|Feishu refused)\b")


def test_a_delivery_error_saved_in_english_reads_in_chinese_with_what_feishu_said():
    with translation.override("en"):
        saved = staff_message(
            ParameterError(code=1002002, msg="application not exist", http_status=400)
        )

    with translation.override("zh-hans"):
        shown = wording.render(saved)

    assert "参数错误" in shown
    assert "飞书的原话：“application not exist”" in shown
    assert "Check the application ID" not in shown
    with translation.override("en"):
        assert wording.render(saved).endswith("Feishu said: “application not exist”")


def test_text_stored_before_messages_were_codes_is_shown_as_stored():
    with translation.override("zh-hans"):
        assert wording.render("Sending failed: timeout.") == "Sending failed: timeout."
        assert wording.render('{"code": not json') == '{"code": not json'


def test_a_reason_inside_a_message_is_worded_too():
    saved = wording.stored(
        "reconcile.later", why=wording.message("reconcile.several", n=2)
    )

    with translation.override("zh-hans"):
        shown = wording.render(saved)

    assert "飞书中有 2 条匹配的记录。" in shown


def test_an_import_previewed_in_english_reads_in_chinese_with_column_labels(
    client, staff
):
    client.force_login(staff)
    content = (
        "application_id,exam_resource_name,score\n"
        "6891565253964859661,,80\n"
        "6891565253964859662,笔试,-3\n"
    ).encode()
    client.post(
        reverse("admin:exams_examresult_import"),
        {"file": SimpleUploadedFile("results.csv", content)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    batch = ImportBatch.objects.get()

    page = client.get(
        reverse("admin:exams_examresult_import_batch", args=[batch.pk]),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()

    errors = page[page.index('id="errors"') :]
    errors = errors[: errors.index("</table>")]
    assert "试卷名称" in errors and "分数" in errors
    assert "exam_resource_name" not in errors
    assert "Enter the exam name" not in errors
    assert "cannot be negative" not in errors


def test_the_history_words_a_stored_error_in_the_readers_language(staff):
    result = ExamResult.objects.create(
        application_id="6891565253964859661",
        exam_resource_name="笔试",
        score=80,
        operator_id="ou_1",
        status=ExamResult.Status.UNKNOWN,
    )
    with translation.override("en"):
        update_recorded(
            ExamResult.objects.filter(pk=result.pk),
            actor=None,
            source="engine",
            last_error_message=wording.stored("reconcile.found"),
        )

    with translation.override("zh-hans"):
        [diff] = [
            d
            for d in result_changes(result.pk)[0].diffs
            if d.name == "last_error_message"
        ]

    assert diff.new == "核对时在飞书中找到：该结果已记录一次。"
    assert "code" not in diff.new


def test_the_export_keeps_the_status_and_adds_its_label(staff, exam_result_factory):
    exam_result_factory(status=ExamResult.Status.FAILED)

    with translation.override("zh-hans"):
        text = b"".join(exporting.csv_chunks(ExamResult.objects.all())).decode(
            "utf-8-sig"
        )

    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["status"] == "failed"
    assert row["status_label"] == "同步失败"


@pytest.mark.parametrize(
    ("language", "shown"),
    [("en", "28 Nov 2026, 22:35:00"), ("zh-hans", "2026年11月28日 22:35:00")],
)
def test_times_read_in_the_readers_format_without_a_doubled_dot(language, shown):
    when = dt.datetime(2026, 11, 28, 22, 35, tzinfo=dt.UTC)
    with translation.override(language), timezone.override("UTC"):
        text = formats.date_format(timezone.localtime(when), "DATETIME_FORMAT")
        sentence = f"uploaded on {formats.localize(timezone.localtime(when))}."

    assert text == shown
    assert ".." not in sentence and "p.m" not in sentence


def test_an_alert_page_shows_the_problem_in_words_not_its_key(client, superuser):
    AlertSent.objects.create(
        kind=AlertSent.Kind.RESULT_UNKNOWN, key="result_unknown:10:4", subject="#10"
    )
    client.force_login(superuser)

    page = client.get(
        reverse("admin:exams_alertsent_changelist"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    assert "Result #10: outcome unknown." in page
    assert "attempt 4" not in page  # the key's 4 is a call's id, not a count
    assert "result_unknown:10:4" not in page


def test_an_alert_told_in_english_reads_in_chinese_on_its_page(
    client, superuser, exam_result_factory, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.LANGUAGE_CODE = "en"
    failed = exam_result_factory(status=ExamResult.Status.FAILED)
    alerts_check(now=timezone.now())  # the beat's check, in LANGUAGE_CODE
    alert = AlertSent.objects.get()
    client.force_login(superuser)

    page = client.get(
        reverse("admin:exams_alertsent_change", args=[alert.pk]),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()

    assert f"成绩 #{failed.pk}：同步失败" in page
    assert "failed" not in re.sub(r"<[^>]+>|result_failed", "", page).lower()


def test_an_alert_subject_stored_as_text_is_shown_as_stored(client, superuser):
    alert = AlertSent.objects.create(
        kind=AlertSent.Kind.PAUSED, key="paused:cli_1:2026", subject="Delivery paused"
    )
    client.force_login(superuser)

    page = client.get(
        reverse("admin:exams_alertsent_change", args=[alert.pk]),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()

    assert "Delivery paused" in page


def test_an_identity_event_reads_in_words_not_as_its_json(client, superuser):
    identity = FeishuIdentity.objects.get(user=superuser)
    feishu_identity_record(
        actor=superuser, identity=identity, previous=None, how="lookup"
    )
    client.force_login(superuser)

    page = client.get(
        reverse("exams_audit:review") + "?view=events", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()

    assert f"{superuser.username}，飞书应用 {identity.app_id}（按邮箱查找）" in page
    assert f"open_id: — → {identity.open_id}" in page
    assert '"before"' not in page and "&quot;before&quot;" not in page


def test_a_held_results_history_says_why_in_words(staff):
    result = ExamResult.objects.create(
        application_id="6891565253964859661",
        exam_resource_name="笔试",
        score=80,
        operator_id="ou_1",
        status=ExamResult.Status.PENDING,
    )
    update_recorded(
        ExamResult.objects.filter(pk=result.pk),
        actor=None,
        source="feishu_lookup",
        status=ExamResult.Status.HELD,
        hold_code=ExamResult.Hold.WRONG_STAGE,
        hold_params={"name": "欧阳思远", "stage_zh": "终面", "stage_en": "Final"},
    )

    with translation.override("zh-hans"):
        diffs = {d.name: d for d in result_changes(result.pk)[0].diffs}

    assert diffs["hold_code"].new == "欧阳思远 处于“终面”阶段，不是笔试阶段。"
    assert diffs["status"].new == "需处理"
    assert "hold_params" not in diffs


def _import_page(client, batch, language):
    return client.get(
        reverse("admin:exams_examresult_import_batch", args=[batch.pk]),
        HTTP_ACCEPT_LANGUAGE=language,
    ).content.decode()


def test_why_an_import_sent_none_of_its_results_reads_in_the_readers_language(
    client, staff, exam_result_factory
):
    # The operator of the result the sheet changes was set for another Feishu app.
    exam_result_factory(
        application_id="6891565253964859661",
        exam_resource_name="笔试",
        operator_app_id="cli_old",
        entered_by=staff,
    )
    content = "application_id,exam_resource_name,score\n6891565253964859661,笔试,85\n"
    with translation.override("en"):
        batch = service.import_file(
            content=content.encode(), file_name="r.csv", actor=staff, send=True
        )
    client.force_login(staff)

    page = _import_page(client, batch, "zh-hans")

    assert "1 条未发送：添加人属于另一个飞书应用；请重新填写添加人。" in page
    assert "operator belongs" not in page
    assert "operator belongs to another Feishu app" in _import_page(client, batch, "en")


def test_a_file_a_worker_refused_in_english_reads_in_chinese(client, staff, settings):
    settings.EXAMS_IMPORT_PREVIEW_INLINE_BYTES = 100  # the worker reads it
    # A quote that is never closed: the cell runs on past the CSV reader's limit.
    content = 'application_id,exam_resource_name,score\n6891565253964859661,"'
    content += "x" * 200_000 + "\n"
    client.force_login(staff)
    client.post(
        reverse("admin:exams_examresult_import"),
        {"file": SimpleUploadedFile("results.csv", content.encode())},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    batch = ImportBatch.objects.get()
    with translation.override("en"):
        service.import_batch_match(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED

    page = _import_page(client, batch, "zh-hans")

    assert "导入失败，未写入任何数据：第 2 行有一个超过 131,072 个字符的单元格" in page
    assert "holds a cell" not in page


def test_a_header_refused_names_what_is_missing_in_the_readers_language():
    content = b"exam_resource_name,mark\n\xe7\xac\x94\xe8\xaf\x95,1\n"
    with translation.override("en"), pytest.raises(ImportFileError) as refused:
        reading.read_table(content, "r.csv")

    kept = wording.stored_refusal(refused.value)
    with translation.override("zh-hans"):
        shown = wording.render(kept)

    assert "缺少必填列：application_id (投递 ID)，或候选人的email (邮箱)" in shown
    assert "“mark”" in shown
    assert "Missing" not in shown and "Unknown column" not in shown


def test_an_import_that_failed_unexpectedly_keeps_the_error_as_detail(
    staff, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writing, "_write", broken)
    content = b"application_id,exam_resource_name,score\n6891565253964859661,x,85\n"
    with translation.override("en"):
        batch = service.import_file(content=content, file_name="r.csv", actor=staff)
    assert batch.status == ImportBatch.Status.FAILED

    with translation.override("zh-hans"):
        shown = wording.render(batch.error)

    assert (
        shown
        == "导入因意外错误而中止，未写入任何数据。技术细节：RuntimeError: disk full"
    )


def test_an_import_whose_process_died_says_so_in_the_readers_language(staff):
    batch = ImportBatch.objects.create(
        created_by=staff,
        file_name="r.csv",
        status=ImportBatch.Status.RUNNING,
        started_at=timezone.now() - dt.timedelta(days=1),
    )
    with translation.override("en"):
        service.import_batches_sweep()
    batch.refresh_from_db()

    with translation.override("zh-hans"):
        shown = wording.render(batch.error)

    assert shown.startswith("导入在完成前中断（处理进程已结束）；没有写入任何数据。")


ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
MOMENTS = {
    "zh-hans": re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2}"),
    "en": re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}:\d{2}"),
}


@pytest.mark.parametrize("language", sorted(MOMENTS))
def test_the_audit_tabs_and_a_results_page_write_times_as_the_reader_does(
    client, superuser, exam_result_factory, language
):
    result = exam_result_factory(status=ExamResult.Status.SYNCED, exam_id="7001")
    SyncAttempt.objects.create(
        result=result,
        call=SyncAttempt.Call.CREATE_EXAM,
        outcome=SyncAttempt.Outcome.SUCCESS,
        http_status=200,
    )
    ScoreCorrection.objects.create(
        result=result,
        previous_score=result.score,
        new_score="90.5",
        reason="复核",
        corrected_by=superuser,
    )
    feishu_identity_record(
        actor=superuser,
        identity=FeishuIdentity.objects.get(user=superuser),
        previous=None,
        how="admin",
    )
    client.force_login(superuser)
    pages = {
        f"audit: {view}": reverse("exams_audit:review") + f"?view={view}"
        for view in ("attempts", "changes", "corrections", "events")
    }
    pages["result page"] = reverse("admin:exams_examresult_change", args=[result.pk])
    pages["history"] = reverse("admin:exams_examresult_history", args=[result.pk])

    for name, url in pages.items():
        page = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        text = re.sub(r"<[^>]+>", " ", page[page.index('id="content"') :])

        assert MOMENTS[language].search(text), name
        assert not ISO.search(text), (name, ISO.search(text))
        assert "p.m" not in text and "a.m" not in text, name
