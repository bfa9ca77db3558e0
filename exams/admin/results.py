"""The exam-result admin: the list, the form with "Save as draft" and "Save and
send", the result's page with its audit panel, and the HISTORY page. Writes go
through exams.entry.services; actions are in ``actions``, import and export in
``importing``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from ..candidates.checks import result_hold_message
from ..entry import services
from ..gateway import breaker
from ..models import ExamResult
from ..wording import render
from . import candidates, result_page
from .actions import ACTIONS
from .base import (
    RefusalsShownAdmin,
    refuse_unavailable_action,
    staff_user,
)
from .changelist import CappedCountPaginator, ExamNameFilter, search_exam_results
from .forms import ExamResultForm
from .importing import ResultSpreadsheetMixin
from .papers import PassMarkFilter

Status = ExamResult.Status

DELIVERY_FIELDS = (
    "status",
    "hold_reason",
    "check_override",
    "matched_by",
    "attempts",
    "next_attempt_at",
    "exam_id",
    "operate_time",
    "synced_at",
    "last_error_code",
    "last_error",
    "last_log_id",
    "entered_by",
    "created_at",
    "updated_at",
)
ENTRY_FIELDS = (
    "application_id",
    "exam_resource_name",
    "score",
    "report",
    "uuid",
    "operator_id",
    "user_id_type",
)

STATUS_COLOURS: dict[str, str]
STATUS_COLOURS = {
    Status.HELD: "#c2410c",
    Status.DRAFT: "#6b7280",
    Status.PENDING: "#2563eb",
    Status.SENDING: "#7c3aed",
    Status.SYNCED: "#15803d",
    Status.FAILED: "#b91c1c",
    Status.UNKNOWN: "#b45309",
}


@admin.register(ExamResult)
class ExamResultAdmin(ResultSpreadsheetMixin, RefusalsShownAdmin):
    form = ExamResultForm
    change_form_template = "admin/exams/examresult/audit_change_form.html"
    # Fits a laptop beside the sidebar and the filters; on a phone the portal's
    # CSS (portal.css) keeps status, application and score.
    list_display = (
        "status_badge",
        "application",
        "exam",
        "score",
        "delivered",
    )
    list_display_links = ("application",)
    list_filter = (
        "status",
        "hold_code",
        ExamNameFilter,
        PassMarkFilter,
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("entered_by",)
    search_fields = ("application_id", "exam_resource_name", "exam_id")
    search_help_text = _(
        "Digits search application IDs (by prefix), Feishu exam IDs and "
        "candidates' mobiles; an address searches their emails; anything else "
        "searches exam names and candidates' names."
    )
    ordering = ("-created_at", "-id")
    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    actions = ACTIONS

    class Media:
        js = ("exams/candidates.js",)
        css = {"all": ("exams/candidates.css", "exams/portal.css")}

    # --- permissions ---------------------------------------------------------
    def has_send_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("exams.send_examresult")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status != Status.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def response_action(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        refuse_unavailable_action(self, request)
        return super().response_action(request, queryset)

    # --- urls ----------------------------------------------------------------
    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/correction/",
                wrap(
                    lambda request, object_id: result_page.correction_view(
                        self, request, object_id
                    )
                ),
                name="exams_examresult_correction",
            ),
            path(
                "<int:object_id>/act/",
                wrap(
                    lambda request, object_id: result_page.result_action_view(
                        self, request, object_id
                    )
                ),
                name="exams_examresult_act",
            ),
            path(
                "candidate/",
                wrap(lambda request: candidates.candidate_json_view(self, request)),
                name="exams_examresult_candidate",
            ),
            path(
                "<int:object_id>/candidate/refresh/",
                wrap(
                    lambda request, object_id: candidates.candidate_refresh_view(
                        self, request, object_id
                    )
                ),
                name="exams_examresult_candidate_refresh",
            ),
            *super().get_urls(),
        ]

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        return result_page.history_view(self, request, object_id)

    # --- list ----------------------------------------------------------------
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "POST":
            refuse_unavailable_action(self, request)
        paused = breaker.pause_status()
        if paused is not None and request.method == "GET":
            self.message_user(
                request,
                _("Delivery to Feishu is paused: %(reason)s")
                % {"reason": render(paused.pause_reason)},
                messages.ERROR,
            )
        return super().changelist_view(request, extra_context)

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        candidates.attach_candidates(changelist.result_list)
        return changelist

    @admin.display(description=_("last error"))
    def last_error(self, obj: ExamResult) -> str:
        return render(obj.last_error_message) or "—"

    @admin.display(description=_("needs attention because"))
    def hold_reason(self, obj: ExamResult) -> str:
        return result_hold_message(obj) or "—"

    @admin.display(description=_("candidate"))
    def candidate(self, obj: ExamResult) -> SafeString:
        return candidates.candidate_cell(obj)

    @admin.display(description=_("candidate / application"), ordering="application_id")
    def application(self, obj: ExamResult) -> SafeString:
        return format_html(
            '<span class="application-id">{}</span><br>{}',
            obj.application_id,
            candidates.candidate_cell(obj),
        )

    @admin.display(description=_("exam name"), ordering="exam_resource_name")
    def exam(self, obj: ExamResult) -> SafeString:
        # Cut to the column's width by CSS, whole on hover.
        return format_html(
            '<span class="exam-name" title="{}">{}</span>',
            obj.exam_resource_name,
            obj.exam_resource_name,
        )

    @admin.display(description=_("delivered at"), ordering="synced_at")
    def delivered(self, obj: ExamResult) -> SafeString | str:
        # Feishu's own time of the record when it said one, else the answer's.
        at = obj.operate_time or obj.synced_at
        if at is None:
            return "—"
        return format_html(
            '{}<br><small class="exam-id" title="{}">{}</small>',
            formats.localize(timezone.localtime(at)),
            _("Feishu exam ID"),
            obj.exam_id or "",
        )

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: ExamResult) -> SafeString:
        badge = format_html(
            '<span class="exam-status exam-status-{}" style="color:{};font-weight:600">'
            "{}</span>",
            obj.status,
            STATUS_COLOURS.get(obj.status, "inherit"),
            obj.get_status_display(),
        )
        if obj.status == Status.HELD:
            return format_html(
                '{}<br><small class="hold-reason">{}</small>',
                badge,
                result_hold_message(obj),
            )
        return badge

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ExamResult], search_term: str
    ) -> tuple[QuerySet[ExamResult], bool]:
        return search_exam_results(queryset, search_term), False

    # --- form ----------------------------------------------------------------
    def get_form(
        self,
        request: HttpRequest,
        obj: Any = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        form_class = super().get_form(request, obj, change, **kwargs)

        class FormForUser(form_class):  # type: ignore[misc, valid-type]  # base made at run time
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(
                    *args, user=request.user, send="_send" in request.POST, **kw
                )

        return FormForUser

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        entry: dict[str, Any] = {"fields": ENTRY_FIELDS}
        if obj is not None and not obj.is_editable:
            entry["description"] = _(
                "This result is %(status)s and cannot be changed: Feishu offers no "
                "way to update an exam result once it may have been recorded."
            ) % {"status": obj.get_status_display()}
        fieldsets: list[tuple[Any, dict[str, Any]]] = [(None, entry)]
        if obj is not None:
            fieldsets.append((_("Delivery to Feishu"), {"fields": DELIVERY_FIELDS}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and not obj.is_editable:
            return ENTRY_FIELDS + DELIVERY_FIELDS
        return DELIVERY_FIELDS

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        # Offer only what this person may do with this result: a viewer sees none.
        may_save = (
            self.has_add_permission(request)
            if obj is None
            else self.has_change_permission(request, obj)
        ) and (obj is None or obj.is_editable)
        if add:
            context["title"] = _("Enter an exam result")
        context["show_send"] = may_save and self.has_send_permission(request)
        context["show_save_draft"] = may_save
        context["candidate_json_url"] = reverse("admin:exams_examresult_candidate")
        context["candidate_labels"] = candidates.candidate_labels()
        if obj is not None and obj.pk:
            context["result_actions"] = result_page.result_actions(
                self, request, obj, form_sends=context["show_send"]
            )
            context["result_action_url"] = reverse(
                "admin:exams_examresult_act", args=[obj.pk]
            )
            context.update(result_page.result_audit_context(request, obj))
            context.update(candidates.candidate_card_context(obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(
        self, request: HttpRequest, obj: ExamResult, form: Any, change: bool
    ) -> None:
        send = "_send" in request.POST
        if send and not self.has_send_permission(request):
            raise PermissionDenied
        services.exam_result_save(result=obj, actor=staff_user(request), send=send)

    def response_add(
        self, request: HttpRequest, obj: Any, post_url_continue: Any = None
    ) -> Any:
        if "_send" in request.POST:
            return self._response_sent(request)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: Any) -> Any:
        if "_send" in request.POST:
            return self._response_sent(request)
        return super().response_change(request, obj)

    def _response_sent(self, request: HttpRequest) -> HttpResponseRedirect:
        """After "Save and send": back to the list, where the status shows."""
        self.message_user(
            request,
            _("The result was saved and queued for delivery to Feishu."),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:exams_examresult_changelist"))

    def delete_model(self, request: HttpRequest, obj: ExamResult) -> None:
        services.exam_result_delete(result=obj, actor=staff_user(request))

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[ExamResult]
    ) -> None:
        for result in queryset.filter(status=Status.DRAFT):
            services.exam_result_delete(result=result, actor=staff_user(request))
