"""The audit in the admin: read-only lists of history, attempts, corrections and
audit events; the result page's history and attempts; recording a score corrected
in Feishu; the reviewers' audit page with its CSV export; the dashboard on the
index; looking staff up in Feishu by email.

History and attempts cannot be added, changed or deleted through the admin by
anyone, superusers included. Every view checks its permission itself and answers
403; hiding a button is never the only guard.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import audit, identities
from .changelist import CappedCountPaginator
from .models import (
    AlertSent,
    AuditEvent,
    ExamResult,
    ExamResultChange,
    FeishuIdentity,
    ScoreCorrection,
    SyncAttempt,
)
from .validation import parse_score

Status = ExamResult.Status
PER_PAGE = 50
ON_RESULT_PAGE = 200

# The dashboard is on the admin index (exams.dashboard). The app's own template
# name: django.contrib.admin comes first in INSTALLED_APPS, so an
# exams/templates/admin/index.html would never be found.
admin.site.index_template = "admin/exams/index.html"


# --- read-only admins ------------------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """Seen with the model's view permission; never added, changed or deleted."""

    actions = None
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}")


def _result_link(result_id: int, text: str) -> str:
    # The result's page checks its own permission.
    url = reverse("admin:exams_examresult_change", args=[result_id])
    return format_html('<a href="{}">{}</a>', url, text)


def diff_html(change: ExamResultChange) -> str:
    diffs = audit.change_diffs(change)
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


@admin.register(ExamResultChange)
class ExamResultChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "result_ref", "who", "source", "kind", "diff")
    list_filter = ("source", "kind", ("changed_at", admin.DateFieldListFilter))
    list_select_related = ("actor",)
    search_fields = ("=result__id",)
    ordering = ("-changed_at", "-id")
    fields = ("changed_at", "result_ref", "who", "source", "kind", "diff")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExamResultChange]:
        return super().get_queryset(request).prefetch_related("result")

    @admin.display(description=gettext_lazy("exam result"))
    def result_ref(self, obj: ExamResultChange) -> str:
        row = audit.change_row(obj)
        return _result_link(obj.result_id, f"#{obj.result_id} {row[2]} · {row[3]}")

    @admin.display(description=gettext_lazy("changed by"))
    def who(self, obj: ExamResultChange) -> str:
        return audit.actor_label(obj.actor)

    @admin.display(description=gettext_lazy("changes"))
    def diff(self, obj: ExamResultChange) -> str:
        return diff_html(obj)


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

    @admin.display(description=gettext_lazy("exam result"))
    def result_ref(self, obj: SyncAttempt) -> str:
        return _result_link(
            obj.result_id,
            f"#{obj.result_id} {obj.result.application_id} · "
            f"{obj.result.exam_resource_name}",
        )

    @admin.display(description=gettext_lazy("what it means"))
    def hint(self, obj: SyncAttempt) -> str:
        return audit.attempt_hint(obj) or "—"

    @admin.display(description=gettext_lazy("request sent"))
    def request_pretty(self, obj: SyncAttempt) -> str:
        return format_html("<pre>{}</pre>", audit.pretty_body(obj.request_body))

    @admin.display(description=gettext_lazy("answer"))
    def answer_pretty(self, obj: SyncAttempt) -> str:
        return format_html("<pre>{}</pre>", audit.pretty_body(obj.response_body))


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
    list_display = ("occurred_at", "kind", "actor", "actor_label", "details")
    list_filter = ("kind",)
    list_select_related = ("actor",)
    ordering = ("-occurred_at", "-id")


@admin.register(AlertSent)
class AlertSentAdmin(ReadOnlyAdmin):
    list_display = ("sent_at", "kind", "key", "recipients", "resolved_at")
    list_filter = ("kind",)
    ordering = ("-sent_at", "-id")


# --- the result page -------------------------------------------------------------------


class ScoreCorrectionForm(forms.Form):
    new_score = forms.CharField(
        label=gettext_lazy("Score now in Feishu"),
        help_text=gettext_lazy("The score as corrected by hand in Feishu, e.g. 88.5."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Why"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Why the score was corrected, and who asked for it."),
    )

    def clean_new_score(self) -> Any:
        return parse_score(self.cleaned_data["new_score"])


