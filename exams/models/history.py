"""Field-level history of exam results, on django-simple-history.

``ExamResult.history`` keeps a snapshot of the result after every change, with
who made it (``history_user``) and through what (``source``). ``save()``,
``objects.create()`` and ``delete()`` record themselves, as simple-history does;
the bulk paths and the delivery engine's conditional updates record through
``exams.models.recording``. Reading a change means comparing a snapshot with the
one before it (``exams.audit.history``).

Who and through what are passed as arguments to the recording functions, which
hold them in a context variable for the duration of the write:
``recorded_as(actor=..., source=...)``. A write outside any such context is
recorded too, with the request's user (simple-history's middleware) and the
source "other".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import models
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record


class HistorySource(models.TextChoices):
    ADMIN = "admin", _("Admin form")
    BULK_ACTION = "bulk_action", _("Bulk action")
    IMPORT = "import", _("Import")
    COMMAND = "command", _("Command line")
    ENGINE = "engine", _("Delivery engine")
    FEISHU_LOOKUP = "feishu_lookup", _("Feishu lookup")
    OTHER = "other", _("Other")


class HistoryReason(models.TextChoices):
    """Why staff changed a result, when the fields alone do not say it (kept in
    simple-history's ``history_change_reason``)."""

    RETRY_NOW = "retry_now", _("Retry now")
    RESEND_ANYWAY = "resend_anyway", _("Resend anyway")
    MARK_DELIVERED = "mark_delivered", _("Marked as delivered")
    SEND_ANYWAY = "send_anyway", _("Sent although the check failed")


class HistoryBase(models.Model):
    """The fields every historical exam result carries besides simple-history's."""

    source = models.CharField(
        _("through"),
        max_length=16,
        choices=HistorySource.choices,
        default=HistorySource.OTHER,
    )

    class Meta:
        abstract = True


class HistoryBypassError(RuntimeError):
    """A tracked field of an exam result was written without recording history."""


@dataclass(frozen=True)
class Recording:
    actor: User | None
    source: str
    # Retention removes history with the rows: deleting them records nothing.
    suspended: bool = False


_recording: ContextVar[Recording | None] = ContextVar("exam_history", default=None)


@contextmanager
def recorded_as(*, actor: User | None, source: str) -> Iterator[None]:
    """Writes inside are recorded as made by ``actor`` (None: the system) through
    ``source``."""
    token = _recording.set(Recording(actor=actor, source=source))
    try:
        yield
    finally:
        _recording.reset(token)


@contextmanager
def history_suspended() -> Iterator[None]:
    """Deletes inside record nothing: for the retention purge, which removes the
    history along with the rows."""
    token = _recording.set(Recording(actor=None, source="", suspended=True))
    try:
        yield
    finally:
        _recording.reset(token)


def current_recording() -> Recording | None:
    return _recording.get()


class ExamResultHistoricalRecords(HistoricalRecords):
    """simple-history's recorder, told who and through what by ``recorded_as``,
    and skipping saves that changed no tracked field."""

    def get_history_user(self, instance: Any) -> Any:
        recording = _recording.get()
        if recording is not None and not recording.suspended:
            return recording.actor
        return super().get_history_user(instance)

    def post_save(
        self, instance: Any, created: bool, using: str | None = None, **kwargs: Any
    ) -> None:
        loaded = getattr(instance, "_loaded", None)
        if not created and loaded is not None and loaded == instance.tracked_values():
            return
        super().post_save(instance, created, using=using, **kwargs)
        instance.remember_loaded()

    def post_delete(
        self, instance: Any, using: str | None = None, **kwargs: Any
    ) -> None:
        recording = _recording.get()
        if recording is not None and recording.suspended:
            return
        super().post_delete(instance, using=using, **kwargs)


@receiver(pre_create_historical_record, dispatch_uid="exams_history_source")
def _stamp_source(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    recording = _recording.get()
    if recording is not None and recording.source:
        history_instance.source = recording.source
