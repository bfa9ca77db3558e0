"""What Feishu's failures mean, in words staff understand. Feishu's own message is
kept as Feishu sent it."""

from __future__ import annotations

from feishu import (
    CredentialsError,
    FeishuError,
    MissingScopeError,
    ParameterError,
    RateLimitedError,
    Retry,
    TokenError,
)

from ..wording import stored


def staff_message(error: FeishuError) -> str:
    """What a failure means, as a stored message (``exams.wording``): worded for
    whoever reads it, with Feishu's own message beside it as Feishu sent it."""
    said = error.msg or ""
    if isinstance(error, ParameterError):
        return stored("feishu.param_error", feishu_msg=said)
    if isinstance(error, MissingScopeError):
        return stored(
            "feishu.missing_scope", scopes=", ".join(error.scopes) or "hire:exam"
        )
    if isinstance(error, CredentialsError):
        return stored("feishu.credentials", feishu_msg=said)
    if isinstance(error, RateLimitedError):
        return stored("feishu.rate_limited")
    if isinstance(error, TokenError):
        return stored("feishu.token", feishu_msg=said)
    if error.retry == Retry.UNKNOWN:
        return stored("feishu.maybe_recorded", feishu_msg=said)
    return stored("feishu.failed_retry", feishu_msg=said)


def deployment_wide(error: FeishuError) -> bool:
    """Trouble no row can get past until it changes: bad credentials, a missing
    scope, or a token Feishu refuses even freshly fetched (a revoked app), or a
    token endpoint that fails."""
    return isinstance(error, MissingScopeError | CredentialsError | TokenError)
