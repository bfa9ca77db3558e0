"""The candidate behind each result, in the admin: the list's Candidate column,
the card on a result's page, the add form's live lookup as an application ID is
typed, and "Check again". Pages never wait on Feishu: what is not yet known shows
"looking up…" and fills in as a worker reads it (``candidates.js`` polls)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from ..candidates.display import candidate_label, candidate_view, mask_mobile
from ..candidates.lookups import applications_request_lookup
from ..models import CandidateApplication, ExamResult

MAX_IDS = 100


def attach_candidates(results: Iterable[ExamResult]) -> None:
    """Give each result of a page its mirror row, in one query. The page only
    reads: the rows still unknown are asked for by candidates.js, through
    ``candidate_json_view``, as soon as the page is shown."""
    rows = list(results)
    ids = list({r.application_id for r in rows})
    mirrors = CandidateApplication.objects.in_bulk(ids, field_name="application_id")
    for row in rows:
        # Read by candidate_cell.
        row._candidate = mirrors.get(row.application_id)  # type: ignore[attr-defined]


def candidate_cell(obj: ExamResult) -> SafeString:
    mirror = getattr(obj, "_candidate", None)
    label = candidate_label(mirror)
    if not label:
        return format_html(
            '<span class="candidate-pending" data-application-id="{}">{}</span>',
            obj.application_id,
            _("looking up…"),
        )
    mobile = (
        mask_mobile(mirror.mobile_number) if mirror and mirror.mobile_number else ""
    )
    return format_html('<span class="candidate" title="{}">{}</span>', mobile, label)


def _may_view(modeladmin: Any, request: HttpRequest) -> None:
    if not modeladmin.has_view_or_change_permission(request):
        raise PermissionDenied


def candidate_json_view(modeladmin: Any, request: HttpRequest) -> JsonResponse:
    """``?application_id=…`` (the add form, whole mobile) or ``?ids=a,b`` (the
    list, masked): what is known now, and a lookup asked for what is not."""
    _may_view(modeladmin, request)
    one = request.GET.get("application_id", "").strip()
    if one:
        if not (one.isascii() and one.isdigit() and len(one) <= 19):
            return JsonResponse(
                {
                    "state": "invalid",
                    "message": _(
                        "An application ID is digits only, at most 19 of them."
                    ),
                }
            )
        mirror = CandidateApplication.objects.filter(application_id=one).first()
        applications_request_lookup([one], known={one: mirror} if mirror else {})
        return JsonResponse(candidate_view(mirror, whole_mobile=True))
    ids = [i for i in request.GET.get("ids", "").split(",") if i][:MAX_IDS]
    mirrors = CandidateApplication.objects.in_bulk(ids, field_name="application_id")
    applications_request_lookup(ids, known=mirrors)
    return JsonResponse(
        {
            "candidates": {
                i: {
                    "label": candidate_label(mirrors.get(i)),
                    "state": candidate_view(mirrors.get(i), whole_mobile=False)[
                        "state"
                    ],
                }
                for i in ids
            }
        }
    )


def candidate_refresh_view(
    modeladmin: Any, request: HttpRequest, object_id: int
) -> HttpResponse:
    """ "Check again": the application is read from Feishu anew, in the background."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _may_view(modeladmin, request)
    result = get_object_or_404(ExamResult, pk=object_id)
    applications_request_lookup([result.application_id], force=True)
    modeladmin.message_user(
        request,
        _("Checking application %(id)s in Feishu again; the card updates by itself.")
        % {"id": result.application_id},
    )
    return HttpResponseRedirect(
        reverse("admin:exams_examresult_change", args=[result.pk])
    )


def candidate_card_context(result: ExamResult) -> dict[str, Any]:
    mirror = CandidateApplication.objects.filter(
        application_id=result.application_id
    ).first()
    applications_request_lookup(
        [result.application_id], known={result.application_id: mirror} if mirror else {}
    )
    return {
        "candidate": candidate_view(mirror, whole_mobile=True),
        "candidate_refresh_url": reverse(
            "admin:exams_examresult_candidate_refresh", args=[result.pk]
        ),
    }


def candidate_labels() -> dict[str, str]:
    """The card's words, for candidates.js, in the reader's language."""
    return {
        "name": _("Name"),
        "email": _("Email"),
        "mobile": _("Mobile"),
        "job": _("Job"),
        "stage": _("Stage"),
        "status": _("Application"),
        "active": _("active"),
        "terminated": _("terminated"),
        "checked_at": _("Checked in Feishu at"),
        "check_ok": _("Written-exam stage: the result can be sent."),
        "hidden": _("not shown by Feishu"),
    }
