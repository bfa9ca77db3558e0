"""The worklist in the admin: candidates in a written-exam stage awaiting a result,
oldest first, filtered by job and stage, searched by name; a score entered right
on the row (saved as a draft or sent, with the form's own checks), or a sheet to
fill in for the rows selected, which imports back as it is."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import formats, timezone, translation
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..candidates.worklist import awaiting_results, days_waiting
from ..entry.services import exam_result_save
from ..importing import exporting
from ..models import AwaitingResult
from .base import (
    ReadOnlyPermissions,
    TitledAdmin,
    refuse_unavailable_action,
    staff_user,
)
from .exports import may_export, record_export
from .forms import ExamResultForm
from .paper_choices import paper_datalist


class JobFilter(admin.SimpleListFilter):
    title = gettext_lazy("job")
    parameter_name = "job"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        jobs = awaiting_results().order_by().values_list("job_name", flat=True)
        return [(job, job) for job in sorted(set(jobs)) if job]

    def queryset(self, request: Any, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(job_name=self.value()) if self.value() else queryset


class StageFilter(admin.SimpleListFilter):
    title = gettext_lazy("stage")
    parameter_name = "stage"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        zh = (translation.get_language() or "").startswith("zh")
        stages = {
            stage_id: (name_zh if zh else name_en) or name_zh or name_en
            for stage_id, name_zh, name_en in awaiting_results()
            .order_by()
            .values_list("stage_id", "stage_name_zh", "stage_name_en")
        }
        return sorted(stages.items(), key=lambda item: item[1])

    def queryset(self, request: Any, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(stage_id=self.value()) if self.value() else queryset


@admin.action(
    description=gettext_lazy("Download a sheet to fill in (CSV)"),
    permissions=["export"],
)
def fill_in_csv(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]
) -> HttpResponse:
    record_export(request, queryset, what="fill-in sheet", fmt="csv")
    response = HttpResponse(
        exporting.fill_in_csv(queryset), content_type=exporting.CONTENT_TYPES["csv"]
    )
    response["Content-Disposition"] = f'attachment; filename="{_file_name("csv")}"'
    return response


@admin.action(
    description=gettext_lazy("Download a sheet to fill in (XLSX)"),
    permissions=["export"],
)
def fill_in_xlsx(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]
) -> FileResponse:
    record_export(request, queryset, what="fill-in sheet", fmt="xlsx")
    return FileResponse(
        exporting.fill_in_xlsx(queryset),
        as_attachment=True,
        filename=_file_name("xlsx"),
        content_type=exporting.CONTENT_TYPES["xlsx"],
    )


def _entry(obj: AwaitingResult, *, send: bool) -> SafeString:
    """The row's inputs. They belong to a form of the row's own, outside the
    list's form (the change list template renders it): ``form=`` ties them."""
    form = f"enter-{obj.application_id}"
    fields = format_html(
        '<input type="text" name="exam_resource_name" form="{}" list="papers" '
        'placeholder="{}" aria-label="{}" class="worklist-paper" required> '
        '<input type="text" name="score" form="{}" inputmode="decimal" size="6" '
        'placeholder="{}" aria-label="{}" class="worklist-score" required> '
        '<button type="submit" name="_save" form="{}" class="button">{}</button>',
        form,
        _("exam paper"),
        _("exam paper"),
        form,
        _("score"),
        _("score"),
        form,
        _("Save as draft"),
    )
    if not send:
        return fields
    return format_html(
        '{} <button type="submit" name="_send" form="{}" class="button default">'
        "{}</button>",
        fields,
        form,
        _("Save and send"),
    )


def _file_name(fmt: str) -> str:
    return f"awaiting_results_{timezone.localtime():%Y%m%d-%H%M}.{fmt}"


