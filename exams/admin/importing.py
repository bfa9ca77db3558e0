"""Import and export in the exam-result admin: the views and the actions.

``ImportExportMixin`` goes in front of ``ExamResultAdmin``'s bases. The views parse
the request, call exams.importing.service / exams.exporting and report back;
the rules live in those modules.

Flow: Import → upload (preview stored in an ImportBatch) → preview page → confirm
(written now, or by a worker with a progress page for large files) → result page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import wording
from ..importing import columns, exporting, reading, service, template_sheets
from ..models import ExamResult, ImportBatch
from .base import staff_user
from .exports import export_response, may_export
from .forms import ImportConfirmForm, ImportUploadForm

if TYPE_CHECKING:
    # What the mixin is mixed into, for mypy; at run time it stays a plain class.
    class _ResultAdminBase(admin.ModelAdmin[ExamResult]):
        def has_send_permission(self, request: HttpRequest) -> bool: ...

else:
    _ResultAdminBase = object

BatchStatus = ImportBatch.Status
IN_PROGRESS = (BatchStatus.MATCHING, BatchStatus.QUEUED, BatchStatus.RUNNING)
ERRORS_PER_PAGE = 100
CHANGES_PER_PAGE = 100
RECENT_IMPORTS = 10
KIND_LABELS = {
    "new": gettext_lazy("new"),
    "unchanged": gettext_lazy("unchanged"),
    "changed": gettext_lazy("changed"),
    "conflict": gettext_lazy("in conflict"),
    "invalid": gettext_lazy("invalid"),
    "duplicate": gettext_lazy("repeated (counted once)"),
    "to_pick": gettext_lazy("candidate to pick"),
}


def _summary(batch: ImportBatch) -> tuple[str, int]:
    """What an ended import did, for a message, and the message's level."""
    name = batch.file_name
    if batch.status == BatchStatus.FAILED:
        return (
            _("The import of “%(file)s” failed and wrote nothing: %(error)s")
            % {"file": name, "error": wording.render(batch.error)},
            messages.ERROR,
        )
    if batch.status == BatchStatus.REFUSED:
        return (
            _(
                "Nothing was imported from “%(file)s”: you chose all or nothing, and "
                "%(invalid)d row(s) are invalid and %(conflict)d in conflict."
            )
            % {
                "file": name,
                "invalid": batch.invalid_count,
                "conflict": batch.conflict_count,
            },
            messages.WARNING,
        )
    text = _(
        "Imported “%(file)s”: %(created)d created, %(changed)d changed, "
        "%(unchanged)d unchanged, %(invalid)d invalid, %(conflict)d in conflict."
    ) % {
        "file": name,
        "created": batch.created_count,
        "changed": batch.updated_count,
        "unchanged": batch.unchanged_count,
        "invalid": batch.invalid_count,
        "conflict": batch.conflict_count,
    }
    if batch.options.get("send"):
        text += " " + _("%(count)d queued for delivery to Feishu.") % {
            "count": batch.sent_count
        }
    differences = len(batch.report.get("differences", []))
    if differences:
        text += " " + _(
            "%(count)d row(s) were classified differently than in the preview "
            "(the database changed in between): see the list."
        ) % {"count": differences}
    level = (
        messages.WARNING
        if batch.invalid_count or batch.conflict_count or differences
        else messages.SUCCESS
    )
    return text, level


