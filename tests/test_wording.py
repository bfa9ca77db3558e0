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
from exams.importing import exporting
from exams.models import AlertSent, ExamResult, FeishuIdentity, ImportBatch
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
    [("en", "28 Nov 2026, 22:35"), ("zh-hans", "2026年11月28日 22:35")],
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

    assert "Result #10: outcome unknown (attempt 4)." in page
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
