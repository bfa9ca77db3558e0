"""What a result's pages show beyond the form: the actions that apply to it, its
history, its calls to Feishu and its corrections (per the reader's permissions),
the HISTORY page, and recording a score corrected by hand in Feishu."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from ..audit.corrections import score_correction_record
from ..audit.hints import attempt_hint, pretty_body
from ..audit.history import as_changes, snapshots, with_previous
from ..models import ExamResult, SyncAttempt
from .actions import APPLIES_TO
from .base import refuse_unavailable_action, staff_user
from .forms import ScoreCorrectionForm

Status = ExamResult.Status
ON_RESULT_PAGE = 200
HISTORY_PER_PAGE = 100


def may_see_history(request: HttpRequest) -> bool:
    return request.user.has_perm("exams.view_historicalexamresult")


def result_audit_context(request: HttpRequest, result: ExamResult) -> dict[str, Any]:
    """What the result's page shows of its audit trail, per the user's permissions."""
    user = request.user
    context: dict[str, Any] = {"audit_panel": True}
    if may_see_history(request):
        records = list(
            with_previous(snapshots().filter(id=result.pk)).order_by("-history_id")[
                :ON_RESULT_PAGE
            ]
        )
        context["history"] = as_changes(records)
    if user.has_perm("exams.view_syncattempt"):
        attempts = list(
            SyncAttempt.objects.filter(result_id=result.pk).order_by(
                "-started_at", "-id"
            )[:ON_RESULT_PAGE]
        )
        context["attempt_details"] = [
            {
                "attempt": attempt,
                "hint": attempt_hint(attempt),
                "request": pretty_body(attempt.request_body),
                "answer": pretty_body(attempt.response_body),
            }
            for attempt in attempts
        ]
    if user.has_perm("exams.view_scorecorrection") or user.has_perm(
        "exams.send_examresult"
    ):
        context["corrections"] = list(
            result.score_corrections.select_related("corrected_by")
        )
    return context


def result_actions(
    modeladmin: Any, request: HttpRequest, result: ExamResult, *, form_sends: bool
) -> list[dict[str, Any]]:
    """The list's actions that this user may run and that apply to this result's
    status, as buttons for its page. "Send" only where the form's "Save and send"
    is not offered."""
    available = modeladmin.get_actions(request)
    # Recording a correction opens its own form: a link to it, not a POST.
    links = {
        "record_correction": reverse(
            "admin:exams_examresult_correction", args=[result.pk]
        )
    }
    return [
        {
            "name": name,
            "label": str(available[name][2]).rstrip("…"),
            "url": links.get(name, ""),
        }
        for name, applies in APPLIES_TO.items()
        if name in available
        and applies.matches(result)
        and not (name == "send_to_feishu" and form_sends)
    ]


def result_action_view(
    modeladmin: Any, request: HttpRequest, object_id: int
) -> HttpResponse:
    """A button of the result's page: the list's action, run on this one result
    (same function, permission and confirmation), then back to the result."""
    result = get_object_or_404(ExamResult, pk=object_id)
    change_url = reverse("admin:exams_examresult_change", args=[result.pk])
    if request.method != "POST":
        return HttpResponseRedirect(change_url)
    refuse_unavailable_action(modeladmin, request)
    name = request.POST.get("action", "")
    available = modeladmin.get_actions(request)
    if name not in available or name not in APPLIES_TO:
        raise Http404
    action = available[name][0]
    response = action(modeladmin, request, ExamResult.objects.filter(pk=result.pk))
    if response is None:
        return HttpResponseRedirect(change_url)
    if isinstance(response, TemplateResponse) and response.context_data is not None:
        response.context_data["cancel_url"] = change_url
    return response


def history_view(modeladmin: Any, request: HttpRequest, object_id: str) -> HttpResponse:
    """The HISTORY button: every change to the result, newest first, with when, who,
    through what and every changed field's old → new value. A deleted draft's
    history is shown too (its last snapshot names it)."""
    pk = unquote(object_id)
    records = with_previous(snapshots().filter(id=pk)).order_by("-history_id")
    latest = records.first()
    result = ExamResult.objects.filter(pk=pk).first()
    if latest is None and result is None:
        raise Http404
    if not may_see_history(request) or (
        result is not None
        and not modeladmin.has_view_or_change_permission(request, result)
    ):
        raise PermissionDenied
    page = Paginator(records, HISTORY_PER_PAGE).get_page(request.GET.get("p"))
    shown = result if result is not None else latest
    return TemplateResponse(
        request,
        "admin/exams/examresult/history.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": _("History of %(result)s") % {"result": shown},
            "subtitle": None,
            "opts": ExamResult._meta,
            "object": result,
            "deleted": result is None,
            "page_obj": page,
            "changes": as_changes(list(page.object_list)),
            "module_name": ExamResult._meta.verbose_name_plural,
        },
    )


def correction_view(
    modeladmin: Any, request: HttpRequest, object_id: int
) -> HttpResponse:
    if not modeladmin.has_send_permission(request):
        raise PermissionDenied
    result = get_object_or_404(ExamResult, pk=object_id)
    change_url = reverse("admin:exams_examresult_change", args=[result.pk])
    form = ScoreCorrectionForm(request.POST or None)
    if result.status != Status.SYNCED:
        modeladmin.message_user(
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
            correction = score_correction_record(
                result=result,
                new_score=form.cleaned_data["new_score"],
                reason=form.cleaned_data["reason"],
                actor=staff_user(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            modeladmin.message_user(
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
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.opts,
            "title": _("Record a correction made in Feishu"),
            "result": result,
            "form": form,
            "change_url": change_url,
            "corrections": result.score_corrections.select_related("corrected_by"),
        },
    )
