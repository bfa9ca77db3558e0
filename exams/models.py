"""The portal's data: exam results (each row is also its own delivery outbox entry),
every call made to Feishu, field-level history, and staff's Feishu identities."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import DecimalValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now, Round
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

MAX_SCORE = Decimal("99999.9")
APPLICATION_ID_REGEX = r"^[0-9]{1,19}$"


def normalize_exam_name(name: str) -> str:
    """The key two exam names are compared by: trimmed, Unicode NFC.

    The name itself is stored and sent exactly as typed; only this key is unique.
    """
    return unicodedata.normalize("NFC", name.strip())


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
        # exams.validation.parse_score() owns the rules, with messages that say what
        # to fix; Django's DecimalValidator would also refuse "88.50", a valid score.
        return [v for v in super().validators if not isinstance(v, DecimalValidator)]


class HistoryBypassError(RuntimeError):
    """A tracked field of an exam result was written without recording history."""


class ExamResultQuerySet(models.QuerySet["ExamResult"]):
    def update(self, **kwargs: Any) -> int:
        tracked = set(kwargs) & set(ExamResult.TRACKED_FIELDS)
        if tracked:
            raise HistoryBypassError(
                f"update() of {sorted(tracked)} would escape the history: use "
                "exams.history.update_recorded() instead."
            )
        return super().update(**kwargs)

    def _update_unrecorded(self, **kwargs: Any) -> int:
        """For exams.history and the delivery engine, which record the change
        themselves."""
        kwargs.setdefault("updated_at", Now())
        return super().update(**kwargs)

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[ExamResult]:
        raise HistoryBypassError(
            "bulk_create() would escape the history: use "
            "exams.history.bulk_create_recorded() instead."
        )

    def _bulk_create_unrecorded(
        self, objs: list[ExamResult], **kwargs: Any
    ) -> list[ExamResult]:
        for obj in objs:
            obj.exam_key = normalize_exam_name(obj.exam_resource_name)
        return super().bulk_create(objs, **kwargs)

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

    # Staff-entered fields and delivery outcomes: every change to one of these is
    # recorded in ExamResultChange. Leases, retry times and counters are bookkeeping.
    TRACKED_FIELDS: ClassVar[tuple[str, ...]] = (
        "application_id",
        "exam_resource_name",
        "score",
        "uuid",
        "report",
        "operator_id",
        "user_id_type",
        "operator_app_id",
        "status",
        "exam_id",
        "operate_time",
        "last_error_code",
        "last_error_message",
    )
    EDITABLE_STATUSES: ClassVar[tuple[str, ...]] = (
        Status.DRAFT,
        Status.FAILED,
        Status.PENDING,
    )

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

    class Meta:
        verbose_name = _("exam result")
        verbose_name_plural = _("exam results")
        ordering = ("-created_at", "-id")
        permissions = (("send_examresult", _("Can send exam results to Feishu")),)
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
                condition=Q(score__gte=0)
                & Q(score__lte=MAX_SCORE)
                & Q(score=Round(F("score"), 1)),
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
        update_fields = kwargs.get("update_fields")
        touches_tracked = update_fields is None or bool(
            set(update_fields) & set(self.TRACKED_FIELDS)
        )
        if touches_tracked and not getattr(self, "_history_recorded", False):
            raise HistoryBypassError(
                "save() of an exam result would escape the history: use "
                "exams.history.save_recorded() instead."
            )
        self.exam_key = normalize_exam_name(self.exam_resource_name)
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "exam_key", "updated_at"}
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> ExamResult:
        instance = super().from_db(db, field_names, values)
        # What the row held when read: exams.history diffs against it on save.
        instance._loaded = {
            name: getattr(instance, name)
            for name in cls.TRACKED_FIELDS
            if name in field_names
        }
        return instance

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE_STATUSES


class ExamResultChange(models.Model):
    """One change to one exam result: who (or the system), when, through what, and
    each changed field's old and new value. Append-only."""

    class Source(models.TextChoices):
        ADMIN = "admin", _("Admin form")
        BULK_ACTION = "bulk_action", _("Bulk action")
        IMPORT = "import", _("Import")
        COMMAND = "command", _("Command line")
        ENGINE = "engine", _("Delivery engine")

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        CHANGED = "changed", _("Changed")
        DELETED = "deleted", _("Deleted")

    # No database constraint: the history of a deleted draft outlives the draft.
    result = models.ForeignKey(
        ExamResult,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="changes",
        verbose_name=_("exam result"),
    )
    changed_at = models.DateTimeField(_("changed at"), db_default=Now())
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
        help_text=_("Empty when the system made the change."),
    )
    source = models.CharField(_("through"), max_length=16, choices=Source.choices)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    changes = models.JSONField(_("changes"), default=dict)

    class Meta:
        verbose_name = _("exam result change")
        verbose_name_plural = _("exam result changes")
        ordering = ("-changed_at", "-id")
        indexes = (
            models.Index(fields=("result", "-changed_at"), name="exam_change_result"),
            models.Index(fields=("-changed_at",), name="exam_change_newest"),
        )

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.result_id} @ {self.changed_at}"


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


