"""The record of every import: who, when, which file, what it did. Read-only:
imports are made from the exam results list, never edited afterwards."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from ..models import ImportBatch
from ..wording import render
from .base import ReadOnlyPermissions, TitledAdmin

# The options of the confirmation, by their key in ImportBatch.options.
OPTIONS = (
    ("all_or_nothing", gettext_lazy("All or nothing")),
    ("send", gettext_lazy("Send to Feishu after import")),
    ("background", gettext_lazy("Written in the background")),
    ("dry_run", gettext_lazy("Dry run: nothing written")),
)


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyPermissions, TitledAdmin):
    """The record of every import: who, when, which file, what it did. Read-only:
    imports are made from the exam results list, never edited afterwards."""

    # Not "Imports": beside the list's "Import a spreadsheet" button it would read
    # as the way to import.
    list_title = gettext_lazy("Import history")
    list_display = (
        "file_name_link",
        "created_by",
        "created_at",
        "source",
        "status",
        "total_rows",
        "created_count",
        "updated_count",
        "unchanged_count",
        "invalid_count",
        "conflict_count",
        "sent_count",
    )
    list_filter = ("status", "source")
    list_select_related = ("created_by",)
    search_fields = ("file_name", "created_by__username")
    ordering = ("-created_at", "-id")
    fields = (
        "file_name",
        "file_size",
        "created_by",
        "created_at",
        "source",
        "status",
        "chosen",
        "started_at",
        "finished_at",
        "total_rows",
        "created_count",
        "updated_count",
        "unchanged_count",
        "invalid_count",
        "conflict_count",
        "sent_count",
        "why_failed",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImportBatch]:
        return super().get_queryset(request).defer("content", "report")

    @admin.display(description=gettext_lazy("options"))
    def chosen(self, obj: ImportBatch) -> str:
        """The options staff chose on confirming, in words (the column keeps
        them as data, with the language the import ran in)."""
        options = obj.options or {}
        chosen = [str(label) for name, label in OPTIONS if options.get(name)]
        return "; ".join(chosen) or "—"

    @admin.display(description=gettext_lazy("why it failed"))
    def why_failed(self, obj: ImportBatch) -> str:
        return render(obj.error) or "—"

    @admin.display(description=gettext_lazy("file"), ordering="file_name")
    def file_name_link(self, obj: ImportBatch) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:exams_examresult_import_batch", args=[obj.pk]),
            obj.file_name,
        )
