"""The audit trail beside the history: score corrections made in Feishu, events
about the trail itself, and the alerts that were sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from .results import ExactDecimalField, ExamResult, score_is_valid


class ScoreCorrection(models.Model):
    """A delivered result's score corrected by hand in Feishu, recorded here.

    Feishu offers no API to change an exam result, so the portal never changes the
    delivered row: the original score stays on the result and each correction is
    recorded beside it (who, the new score, why). Append-only.
    """

    result = models.ForeignKey(
        ExamResult,
        on_delete=models.PROTECT,
        related_name="score_corrections",
        verbose_name=_("exam result"),
    )
    previous_score = ExactDecimalField(
        _("score before the correction"), max_digits=6, decimal_places=1
    )
    new_score = ExactDecimalField(_("corrected score"), max_digits=6, decimal_places=1)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    reason = models.TextField(_("why"))
    created_at = models.DateTimeField(_("recorded at"), db_default=Now())

    class Meta:
        verbose_name = _("score correction")
        verbose_name_plural = _("score corrections")
        ordering = ("-created_at", "-id")
        indexes = (
            models.Index(
                fields=("result", "-created_at"), name="score_correction_result"
            ),
            models.Index(fields=("-created_at",), name="score_correction_newest"),
        )
        constraints = (
            models.CheckConstraint(
                condition=score_is_valid("new_score"),
                name="score_correction_score_one_decimal_non_negative",
            ),
        )

    def __str__(self) -> str:
        return f"#{self.result_id}: {self.previous_score} → {self.new_score}"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise RuntimeError("Audit events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Audit events are append-only.")


class AuditEvent(models.Model):
    """Something done to the audit trail itself (a retention purge) or to who the
    portal says staff are in Feishu (an identity set): who, when, and what. Append-only: never updated or deleted, the purge included."""

    class Kind(models.TextChoices):
        PURGE = "purge", _("Candidate data removed (retention)")
        IDENTITY = "identity", _("Feishu identity set")
        EXPORT = "export", _("Results or candidates exported")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("when"), db_default=Now())
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    # Who ran it when no portal login did (the command line: the OS user).
    actor_label = models.CharField(_("run by"), max_length=150, blank=True)
    details = models.JSONField(_("details"), default=dict)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ("-occurred_at", "-id")
        permissions = (("review_audit", _("Can review and export the audit trail")),)

    def __str__(self) -> str:
        if not isinstance(self.occurred_at, dt.datetime):  # not saved yet
            return str(self.get_kind_display())
        when = formats.date_format(
            timezone.localtime(self.occurred_at), "DATETIME_FORMAT"
        )
        return f"{self.get_kind_display()}, {when}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Audit events are append-only.")


class AlertSent(models.Model):
    """An alert that was emailed, so each problem is told at most once.

    Episodes (delivery paused, pending results waiting too long) stay open until the
    condition clears (``resolved_at``); at most one open alert per episode kind.
    Per-result alerts are keyed by the result and the attempt that ended it.
    """

    class Kind(models.TextChoices):
        PAUSED = "paused", _("Delivery paused")
        STALE_PENDING = "stale_pending", _("Pending results waiting too long")
        RESULT_FAILED = "result_failed", _("Result failed")
        RESULT_UNKNOWN = "result_unknown", _("Result outcome unknown")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    key = models.CharField(_("problem"), max_length=200, unique=True)
    sent_at = models.DateTimeField(_("sent at"), db_default=Now())
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    recipients = models.TextField(_("sent to"), blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("alert sent")
        verbose_name_plural = _("alerts sent")
        ordering = ("-sent_at", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=("kind",),
                condition=Q(resolved_at__isnull=True)
                & Q(kind__in=["paused", "stale_pending"]),
                name="alert_one_open_episode_per_kind",
            ),
        )

    def __str__(self) -> str:
        # The key tells a problem once; staff read its kind (the admin words the
        # problem itself: exams.audit.alerts.alert_problem).
        return str(self.get_kind_display())
