"""The portal's Feishu client: one per process, its token kept in the shared cache.

With Redis, every worker on every machine shares one tenant token through
``feishu.RedisTokenStore``. On the embedded default the token lives in the
database-backed cache, whose ``add()`` is an atomic insert and whose
compare-and-delete runs inside one (IMMEDIATE, so serialised) SQLite transaction.
"""

from __future__ import annotations

import os
from functools import cache

from django.conf import settings
from django.core.cache import cache as django_cache
from django.db import transaction

from feishu import FeishuClient, RedisTokenStore
from feishu.tokens import TokenStore

LOCK_VALUE_PREFIX = "lock:"


class DjangoCacheTokenStore:
    """``feishu.tokens.TokenStore`` over Django's cache (the embedded default)."""

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


def token_store() -> TokenStore:
    if settings.REDIS_URL:
        import redis

        return RedisTokenStore(redis.Redis.from_url(settings.REDIS_URL), prefix="hp:")
    return DjangoCacheTokenStore()


@cache
def _client(pid: int, base_url: str, app_id: str, app_secret: str) -> FeishuClient:
    return FeishuClient(
        base_url,
        app_id,
        app_secret,
        token_store(),
        connect_timeout=settings.FEISHU_CONNECT_TIMEOUT,
        read_timeout=settings.FEISHU_READ_TIMEOUT,
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