class FeishuIdentity(models.Model):
    """A staff login's identity in Feishu, per Feishu app (an open_id is only valid
    for the app that issued it)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="feishu_identities",
        verbose_name=_("staff user"),
    )
    app_id = models.CharField(
        _("Feishu app"),
        max_length=64,
        help_text=_("The Feishu app these IDs were issued for (cli_…)."),
    )
    open_id = models.CharField(_("open_id"), max_length=64, blank=True)
    union_id = models.CharField(_("union_id"), max_length=64, blank=True)
    # "user_id" in Feishu's terms; named so it does not clash with ``user``'s column.
    feishu_user_id = models.CharField(_("user_id"), max_length=64, blank=True)
    email = models.EmailField(_("email in Feishu"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("Feishu identity")
        verbose_name_plural = _("Feishu identities")
        constraints = (
            models.UniqueConstraint(
                fields=("user", "app_id"), name="feishu_identity_one_per_user_and_app"
            ),
            models.CheckConstraint(
                condition=~Q(open_id="") | ~Q(union_id="") | ~Q(feishu_user_id=""),
                name="feishu_identity_has_an_id",
            ),
        )

    def __str__(self) -> str:
        return f"{self.user} @ {self.app_id}"

    def id_of_type(self, user_id_type: str) -> str:
        """The id of the given type, or "" when this identity has none."""
        return {
            UserIdType.OPEN_ID: self.open_id,
            UserIdType.UNION_ID: self.union_id,
            UserIdType.USER_ID: self.feishu_user_id,
        }.get(user_id_type, "")


class FeishuAppState(models.Model):
    """What the portal has learnt about one Feishu app, shared by every worker:
    whether delivery is paused (the circuit breaker) and what tests/search can be
    trusted to tell when a delivery's outcome is unknown."""

    app_id = models.CharField(_("Feishu app"), max_length=64, unique=True)
    # None until established: True once tests/search was seen listing an exam this
    # portal created; False when it was seen not listing one.
    search_lists_created = models.BooleanField(null=True)
    search_checked_at = models.DateTimeField(null=True, blank=True)
    observed_search_lag_seconds = models.FloatField(default=0)
    paused_until = models.DateTimeField(_("paused until"), null=True, blank=True)
    pause_reason = models.TextField(_("why delivery is paused"), blank=True)
    pause_code = models.IntegerField(null=True, blank=True)
    paused_since = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_answer_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Feishu app state")
        verbose_name_plural = _("Feishu app states")

    def __str__(self) -> str:
        return self.app_id


class ImportBatch(models.Model):
    """One spreadsheet import: who, when, which file, what it found and what it wrote.

    The uploaded file is kept here (not on one web server's disk) between the
    preview and the confirmation, whichever server answers, and emptied afterwards.
    """

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed, waiting for confirmation")
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        REFUSED = "refused", _("Nothing imported (all or nothing)")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired before confirmation")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    source = models.CharField(
        _("through"),
        max_length=16,
        choices=ExamResultChange.Source.choices,
        default=ExamResultChange.Source.IMPORT,
    )
    file_name = models.CharField(_("file name"), max_length=255)
    file_size = models.PositiveIntegerField(_("file size (bytes)"), default=0)
    content = models.BinaryField(_("uploaded file"), blank=True, default=b"")
    options = models.JSONField(_("options"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PREVIEWED
    )
    phase = models.CharField(_("phase"), max_length=32, blank=True)
    total_rows = models.PositiveIntegerField(_("rows in the file"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("changed"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    invalid_count = models.PositiveIntegerField(_("invalid"), default=0)
    conflict_count = models.PositiveIntegerField(_("in conflict"), default=0)
    sent_count = models.PositiveIntegerField(_("queued for delivery"), default=0)
    # The preview (counts, every error, changes, conflicts, a page of rows) and,
    # after confirmation, what was written and how it differed from the preview.
    report = models.JSONField(_("report"), default=dict, blank=True)
    error = models.TextField(_("why it failed"), blank=True)
    # When the staff member was told that a background import ended.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ("-created_at", "-id")
        indexes = (
            models.Index(
                fields=("created_by", "status", "notified_at"),
                name="import_batch_to_notify",
            ),
            models.Index(fields=("status", "created_at"), name="import_batch_status"),
        )

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


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
                condition=Q(new_score__gte=0)
                & Q(new_score__lte=MAX_SCORE)
                & Q(new_score=Round(F("new_score"), 1)),
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
    """Something done to the audit trail itself (a retention purge): who, when, and
    how much. Append-only: never updated or deleted, the purge included."""

    class Kind(models.TextChoices):
        PURGE = "purge", _("Candidate data removed (retention)")

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
        return f"{self.get_kind_display()} @ {self.occurred_at}"

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
        return self.key
