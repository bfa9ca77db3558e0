"""The shared limiter: one budget for every process, on Redis or on one machine."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest
from django.conf import settings

from exams.gateway.limiter import FileLimiter, Limits, LimitTable, RedisLimiter

pytestmark = pytest.mark.embedded

LIMITS = Limits(per_second=5, per_minute=12, margin=0.05, minute_margin=0.05)
DETAIL = Limits(per_second=2, per_minute=100, margin=0.05, minute_margin=0.05)
TABLE = LimitTable(
    (("exams", LIMITS), ("tests_search", LIMITS), ("application_detail", DETAIL))
)


def no_calls(within: float) -> dict[str, list[float]]:
    return {"exams": [], "tests_search": []}


def make_limiter(kind: str, path: str, app: str, recent_calls=no_calls):
    if kind == "redis":
        return RedisLimiter(settings.REDIS_URL, app, TABLE, recent_calls)
    return FileLimiter(Path(path), TABLE)


def _grab(kind: str, path: str, app: str, seconds: float, queue) -> None:
    limiter = make_limiter(kind, path, app)
    granted = []
    end = time.time() + seconds
    while time.time() < end:
        wait = limiter.acquire("exams")
        if wait == 0:
            granted.append(time.time())
        else:
            time.sleep(min(wait, 0.05))
    queue.put(granted)


@pytest.fixture
def kind(tmp_path):
    return "redis" if settings.REDIS_URL else "file"


@pytest.fixture
def app_id(request):
    """A new app's: on Redis, its windows known to be empty."""
    app = f"cli_test_{request.node.name[-20:]}_{time.time_ns()}"
    if settings.REDIS_URL:
        RedisLimiter(settings.REDIS_URL, app, TABLE, no_calls).start_fresh()
    return app


def test_processes_together_stay_under_both_windows(kind, tmp_path, app_id):
    path = str(tmp_path / "limiter.json")
    queue = multiprocessing.get_context("fork").Queue()
    procs = [
        multiprocessing.get_context("fork").Process(
            target=_grab, args=(kind, path, app_id, 2.5, queue)
        )
        for _ in range(4)
    ]
    for proc in procs:
        proc.start()
    stamps = sorted(t for _ in procs for t in queue.get(timeout=30))
    for proc in procs:
        proc.join(timeout=10)
    # Within 2.5 s the per-minute budget (12) binds; per second at most 5.
    assert len(stamps) == LIMITS.per_minute
    for i, start in enumerate(stamps):
        in_second = [t for t in stamps[i:] if t < start + 1.0]
        assert len(in_second) <= LIMITS.per_second


def test_available_peeks_without_taking_a_permit(kind, tmp_path, app_id):
    limiter = make_limiter(kind, str(tmp_path / "l.json"), app_id)
    assert limiter.available("exams") == (5, 0.0)
    assert limiter.available("exams") == (5, 0.0)
    for _ in range(5):
        assert limiter.acquire("exams") == 0
    free, wait = limiter.available("exams")
    assert free == 0
    assert 0 < wait <= 1.05


def test_a_block_pauses_every_caller_of_that_api_only(kind, tmp_path, app_id):
    path = str(tmp_path / "l.json")
    first = make_limiter(kind, path, app_id)
    second = make_limiter(kind, path, app_id)
    first.block("exams", 2)
    assert 1 < second.acquire("exams") <= 2
    assert second.acquire("tests_search") == 0


def test_each_api_has_its_own_limits(kind, tmp_path, app_id):
    # get_detail allows 10 a second where the exam APIs allow 50: a lookup never
    # takes an exam post's permit, and each stays under its own limit.
    limiter = make_limiter(kind, str(tmp_path / "l.json"), app_id)
    assert [limiter.acquire("application_detail") for _ in range(2)] == [0, 0]
    assert limiter.acquire("application_detail") > 0
    assert limiter.available("exams") == (5, 0.0)


def test_the_documented_limits_of_the_candidate_apis(settings):
    settings.FEISHU_RATE_LIMITS = {"job_processes": (5, 100)}
    table = LimitTable.from_settings()
    assert table.for_api("application_detail").per_second == 10
    assert table.for_api("application_get").per_minute == 1000
    assert table.for_api("job_processes").per_second == 5
    assert table.for_api("exams").per_second == settings.FEISHU_RATE_PER_SECOND
    with pytest.raises(KeyError):
        table.for_api("no_such_api")


needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL, reason="the windows' state is lost only with Redis"
)


