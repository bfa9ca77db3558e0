"""The reviewers' audit page (``/admin/exams/audit/``): every call to Feishu,
change, correction and audit event, filtered and paged, with a streamed CSV.
Needs the ``exams.review_audit`` permission, checked by each view."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..audit import review
from ..audit.events import event_words
from ..audit.hints import attempt_hint, pretty_body
from ..audit.history import actor_label
from .base import local_time, result_link
from .forms import VIEWS, AuditFilterForm
from .history import diff_html

PER_PAGE = 50


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
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page = 1
    start = (page - 1) * PER_PAGE
    items = review.page_items(view, filters, start, PER_PAGE + 1)
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
            _("why"),
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
    return review.csv_headers(view)


def _with(params: Any, **values: str) -> str:
    copy = params.copy()
    for key, value in values.items():
        copy[key] = value
    return "?" + copy.urlencode()


def _display_row(request: HttpRequest, view: str, item: Any) -> dict[str, Any]:
    if view == "attempts":
        return {
            "item": item,
            "result": result_link(
                item.result_id,
                f"#{item.result_id} {item.result.application_id} · "
                f"{item.result.exam_resource_name}",
            ),
            "person": actor_label(item.result.entered_by),
            "hint": attempt_hint(item),
            "request": pretty_body(item.request_body),
            "answer": pretty_body(item.response_body),
        }
    if view == "changes":
        row = review.change_row(item)
        return {
            "cells": [
                local_time(item.changed_at),
                result_link(item.result_id, f"#{row[1]} {row[2]} · {row[3]}"),
                *row[4:8],
                diff_html(item.diffs),
            ]
        }
    if view == "corrections":
        row = review.correction_row(item)
        return {
            "cells": [
                local_time(item.created_at),
                result_link(item.result_id, f"#{row[1]} {row[2]} · {row[3]}"),
                *row[4:],
            ]
        }
    row = review.event_row(item)
    return {"cells": [local_time(item.occurred_at), *row[1:3], event_words(item)]}


def audit_export_view(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV, streamed row chunk by row chunk."""
    _require_reviewer(request)
    form = AuditFilterForm(request.GET)
    view = form.chosen_view()
    response = StreamingHttpResponse(
        review.csv_chunks(view, form.filters()), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{view}-{stamp}.csv"'
    return response
