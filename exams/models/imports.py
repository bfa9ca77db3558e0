"""Spreadsheet imports."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .history import HistorySource


class ImportBatch(models.Model):
    """One spreadsheet import: who, when, which file, what it found and what it wrote.

    The uploaded file is kept here (not on one web server's disk) between the
    preview and the confirmation, whichever server answers, and emptied afterwards.
    """

    class Status(models.TextChoices):
        MATCHING = "matching", _("Preparing the preview")
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
    queued_at = models.DateTimeField(
        _("confirmed at"), null=True, blank=True, editable=False
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    source = models.CharField(
        _("through"),
        max_length=16,
        choices=HistorySource.choices,
        default=HistorySource.IMPORT,
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
