"""Read-only lists of the audit trail: the history of results, every call to
Feishu, score corrections, audit events and alerts sent. No one adds, changes or
deletes any of them through the admin, superusers included."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from ..audit.alerts import alert_problem
from ..audit.events import event_words
from ..audit.hints import attempt_hint, pretty_body
from ..audit.history import FieldDiff, as_changes, with_previous
from ..models import (
    AlertSent,
    AuditEvent,
    HistoricalExamResult,
    ScoreCorrection,
    SyncAttempt,
)
from ..wording import render
from .base import ReadOnlyAdmin, result_link


def diff_html(diffs: list[FieldDiff]) -> SafeString | str:
    if not diffs:
        return "—"
    return format_html(
        '<ul class="exams-diff">{}</ul>',
        format_html_join(
            "",
            "<li><strong>{}</strong>: <del>{}</del> → <ins>{}</ins></li>",
            ((d.label, d.old, d.new) for d in diffs),
        ),
    )


@admin.register(HistoricalExamResult)
class ResultHistoryAdmin(ReadOnlyAdmin):
    """Every change to every result, newest first, each with its diff."""

    list_display = (
        "history_date",
        "result_ref",
        "who",
        "source",
        "history_type",
        "why",
        "diff",
    )
    list_filter = (
        "source",
        "history_type",
        ("history_date", admin.DateFieldListFilter),
    )
    list_select_related = ("history_user", "entered_by")
    search_fields = ("=id", "application_id")
    ordering = ("-history_date", "-history_id")
    fields = list_display
    readonly_fields = list_display

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return with_previous(super().get_queryset(request))

    def _change(self, obj: Any) -> Any:
        # One change computed per row shown; the page's rows come with the id of
        # the snapshot before each, so this is one query per page, not per row.
        cached = getattr(obj, "_change", None)
        if cached is None:
            cached = obj._change = as_changes([obj])[0]
        return cached

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        changes = as_changes(list(changelist.result_list))
        for record, change in zip(changelist.result_list, changes, strict=True):
            record._change = change
        return changelist

    @admin.display(description=_("exam result"))
    def result_ref(self, obj: Any) -> str:
        return result_link(
            obj.id, f"#{obj.id} {obj.application_id} · {obj.exam_resource_name}"
        )

    @admin.display(description=_("changed by"))
    def who(self, obj: Any) -> str:
        return str(self._change(obj).who)

    @admin.display(description=_("why"))
    def why(self, obj: Any) -> str:
        return self._change(obj).reason_display or "—"

    @admin.display(description=_("changes"))
    def diff(self, obj: Any) -> SafeString | str:
        return diff_html(self._change(obj).diffs)


@admin.register(SyncAttempt)
class SyncAttemptAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "result_ref",
        "call",
        "outcome",
        "duration_ms",
        "http_status",
        "feishu_code",
        "feishu_msg",
        "log_id",
    )
    list_filter = ("outcome", "call", ("started_at", admin.DateFieldListFilter))
    list_select_related = ("result",)
    search_fields = ("=feishu_code", "=log_id", "=result__id")
    ordering = ("-started_at", "-id")
    fields = (
        "started_at",
        "result_ref",
        "call",
        "outcome",
        "duration_ms",
        "http_status",
        "feishu_code",
        "feishu_msg",
        "hint",
        "log_id",
        "request_pretty",
        "answer_pretty",
    )
    readonly_fields = fields

    @admin.display(description=_("exam result"))
    def result_ref(self, obj: SyncAttempt) -> str:
        return result_link(
            obj.result_id,
            f"#{obj.result_id} {obj.result.application_id} · "
            f"{obj.result.exam_resource_name}",
        )

    @admin.display(description=_("what it means"))
    def hint(self, obj: SyncAttempt) -> str:
        return attempt_hint(obj) or "—"

    @admin.display(description=_("request sent"))
    def request_pretty(self, obj: SyncAttempt) -> str:
        return format_html("<pre>{}</pre>", pretty_body(obj.request_body))

    @admin.display(description=_("answer"))
    def answer_pretty(self, obj: SyncAttempt) -> str:
        return format_html("<pre>{}</pre>", pretty_body(obj.response_body))


@admin.register(ScoreCorrection)
class ScoreCorrectionAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "result",
        "previous_score",
        "new_score",
        "corrected_by",
        "reason",
    )
    list_filter = (("created_at", admin.DateFieldListFilter),)
    list_select_related = ("result", "corrected_by")
    ordering = ("-created_at", "-id")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "kind", "who", "what")
    list_filter = ("kind",)
    list_select_related = ("actor",)
    ordering = ("-occurred_at", "-id")
    # The facts in words; the audit page's CSV carries them as data.
    fields = ("occurred_at", "kind", "who", "what")
    readonly_fields = fields

    @admin.display(description=_("by"), ordering="actor__username")
    def who(self, obj: AuditEvent) -> str:
        """One column for who did it: the staff login, or what ran it when no
        login did (the OS user and command), instead of two look-alike ones."""
        if obj.actor is not None:
            return obj.actor.get_username()
        return obj.actor_label or "—"

    @admin.display(description=_("what happened"))
    def what(self, obj: AuditEvent) -> str:
        return event_words(obj)


@admin.register(AlertSent)
class AlertSentAdmin(ReadOnlyAdmin):
    list_display = ("sent_at", "kind", "problem", "recipients", "resolved_at")
    list_filter = ("kind",)
    ordering = ("-sent_at", "-id")
    # The problem and the subject in words, never the key that tells it once.
    fields = (
        "kind",
        "problem",
        "subject_words",
        "sent_at",
        "resolved_at",
        "recipients",
    )
    readonly_fields = fields

    @admin.display(description=_("problem"))
    def problem(self, obj: AlertSent) -> str:
        return alert_problem(obj)

    @admin.display(description=_("subject"))
    def subject_words(self, obj: AlertSent) -> str:
        return render(obj.subject)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        alert = self.get_object(request, object_id)
        subtitle = {"subtitle": alert_problem(alert)} if alert is not None else {}
        return super().change_view(
            request, object_id, form_url, {**subtitle, **(extra_context or {})}
        )