class ExamResultAuditMixin:
    """For ExamResultAdmin: the history, attempts and corrections on the result's
    page, recording a correction made in Feishu, and actions refused with 403."""

    change_form_template = "admin/exams/examresult/audit_change_form.html"

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view  # type: ignore[attr-defined]
        return [
            path(
                "<int:object_id>/correction/",
                wrap(self.correction_view),
                name="exams_examresult_correction",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    # Actions a user may not run are refused with 403, not skipped with a notice.
    def response_action(self, request: HttpRequest, queryset: QuerySet) -> Any:
        names = request.POST.getlist("action")
        try:
            name = names[int(request.POST.get("index", 0))]
        except (IndexError, ValueError):
            name = ""
        declared = {
            a if isinstance(a, str) else a.__name__
            for a in (self.actions or ())  # type: ignore[attr-defined]
        } | {"record_correction"}
        available = self.get_actions(request)
        if name in declared and name not in available:
            raise PermissionDenied
        return super().response_action(request, queryset)  # type: ignore[misc]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        if self.has_send_permission(request):  # type: ignore[attr-defined]
            actions["record_correction"] = (
                type(self).record_correction,
                "record_correction",
                _("Record a correction made in Feishu"),
            )
        return actions

    def record_correction(
        self, request: HttpRequest, queryset: QuerySet[ExamResult]
    ) -> HttpResponse | None:
        if not self.has_send_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        ids = list(queryset.values_list("pk", flat=True)[:2])
        if len(ids) != 1:
            self.message_user(  # type: ignore[attr-defined]
                request,
                _("Select one delivered result to record its correction."),
                messages.WARNING,
            )
            return None
        return HttpResponseRedirect(
            reverse("admin:exams_examresult_correction", args=[ids[0]])
        )

    def correction_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        if not self.has_send_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        result = get_object_or_404(ExamResult, pk=object_id)
        change_url = reverse("admin:exams_examresult_change", args=[result.pk])
        form = ScoreCorrectionForm(request.POST or None)
        if result.status != Status.SYNCED:
            self.message_user(  # type: ignore[attr-defined]
                request,
                _(
                    "Only a delivered result can have a correction made in Feishu "
                    "recorded; this one is %(status)s."
                )
                % {"status": result.get_status_display()},
                messages.ERROR,
            )
            return HttpResponseRedirect(change_url)
        if request.method == "POST" and form.is_valid():
            try:
                correction = audit.score_correction_record(
                    result=result,
                    new_score=form.cleaned_data["new_score"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(  # type: ignore[attr-defined]
                    request,
                    _(
                        "Recorded: the score in Feishu is now %(new)s (was %(old)s). "
                        "The score the portal sent stays on the result."
                    )
                    % {"new": correction.new_score, "old": correction.previous_score},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        return TemplateResponse(
            request,
            "admin/exams/examresult/correction.html",
            {
                **self.admin_site.each_context(request),  # type: ignore[attr-defined]
                "opts": self.opts,  # type: ignore[attr-defined]
                "title": _("Record a correction made in Feishu"),
                "result": result,
                "form": form,
                "change_url": change_url,
                "corrections": result.score_corrections.select_related("corrected_by"),
            },
        )

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk:
            context.update(result_audit_context(request, obj))
        return super().render_change_form(  # type: ignore[misc]
            request, context, add, change, form_url, obj
        )


def result_audit_context(request: HttpRequest, result: ExamResult) -> dict[str, Any]:
    """What the result's page shows of its audit trail, per the user's permissions."""
    user = request.user
    context: dict[str, Any] = {"audit_panel": True}
    if user.has_perm("exams.view_examresultchange"):
        changes = list(
            ExamResultChange.objects.filter(result_id=result.pk)
            .select_related("actor")
            .order_by("-changed_at", "-id")[:ON_RESULT_PAGE]
        )
        context["history"] = [
            {
                "change": change,
                "who": audit.actor_label(change.actor),
                "diffs": audit.change_diffs(change),
            }
            for change in changes
        ]
    if user.has_perm("exams.view_syncattempt"):
        attempts = list(
            SyncAttempt.objects.filter(result_id=result.pk).order_by(
                "-started_at", "-id"
            )[:ON_RESULT_PAGE]
        )
        context["attempt_details"] = [
            {
                "attempt": attempt,
                "hint": audit.attempt_hint(attempt),
                "request": audit.pretty_body(attempt.request_body),
                "answer": audit.pretty_body(attempt.response_body),
            }
            for attempt in attempts
        ]
    if user.has_perm("exams.view_scorecorrection") or user.has_perm(
        "exams.send_examresult"
    ):
        context["corrections"] = list(
            result.score_corrections.select_related("corrected_by")
        )
    if result.status == Status.SYNCED and user.has_perm("exams.send_examresult"):
        context["correction_url"] = reverse(
            "admin:exams_examresult_correction", args=[result.pk]
        )
    return context


# --- looking staff up in Feishu by email --------------------------------------------------


class IdentityLookupForm(forms.Form):
    user = forms.ModelChoiceField(
        label=gettext_lazy("Staff login"),
        queryset=get_user_model().objects.filter(is_staff=True).order_by("username"),
    )
    email = forms.EmailField(
        label=gettext_lazy("Email in Feishu"),
        help_text=gettext_lazy("The address the person signs in to Feishu with."),
    )


class IdentityLookupMixin:
    """For FeishuIdentityAdmin: "Look up by email"."""

    def has_lookup_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(  # type: ignore[attr-defined]
            request
        ) and self.has_change_permission(request)  # type: ignore[attr-defined]

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view  # type: ignore[attr-defined]
        return [
            path(
                "lookup/",
                wrap(self.lookup_view),
                name="exams_feishuidentity_lookup",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        extra = {"show_lookup": self.has_lookup_permission(request)}
        extra.update(extra_context or {})
        return super().changelist_view(request, extra)  # type: ignore[misc]

    def lookup_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_lookup_permission(request):
            raise PermissionDenied
        initial = {"user": request.user.pk, "email": request.user.email}
        form = IdentityLookupForm(request.POST or None, initial=initial)
        found = None
        if request.method == "POST" and form.is_valid():
            try:
                found = identities.feishu_identity_link_by_email(
                    user=form.cleaned_data["user"], email=form.cleaned_data["email"]
                )
            except ValidationError as error:
                form.add_error("email", error)
            else:
                self.message_user(  # type: ignore[attr-defined]
                    request,
                    _(
                        "%(user)s is %(open_id)s in the Feishu app %(app)s; saved as "
                        "their identity for that app."
                    )
                    % {
                        "user": found.user.get_username(),
                        "open_id": found.open_id,
                        "app": found.app_id,
                    },
                    messages.SUCCESS,
                )
        user = (
            form.cleaned_data.get("user") if form.is_bound and form.is_valid() else None
        )
        user = user or request.user
        rows = FeishuIdentity.objects.filter(user=user).order_by("app_id")
        return TemplateResponse(
            request,
            "admin/exams/feishuidentity/lookup.html",
            {
                **self.admin_site.each_context(request),  # type: ignore[attr-defined]
                "opts": self.opts,  # type: ignore[attr-defined]
                "title": _("Look up a Feishu identity by email"),
                "form": form,
                "found": found,
                "identities": rows,
                "shown_user": user,
                "portal_app_id": settings.FEISHU_APP_ID,
            },
        )


# --- the reviewers' audit page ------------------------------------------------------------

VIEWS = (
    ("attempts", gettext_lazy("Calls to Feishu")),
    ("changes", gettext_lazy("Changes")),
    ("corrections", gettext_lazy("Score corrections")),
    ("events", gettext_lazy("Audit events")),
)


class AuditFilterForm(forms.Form):
    view = forms.ChoiceField(label=gettext_lazy("Show"), choices=VIEWS, required=False)
    date_from = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    person = forms.CharField(
        label=gettext_lazy("Person"),
        required=False,
        help_text=gettext_lazy(
            "A login: who made the change, or who entered the result; “system” "
            "for the delivery engine."
        ),
    )
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome of the call"),
        choices=[("", "—"), *SyncAttempt.Outcome.choices],
        required=False,
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status set by the change"),
        choices=[("", "—"), *Status.choices],
        required=False,
    )
    source = forms.ChoiceField(
        label=gettext_lazy("Through"),
        choices=[("", "—"), *ExamResultChange.Source.choices],
        required=False,
    )
    code = forms.IntegerField(label=gettext_lazy("Feishu code"), required=False)
    exam = forms.CharField(label=gettext_lazy("Exam name"), required=False)
    application_id = forms.CharField(
        label=gettext_lazy("Application ID"), required=False
    )

    def filters(self) -> audit.AuditFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return audit.AuditFilters(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            person=(data.get("person") or "").strip(),
            outcome=data.get("outcome") or "",
            status=data.get("status") or "",
            source=data.get("source") or "",
            code=data.get("code"),
            exam=(data.get("exam") or "").strip(),
            application_id=(data.get("application_id") or "").strip(),
        )

    def chosen_view(self) -> str:
        view = self.cleaned_data.get("view") if self.is_valid() else ""
        return view or "attempts"


def _require_reviewer(request: HttpRequest) -> None:
    if not request.user.has_perm("exams.review_audit"):
        raise PermissionDenied


def audit_review_view(request: HttpRequest) -> HttpResponse:
    """Every call to Feishu, change, correction and audit event, filtered, paged
    (no COUNT over the whole table: "next" is shown when one more row exists)."""
    _require_reviewer(request)
    form = AuditFilterForm(request.GET)
    view = form.chosen_view()
    filters = form.filters()
    select = audit.ROWS[view][0]
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page = 1
    start = (page - 1) * PER_PAGE
    items = list(select(filters)[start : start + PER_PAGE + 1])
    has_next = len(items) > PER_PAGE
    items = items[:PER_PAGE]
    params = request.GET.copy()
    params.pop("page", None)
    params["view"] = view
    base = params.urlencode()
    csv_params = params.copy()
    return TemplateResponse(
        request,
        "admin/exams/audit/review.html",
        {
            **admin.site.each_context(request),
            "title": _("Audit trail"),
            "form": form,
            "view": view,
            "views": [
                (value, label, _with(params, view=value)) for value, label in VIEWS
            ],
            "rows": [_display_row(request, view, item) for item in items],
            "fields": [form[name] for name in FILTERS_BY_VIEW[view]],
            "headers": _headers(view),
            "page": page,
            "prev_url": f"?{base}&page={page - 1}" if page > 1 else "",
            "next_url": f"?{base}&page={page + 1}" if has_next else "",
            "export_url": reverse("exams_audit:export") + "?" + csv_params.urlencode(),
            "now": timezone.now(),
        },
    )


FILTERS_BY_VIEW = {
    "attempts": (
        "date_from",
        "date_to",
        "person",
        "outcome",
        "code",
        "exam",
        "application_id",
    ),
    "changes": (
        "date_from",
        "date_to",
        "person",
        "source",
        "status",
        "exam",
        "application_id",
    ),
    "corrections": ("date_from", "date_to", "person", "exam", "application_id"),
    "events": ("date_from", "date_to", "person"),
}


def _headers(view: str) -> list[str]:
    if view == "changes":
        return [
            _("changed at"),
            _("exam result"),
            _("changed by"),
            _("through"),
            _("kind"),
            _("changes"),
        ]
    if view == "corrections":
        return [
            _("recorded at"),
            _("exam result"),
            _("recorded by"),
            _("score before the correction"),
            _("corrected score"),
            _("why"),
        ]
    return audit.csv_headers(view)


def _with(params: Any, **values: str) -> str:
    copy = params.copy()
    for key, value in values.items():
        copy[key] = value
    return "?" + copy.urlencode()


def _display_row(request: HttpRequest, view: str, item: Any) -> dict[str, Any]:
    if view == "attempts":
        return {
            "item": item,
            "result": _result_link(
                item.result_id,
                f"#{item.result_id} {item.result.application_id} · "
                f"{item.result.exam_resource_name}",
            ),
            "person": audit.actor_label(item.result.entered_by),
            "hint": audit.attempt_hint(item),
            "request": audit.pretty_body(item.request_body),
            "answer": audit.pretty_body(item.response_body),
        }
    if view == "changes":
        row = audit.change_row(item)
        return {
            "cells": [
                row[0],
                _result_link(item.result_id, f"#{row[1]} {row[2]} · {row[3]}"),
                row[4],
                row[5],
                row[6],
                diff_html(item),
            ]
        }
    if view == "corrections":
        row = audit.correction_row(item)
        return {
            "cells": [
                row[0],
                _result_link(item.result_id, f"#{row[1]} {row[2]} · {row[3]}"),
                *row[4:],
            ]
        }
    return {"cells": audit.event_row(item)}


def audit_export_view(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV, streamed row chunk by row chunk."""
    _require_reviewer(request)
    form = AuditFilterForm(request.GET)
    view = form.chosen_view()
    response = StreamingHttpResponse(
        audit.csv_chunks(view, form.filters()), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{view}-{stamp}.csv"'
    return response
