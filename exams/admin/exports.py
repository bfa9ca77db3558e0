"""Exports of the exam-result list: streamed CSV, XLSX from a temporary file."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse

from ..importing import exporting
from ..models import ExamResult


def export_response(queryset: QuerySet[ExamResult], fmt: str) -> HttpResponseBase:
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
