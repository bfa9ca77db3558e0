"""The tenant_access_token: fetched from the internal-app endpoint, kept in the
caller's :class:`~feishu.tokens.TokenStore`, refreshed by one caller at a time.

Feishu hands out the same token while it has more than 30 min left and a new one
below that (feishu-api.md section 2.1), so the cache lives ``expire`` minus a
margin (:func:`feishu.tokens.cache_ttl`).
"""

from __future__ import annotations

import json
import logging
import time
from decimal import Decimal

from feishu.errors import (
    CredentialsError,
    MissingScopeError,
    OutcomeUnknownError,
    PermanentError,
    TokenError,
)
from feishu.http import JSON_CONTENT_TYPE, Secret, Transport, error_for
from feishu.tokens import TokenStore, cache_ttl

logger = logging.getLogger("feishu.client")

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"  # noqa: S105
# Token endpoint: 10003 invalid app_id / param, 10014 app secret invalid.
CODES_BAD_CREDENTIALS = frozenset({10003, 10014})
# A token from the store is used again for this long without asking the store
# (a round trip to Redis on every call to Feishu, otherwise). The store drops a
# token min(600 s, expire / 2) before Feishu does (``cache_ttl``), at least 1 s
# for any token it keeps (Feishu's ``expire`` is whole seconds, and one of 1 s is
# not kept), so it is still good; a token Feishu refused is forgotten at once.
LOCAL_SECONDS = 1.0


class TenantAuth:
    """Where a call gets its token, and where a refused token is evicted."""

    def __init__(
        self,
        transport: Transport,
        app_id: str,
        app_secret: Secret,
        store: TokenStore,
        *,
        lock_ttl: float,
    ) -> None:
        self._transport = transport
        self.app_id = app_id
        self._app_secret = app_secret
        self.store = store
        self.token_key = f"feishu:tenant_token:{app_id}"
        self._lock_key = f"{self.token_key}:lock"
        # The lock outlives one token fetch; a waiter gives up after the same time.
        self._lock_ttl = lock_ttl
        # (token, until) on this process's monotonic clock: see LOCAL_SECONDS.
        self._local: tuple[str, float] | None = None

    def __repr__(self) -> str:
        return f"TenantAuth(app_id={self.app_id!r})"

    def token(self) -> str:
        """The stored token, or a fresh one fetched by one caller at a time."""
        if self._local is not None and time.monotonic() < self._local[1]:
            return self._local[0]
        token = self._stored()
        if token:
            return token
        deadline = time.monotonic() + self._lock_ttl
        pause = 0.01
        while True:
            lock = self.store.acquire_lock(self._lock_key, self._lock_ttl)
            if lock is not None:
                try:
                    token = self._stored()
                    if token:
                        return token
                    return self._fetch_and_store()
                finally:
                    self.store.release_lock(self._lock_key, lock)
            time.sleep(pause)
            pause = min(pause * 2, 0.2)
            token = self._stored()
            if token:
                return token
            if time.monotonic() >= deadline:
                # The holder died or is stuck: fetching without the lock is harmless
                # (Feishu hands out the same token while it has > 30 min left).
                logger.warning("feishu token lock wait expired; fetching anyway")
                return self._fetch_and_store()

    def _stored(self) -> str | None:
        token = self.store.get(self.token_key)
        if token:
            self._local = (token, time.monotonic() + LOCAL_SECONDS)
        return token

    def evict(self, token: str) -> None:
        """Forget a token Feishu refused, only if it is still the one stored:
        another worker may already have stored a fresh one."""
        if self._local is not None and self._local[0] == token:
            self._local = None
        self.store.delete_if_equals(self.token_key, token)

    def _fetch_and_store(self) -> str:
        token, expire = self._fetch()
        ttl = cache_ttl(expire)
        if ttl is not None:
            self.store.set(self.token_key, token, ttl)
            self._local = (token, time.monotonic() + min(LOCAL_SECONDS, ttl))
        logger.info("feishu tenant token fetched (app_id=%s)", self.app_id)
        return token

    def _fetch(self) -> tuple[str, float]:
        what = "tenant_access_token"
        body = json.dumps(
            {"app_id": self.app_id, "app_secret": self._app_secret.reveal()}
        ).encode()
        try:
            answer = self._transport.request(
                "POST",
                TOKEN_PATH,
                what=what,
                data=body,
                headers={"Content-Type": JSON_CONTENT_TYPE},
            )
        except OutcomeUnknownError as exc:
            # Fetching a token changes nothing at Feishu: no business call was sent.
            raise TokenError(exc.msg) from exc
        error = error_for(answer, what, None)
        if error is None:
            payload = answer.payload or {}
            token = payload.get("tenant_access_token")
            expire = payload.get("expire")
            if isinstance(token, str) and token and isinstance(expire, int | Decimal):
                return token, float(expire)
            error = TokenError(
                f"{what}: answer without a token",
                http_status=answer.status,
                log_id=answer.log_id,
            )
        elif isinstance(error, PermanentError) and not isinstance(
            error, MissingScopeError
        ):
            error = CredentialsError(
                error.msg,
                http_status=error.http_status,
                code=error.code,
                log_id=error.log_id,
                response_body=error.response_body,
            )
        elif isinstance(error, OutcomeUnknownError):
            error = TokenError(
                error.msg,
                http_status=error.http_status,
                code=error.code,
                log_id=error.log_id,
                response_body=error.response_body,
            )
        raise error
