"""What every Feishu call shares: the transport, the tenant token, and the one
retry the client ever makes (a refreshed token after Feishu refused one).

The API calls live in mixins (:mod:`feishu.exams`, :mod:`feishu.candidates`,
:mod:`feishu.contact`) put together by :class:`feishu.client.FeishuClient`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from feishu.auth import TenantAuth
from feishu.errors import (
    FeishuError,
    InvalidRequestError,
    OutcomeUnknownError,
    TokenError,
)
from feishu.http import JSON_CONTENT_TYPE, Answer, Secret, Transport, error_for
from feishu.tokens import TokenStore


class BaseClient:
    """One client per Feishu app.

    ``token_store`` holds the tenant token (shared between workers when the store
    is). Idle pooled connections older than ``pool_idle_seconds`` are dropped before
    the next call, so a connection the server already closed is not reused: that
    would turn an ordinary call into an "outcome unknown".
    """

    def __init__(
        self,
        base_url: str,
        app_id: str,
        app_secret: str,
        token_store: TokenStore,
        *,
        connect_timeout: float = 5,
        read_timeout: float = 20,
        pool_idle_seconds: float = 15,
        before_resend: Callable[[str], None] | None = None,
    ) -> None:
        """``before_resend(path)`` runs before a call refused for its token is sent
        again with a fresh one: the second request counts against Feishu's rate
        limits like the first, so a caller that rations calls takes a permit
        there (and raises to give up the resend: the refusal is then raised)."""
        self._before_resend = before_resend
        if not app_id or not app_secret:
            raise InvalidRequestError("app_id and app_secret are required")
        self._transport = Transport(
            base_url,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            pool_idle_seconds=pool_idle_seconds,
        )
        self.base_url = self._transport.base_url
        self.app_id = app_id
        self._auth = TenantAuth(
            self._transport,
            app_id,
            Secret(app_secret),
            token_store,
            lock_ttl=connect_timeout + read_timeout + 5,
        )
        self._store = token_store
        self.token_key = self._auth.token_key

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, app_id={self.app_id!r})"
        )

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> BaseClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        query: str = "",
        data: bytes | None = None,
        files: dict[str, Any] | None = None,
        content_type: str | None = JSON_CONTENT_TYPE,
        audit_body: bytes | None = None,
        accept_codes: frozenset[int] = frozenset(),
    ) -> Answer:
        """An authenticated call; refreshes the token once if Feishu refuses it.

        A code in ``accept_codes`` comes back as an answer instead of an error (for
        "not found" codes a call turns into None).
        """
        token = self._auth.token()
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {token}"}
            if content_type:
                headers["Content-Type"] = content_type
            answer = self._transport.request(
                method,
                path,
                what=what,
                query=query,
                data=data,
                files=files,
                headers=headers,
                audit_body=audit_body,
            )
            if answer.code in accept_codes:
                return answer
            error = error_for(answer, what, audit_body)
            if error is None:
                return answer
            if isinstance(error, TokenError) and attempt == 1:
                self._auth.evict(token)
                if self._before_resend is not None:
                    try:
                        self._before_resend(path)
                    except FeishuError:
                        raise  # the caller's own answer (e.g. rate limited)
                    except Exception as refused:
                        raise error from refused
                token = self._auth.token()
                continue
            raise error
        raise AssertionError("unreachable")

    @staticmethod
    def _unusable(
        answer: Answer, what: str, audit_body: bytes | None = None
    ) -> Exception:
        """A success answer whose data this client cannot use: Feishu may have acted
        on the request, so the outcome is unknown."""
        return OutcomeUnknownError(
            f"{what}: success answer without the expected data",
            http_status=answer.status,
            code=answer.code,
            log_id=answer.log_id,
            request_body=audit_body,
            response_body=answer.text,
        )