@admin.register(AwaitingResult)
class AwaitingResultAdmin(ReadOnlyPermissions, TitledAdmin):
    change_list_template = "admin/exams/awaitingresult/change_list.html"
    list_display = ("candidate_name", "job_name", "stage", "entered", "waiting")
    list_display_links = None
    list_filter = (JobFilter, StageFilter)
    search_fields = ("candidate_name",)
    search_help_text = gettext_lazy("Search by the candidate's name.")
    list_per_page = 50
    actions = (fill_in_csv, fill_in_xlsx)

    # Who sees results sees who awaits one; entering needs the right to add.
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("exams.view_examresult")

    def has_export_permission(self, request: HttpRequest) -> bool:
        return may_export(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return awaiting_results()

    def get_list_display(self, request: HttpRequest) -> Any:
        user = request.user
        if user.has_perm("exams.add_examresult") and user.has_perm(
            "exams.send_examresult"
        ):
            return (*self.list_display, "enter_and_send")
        if user.has_perm("exams.add_examresult"):
            return (*self.list_display, "enter_draft")
        return self.list_display

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<str:application_id>/enter/",
                wrap(
                    lambda request, application_id: self.enter_view(
                        request, application_id
                    )
                ),
                name="exams_awaitingresult_enter",
            ),
            *super().get_urls(),
        ]

    def response_action(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        refuse_unavailable_action(self, request)
        return super().response_action(request, queryset)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "POST":
            refuse_unavailable_action(self, request)
        extra = {
            "title": _("Candidates awaiting a result"),
            "may_enter": request.user.has_perm("exams.add_examresult"),
            "may_send": request.user.has_perm("exams.send_examresult"),
            # The catalogue's papers, each with its full mark, offered as staff
            # type the paper on a row.
            "papers": paper_datalist("papers"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    @admin.display(description=gettext_lazy("stage"), ordering="stage_name_zh")
    def stage(self, obj: AwaitingResult) -> str:
        return obj.stage_name(translation.get_language() or settings.LANGUAGE_CODE)

    @admin.display(
        description=gettext_lazy("entered the stage at"), ordering="entered_stage_at"
    )
    def entered(self, obj: AwaitingResult) -> str:
        if obj.entered_stage_at is None:
            return "—"
        return str(
            formats.date_format(
                timezone.localtime(obj.entered_stage_at), "DATETIME_FORMAT"
            )
        )

    @admin.display(
        description=gettext_lazy("days waiting"), ordering="entered_stage_at"
    )
    def waiting(self, obj: AwaitingResult) -> int:
        return days_waiting(obj.entered_stage_at)

    @admin.display(description=gettext_lazy("exam paper and score"))
    def enter_draft(self, obj: AwaitingResult) -> SafeString:
        return _entry(obj, send=False)

    @admin.display(description=gettext_lazy("exam paper and score"))
    def enter_and_send(self, obj: AwaitingResult) -> SafeString:
        return _entry(obj, send=True)

    def enter_view(self, request: HttpRequest, application_id: str) -> HttpResponse:
        """A score entered on the worklist's row: the result form's own checks,
        then saved as a draft or sent, through the same service."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("exams.add_examresult"):
            raise PermissionDenied
        send = "_send" in request.POST
        if send and not request.user.has_perm("exams.send_examresult"):
            raise PermissionDenied
        candidate = get_object_or_404(AwaitingResult, application_id=application_id)
        form = ExamResultForm(
            {
                "application_id": application_id,
                "exam_resource_name": request.POST.get("exam_resource_name", ""),
                "score": request.POST.get("score", ""),
                "uuid": "",
                "operator_id": "",
                "user_id_type": settings.FEISHU_USER_ID_TYPE,
            },
            user=request.user,
            send=send,
        )
        back = request.POST.get("next") or reverse(
            "admin:exams_awaitingresult_changelist"
        )
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    # format_html: an unknown paper's refusal carries its link.
                    self.message_user(
                        request,
                        format_html(
                            _("{name}: {error}"),
                            name=candidate.candidate_name,
                            error=error,
                        ),
                        messages.ERROR,
                    )
            return HttpResponseRedirect(back)
        try:
            exam_result_save(
                result=form.save(commit=False), actor=staff_user(request), send=send
            )
        except ValidationError as error:
            for message in error.messages:
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(back)
        self.message_user(
            request,
            (
                _("%(name)s's result was saved and queued for delivery to Feishu.")
                if send
                else _("%(name)s's result was saved as a draft.")
            )
            % {"name": candidate.candidate_name},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(back)
