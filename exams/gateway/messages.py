"""What Feishu's failures mean, in words staff understand. Feishu's own message is
kept as Feishu sent it."""

from __future__ import annotations

from django.utils.translation import gettext as _

from feishu import (
    CredentialsError,
    FeishuError,
    MissingScopeError,
    ParameterError,
    RateLimitedError,
    Retry,
    TokenError,
)


def staff_message(error: FeishuError) -> str:
    """What a failure means, in words staff understand; Feishu's own message is
    kept as Feishu sent it."""
    if isinstance(error, ParameterError):
        return _(
            "Feishu refused the result as invalid (parameter error 1002002): "
            "“%(msg)s”. Check the application ID, exam name, score and operator, "
            "then send again."
        ) % {"msg": error.msg}
    if isinstance(error, MissingScopeError):
        return _(
            "The Feishu app lacks the permission %(scopes)s. Grant it in the Feishu "
            "developer console (Permissions & Scopes) and publish a new app version; "
            "delivery resumes by itself."
        ) % {"scopes": ", ".join(error.scopes) or "hire:exam"}
    if isinstance(error, CredentialsError):
        return _(
            "Feishu refused the app's credentials: check FEISHU_APP_ID and "
            "FEISHU_APP_SECRET (and that the app is enabled). Delivery resumes by "
            "itself once they work."
        )
    if isinstance(error, RateLimitedError):
        return _("Feishu's rate limit was reached; the result is sent again later.")
    if isinstance(error, TokenError):
        return _(
            "Feishu did not issue a usable access token (%(msg)s): check that the app "
            "is enabled and its credentials are right. Delivery resumes by itself."
        ) % {"msg": error.msg}
    if error.retry == Retry.UNKNOWN:
        return _(
            "Feishu may or may not have recorded this result (%(msg)s). The portal "
            "checks Feishu before sending it again, so it is never recorded twice."
        ) % {"msg": error.msg}
    return _("Sending failed: %(msg)s. It is sent again later.") % {"msg": error.msg}


def deployment_wide(error: FeishuError) -> bool:
    """Trouble no row can get past until it changes: bad credentials, a missing
    scope, or a token Feishu refuses even freshly fetched (a revoked app), or a
    token endpoint that fails."""
    return isinstance(error, MissingScopeError | CredentialsError | TokenError)
