"""One exception family for every failed call, saying what a retry would mean.

The delivery engine decides on ``retry``: the client itself retries nothing but one
token refresh.

- ``Retry.SAFE``: Feishu did not act on the request (rate limited at the gateway,
  the request never left, the token was refused). Sending it again cannot create a
  duplicate.
- ``Retry.PERMANENT``: Feishu refused the request for a reason that a resend will not
  fix (parameter error, missing scope, bad credentials, our own bug).
- ``Retry.UNKNOWN``: the request may have been acted on (1002001, 5xx, a timeout or a
  dropped connection after sending, an answer that is not Feishu's JSON). Reconcile
  before sending again: ``POST /hire/v1/exams`` has no idempotency key.
"""

from __future__ import annotations

import enum
from typing import Any

RESPONSE_BODY_LIMIT = 10_000


class Retry(enum.StrEnum):
    SAFE = "safe"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"


class FeishuError(Exception):
    """A call to Feishu failed. Never carries a token or the app secret."""

    retry: Retry = Retry.UNKNOWN

    def __init__(
        self,
        msg: str,
        *,
        http_status: int | None = None,
        code: int | None = None,
        log_id: str | None = None,
        request_body: bytes | None = None,
        response_body: str | None = None,
    ) -> None:
        super().__init__(msg)
        self.msg = msg
        self.http_status = http_status
        self.code = code
        self.log_id = log_id
        self.request_body = request_body
        if response_body is not None and len(response_body) > RESPONSE_BODY_LIMIT:
            response_body = response_body[:RESPONSE_BODY_LIMIT] + "…[truncated]"
        self.response_body = response_body

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments don't survive Exception's default pickling (Celery
        # pickles exceptions): rebuild from the instance's attributes.
        return (_rebuild, (type(self), dict(self.__dict__)))

    def __str__(self) -> str:
        parts = [self.msg]
        if self.code is not None:
            parts.append(f"code={self.code}")
        if self.http_status is not None:
            parts.append(f"http_status={self.http_status}")
        if self.log_id:
            parts.append(f"log_id={self.log_id}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(msg={self.msg!r}, http_status={self.http_status!r},"
            f" code={self.code!r}, log_id={self.log_id!r}, retry={self.retry.value!r})"
        )


class RetrySafeError(FeishuError):
    """Feishu did not act on the request: sending it again is safe."""

    retry = Retry.SAFE


class RateLimitedError(RetrySafeError):
    """HTTP 429 or code 99991400. Wait ``reset_seconds`` before the next call."""

    def __init__(self, msg: str, *, reset_seconds: float, **kwargs: Any) -> None:
        super().__init__(msg, **kwargs)
        self.reset_seconds = reset_seconds


class RequestNotSentError(RetrySafeError):
    """The request never left: connection refused, DNS failure, connect timeout."""


class TokenError(RetrySafeError):
    """No usable tenant token: the token endpoint failed, or Feishu still refused a
    freshly fetched token. The business request was not acted on."""


class PermanentError(FeishuError):
    """Feishu refused the request; resending it unchanged will fail the same way."""

    retry = Retry.PERMANENT


class ParameterError(PermanentError):
    """Code 1002002: Feishu's message says which parameter."""


class WrongMobileError(PermanentError):
    """Code 1002009 (talents/batch_get_id): Feishu refused a mobile number. Check
    ``mobile_code`` and the numbers; one call carries one country code."""


class MissingScopeError(PermanentError):
    """Code 99991672: the app lacks a scope; grant it in the developer console."""

    def __init__(self, msg: str, *, scopes: list[str], **kwargs: Any) -> None:
        super().__init__(msg, **kwargs)
        self.scopes = scopes

    def __str__(self) -> str:
        return f"{super().__str__()} scopes={','.join(self.scopes)}"


class CredentialsError(PermanentError):
    """The token endpoint refused the app id or app secret."""


class InvalidRequestError(PermanentError):
    """Refused by this client before any call: a bug or bad input on our side."""


class OutcomeUnknownError(FeishuError):
    """The request may or may not have been acted on. Reconcile before resending."""

    retry = Retry.UNKNOWN


def _rebuild(cls: type[FeishuError], state: dict[str, object]) -> FeishuError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("msg", ""))
    err.__dict__.update(state)
    return err
