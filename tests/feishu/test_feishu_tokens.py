"""Tenant token rules: caching, expiry, refresh once, single flight, no mutual
eviction, and the stores' atomic operations."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from decimal import Decimal

import pytest

from feishu import FeishuClient, MemoryTokenStore, RateLimitedError, RedisTokenStore
from feishu.auth import LOCAL_SECONDS
from feishu.tokens import cache_ttl
from tests.feishu.feishu_helpers import (
    APP_ID,
    APP_SECRET,
    APPLICATION_ID,
    OPERATOR,
    REDIS_URL,
)


def create(client: FeishuClient, name: str) -> None:
    client.create_exam(APPLICATION_ID, name, Decimal("70"), OPERATOR)


def create_at_once(
    clients: list[FeishuClient], *, stagger: float = 0.0
) -> list[BaseException]:
    """Each client creates one exam ("paper <i>") on a thread of its own, all let
    go together (client i ``i * stagger`` seconds later); what they raised."""
    start = threading.Barrier(len(clients))
    errors: list[BaseException] = []

    def work(client: FeishuClient, i: int) -> None:
        start.wait()
        time.sleep(i * stagger)
        try:
            create(client, f"paper {i}")
        except BaseException as exc:  # reported to the test
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(c, i)) for i, c in enumerate(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


# -- the sandbox follows Feishu's token rules --------------------------------------


def test_sandbox_token_lives_two_hours_and_is_reused_while_30_minutes_are_left(
    sandbox,
):
    first, expire = sandbox.token()
    second, expire_again = sandbox.token()

    assert first.startswith("t-")
    assert expire == 7200
    assert second == first
    assert expire_again <= expire


def test_sandbox_issues_a_new_token_under_30_minutes_and_the_old_stays_valid(
    sandbox, make_client
):
    sandbox.configure(token_lifetime=600)  # < 30 min left from the start
    old, _ = sandbox.token()
    new, _ = sandbox.token()
    assert new != old

    client = make_client()
    client._store.set(client.token_key, old, 60)
    create(client, "with the old token")

    assert sandbox.stats()["token_requests"] == 2  # none by the client


# -- caching ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expire", "ttl"), [(7200, 6600), (1200, 600), (60, 30), (3, 1.5)]
)
def test_token_is_cached_for_expire_minus_a_margin(expire, ttl):
    assert cache_ttl(expire) == ttl


@pytest.mark.parametrize("expire", [1, 0.5, 0, -5])
def test_a_token_about_to_expire_is_not_cached_with_a_non_positive_ttl(expire):
    assert cache_ttl(expire) is None


def test_one_token_serves_many_calls(sandbox, client):
    for i in range(5):
        create(client, f"paper {i}")

    assert sandbox.stats()["token_requests"] == 1


def test_an_expired_cached_token_is_fetched_again(sandbox, client):
    sandbox.configure(token_lifetime=2)  # cached for 1 s
    create(client, "first")
    time.sleep(1.2)

    create(client, "second")

    stats = sandbox.stats()
    assert stats["token_requests"] == 2
    assert stats["tokens_issued"] == 2
    assert sandbox.exams()["total"] == 2


class CountingStore(MemoryTokenStore):
    """A process's store that counts the reads of the token."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, key: str) -> str | None:
        self.reads += 1
        return super().get(key)


def test_a_token_is_asked_of_the_store_at_most_once_a_second(sandbox, make_client):
    store = CountingStore()
    client = make_client(token_store=store)
    create(client, "fetches the token")
    reads = store.reads

    for n in range(5):
        create(client, f"within the second {n}")
    assert store.reads == reads  # the token this process just stored

    time.sleep(LOCAL_SECONDS + 0.1)
    create(client, "a second later")
    assert store.reads == reads + 1
    assert sandbox.stats()["token_requests"] == 1


def test_revoked_token_is_refreshed_once_and_the_call_retried(sandbox, client):
    create(client, "before")
    sandbox.revoke_tokens()

    created = client.create_exam(APPLICATION_ID, "after", Decimal("70"), OPERATOR)

    assert created.exam_id
    stats = sandbox.stats()
    assert stats["token_requests"] == 2
    assert stats["requests"]["/open-apis/hire/v1/exams"] == 3  # one refused
    assert sandbox.exams()["total"] == 2
    assert sandbox.exams()["duplicates"] == []


def test_a_caller_rationing_calls_is_asked_before_the_resend(sandbox, make_client):
    # The refused request counts at Feishu: the resend is a call of its own.
    asked = []
    client = make_client(before_resend=asked.append)
    create(client, "before")
    sandbox.revoke_tokens()

    create(client, "after")

    assert asked == ["/open-apis/hire/v1/exams"]
    assert sandbox.exams()["total"] == 2


