"""The portal's Feishu client: one per process, its token kept in a store every
process shares.

With Redis, every worker on every machine shares one tenant token (and the
engine's locks) through ``feishu.RedisTokenStore``. On the embedded default they
live in the database-backed cache, whose ``add()`` is an atomic insert and whose
compare-and-delete runs inside one (IMMEDIATE, so serialised) SQLite transaction.
"""

from __future__ import annotations

import os
import time
from functools import cache

import redis
from django.conf import settings
from django.core.cache import cache as django_cache
from django.db import transaction

from feishu import FeishuClient, RateLimitedError, RedisTokenStore, TokenStore
from feishu.candidates import (
    APPLICATION_PATH,
    APPLICATIONS_PATH,
    JOB_PROCESSES_PATH,
    TALENT_BATCH_GET_ID_PATH,
)
from feishu.contact import BATCH_GET_ID_PATH
from feishu.exams import ATTACHMENTS_PATH, EXAMS_PATH, TESTS_SEARCH_PATH

from .limiter import get_limiter

LOCK_VALUE_PREFIX = "lock:"


class DjangoCacheTokenStore:
    """``feishu.TokenStore`` over Django's cache (the embedded default)."""

    def get(self, key: str) -> str | None:
        value = django_cache.get(key)
        return value if isinstance(value, str) else None

    def set(self, key: str, value: str, ttl_seconds: float) -> None:
        django_cache.set(key, value, timeout=max(1, int(ttl_seconds)))

    def delete_if_equals(self, key: str, value: str) -> bool:
        with transaction.atomic():
            if django_cache.get(key) != value:
                return False
            django_cache.delete(key)
            return True

    def acquire_lock(self, key: str, ttl_seconds: float) -> str | None:
        token = LOCK_VALUE_PREFIX + os.urandom(8).hex()
        if django_cache.add(key, token, timeout=max(1, int(ttl_seconds + 0.999))):
            return token
        return None

    def release_lock(self, key: str, lock_token: str) -> None:
        self.delete_if_equals(key, lock_token)


@cache
def _store(pid: int, redis_url: str) -> TokenStore:
    if redis_url:
        return RedisTokenStore(redis.Redis.from_url(redis_url), prefix="hp:")
    return DjangoCacheTokenStore()


def shared_store() -> TokenStore:
    """This process's handle on the store shared by every process (keyed by pid:
    a forked worker child must not share its parent's Redis connections)."""
    return _store(os.getpid(), settings.REDIS_URL)


# The limiter's API for each path the client calls, by the client's own paths;
# the first prefix that matches wins (an application's own path before the list).
APIS_BY_PATH = (
    (EXAMS_PATH, "exams"),
    (ATTACHMENTS_PATH, "attachments"),
    (TESTS_SEARCH_PATH, "tests_search"),
    (TALENT_BATCH_GET_ID_PATH, "talent_batch_get_id"),
    (JOB_PROCESSES_PATH, "job_processes"),
    (BATCH_GET_ID_PATH, "contact"),
    (APPLICATION_PATH, "application_get"),
    (APPLICATIONS_PATH, "application_list"),
)
# How long a call refused for its token may wait for the permit to send it again.
RESEND_PERMIT_WAIT_SECONDS = 2.0


def api_for_path(path: str) -> str:
    if path.startswith(APPLICATION_PATH) and path.endswith("/get_detail"):
        return "application_detail"
    for prefix, api in APIS_BY_PATH:
        if path.startswith(prefix):
            return api
    raise KeyError(f"no rate limit is known for the Feishu path {path!r}")


def resend_permit(path: str) -> None:
    """A call refused for its token goes again with a fresh one: a second request
    that Feishu counts, so it takes a permit like the first. It waits a moment for
    one; past that the call is deferred as rate limited (the row waits, nothing
    is lost, no attempt counted)."""
    api = api_for_path(path)
    deadline = time.monotonic() + RESEND_PERMIT_WAIT_SECONDS
    while wait := get_limiter().acquire(api):
        if time.monotonic() + wait > deadline:
            raise RateLimitedError(
                "no permit to send the call again with a fresh token",
                reset_seconds=wait,
            )
        time.sleep(wait)


@cache
def _client(pid: int, base_url: str, app_id: str, app_secret: str) -> FeishuClient:
    return FeishuClient(
        base_url,
        app_id,
        app_secret,
        shared_store(),
        connect_timeout=settings.FEISHU_CONNECT_TIMEOUT,
        read_timeout=settings.FEISHU_READ_TIMEOUT,
        before_resend=resend_permit,
    )


def get_client() -> FeishuClient:
    """This process's client. Keyed by pid: a forked worker child must not share
    its parent's pooled connections."""
    return _client(
        os.getpid(),
        settings.FEISHU_BASE_URL,
        settings.FEISHU_APP_ID,
        settings.FEISHU_APP_SECRET,
    )