class ResultSpreadsheetMixin(_ResultAdminBase):
    """Import and Export buttons, their views, and "export selected" actions."""

    change_list_template = "admin/exams/examresult/import_export_change_list.html"

    # --- permissions ---------------------------------------------------------
    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return may_export(request)

    def _batch_for(self, request: HttpRequest, batch_id: int) -> ImportBatch:
        if not self.has_import_permission(request):
            raise PermissionDenied
        batch = get_object_or_404(ImportBatch.objects.defer("content"), pk=batch_id)
        if batch.created_by_id != request.user.pk and not request.user.is_superuser:
            raise Http404
        return batch

    # --- urls ------------------------------------------------------------------
    def get_urls(self) -> list[Any]:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name=f"{prefix}_import"),
            path(
                "import/<int:batch_id>/",
                wrap(self.import_batch_view),
                name=f"{prefix}_import_batch",
            ),
            path(
                "import/<int:batch_id>/progress/",
                wrap(self.import_progress_view),
                name=f"{prefix}_import_progress",
            ),
            path(
                "import/template/<str:language>.<str:fmt>",
                wrap(self.import_template_view),
                name=f"{prefix}_import_template",
            ),
            path("export/", wrap(self.export_view), name=f"{prefix}_export"),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "changelist_url": reverse("admin:exams_examresult_changelist"),
            "import_url": reverse("admin:exams_examresult_import"),
            **extra,
        }

    # --- change list -------------------------------------------------------------
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "GET" and request.user.is_authenticated:
            # Background imports that ended since staff last looked.
            for batch in service.import_batches_to_notify(user=staff_user(request)):
                text, level = _summary(batch)
                self.message_user(request, text, level)
        params = request.GET.copy()
        export_url = reverse("admin:exams_examresult_export")
        extra = {
            "show_import": self.has_import_permission(request),
            "export_urls": [],
            **(extra_context or {}),
        }
        for fmt, label in (("csv", _("Export CSV")), ("xlsx", _("Export XLSX"))):
            if not self.has_export_permission(request):
                break
            params["format"] = fmt
            extra["export_urls"].append((f"{export_url}?{params.urlencode()}", label))
        return super().changelist_view(request, extra)

    # --- import --------------------------------------------------------------------
    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > service.max_upload_bytes():
                form.add_error(
                    "file",
                    _("The file is larger than %(max)s MB; split it.")
                    % {"max": service.max_upload_bytes() // (1024 * 1024)},
                )
            else:
                try:
                    batch = service.import_batch_create(
                        content=upload.read(),
                        file_name=upload.name,
                        actor=staff_user(request),
                    )
                except reading.ImportFileError as error:
                    form.add_error("file", error)
                else:
                    return HttpResponseRedirect(
                        reverse("admin:exams_examresult_import_batch", args=[batch.pk])
                    )
        recent = ImportBatch.objects.defer("content", "report").filter(
            created_by=staff_user(request)
        )[:RECENT_IMPORTS]
        return TemplateResponse(
            request,
            "admin/exams/examresult/import.html",
            self._context(
                request,
                title=_("Import a spreadsheet of exam results"),
                form=form,
                recent=recent,
                background_rows=service.background_threshold(),
                templates=[
                    (
                        reverse(
                            "admin:exams_examresult_import_template",
                            args=[language, fmt],
                        ),
                        fmt.upper(),
                        language,
                    )
                    for language in template_sheets.HEADER_LANGUAGES
                    for fmt in ("xlsx", "csv")
                ],
                history_url=reverse("admin:exams_importbatch_changelist")
                if request.user.has_perm("exams.view_importbatch")
                else "",
            ),
        )

    def import_template_view(
        self, request: HttpRequest, language: str, fmt: str
    ) -> HttpResponse:
        """A blank sheet to fill in: the columns, one example row."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        if language not in template_sheets.HEADER_LANGUAGES or fmt not in (
            "csv",
            "xlsx",
        ):
            raise Http404
        content = (
            template_sheets.template_xlsx(language)
            if fmt == "xlsx"
            else template_sheets.template_csv(language)
        )
        response = HttpResponse(content, content_type=exporting.CONTENT_TYPES[fmt])
        name = template_sheets.template_file_name(fmt, language)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def import_batch_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        batch = self._batch_for(request, batch_id)
        if request.method == "POST":
            return self._import_decide(request, batch)
        if batch.status in IN_PROGRESS:
            return TemplateResponse(
                request,
                "admin/exams/examresult/import_progress.html",
                self._context(
                    request,
                    title=_("Importing “%(file)s”") % {"file": batch.file_name},
                    batch=batch,
                    progress_url=reverse(
                        "admin:exams_examresult_import_progress", args=[batch.pk]
                    ),
                ),
            )
        if batch.status in service.FINISHED:
            service.import_batch_mark_notified(batch=batch)
        report = batch.report or {}
        headers = report.get("headers", {})

        def page(key: str, param: str, per_page: int) -> Any:
            return Paginator(report.get(key, []), per_page).get_page(
                request.GET.get(param)
            )

        errors = page("errors", "errors_page", ERRORS_PER_PAGE)
        for error in errors.object_list:
            error[2] = wording.render(error[2])
            error.append(columns.column_label(error[1], headers.get(error[1], "")))
        changes = page("changes", "changes_page", CHANGES_PER_PAGE)
        for item in changes.object_list:
            item[3] = wording.render(item[3])
        conflicts = page("conflicts", "conflicts_page", CHANGES_PER_PAGE)
        for item in conflicts.object_list:
            item[3], item[5] = wording.render(item[3]), wording.render(item[5])
        checks = [
            [*item[:2], wording.render(item[2])] for item in report.get("checks", [])
        ]
        to_pick = [
            {**item, "message": wording.render(item.get("message"))}
            for item in report.get("to_pick", [])
        ]
        unknown_papers = self._unknown_papers(request, report)
        differences = page("differences", "differences_page", CHANGES_PER_PAGE)
        for item in differences.object_list:
            item[1:] = [KIND_LABELS.get(kind, kind) for kind in item[1:]]
        rows = [
            [row[0], KIND_LABELS.get(row[1], row[1]), *row[2:]]
            for row in report.get("rows", [])
        ]
        previewed = batch.status == BatchStatus.PREVIEWED
        return TemplateResponse(
            request,
            "admin/exams/examresult/import_preview.html",
            self._context(
                request,
                title=(
                    _("Preview of “%(file)s”")
                    if previewed
                    else _("Import of “%(file)s”")
                )
                % {"file": batch.file_name},
                batch=batch,
                report=report,
                counts=report.get("counts", {}),
                errors=errors,
                changes=changes,
                conflicts=conflicts,
                checks=checks,
                to_pick=to_pick,
                unknown_papers=unknown_papers,
                differences=differences,
                rows=rows,
                written=report.get("written"),
                previewed=previewed,
                confirm_form=ImportConfirmForm() if previewed else None,
                can_send=self.has_send_permission(request),
                background=batch.total_rows > service.background_threshold(),
            ),
        )

    def _unknown_papers(
        self, request: HttpRequest, report: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The papers the file names that are not in the catalogue, each with a
        link to add it (for those who may)."""
        add = (
            reverse("admin:exams_exampaper_add")
            if request.user.has_perm("exams.add_exampaper")
            else ""
        )
        return [
            {
                "name": name,
                "count": count,
                "rows": rows,
                "more": count > len(rows),
                "add_url": f"{add}?{urlencode({'name': name})}" if add else "",
            }
            for name, count, rows in report.get("unknown_papers", [])
        ]

    def _import_decide(self, request: HttpRequest, batch: ImportBatch) -> HttpResponse:
        batch_url = reverse("admin:exams_examresult_import_batch", args=[batch.pk])
        if "_check_again" in request.POST:
            if not service.import_batch_check_again(
                batch=batch, actor=staff_user(request)
            ):
                self.message_user(
                    request,
                    _("This import is no longer waiting for confirmation."),
                    messages.WARNING,
                )
            return HttpResponseRedirect(batch_url)
        if "_cancel" in request.POST:
            service.import_batch_cancel(batch=batch, actor=staff_user(request))
            self.message_user(
                request,
                _("The import of “%(file)s” was cancelled; nothing was written.")
                % {"file": batch.file_name},
                messages.INFO,
            )
            return HttpResponseRedirect(reverse("admin:exams_examresult_import"))
        form = ImportConfirmForm(request.POST)
        form.is_valid()
        send = bool(form.cleaned_data.get("send"))
        if send and not self.has_send_permission(request):
            raise PermissionDenied
        try:
            batch = service.import_batch_confirm(
                batch=batch,
                actor=staff_user(request),
                all_or_nothing=bool(form.cleaned_data.get("all_or_nothing")),
                picks={
                    key.removeprefix("pick_"): request.POST.get(key, "")
                    for key in request.POST
                    if key.startswith("pick_") and request.POST.get(key)
                },
                send=send,
            )
        except ValidationError as error:
            for message in error.messages:
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(batch_url)
        if batch.status in service.FINISHED:
            service.import_batch_mark_notified(batch=batch)
            text, level = _summary(batch)
            self.message_user(request, text, level)
        else:
            self.message_user(
                request,
                _(
                    "“%(file)s” has %(rows)d rows: it is being imported in the "
                    "background. You can leave this page; you will be told when it ends."
                )
                % {"file": batch.file_name, "rows": batch.total_rows},
                messages.INFO,
            )
        return HttpResponseRedirect(batch_url)

    def import_progress_view(self, request: HttpRequest, batch_id: int) -> JsonResponse:
        batch = self._batch_for(request, batch_id)
        finished = batch.status not in IN_PROGRESS
        total = batch.total_rows or 0
        done = min(batch.processed_rows, total) if total else 0
        return JsonResponse(
            {
                "status": batch.status,
                "status_display": str(batch.get_status_display()),
                "phase": batch.phase,
                "processed": done,
                "total": total,
                "finished": finished,
                "message": _summary(batch)[0] if finished else "",
            }
        )

    # --- export --------------------------------------------------------------------
    def export_view(self, request: HttpRequest) -> HttpResponseBase:
        if not self.has_export_permission(request):
            raise PermissionDenied
        params = request.GET.copy()
        fmt = params.pop("format", ["csv"])[-1]
        if fmt not in exporting.CONTENT_TYPES:
            raise Http404
        request.GET = QueryDict(params.urlencode())
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:exams_examresult_changelist"))
        return export_response(request, changelist.queryset, fmt, what="results")
