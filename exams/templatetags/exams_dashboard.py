"""``{% exam_dashboard %}``: the dashboard on the admin index (exams.dashboard)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from exams import dashboard
from exams.audit.hints import CODE_HINTS, DEFAULT_SCOPE
from exams.models import ExamResult

register = template.Library()


def _hint(failure: dict[str, Any]) -> str:
    code = failure["last_error_code"]
    if code not in CODE_HINTS:
        return ""
    hint = str(CODE_HINTS[code])
    if code == 99991672:
        hint = hint % {"scopes": DEFAULT_SCOPE}
    return hint


@register.inclusion_tag("admin/exams/dashboard.html", takes_context=True)
def exam_dashboard(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("exams.view_examresult"):
        return {"show": False}
    data = dashboard.dashboard_data()
    now = timezone.now()
    changelist = reverse("admin:exams_examresult_changelist")
    statuses = [
        {
            "value": status,
            "label": label,
            "count": data["counts"].get(status, 0),
            "more": data["counts"].get(status, 0)
            > settings.EXAMS_DASHBOARD_COUNT_LIMIT,
            "limit": settings.EXAMS_DASHBOARD_COUNT_LIMIT,
            "url": f"{changelist}?status__exact={status}",
        }
        for status, label in ExamResult.Status.choices
    ]
    statuses_shown = dict(ExamResult.Status.choices)
    failures = [
        {
            **failure,
            "status_label": statuses_shown.get(failure["status"], failure["status"]),
            "hint": _hint(failure),
            "url": reverse("admin:exams_examresult_change", args=[failure["id"]]),
        }
        for failure in data["failures"]
    ]
    feishu = data["feishu"]
    oldest = data["oldest_pending_at"]
    return {
        "show": True,
        "statuses": statuses,
        "total": sum(s["count"] for s in statuses),
        "chart": dashboard.chart(data["hours"]),
        "hours": data["hours"],
        "delivered_24h": sum(h["delivered"] for h in data["hours"]),
        "failed_24h": sum(h["failed"] for h in data["hours"]),
        "oldest_pending_at": oldest,
        "failures": failures,
        "feishu": feishu,
        "feishu_recent": dashboard.feishu_answered_recently(feishu, now),
        "paused": bool(feishu.get("paused_since")),
        "check_off": not settings.CANDIDATE_CHECK_BEFORE_SEND,
        "lookup_problem": feishu.get("lookup_problem", ""),
        "held_url": f"{changelist}?status__exact=held",
        "awaiting": data.get("awaiting") or {"count": 0, "oldest_at": None},
        "limit": settings.EXAMS_DASHBOARD_COUNT_LIMIT,
        "awaiting_more": (data.get("awaiting") or {}).get("count", 0)
        > settings.EXAMS_DASHBOARD_COUNT_LIMIT,
        "worklist_url": reverse("admin:exams_awaitingresult_changelist"),
        "computed_at": data["computed_at"],
        "cache_seconds": dashboard.cache_seconds(),
        "pending_url": f"{changelist}?status__exact=pending",
        "failed_url": f"{changelist}?status__exact=failed",
        "failing_url": f"{changelist}?status__in="
        + ",".join(dashboard.FAILING_STATUSES),
        "audit_url": reverse("exams_audit:review")
        if user.has_perm("exams.review_audit")
        else "",
    }
