"""Exports of the exam-result list: streamed CSV, XLSX from a temporary file; each
one in the audit trail."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponseBase,
    StreamingHttpResponse,
)

from ..audit.exports import export_record
from ..importing import exporting
from ..models import ExamResult
from .base import staff_user

EXPORT_PERMISSION = "exams.export_examresult"


def may_export(request: HttpRequest) -> bool:
    return request.user.has_perm(EXPORT_PERMISSION)


def record_export(
    request: HttpRequest, queryset: QuerySet[Any], *, what: str, fmt: str
) -> None:
    """Put an export in the audit trail: who, what, how many rows, which filters."""
    export_record(
        actor=staff_user(request),
        what=what,
        fmt=fmt,
        rows=queryset.count(),
        filters={key: request.GET.getlist(key) for key in request.GET},
    )


def export_response(
    request: HttpRequest, queryset: QuerySet[ExamResult], fmt: str, *, what: str
) -> HttpResponseBase:
    record_export(request, queryset, what=what, fmt=fmt)
    name = exporting.file_name(fmt)
    if fmt == "xlsx":
        return FileResponse(
            exporting.xlsx_file(queryset),
            as_attachment=True,
            filename=name,
            content_type=exporting.CONTENT_TYPES["xlsx"],
        )
    response = StreamingHttpResponse(
        exporting.csv_chunks(queryset), content_type=exporting.CONTENT_TYPES["csv"]
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
