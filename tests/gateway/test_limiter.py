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


def make_limiter(kind: str, path: str, app: str):
    if kind == "redis":
        return RedisLimiter(settings.REDIS_URL, app, TABLE)
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
    return f"cli_test_{request.node.name[-20:]}_{time.time_ns()}"


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