def test_a_caller_that_refuses_the_resend_gets_its_own_answer(sandbox, make_client):
    def no_permit(path: str) -> None:
        raise RateLimitedError("no permit", reset_seconds=3)

    client = make_client(before_resend=no_permit)
    create(client, "before")
    sandbox.revoke_tokens()

    with pytest.raises(RateLimitedError) as raised:
        create(client, "after")

    assert raised.value.reset_seconds == 3
    assert sandbox.stats()["requests"]["/open-apis/hire/v1/exams"] == 2
    assert sandbox.exams()["total"] == 1


def test_a_token_another_worker_already_replaced_is_not_evicted():
    store = MemoryTokenStore()
    store.set("k", "t-fresh", 60)

    assert store.delete_if_equals("k", "t-stale") is False
    assert store.get("k") == "t-fresh"


# -- single flight -------------------------------------------------------------------


def test_concurrent_threads_fetch_one_token(sandbox, make_client):
    sandbox.configure(token_latency=0.3, rate_limit=False)
    store = MemoryTokenStore()
    clients = [make_client(token_store=store) for _ in range(8)]

    assert create_at_once(clients) == []
    assert sandbox.stats()["token_requests"] == 1
    assert sandbox.exams()["total"] == 8


def test_workers_refused_together_do_not_evict_each_others_fresh_token(
    sandbox, make_client
):
    # All eight send with the same revoked token, staggered so that some are
    # refused only after the first worker stored a fresh token. An unconditional
    # delete would evict that fresh token and cause more fetches.
    sandbox.configure(rate_limit=False)
    store = MemoryTokenStore()
    clients = [make_client(token_store=store) for _ in range(8)]
    create(clients[0], "warm up")
    sandbox.revoke_tokens()
    sandbox.configure(latency=0.3, token_latency=0.1)

    # Staggered so that all read the old token before the first refusal.
    assert create_at_once(clients, stagger=0.04) == []
    assert sandbox.stats()["token_requests"] == 2  # warm up + one refresh
    assert sandbox.exams()["total"] == 9


def _process_worker(
    url: str, prefix: str, name: str, start: object, results: object
) -> None:
    import redis

    store = RedisTokenStore(redis.Redis.from_url(REDIS_URL), prefix=prefix)
    client = FeishuClient(url, APP_ID, APP_SECRET, store)
    start.wait()  # type: ignore[attr-defined]
    try:
        client.create_exam(APPLICATION_ID, name, Decimal("70"), OPERATOR)
        results.put("ok")  # type: ignore[attr-defined]
    except Exception as exc:
        results.put(repr(exc))  # type: ignore[attr-defined]
    finally:
        client.close()


def test_processes_sharing_redis_fetch_exactly_one_token(sandbox, redis_client):
    sandbox.configure(token_latency=0.3, rate_limit=False)
    prefix = f"test:{uuid.uuid4().hex}:"
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(4)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=_process_worker,
            args=(sandbox.url, prefix, f"paper {i}", start, results),
        )
        for i in range(4)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=10)

    try:
        assert outcomes == ["ok"] * 4
        stats = sandbox.stats()
        assert stats["token_requests"] == 1
        assert stats["tokens_issued"] == 1
        assert sandbox.exams()["total"] == 4
    finally:
        for key in redis_client.scan_iter(f"{prefix}*"):
            redis_client.delete(key)


def test_a_waiter_gives_up_on_a_stuck_lock_and_fetches_itself(sandbox, make_client):
    store = MemoryTokenStore()
    client = make_client(token_store=store, connect_timeout=0.2, read_timeout=0.3)
    assert store.acquire_lock(f"{client.token_key}:lock", 60)  # a dead holder

    create(client, "despite the lock")

    assert sandbox.stats()["token_requests"] == 1


# -- the stores' atomic operations -----------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        return MemoryTokenStore()
    redis_client = request.getfixturevalue("redis_client")
    prefix = f"test:{uuid.uuid4().hex}:"
    redis_store = RedisTokenStore(redis_client, prefix=prefix)
    request.addfinalizer(
        lambda: [redis_client.delete(k) for k in redis_client.scan_iter(f"{prefix}*")]
    )
    return redis_store


def test_store_lock_is_held_by_one_caller_until_released(store):
    first = store.acquire_lock("lock", 5)
    second = store.acquire_lock("lock", 5)

    assert first is not None
    assert second is None
    store.release_lock("lock", "not-the-owner")
    assert store.acquire_lock("lock", 5) is None
    store.release_lock("lock", first)
    assert store.acquire_lock("lock", 5) is not None


def test_store_lock_expires_on_its_own(store):
    assert store.acquire_lock("lock", 0.05)
    time.sleep(0.1)

    assert store.acquire_lock("lock", 5) is not None


def test_store_compare_and_delete_only_deletes_the_same_value(store):
    store.set("token", "t-a", 60)

    assert store.delete_if_equals("token", "t-b") is False
    assert store.get("token") == "t-a"
    assert store.delete_if_equals("token", "t-a") is True
    assert store.get("token") is None


def test_store_values_expire(store):
    store.set("token", "t-a", 0.05)
    time.sleep(0.1)

    assert store.get("token") is None
