"""Admin actions that steer delivery: retry, check Feishu, resend, mark delivered.

Each is behind the send permission, calls one service and reports what it changed
and why other rows were skipped. Bulk ones work on "select all" across pages
without per-row queries; confirmation pages carry the selection as the change
list's filter (``select_across``), never as thousands of hidden fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import delivery
from .models import ExamResult
from .tasks import check_feishu_for_task

Status = ExamResult.Status
INLINE_CHECK_LIMIT = 100  # one tests/search call covers 100 applications


class MarkDeliveredForm(forms.Form):
    exam_id = forms.RegexField(
        label=_("Feishu exam ID"),
        regex=r"^[0-9A-Za-z_-]{1,64}$",
        help_text=_("The exam ID you found for this result in Feishu Hire."),
        error_messages={"invalid": _("Enter the exam ID exactly as Feishu shows it.")},
    )


class DeliveryActionsMixin:
    """Mixed into ExamResultAdmin."""

    def _confirm_page(
        self,
        request: HttpRequest,
        queryset: QuerySet[ExamResult],
        *,
        action: str,
        title: str,
        warning: str,
        button: str,
        form: forms.Form | None = None,
    ) -> HttpResponse:
        admin_self: Any = self
        select_across = request.POST.get("select_across") == "1"
        context = {
            **admin_self.admin_site.each_context(request),
            "title": title,
            "warning": warning,
            "button": button,
            "action": action,
            "count": queryset.count(),
            "select_across": select_across,
            # With "select all" the filter in the URL is the selection; Django still
            # wants one id posted to run an action at all.
            "selected": request.POST.getlist("_selected_action")[:1]
            if select_across
            else request.POST.getlist("_selected_action"),
            "form": form,
            "opts": ExamResult._meta,
            "action_url": request.get_full_path(),
        }
        return TemplateResponse(
            request, "admin/exams/examresult/confirm_action.html", context
        )

    def _report(
        self, request: HttpRequest, changed: int, skipped: int, done: str
    ) -> None:
        admin_self: Any = self
        admin_self.message_user(
            request,
            ngettext(
                "%(count)d result %(done)s.", "%(count)d results %(done)s.", changed
            )
            % {"count": changed, "done": done},
            messages.SUCCESS if changed else messages.WARNING,
        )
        if skipped:
            admin_self.message_user(
                request,
                ngettext(
                    "%(count)d result skipped: it is not in a state this action "
                    "applies to.",
                    "%(count)d results skipped: they are not in a state this action "
                    "applies to.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    @admin.action(
        description=_("Retry now (pending results waiting to retry)"),
        permissions=["send"],
    )
    def retry_now(self, request: HttpRequest, queryset: QuerySet[ExamResult]) -> None:
        total = queryset.count()
        ids = delivery.exam_results_retry_now(queryset=queryset, actor=request.user)
        self._report(request, len(ids), total - len(ids), str(_("queued to retry now")))

    @admin.action(
        description=_("Check Feishu (results whose outcome is unknown)"),
        permissions=["send"],
    )
    def check_feishu(
        self, request: HttpRequest, queryset: QuerySet[ExamResult]
    ) -> None:
        admin_self: Any = self
        total = queryset.count()
        ids = list(queryset.filter(status=Status.UNKNOWN).values_list("pk", flat=True))
        if len(ids) > INLINE_CHECK_LIMIT:
            check_feishu_for_task.delay(ids, request.user.pk)
            admin_self.message_user(
                request,
                _(
                    "Checking %(count)d results in Feishu in the background; their "
                    "status changes here as the answers come in, and you get an "
                    "email when the check is done."
                )
                % {"count": len(ids)},
                messages.INFO,
            )
            return
        report = delivery.exam_results_reconcile(
            result_ids=ids, actor=request.user, force=True
        )
        admin_self.message_user(
            request,
            _(
                "Checked %(checked)d results in Feishu: %(adopted)d found there "
                "(now delivered), %(resend)d not there (sent again), %(unknown)d "
                "still unknown."
            )
            % {
                "checked": len(ids),
                "adopted": report.adopted,
                "resend": report.resend,
                "unknown": report.still_unknown + report.waiting,
            },
            messages.SUCCESS if ids else messages.WARNING,
        )
        if total - len(ids):
            self._report(request, 0, total - len(ids), "")

    @admin.action(
        description=_("Resend anyway (outcome unknown)…"), permissions=["send"]
    )
    def resend_anyway(
        self, request: HttpRequest, queryset: QuerySet[ExamResult]
    ) -> HttpResponse | None:
        unknown = queryset.filter(status=Status.UNKNOWN)
        if request.POST.get("confirm") != "yes":
            return self._confirm_page(
                request,
                unknown,
                action="resend_anyway",
                title=_("Resend results whose outcome is unknown?"),
                warning=_(
                    "Feishu may already hold these results: it answered in a way that "
                    "does not say whether it recorded them, and the portal could not "
                    "find out. Sending them again may create a second record in "
                    "Feishu for each one, which cannot be removed through the API. "
                    "Check Feishu Hire first if you can."
                ),
                button=_("Yes, send them again"),
            )
        total = queryset.count()
        ids = delivery.exam_results_resend_anyway(queryset=queryset, actor=request.user)
        self._report(
            request, len(ids), total - len(ids), str(_("queued to send again"))
        )
        return None

    @admin.action(
        description=_("Mark as delivered (found in Feishu)…"), permissions=["send"]
    )
    def mark_delivered(
        self, request: HttpRequest, queryset: QuerySet[ExamResult]
    ) -> HttpResponse | None:
        admin_self: Any = self
        unknown = list(queryset.filter(status=Status.UNKNOWN)[:2])
        if len(unknown) != 1 or queryset.count() != 1:
            admin_self.message_user(
                request,
                _(
                    "Select exactly one result whose outcome is unknown to mark it delivered."
                ),
                messages.ERROR,
            )
            return None
        form = MarkDeliveredForm(request.POST if "exam_id" in request.POST else None)
        if form.is_valid():
            done = delivery.exam_result_mark_delivered(
                result=unknown[0],
                exam_id=form.cleaned_data["exam_id"],
                actor=request.user,
            )
            self._report(
                request, int(done), int(not done), str(_("marked as delivered"))
            )
            return None
        return self._confirm_page(
            request,
            queryset,
            action="mark_delivered",
            title=_("Mark as delivered"),
            warning=_(
                "Only do this after finding the result in Feishu Hire: the portal "
                "will never send it again."
            ),
            button=_("Mark as delivered"),
            form=form,
        )
