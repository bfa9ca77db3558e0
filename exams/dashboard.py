"""The admin index's dashboard: results by status, deliveries and failures per
hour, the oldest pending result, the results still failed or unknown and
Feishu's state.

Built from a handful of aggregated, indexed queries (a GROUP BY over the
``(status, …)`` index, the last 24 hours of ``SyncAttempt`` through its
``started_at`` index, the failed and unknown results through the status index),
never per row, and
kept in the shared cache for at most a minute; the page says how old the figures
are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min
from django.db.models.functions import TruncHour
from django.utils import timezone

from .candidates.worklist import awaiting_results
from .models import ExamResult, FeishuAppState, SyncAttempt

Status = ExamResult.Status
Outcome = SyncAttempt.Outcome
FAILED_OUTCOMES = (Outcome.PERMANENT, Outcome.UNKNOWN, Outcome.RETRY)
FAILING_STATUSES = (Status.FAILED, Status.UNKNOWN)
HOURS = 24
RECENT_FAILURES = 10
MAX_CACHE_SECONDS = 60
# Feishu "answered recently" when its last answer is at most this old.
RECENT_ANSWER = dt.timedelta(minutes=15)

CHART_WIDTH = 720
CHART_HEIGHT = 160
CHART_TOP = 10
CHART_BOTTOM = 22
CHART_LEFT = 34


def cache_key() -> str:
    return f"exams:dashboard:v2:{settings.FEISHU_APP_ID}"


def cache_seconds() -> int:
    return max(0, min(settings.EXAMS_DASHBOARD_CACHE_SECONDS, MAX_CACHE_SECONDS))


def dashboard_data(*, use_cache: bool = True) -> dict[str, Any]:
    """The figures, from the cache when they are at most a minute old."""
    seconds = cache_seconds()
    if use_cache and seconds:
        data = cache.get(cache_key())
        if data is not None:
            return data
    data = compute()
    if seconds:
        cache.set(cache_key(), data, timeout=seconds)
    return data


def compute(now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    return {
        "computed_at": now,
        "counts": status_counts(),
        "hours": per_hour(now),
        "oldest_pending_at": oldest_pending_at(),
        "failures": recent_failures(),
        "feishu": feishu_state(),
        "awaiting": awaiting(),
    }


def awaiting() -> dict[str, Any]:
    """How many candidates await a result (counted up to the dashboard's limit),
    and since when the oldest does."""
    queryset = awaiting_results()
    limit = settings.EXAMS_DASHBOARD_COUNT_LIMIT
    return {
        "count": queryset.order_by()[: limit + 1].count(),
        "oldest_at": queryset.values_list("entered_stage_at", flat=True).first(),
    }


def status_counts() -> dict[str, int]:
    """Results per status, each counted up to ``EXAMS_DASHBOARD_COUNT_LIMIT``.

    One bounded count per status through the (status, …) index: an exact count of a
    million delivered rows would cost the page ten times what the rest does. A
    count that reached the limit is shown as "more than".
    """
    limit = settings.EXAMS_DASHBOARD_COUNT_LIMIT
    counts = {}
    for status in Status.values:
        counts[status] = (
            ExamResult.objects.filter(status=status).order_by()[: limit + 1].count()
        )
    return counts


def per_hour(now: dt.datetime) -> list[dict[str, Any]]:
    """Deliveries (exams added) and failed calls per hour over the last 24 hours,
    oldest first, from the started_at index."""
    local_now = timezone.localtime(now)
    this_hour = local_now.replace(minute=0, second=0, microsecond=0)
    since = this_hour - dt.timedelta(hours=HOURS - 1)
    rows = (
        SyncAttempt.objects.filter(started_at__gte=since)
        .order_by()
        .annotate(hour=TruncHour("started_at"))
        .values_list("hour", "call", "outcome")
        .annotate(n=Count("pk"))
    )
    buckets = {
        since + dt.timedelta(hours=i): {"delivered": 0, "failed": 0}
        for i in range(HOURS)
    }
    for hour, call, outcome, n in rows:
        bucket = buckets.get(timezone.localtime(hour))
        if bucket is None:
            continue
        if outcome == Outcome.SUCCESS and call == SyncAttempt.Call.CREATE_EXAM:
            bucket["delivered"] += n
        elif outcome in FAILED_OUTCOMES:
            bucket["failed"] += n
    return [{"hour": hour, **values} for hour, values in buckets.items()]


def oldest_pending_at() -> dt.datetime | None:
    """When the longest-waiting pending result was queued (its last change: being
    sent, or sent again after a retryable failure)."""
    return ExamResult.objects.filter(status=Status.PENDING).aggregate(
        oldest=Min("updated_at")
    )["oldest"]


def recent_failures() -> list[dict[str, Any]]:
    """The results still failed or of unknown outcome, last changed first, with
    their values as they stand: ten per status, found through the status index
    (failed and unknown are the exceptions, so their rows are few), merged. A
    result delivered since is not among them."""
    found: list[dict[str, Any]] = []
    for status in FAILING_STATUSES:
        rows = (
            ExamResult.objects.filter(status=status)
            .order_by("-updated_at", "-id")
            .values(
                "id",
                "application_id",
                "exam_resource_name",
                "score",
                "status",
                "updated_at",
                "last_error_code",
                "last_error_message",
            )[:RECENT_FAILURES]
        )
        found.extend(dict(row) for row in rows)
    found.sort(key=lambda f: (f["updated_at"], f["id"]), reverse=True)
    return found[:RECENT_FAILURES]


def feishu_state() -> dict[str, Any]:
    state = (
        FeishuAppState.objects.filter(app_id=settings.FEISHU_APP_ID)
        .values(
            "last_answer_at",
            "last_success_at",
            "paused_since",
            "paused_until",
            "pause_reason",
            "pause_code",
            "lookup_problem",
        )
        .first()
    )
    return dict(state) if state else {}


# --- the chart ------------------------------------------------------------------------


def chart(hours: list[dict[str, Any]]) -> dict[str, Any]:
    """Bar geometry for the server-rendered SVG: two bars an hour."""
    top = max([1] + [max(h["delivered"], h["failed"]) for h in hours])
    plot_h = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    slot = (CHART_WIDTH - CHART_LEFT) / max(1, len(hours))
    bar = max(1.0, slot / 2 - 1.5)
    bars = []
    labels = []
    for i, h in enumerate(hours):
        x = CHART_LEFT + i * slot
        for j, series in enumerate(("delivered", "failed")):
            height = plot_h * h[series] / top
            bars.append(
                {
                    "series": series,
                    "x": round(x + 1 + j * (bar + 1), 1),
                    "y": round(CHART_TOP + plot_h - height, 1),
                    "width": round(bar, 1),
                    "height": round(height, 1),
                    "value": h[series],
                    "hour": h["hour"],
                }
            )
        if i % 3 == 0:
            labels.append(
                {"x": round(x + slot / 2, 1), "text": h["hour"].strftime("%H:00")}
            )
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "baseline": CHART_TOP + plot_h,
        "top_y": CHART_TOP,
        "max": top,
        "bars": bars,
        "labels": labels,
        "label_y": CHART_HEIGHT - 6,
    }


def feishu_answered_recently(state: dict[str, Any], now: dt.datetime) -> bool:
    last = state.get("last_answer_at")
    return bool(last and now - last <= RECENT_ANSWER)
