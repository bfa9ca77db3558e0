"""The retention purge: what goes, what stays, and the audit of the run."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from exams.models import (
    AuditEvent,
    ExamResult,
    HistoricalExamResult,
    ScoreCorrection,
    SyncAttempt,
)
from exams.models.recording import delete_recorded

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def age(result, days):
    when = timezone.now() - dt.timedelta(days=days)
    ExamResult.objects.filter(pk=result.pk)._update_unrecorded(
        created_at=when, updated_at=when
    )
    HistoricalExamResult.objects.filter(id=result.pk).update(history_date=when)


@pytest.fixture
def old_and_new(exam_result_factory, sender):
    old_synced = exam_result_factory(status="synced", exam_id="7001")
    SyncAttempt.objects.create(result=old_synced, outcome="success")
    ScoreCorrection.objects.create(
        result=old_synced,
        previous_score=Decimal("88.5"),
        new_score=Decimal("90"),
        corrected_by=sender,
        reason="typo",
    )
    old_failed = exam_result_factory(status="failed")
    old_unknown = exam_result_factory(status="unknown")
    SyncAttempt.objects.create(result=old_unknown, outcome="unknown")
    old_pending = exam_result_factory(status="pending")
    old_draft_deleted = exam_result_factory()
    deleted_pk = old_draft_deleted.pk
    delete_recorded(old_draft_deleted, actor=sender, source="admin")
    new = exam_result_factory(status="synced", exam_id="7002")
    for result in (old_synced, old_failed, old_unknown, old_pending):
        age(result, 400)
    HistoricalExamResult.objects.filter(id=deleted_pk).update(
        history_date=timezone.now() - dt.timedelta(days=400)
    )
    return {
        "removed": [old_synced, old_failed],
        "kept": [old_unknown, old_pending, new],
        "deleted_draft_pk": deleted_pk,
    }


def test_a_dry_run_counts_and_removes_nothing(old_and_new, capsys):
    call_command("purge_candidate_data", "--older-than-days", "365", "--dry-run")
    out = capsys.readouterr().out
    assert "Would remove" in out
    assert "2 results" in out
    assert ExamResult.objects.count() == 5
    assert not AuditEvent.objects.exists()


def test_the_purge_removes_old_settled_results_with_everything_hanging_off_them(
    old_and_new, capsys
):
    call_command("purge_candidate_data", "--older-than-days", "365")

    removed = [r.pk for r in old_and_new["removed"]]
    assert not ExamResult.objects.filter(pk__in=removed).exists()
    assert not SyncAttempt.objects.filter(result_id__in=removed).exists()
    assert not HistoricalExamResult.objects.filter(id__in=removed).exists()
    assert not ScoreCorrection.objects.exists()
    assert not HistoricalExamResult.objects.filter(
        id=old_and_new["deleted_draft_pk"]
    ).exists()
    kept = [r.pk for r in old_and_new["kept"]]
    assert ExamResult.objects.filter(pk__in=kept).count() == 3
    assert SyncAttempt.objects.filter(result_id__in=kept).count() == 1

    event = AuditEvent.objects.get()
    assert event.kind == "purge"
    assert "purge_candidate_data" in event.actor_label
    assert event.details["results"] == 2
    assert event.details["attempts"] == 1
    assert event.details["corrections"] == 1
    assert event.details["orphan_changes"] == 2  # created, deleted
    assert event.details["kept_in_flight"] == 2
    assert "Removed" in capsys.readouterr().out


def test_the_purge_records_the_login_it_ran_as(old_and_new, sender):
    call_command(
        "purge_candidate_data", "--older-than-days", "365", "--as-user", sender.username
    )
    assert AuditEvent.objects.get().actor == sender


def test_the_default_age_comes_from_the_settings(old_and_new, settings):
    settings.EXAMS_RETENTION_DAYS = 500
    call_command("purge_candidate_data")
    assert ExamResult.objects.count() == 5
    assert AuditEvent.objects.get().details["older_than_days"] == 500


def test_audit_events_are_append_only():
    event = AuditEvent.objects.create(kind="purge", details={})
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        AuditEvent.objects.all().delete()
    with pytest.raises(RuntimeError):
        AuditEvent.objects.update(details={})
