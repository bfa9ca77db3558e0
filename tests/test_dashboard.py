"""The dashboard on the admin index, against known data."""

import datetime as dt

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from exams import dashboard
from exams.models import FeishuAppState, SyncAttempt

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

INDEX = reverse("admin:index")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.delete(dashboard.cache_key())
    yield
    cache.delete(dashboard.cache_key())


@pytest.fixture
def known(exam_result_factory):
    """3 drafts, 2 pending, 4 delivered, 1 failed, 1 unknown; 4 deliveries and 2
    failed calls in the last hours."""
    for _ in range(3):
        exam_result_factory()
    pending = [exam_result_factory(status="pending") for _ in range(2)]
    synced = [exam_result_factory(status="synced", exam_id=f"7{i}") for i in range(4)]
    failed = exam_result_factory(
        status="failed",
        last_error_code=1002002,
        last_error_message="invalid operator_id",
    )
    exam_result_factory(status="unknown")
    for result in synced:
        SyncAttempt.objects.create(result=result, outcome="success", http_status=200)
    SyncAttempt.objects.create(
        result=failed,
        outcome="permanent",
        http_status=400,
        feishu_code=1002002,
        feishu_msg="invalid operator_id",
    )
    SyncAttempt.objects.create(
        result=pending[0],
        outcome="retry",
        http_status=429,
        feishu_code=99991400,
        feishu_msg="request trigger frequency limit",
    )
    # An attempt from two days ago is outside the chart.
    old = SyncAttempt.objects.create(result=synced[0], outcome="success")
    SyncAttempt.objects.filter(pk=old.pk).update(
        started_at=timezone.now() - dt.timedelta(days=2)
    )
    return {"failed": failed}


def test_counts_by_status_match_the_data_and_link_to_the_filtered_list(
    client, superuser, known
):
    data = dashboard.compute()
    assert data["counts"] == {
        "draft": 3,
        "pending": 2,
        "sending": 0,
        "synced": 4,
        "failed": 1,
        "unknown": 1,
        "held": 0,
    }
    client.force_login(superuser)
    page = client.get(INDEX).content.decode()
    assert (
        '<a href="/admin/exams/examresult/?status__exact=failed" data-status="failed">'
        in page
    )
    assert '<span class="n">4</span>Delivered' in page
    assert "11 in all" in page
    assert 'id="app-list"' in page or "app-list" in page or "Exam results" in page


def test_the_chart_counts_deliveries_and_failures_of_the_last_24_hours(known):
    data = dashboard.compute()
    assert len(data["hours"]) == 24
    assert sum(h["delivered"] for h in data["hours"]) == 4
    assert sum(h["failed"] for h in data["hours"]) == 2
    assert data["hours"][-1]["delivered"] == 4
    geometry = dashboard.chart(data["hours"])
    assert len(geometry["bars"]) == 48
    tallest = max(geometry["bars"], key=lambda b: b["height"])
    assert tallest["value"] == 4


def test_the_page_shows_the_chart_failures_oldest_pending_and_feishu_state(
    client, superuser, known
):
    FeishuAppState.objects.create(
        app_id=settings.FEISHU_APP_ID,
        last_answer_at=timezone.now() - dt.timedelta(minutes=2),
        last_success_at=timezone.now() - dt.timedelta(minutes=5),
    )
    client.force_login(superuser)
    page = client.get(INDEX).content.decode()
    assert '<svg id="dashboard-chart"' in page
    assert "<script" not in page.split('id="exams-dashboard"')[1].split("</svg>")[0]
    assert "invalid operator_id" in page
    assert "Check the application ID" in page  # the 1002002 hint
    assert "Waiting for" in page
    assert "Feishu answered recently." in page
    assert "Delivery is running." in page
    assert "Figures as of" in page


def test_last_failures_are_the_results_still_failed_or_unknown_as_they_stand(
    client, superuser, known, exam_result_factory
):
    # A result that failed once and was delivered since is not a failure now.
    fixed = exam_result_factory(
        status="synced", exam_id="7999", last_error_message="was refused once"
    )
    SyncAttempt.objects.create(
        result=fixed, outcome="permanent", feishu_code=1002002, feishu_msg="once"
    )
    failures = dashboard.compute()["failures"]
    assert sorted(f["status"] for f in failures) == ["failed", "unknown"]
    assert {f["id"] for f in failures} >= {known["failed"].pk}
    client.force_login(superuser)
    page = client.get(INDEX).content.decode()
    assert f'href="/admin/exams/examresult/{known["failed"].pk}/change/"' in page
    # the pending result's rate-limited call is not a failure of a result
    assert "request trigger frequency limit" not in page
    assert "was refused once" not in page
    listing = client.get(
        "/admin/exams/examresult/", {"status__in": "failed,unknown"}
    ).content.decode()
    assert 'href="/admin/exams/examresult/?status__in=failed,unknown"' in page
    assert "2 results" in listing or "2 exam results" in listing


def test_a_paused_delivery_says_why(client, superuser):
    FeishuAppState.objects.create(
        app_id=settings.FEISHU_APP_ID,
        paused_since=timezone.now(),
        paused_until=timezone.now() + dt.timedelta(minutes=1),
        pause_reason="The Feishu app lacks the permission hire:exam.",
    )
    client.force_login(superuser)
    page = client.get(INDEX).content.decode()
    assert "Delivery to Feishu is paused." in page
    assert "lacks the permission hire:exam" in page
    assert "Feishu has not been called yet." in page


def test_figures_are_cached_for_at_most_a_minute(superuser, exam_result_factory):
    exam_result_factory()
    first = dashboard.dashboard_data()
    exam_result_factory()
    assert (
        dashboard.dashboard_data()["counts"]["draft"] == first["counts"]["draft"] == 1
    )
    assert dashboard.cache_seconds() <= 60
    cache.delete(dashboard.cache_key())
    assert dashboard.dashboard_data()["counts"]["draft"] == 2


def test_the_dashboard_costs_a_fixed_number_of_queries(
    client, superuser, known, django_assert_max_num_queries, exam_result_factory
):
    client.force_login(superuser)
    client.get(INDEX)  # the session and the user, once
    cache.delete(dashboard.cache_key())
    for _ in range(20):
        exam_result_factory(status="failed")
    # Session, user, cache read and write (four on the database cache), a bounded
    # count per status (seven), five other figures, the worklist's count and its
    # oldest, recent actions: a fixed number, nothing per row.
    with django_assert_max_num_queries(24):
        client.get(INDEX)
