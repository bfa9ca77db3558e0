"""Where the tenant_access_token lives, and how one caller at a time refreshes it.

The store is given by the caller: the portal passes one backed by its shared cache,
so every worker on every machine uses one token. A refresh takes an atomic lock
from the store (add-if-absent), never a check-then-set; a token Feishu refused is
evicted only if it is still the one stored (compare-and-delete), so a worker never
evicts the fresh token another worker just fetched.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class TokenStore(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl_seconds: float) -> None: ...

    def delete_if_equals(self, key: str, value: str) -> bool:
        """Delete ``key`` only if it still holds ``value``; atomically."""
        ...

    def acquire_lock(self, key: str, ttl_seconds: float) -> str | None:
        """Take the lock if nobody holds it; return a token proving ownership."""
        ...

    def release_lock(self, key: str, lock_token: str) -> None:
        """Release the lock only if ``lock_token`` still owns it."""
        ...


class MemoryTokenStore:
    """A thread-safe store for one process (tests, a single worker, scripts)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[str, float]] = {}

    def __repr__(self) -> str:
        return f"MemoryTokenStore(keys={len(self._data)})"

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires_at = item
        if time.monotonic() >= expires_at:
            del self._data[key]
            return None
        return value

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._live(key)

    def set(self, key: str, value: str, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        with self._lock:
            self._data[key] = (value, time.monotonic() + ttl_seconds)

    def delete_if_equals(self, key: str, value: str) -> bool:
        with self._lock:
            if self._live(key) == value:
                del self._data[key]
                return True
            return False

    def acquire_lock(self, key: str, ttl_seconds: float) -> str | None:
        with self._lock:
            if self._live(key) is not None:
                return None
            token = secrets.token_hex(16)
            self._data[key] = (token, time.monotonic() + ttl_seconds)
            return token

    def release_lock(self, key: str, lock_token: str) -> None:
        self.delete_if_equals(key, lock_token)


_COMPARE_AND_DELETE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisTokenStore:
    """A store shared by every process that reaches the same Redis.

    ``redis_client`` is a ``redis.Redis``; this module does not import redis.
    """

    def __init__(self, redis_client: Any, prefix: str = "feishu:") -> None:
        self._redis = redis_client
        self._prefix = prefix
        self._cad = redis_client.register_script(_COMPARE_AND_DELETE)

    def __repr__(self) -> str:
        return f"RedisTokenStore(prefix={self._prefix!r})"

    @staticmethod
    def _ms(ttl_seconds: float) -> int:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        return max(1, int(ttl_seconds * 1000))

    def get(self, key: str) -> str | None:
        value = self._redis.get(self._prefix + key)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    def set(self, key: str, value: str, ttl_seconds: float) -> None:
        self._redis.set(self._prefix + key, value, px=self._ms(ttl_seconds))

    def delete_if_equals(self, key: str, value: str) -> bool:
        return bool(self._cad(keys=[self._prefix + key], args=[value]))

    def acquire_lock(self, key: str, ttl_seconds: float) -> str | None:
        token = secrets.token_hex(16)
        if self._redis.set(
            self._prefix + key, token, nx=True, px=self._ms(ttl_seconds)
        ):
            return token
        return None

    def release_lock(self, key: str, lock_token: str) -> None:
        self._cad(keys=[self._prefix + key], args=[lock_token])


def cache_ttl(expire_seconds: float) -> float | None:
    """How long to keep a token Feishu said is valid for ``expire_seconds`` more.

    SDKs keep a 600 s margin; a short ``expire`` keeps half of itself instead, so
    the lifetime is never zero or negative. ``None``: don't cache it at all.
    """
    if expire_seconds <= 1:
        return None
    return expire_seconds - min(600.0, expire_seconds / 2)
