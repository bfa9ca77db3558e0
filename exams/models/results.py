"""Exam results: what staff entered, and its delivery state (each row is also its
own delivery outbox entry; see docs/architecture.md)."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from django.conf import settings
from django.core.validators import DecimalValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now, Round
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .history import (
    ExamResultHistoricalRecords,
    HistoryBase,
    HistoryBypassError,
    current_recording,
)

MAX_SCORE = Decimal("99999.9")
APPLICATION_ID_REGEX = r"^[0-9]{1,19}$"


def normalize_exam_name(name: str) -> str:
    """The key two exam names are compared by: trimmed, Unicode NFC.

    The name itself is stored and sent exactly as typed; only this key is unique.
    """
    return unicodedata.normalize("NFC", name.strip())


def score_is_valid(field: str) -> Q:
    """The database's own check of a score column: not negative, at most
    ``MAX_SCORE``, at most one decimal place (refused, never rounded)."""
    return (
        Q(**{f"{field}__gte": 0})
        & Q(**{f"{field}__lte": MAX_SCORE})
        & Q(**{field: Round(F(field), 1)})
    )


class UserIdType(models.TextChoices):
    OPEN_ID = "open_id", "open_id"
    UNION_ID = "union_id", "union_id"
    USER_ID = "user_id", "user_id"
    PEOPLE_ADMIN_ID = "people_admin_id", "people_admin_id"


class ExactDecimalField(models.DecimalField):
    """A decimal the database stores exactly as given.

    PostgreSQL's ``numeric(p, s)`` rounds a value with more than ``s`` decimals on
    the way in (95.55 would become 95.6 in ``numeric(6, 1)``), so the column is a
    plain ``numeric`` and a check constraint refuses anything with more than one
    decimal place instead. ``max_digits`` / ``decimal_places`` still drive Django's
    own validation.
    """

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "postgresql":
            return "numeric"
        return super().db_type(connection)

    @cached_property
    def validators(self) -> list[Any]:
        # exams.rules.parse_score() owns the rules, with messages that say what to
        # fix; Django's DecimalValidator would also refuse "88.50", a valid score.
        return [v for v in super().validators if not isinstance(v, DecimalValidator)]


# Bookkeeping of the delivery engine: leases, retry times, counters. Not part of a
# result's history; everything else is (ExamResult.TRACKED_FIELDS).
BOOKKEEPING_FIELDS = (
    "exam_key",
    "attempts",
    "next_attempt_at",
    "lease_expires_at",
    "lease_token",
    "dispatched_at",
    "unknown_since",
    "synced_at",
    "last_log_id",
    "updated_at",
)


# Generic in the row, as Django's QuerySet is, so that the names annotate() adds
# are known on the rows.
_Row = TypeVar("_Row", bound="ExamResult", covariant=True)


class ExamResultQuerySet(models.QuerySet[_Row]):
    def update(self, **kwargs: Any) -> int:
        tracked = set(kwargs) & set(ExamResult.TRACKED_FIELDS)
        if tracked:
            raise HistoryBypassError(
                f"update() of {sorted(tracked)} would escape the history: use "
                "exams.models.recording.update_recorded() instead."
            )
        return super().update(**kwargs)

    def _update_unrecorded(self, **kwargs: Any) -> int:
        """For exams.models.recording and the delivery engine, which record the
        change themselves."""
        kwargs.setdefault("updated_at", Now())
        return super().update(**kwargs)

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[_Row]:
        if current_recording() is None:
            raise HistoryBypassError(
                "bulk_create() would escape the history: use "
                "exams.models.recording.bulk_create_recorded() instead."
            )
        for obj in objs:
            obj.exam_key = normalize_exam_name(obj.exam_resource_name)
        return super().bulk_create(objs, *args, **kwargs)

    def editable(self) -> ExamResultQuerySet:
        """Results staff may still change: draft, failed, or pending and unclaimed."""
        return self.filter(status__in=ExamResult.EDITABLE_STATUSES)


class ExamResult(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SYNCED = "synced", _("Delivered")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Outcome unknown")
        HELD = "held", _("Needs attention")

    class Hold(models.TextChoices):
        """Why a result was not sent: what the check of its application found."""

        NOT_FOUND = "not_found", _("Application not found in Feishu")
        TERMINATED = "terminated", _("Application terminated")
        WRONG_STAGE = "wrong_stage", _("Not in a written-exam stage")

    class MatchedBy(models.TextChoices):
        APPLICATION_ID = "id", _("Application ID")
        EMAIL = "email", _("Email")
        MOBILE = "mobile", _("Mobile")

    EDITABLE_STATUSES: ClassVar[tuple[str, ...]] = (
        Status.DRAFT,
        Status.FAILED,
        Status.PENDING,
        Status.HELD,
    )
    # Filled in below, once the fields exist: every field but the bookkeeping.
    TRACKED_FIELDS: ClassVar[tuple[str, ...]] = ()

    application_id = models.CharField(
        _("application ID"),
        max_length=19,
        help_text=_("Feishu Hire application (投递) ID: digits only, at most 19."),
    )
    exam_resource_name = models.CharField(
        _("exam name"), max_length=255, help_text=_("The exam paper's name (试卷名称).")
    )
    exam_key = models.CharField(max_length=255, editable=False)
    score = ExactDecimalField(
        _("score"),
        max_digits=6,
        decimal_places=1,
        help_text=_("Non-negative, at most one decimal place (e.g. 88.5)."),
    )
    report = models.FileField(
        _("report file"),
        upload_to="reports/%Y/%m/",
        blank=True,
        help_text=_("Optional report (PDF, JPG or PNG), uploaded to Feishu on send."),
    )
    uuid = models.CharField(
        _("attachment ID"),
        max_length=64,
        blank=True,
        help_text=_("Feishu attachment ID of the report, if it is already uploaded."),
    )
    operator_id = models.CharField(_("operator ID"), max_length=64)
    user_id_type = models.CharField(
        _("operator ID type"),
        max_length=16,
        choices=UserIdType.choices,
        default=UserIdType.OPEN_ID,
    )
    # An open_id is issued per Feishu app: remembering which app lets delivery refuse
    # to send an operator from another app after the portal's app was switched.
    operator_app_id = models.CharField(_("operator's Feishu app"), max_length=64)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    exam_id = models.CharField(_("Feishu exam ID"), max_length=64, blank=True)
    operate_time = models.DateTimeField(_("operate time"), null=True, blank=True)
    last_error_code = models.IntegerField(_("last error code"), null=True, blank=True)
    last_error_message = models.TextField(_("last error"), blank=True)
    last_log_id = models.CharField(_("last log ID"), max_length=128, blank=True)
    synced_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    # Held ("needs attention"): what the check of the application found, with what
    # the message needs (candidate, stage, reason), rendered in the reader's
    # language when shown.
    hold_code = models.CharField(
        _("needs attention because"), max_length=16, choices=Hold.choices, blank=True
    )
    hold_params = models.JSONField(default=dict, blank=True, editable=False)
    # Staff chose to send although the check failed, and why (with who, in the
    # history). Cleared when the application ID changes.
    check_override = models.TextField(_("sent anyway because"), blank=True)
    # How a score sheet's row found its application.
    matched_by = models.CharField(
        _("matched by"), max_length=8, choices=MatchedBy.choices, blank=True
    )
    # When the row's outcome first became unknown: reconciliation is retried on its
    # own for a bounded time after this, then the row waits for staff.
    unknown_since = models.DateTimeField(null=True, blank=True)
    # PROTECT: an import is the record of where its results came from; deleting it
    # must neither delete results (CASCADE) nor silently lose their origin (SET_NULL).
    import_batch = models.ForeignKey(
        "ImportBatch",
        verbose_name=_("import"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="results",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ExamResultQuerySet.as_manager()
    history = ExamResultHistoricalRecords(
        bases=[HistoryBase],
        excluded_fields=list(BOOKKEEPING_FIELDS),
        history_id_field=models.BigAutoField(primary_key=True),
        user_related_name="+",
        verbose_name=_("exam result change"),
        verbose_name_plural=_("exam result changes"),
    )

    class Meta:
        verbose_name = _("exam result")
        verbose_name_plural = _("exam results")
        ordering = ("-created_at", "-id")
        permissions = (
            ("send_examresult", _("Can send exam results to Feishu")),
            (
                "export_examresult",
                _("Can export exam results and candidates' data (names, emails)"),
            ),
        )
        constraints = (
            models.UniqueConstraint(
                fields=("application_id", "exam_key"),
                name="exam_result_unique_per_application_and_exam",
                violation_error_message=_(
                    "A result for this application and exam already exists."
                ),
            ),
            models.CheckConstraint(
                condition=Q(application_id__regex=APPLICATION_ID_REGEX),
                name="exam_result_application_id_numeric",
            ),
            models.CheckConstraint(
                condition=score_is_valid("score"),
                name="exam_result_score_one_decimal_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "draft",
                        "pending",
                        "sending",
                        "synced",
                        "failed",
                        "unknown",
                        "held",
                    ]
                ),
                name="exam_result_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="synced") | ~Q(exam_id=""),
                name="exam_result_synced_has_exam_id",
            ),
        )
        indexes = (
            models.Index(fields=("-created_at", "-id"), name="exam_result_newest"),
            models.Index(
                fields=("status", "-created_at", "-id"),
                name="exam_result_status_newest",
            ),
            models.Index(fields=("status", "next_attempt_at"), name="exam_result_due"),
            models.Index(fields=("exam_id",), name="exam_result_exam_id"),
            models.Index(
                fields=("exam_key", "-created_at", "-id"),
                name="exam_result_exam_newest",
            ),
        )

    def __str__(self) -> str:
        return f"{self.application_id} · {self.exam_resource_name} · {self.score}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.exam_key = normalize_exam_name(self.exam_resource_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "exam_key", "updated_at"}
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> ExamResult:
        instance = super().from_db(db, field_names, values)
        # What the row held when read: a save that changes none of it records no
        # history entry.
        if all(name in field_names for name in cls.TRACKED_ATTNAMES):
            instance.remember_loaded()
        return instance

    TRACKED_ATTNAMES: ClassVar[tuple[str, ...]] = ()

    def tracked_values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.TRACKED_ATTNAMES}

    def remember_loaded(self) -> None:
        self._loaded = self.tracked_values()

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE_STATUSES


ExamResult.TRACKED_FIELDS = tuple(
    f.name
    for f in ExamResult._meta.concrete_fields
    if f.name not in BOOKKEEPING_FIELDS and not f.primary_key
)
ExamResult.TRACKED_ATTNAMES = tuple(
    f.attname
    for f in ExamResult._meta.concrete_fields
    if f.name in ExamResult.TRACKED_FIELDS
)