def lose_state(app: str) -> None:
    """What a restart of Redis without persistence, or a FLUSHDB, leaves."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(f"hp:limiter:{app}:*"))
    if keys:
        client.delete(*keys)


@needs_redis
def test_after_its_state_is_lost_the_limiter_counts_the_calls_the_database_recorded(
    app_id,
):
    # 12 a minute; the database recorded 6 calls 30 s ago: the rebuilt windows hold
    # them and a full last second (5), so one permit is left this minute.
    recorded = {"exams": [30.0] * 6, "tests_search": []}
    first = make_limiter("redis", "", app_id)
    for _ in range(5):
        assert first.acquire("exams") == 0
    lose_state(app_id)
    second = make_limiter("redis", "", app_id, recent_calls=lambda within: recorded)
    free, wait = second.available("exams")
    assert free == 0 and 0 < wait <= 1.05  # the last second, assumed full
    time.sleep(wait + 0.05)
    assert second.acquire("exams") == 0
    assert second.acquire("exams") > 25  # the minute is full until the old calls age


@needs_redis
def test_apis_without_a_record_of_their_calls_wait_out_a_whole_minute(app_id):
    lose_state(app_id)
    limiter = make_limiter("redis", "", app_id, recent_calls=no_calls)
    assert 59 < limiter.acquire("application_detail") <= 60.05
    free, wait = limiter.available("exams")
    assert free == 0 and wait <= 1.05


@needs_redis
def test_limiters_finding_the_state_lost_together_rebuild_it_once(app_id):
    calls = []

    def recorded(within: float) -> dict[str, list[float]]:
        calls.append(within)
        return {"exams": [20.0, 20.0], "tests_search": []}

    lose_state(app_id)
    first = make_limiter("redis", "", app_id, recent_calls=recorded)
    second = make_limiter("redis", "", app_id, recent_calls=recorded)
    assert first.available("exams")[0] == 0
    assert second.available("exams")[0] == 0
    assert len(calls) == 1
    time.sleep(1.1)
    # 2 recorded + 5 for the last second = 7 of 12: five left, not twice seeded.
    assert first.available("exams") == (5, 0.0)


@pytest.mark.django_db
def test_the_calls_recorded_are_those_of_the_last_minute(exam_result_factory):
    from datetime import timedelta

    from django.utils import timezone

    from exams.gateway.limiter import recorded_calls
    from exams.models import CandidateApplication, SyncAttempt

    result = exam_result_factory()
    now = timezone.now()
    for call, ago in [
        (SyncAttempt.Call.CREATE_EXAM, 5),
        (SyncAttempt.Call.CREATE_EXAM, 50),
        (SyncAttempt.Call.CREATE_EXAM, 75),
        (SyncAttempt.Call.SEARCH_TESTS, 10),
    ]:
        attempt = SyncAttempt.objects.create(result=result, call=call)
        SyncAttempt.objects.filter(pk=attempt.pk).update(
            started_at=now - timedelta(seconds=ago)
        )
    CandidateApplication.objects.create(
        application_id="7001",
        checked_at=now - timedelta(seconds=3),
        detail_fetched_at=now - timedelta(seconds=90),
    )
    calls = recorded_calls(61)
    assert sorted(round(age) for age in calls["exams"]) == [5, 50]
    assert [round(age) for age in calls["tests_search"]] == [10]
    assert calls["attachments"] == []
    assert [round(age) for age in calls["application_get"]] == [3]
    assert calls["application_detail"] == []


def test_every_path_the_client_calls_has_its_limit():
    from exams.gateway.client import api_for_path

    assert api_for_path("/open-apis/hire/v1/exams") == "exams"
    assert api_for_path("/open-apis/hire/v1/applications/7001") == "application_get"
    detail = "/open-apis/hire/v1/applications/7001/get_detail"
    assert api_for_path(detail) == "application_detail"
    assert api_for_path("/open-apis/hire/v1/applications") == "application_list"
    assert api_for_path("/open-apis/hire/v1/tests/search") == "tests_search"
    with pytest.raises(KeyError):
        api_for_path("/open-apis/hire/v1/unknown")


@pytest.mark.django_db
def test_a_resend_with_a_fresh_token_takes_a_permit_or_is_deferred(settings, tmp_path):
    from exams.gateway import client as gateway_client
    from exams.gateway.limiter import get_limiter, limiter_start_fresh
    from feishu import RateLimitedError

    settings.FEISHU_APP_ID = f"cli_resend_{time.time_ns()}"
    settings.FEISHU_RATE_PER_SECOND, settings.FEISHU_RATE_PER_MINUTE = 2, 3
    settings.VAR_DIR = tmp_path
    limiter_start_fresh()
    limiter = get_limiter()
    assert limiter.acquire("exams") == 0
    gateway_client.resend_permit("/open-apis/hire/v1/exams")  # the second permit
    assert limiter.acquire("exams") > 0  # the second is spent: no third this second
    time.sleep(1.3)
    gateway_client.resend_permit("/open-apis/hire/v1/exams")  # the third of the minute
    with pytest.raises(RateLimitedError) as deferred:
        gateway_client.resend_permit("/open-apis/hire/v1/exams")
    assert deferred.value.reset_seconds > 50  # not a permit until the minute passes
