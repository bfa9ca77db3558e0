"""Email alerts: who is told, with what link, and at most once per problem."""

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from exams.audit import alerts
from exams.models import (
    AlertSent,
    ExamResult,
    FeishuAppState,
    HistorySource,
)
from exams.models.recording import update_recorded
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.HIRING_PORTAL_BASE_URL = "https://portal.example.com"
    settings.EXAMS_ALERT_PENDING_MINUTES = 30


@pytest.fixture
def a_sender(db):
    user = UserFactory(is_staff=True, email="sender@example.com")
    user.groups.add(Group.objects.get(name="sender"))
    return user


@pytest.fixture
def an_editor(db):
    user = UserFactory(is_staff=True, email="editor@example.com")
    user.groups.add(Group.objects.get(name="editor"))
    return user


def to_sender():
    return [m for m in mail.outbox if m.to == ["sender@example.com"]]


def fail(result, message="Feishu refused the result as invalid"):
    update_recorded(
        ExamResult.objects.filter(pk=result.pk),
        actor=None,
        source=HistorySource.ENGINE,
        status="failed",
        last_error_message=message,
    )


def test_a_failed_result_tells_who_entered_it_and_the_senders_once(
    a_sender, an_editor, exam_result_factory
):
    result = exam_result_factory(entered_by=an_editor, status="pending")
    fail(result)

    alerts.alerts_check()
    alerts.alerts_check()

    assert sorted(m.to[0] for m in mail.outbox) == [
        "editor@example.com",
        "sender@example.com",
    ]
    body = mail.outbox[0].body
    assert result.application_id in body
    assert "Feishu refused the result as invalid" in body
    assert (
        "https://portal.example.com/admin/exams/examresult/?status__exact=failed"
        in body
    )
    assert AlertSent.objects.filter(kind="result_failed").count() == 1


def test_failing_again_after_a_resend_is_a_new_problem(a_sender, exam_result_factory):
    result = exam_result_factory(status="pending")
    fail(result)
    alerts.alerts_check()
    from exams.models import SyncAttempt

    SyncAttempt.objects.create(result=result, outcome="permanent")
    alerts.alerts_check()
    assert len(to_sender()) == 2


def test_an_unknown_result_is_told_only_once_reconciliation_gave_up(
    a_sender, exam_result_factory
):
    result = exam_result_factory(status="unknown")
    ExamResult.objects.filter(pk=result.pk).update(
        next_attempt_at=timezone.now() + dt.timedelta(minutes=5)
    )
    alerts.alerts_check()
    assert mail.outbox == []
    ExamResult.objects.filter(pk=result.pk).update(next_attempt_at=None)
    alerts.alerts_check()
    assert len(to_sender()) == 1
    assert "?status__exact=unknown" in to_sender()[0].body


def test_a_pause_tells_the_senders_once_per_pause(a_sender, an_editor):
    state = FeishuAppState.objects.create(
        app_id=settings.FEISHU_APP_ID,
        paused_since=timezone.now(),
        paused_until=timezone.now() + dt.timedelta(minutes=1),
        pause_reason="The Feishu app lacks the permission hire:exam.",
    )
    alerts.alerts_check()
    alerts.alerts_check()
    assert [m.to for m in mail.outbox] == [["sender@example.com"]]
    assert "lacks the permission hire:exam" in mail.outbox[0].body

    FeishuAppState.objects.filter(pk=state.pk).update(paused_since=None)
    alerts.alerts_check()
    FeishuAppState.objects.filter(pk=state.pk).update(paused_since=timezone.now())
    alerts.alerts_check()
    assert len(mail.outbox) == 2


def test_a_pending_result_waiting_too_long_is_told_once(a_sender, exam_result_factory):
    result = exam_result_factory(status="pending")
    alerts.alerts_check()
    assert mail.outbox == []

    later = timezone.now() + dt.timedelta(minutes=31)
    alerts.alerts_check(now=later)
    alerts.alerts_check(now=later + dt.timedelta(minutes=5))
    assert len(mail.outbox) == 1
    assert "?status__exact=pending" in mail.outbox[0].body
    assert result.pk
