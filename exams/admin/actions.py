"""The exam-result list's actions: send, steer delivery, record a correction,
export.

Each is a function with its permission declared in ``@admin.action`` (Django
checks it again on the confirming POST), calls one service and reports what it
changed and why other rows were skipped. Bulk ones work on "select all" across
pages without per-row queries; confirmation pages carry the selection as the
change list's filter (``select_across``), never as thousands of hidden fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..delivery import steering
from ..delivery.reconcile import exam_results_reconcile
from ..entry.services import exam_results_send
from ..gateway import enqueue
from ..models import ExamResult
from ..wording import render
from .base import staff_user
from .exports import export_response
from .forms import MarkDeliveredForm, SendAnywayForm

Status = ExamResult.Status
INLINE_CHECK_LIMIT = 100  # one tests/search call covers 100 applications


@dataclass(frozen=True)
class AppliesTo:
    """The results an action can change: those its service acts on."""

    statuses: tuple[str, ...]
    only: Any  # which results those are, for staff
    not_held_for: tuple[str, ...] = ()

    def q(self) -> Q:
        q = Q(status__in=self.statuses)
        return q & ~Q(hold_code__in=self.not_held_for) if self.not_held_for else q

    def matches(self, result: ExamResult) -> bool:
        return (
            result.status in self.statuses and result.hold_code not in self.not_held_for
        )


# By action name: what exam_results_send, steering and the correction accept.
_UNKNOWN_ONLY = gettext_lazy("it applies only to results whose outcome is unknown")
APPLIES_TO = {
    "send_to_feishu": AppliesTo(
        (Status.DRAFT, Status.FAILED, Status.HELD),
        gettext_lazy(
            "it applies only to drafts, failed results and results that need attention"
        ),
    ),
    "retry_now": AppliesTo(
        (Status.PENDING,), gettext_lazy("it applies only to pending results")
    ),
    "check_feishu": AppliesTo((Status.UNKNOWN,), _UNKNOWN_ONLY),
    "resend_anyway": AppliesTo((Status.UNKNOWN,), _UNKNOWN_ONLY),
    "mark_delivered": AppliesTo((Status.UNKNOWN,), _UNKNOWN_ONLY),
    "send_anyway": AppliesTo(
        (Status.HELD,),
        gettext_lazy(
            "it applies only to results that need attention because their "
            "application is terminated or in another stage"
        ),
        not_held_for=(ExamResult.Hold.NOT_FOUND,),
    ),
    "record_correction": AppliesTo(
        (Status.SYNCED,), gettext_lazy("it applies only to delivered results")
    ),
}


def none_applies(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[ExamResult], name: str
) -> bool:
    """Say so, and stop, when the action can change none of the selection:
    rather than a confirmation for 0 results with an active button."""
    applies = APPLIES_TO[name]
    if queryset.filter(applies.q()).exists():
        return False
    modeladmin.message_user(
        request,
        _("None of the selected results can be changed this way: %(only)s.")
        % {"only": applies.only},
        messages.WARNING,
    )
    return True


def confirm_page(
    modeladmin: Any,
    request: HttpRequest,
    queryset: QuerySet[ExamResult],
    *,
    action: str,
    title: str,
    warning: str,
    button: str,
    form: forms.Form | None = None,
) -> HttpResponse:
    select_across = request.POST.get("select_across") == "1"
    context = {
        **modeladmin.admin_site.each_context(request),
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


def report(
    modeladmin: Any, request: HttpRequest, changed: int, skipped: int, done: str
) -> None:
    modeladmin.message_user(
        request,
        ngettext("%(count)d result %(done)s.", "%(count)d results %(done)s.", changed)
        % {"count": changed, "done": done},
        messages.SUCCESS if changed else messages.WARNING,
    )
    if skipped:
        modeladmin.message_user(
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


@admin.action(description=gettext_lazy("Send to Feishu"), permissions=["send"])
def send_to_feishu(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[ExamResult]
) -> None:
    if none_applies(modeladmin, request, queryset, "send_to_feishu"):
        return None
    sent = exam_results_send(queryset=queryset, actor=staff_user(request))
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d result queued for delivery to Feishu.",
            "%(count)d results queued for delivery to Feishu.",
            len(sent.queued),
        )
        % {"count": len(sent.queued)},
        messages.SUCCESS if sent.queued else messages.WARNING,
    )
    for reason, count in sent.skipped.items():
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d result skipped: %(reason)s.",
                "%(count)d results skipped: %(reason)s.",
                count,
            )
            % {"count": count, "reason": render(reason)},
            messages.WARNING,
        )


@admin.action(
    description=gettext_lazy("Retry now (pending results waiting to retry)"),
    permissions=["send"],
)
def retry_now(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[ExamResult]
) -> None:
    if none_applies(modeladmin, request, queryset, "retry_now"):
        return None
    total = queryset.count()
    ids = steering.exam_results_retry_now(queryset=queryset, actor=staff_user(request))
    report(modeladmin, request, len(ids), total - len(ids), _("queued to retry now"))


@admin.action(
    description=gettext_lazy("Check Feishu (results whose outcome is unknown)"),
    permissions=["send"],
)
def check_feishu(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[ExamResult]
) -> None:
    if none_applies(modeladmin, request, queryset, "check_feishu"):
        return None
    total = queryset.count()
    ids = list(queryset.filter(status=Status.UNKNOWN).values_list("pk", flat=True))
    if len(ids) > INLINE_CHECK_LIMIT:
        steering.exam_results_mark_due_for_check(result_ids=ids)
        try:
            enqueue.check_feishu(ids, request.user.pk)
        except Exception:  # the broker is down: the sweeper checks them instead
            modeladmin.message_user(
                request,
                _(
                    "The %(count)d results will be checked in Feishu as soon as a "
                    "worker is available; their status changes here as the answers "
                    "come in."
                )
                % {"count": len(ids)},
                messages.WARNING,
            )
            return
        modeladmin.message_user(
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
    checked = exam_results_reconcile(
        result_ids=ids, actor=staff_user(request), force=True
    )
    modeladmin.message_user(
        request,
        _(
            "Checked %(checked)d results in Feishu: %(adopted)d found there "
            "(now delivered), %(resend)d not there (sent again), %(unknown)d "
            "still unknown."
        )
        % {
            "checked": len(ids),
            "adopted": checked.adopted,
            "resend": checked.resend,
            "unknown": checked.still_unknown + checked.waiting,
        },
        messages.SUCCESS if ids else messages.WARNING,
    )
    if total - len(ids):
        report(modeladmin, request, 0, total - len(ids), "")


@admin.action(
    description=gettext_lazy("Resend anyway (outcome unknown)…"), permissions=["send"]
)
def resend_anyway(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[ExamResult]
) -> HttpResponse | None:
    if none_applies(modeladmin, request, queryset, "resend_anyway"):
        return None
    if request.POST.get("confirm") != "yes":
        return confirm_page(
            modeladmin,
            request,
            queryset.filter(status=Status.UNKNOWN),
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
    ids = steering.exam_results_resend_anyway(
        queryset=queryset, actor=staff_user(request)
    )
    report(modeladmin, request, len(ids), total - len(ids), _("queued to send again"))
    return None


@admin.action(
    description=gettext_lazy("Mark as delivered (found in Feishu)…"),
    permissions=["send"],
)
def mark_delivered(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[ExamResult]
) -> HttpResponse | None:
    if none_applies(modeladmin, request, queryset, "mark_delivered"):
        return None
    unknown = list(queryset.filter(status=Status.UNKNOWN)[:2])
    if len(unknown) != 1 or queryset.count() != 1:
        modeladmin.message_user(
            request,
            _(
                "Select exactly one result whose outcome is unknown to mark it delivered."
            ),
            messages.ERROR,
        )
        return None
    form = MarkDeliveredForm(request.POST if "exam_id" in request.POST else None)
    if form.is_valid():
        done = steering.exam_result_mark_delivered(
            result=unknown[0],
            exam_id=form.cleaned_data["exam_id"],
            actor=staff_user(request),
        )
        report(modeladmin, request, int(done), int(not done), _("marked as delivered"))
        return None
    return confirm_page(
        modeladmin,
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


@admin.action(
    description=gettext_lazy("Send anyway (needs attention)…"), permissions=["send"]
)
def send_anyway(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[ExamResult]
) -> HttpResponse | None:
    if none_applies(modeladmin, request, queryset, "send_anyway"):
        return None
    held = queryset.filter(status=Status.HELD).exclude(
        hold_code=ExamResult.Hold.NOT_FOUND
    )
    form = SendAnywayForm(request.POST if request.POST.get("confirm") else None)
    if not form.is_valid():
        return confirm_page(
            modeladmin,
            request,
            held,
            action="send_anyway",
            title=_("Send results whose application failed the check?"),
            warning=_(
                "Feishu says these applications are terminated or not in a "
                "written-exam stage. A result sent to Feishu cannot be taken back. "
                "Send them only if the candidate should have this result anyway, "
                "and say why: it is kept in each result's history with your name. "
                "Results whose application does not exist are not sent: fix their "
                "application ID instead."
            ),
            button=_("Yes, send them anyway"),
            form=form,
        )
    total = queryset.count()
    ids = steering.exam_results_send_anyway(
        queryset=queryset, actor=staff_user(request), why=form.cleaned_data["why"]
    )
    report(modeladmin, request, len(ids), total - len(ids), _("queued to send anyway"))
    return None


@admin.action(
    description=gettext_lazy("Record a correction made in Feishu"),
    permissions=["send"],
)
def record_correction(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[ExamResult]
) -> HttpResponse | None:
    if none_applies(modeladmin, request, queryset, "record_correction"):
        return None
    ids = list(queryset.values_list("pk", flat=True)[:2])
    if len(ids) != 1:
        modeladmin.message_user(
            request,
            _("Select one delivered result to record its correction."),
            messages.WARNING,
        )
        return None
    return HttpResponseRedirect(
        reverse("admin:exams_examresult_correction", args=[ids[0]])
    )


@admin.action(
    description=gettext_lazy("Export selected as CSV"), permissions=["export"]
)
def export_selected_csv(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[ExamResult]
) -> HttpResponseBase:
    return export_response(request, queryset, "csv", what="selected results")


@admin.action(
    description=gettext_lazy("Export selected as XLSX"), permissions=["export"]
)
def export_selected_xlsx(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[ExamResult]
) -> HttpResponseBase:
    return export_response(request, queryset, "xlsx", what="selected results")


ACTIONS = (
    send_to_feishu,
    retry_now,
    check_feishu,
    resend_anyway,
    mark_delivered,
    send_anyway,
    record_correction,
    export_selected_csv,
    export_selected_xlsx,
)
