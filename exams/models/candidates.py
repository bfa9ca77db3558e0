"""What Feishu says about the application behind each result: a local, read-only
mirror of the candidate, job and stage, refreshed from Feishu.

The candidate's name, email and mobile are personal data: shown only to staff
who may view results, never logged, removed by the retention purge with the
results that name them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

WRITTEN_EXAM_STAGE = 3  # Feishu's stage type 3: 笔试型, a written exam


class CandidateApplication(models.Model):
    """One Feishu Hire application (投递) as last read from Feishu."""

    application_id = models.CharField(_("application ID"), max_length=19, unique=True)
    # None until Feishu was asked; False when it said the application does not
    # exist (1002201).
    exists = models.BooleanField(_("exists in Feishu"), null=True)
    talent_id = models.CharField(_("talent ID"), max_length=32, blank=True)
    candidate_name = models.CharField(_("candidate"), max_length=255, blank=True)
    email = models.CharField(_("email"), max_length=255, blank=True)
    mobile_code = models.CharField(_("country code"), max_length=8, blank=True)
    mobile_number = models.CharField(_("mobile"), max_length=32, blank=True)
    job_id = models.CharField(_("job ID"), max_length=32, blank=True)
    job_name = models.CharField(_("job"), max_length=255, blank=True)
    stage_id = models.CharField(_("stage ID"), max_length=32, blank=True)
    stage_name_zh = models.CharField(_("stage (Chinese)"), max_length=255, blank=True)
    stage_name_en = models.CharField(_("stage (English)"), max_length=255, blank=True)
    stage_type = models.PositiveSmallIntegerField(_("stage type"), null=True)
    active = models.BooleanField(_("active"), null=True)
    termination_reason_zh = models.TextField(_("why terminated (Chinese)"), blank=True)
    termination_reason_en = models.TextField(_("why terminated (English)"), blank=True)
    entered_stage_at = models.DateTimeField(_("entered the stage at"), null=True)
    # When the state (exists, active, stage) was last read, by either call; when
    # the names were (get_detail); when a background lookup was last asked for.
    checked_at = models.DateTimeField(_("checked at"), null=True)
    detail_fetched_at = models.DateTimeField(_("details fetched at"), null=True)
    lookup_requested_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        verbose_name = _("candidate application")
        verbose_name_plural = _("candidate applications")
        indexes = (
            models.Index(fields=("candidate_name",), name="candidate_name"),
            models.Index(fields=("email",), name="candidate_email"),
            models.Index(fields=("mobile_number",), name="candidate_mobile"),
            models.Index(fields=("talent_id",), name="candidate_talent"),
            models.Index(
                fields=("stage_type", "active", "entered_stage_at"),
                name="candidate_stage",
            ),
        )

    def __str__(self) -> str:
        return f"{self.candidate_name or '?'} · {self.application_id}"

    @property
    def in_written_exam(self) -> bool:
        return self.stage_type == WRITTEN_EXAM_STAGE

    def stage_name(self, language: str) -> str:
        if language.startswith("zh"):
            return self.stage_name_zh or self.stage_name_en
        return self.stage_name_en or self.stage_name_zh

    def termination_reason(self, language: str) -> str:
        if language.startswith("zh"):
            return self.termination_reason_zh or self.termination_reason_en
        return self.termination_reason_en or self.termination_reason_zh


class FeishuEvent(models.Model):
    """An event Feishu pushed (stage changed, applications deleted): each one
    handled once, however often Feishu delivers it (at least once, by design).
    Holds application ids only, no personal data."""

    event_id = models.CharField(_("event ID"), max_length=64, unique=True)
    event_type = models.CharField(_("event"), max_length=64)
    payload = models.JSONField(_("payload"), default=dict)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Feishu event")
        verbose_name_plural = _("Feishu events")
        ordering = ("-received_at", "-id")
        indexes = (
            models.Index(
                fields=("handled_at", "received_at"), name="feishu_event_todo"
            ),
        )

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class AwaitingResult(CandidateApplication):
    """The worklist: candidates in a written-exam stage awaiting a result (the
    admin's view of the mirror; see exams.candidates.worklist)."""

    class Meta:
        proxy = True
        verbose_name = _("candidate awaiting a result")
        verbose_name_plural = _("candidates awaiting a result")
