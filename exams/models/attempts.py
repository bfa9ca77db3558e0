"""Every call made to Feishu for an exam result."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .results import ExamResult


class SyncAttempt(models.Model):
    """One call to Feishu for one result, recorded before the request leaves and
    completed with the answer. Never holds a token or a secret. Append-only."""

    class Outcome(models.TextChoices):
        IN_FLIGHT = "in_flight", _("No answer yet")
        SUCCESS = "success", _("Success")
        RETRY = "retry", _("Failed, safe to retry")
        PERMANENT = "permanent", _("Failed permanently")
        UNKNOWN = "unknown", _("Outcome unknown")

    class Call(models.TextChoices):
        CREATE_EXAM = "create_exam", _("Add exam result")
        UPLOAD_ATTACHMENT = "upload_attachment", _("Upload report")
        SEARCH_TESTS = "search_tests", _("Search tests (reconcile)")

    result = models.ForeignKey(
        ExamResult,
        on_delete=models.PROTECT,
        related_name="sync_attempts",
        verbose_name=_("exam result"),
    )
    call = models.CharField(
        _("call"), max_length=24, choices=Call.choices, default=Call.CREATE_EXAM
    )
    started_at = models.DateTimeField(_("started at"), db_default=Now())
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True)
    feishu_code = models.IntegerField(_("Feishu code"), null=True, blank=True)
    feishu_msg = models.TextField(_("Feishu message"), blank=True)
    log_id = models.CharField(_("log ID"), max_length=128, blank=True)
    request_body = models.TextField(_("request sent"), blank=True)
    response_body = models.TextField(_("answer"), blank=True)
    outcome = models.CharField(
        _("outcome"),
        max_length=16,
        choices=Outcome.choices,
        default=Outcome.IN_FLIGHT,
    )
    # The lease token of the claim this call was made under: tells the sweeper
    # whether an expired claim had already sent its request.
    lease_token = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ("-started_at", "-id")
        indexes = (
            models.Index(fields=("result", "-started_at"), name="sync_attempt_result"),
            models.Index(fields=("-started_at",), name="sync_attempt_newest"),
            models.Index(
                fields=("outcome", "-started_at"), name="sync_attempt_outcome"
            ),
        )

    def __str__(self) -> str:
        return (
            f"#{self.result_id} {self.get_call_display()} {self.get_outcome_display()}"
        )
