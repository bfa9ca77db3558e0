"""What Feishu's answers mean for staff: a hint per code, the scopes a 99991672
lists, and bodies made readable."""

from __future__ import annotations

import json

from django.utils.translation import gettext_lazy

from ..models import SyncAttempt

# The Feishu codes staff meet most, and what to do about each. Feishu's own message
# is shown beside the hint exactly as Feishu sent it.
# https://open.feishu.cn/document/server-docs/getting-started/server-error-codes
CODE_HINTS = {
    1002002: gettext_lazy(
        "Parameter error: Feishu refused a value. Check the application ID (it must "
        "be an existing application of this tenant), the exam name, the score (one "
        "decimal place, not negative) and the operator ID (issued for this app), "
        "correct the result, then send it again."
    ),
    99991672: gettext_lazy(
        "The Feishu app lacks the permission %(scopes)s. Grant it in the Feishu "
        "developer console (Permissions & Scopes), publish a new app version, and "
        "delivery resumes by itself."
    ),
    99991400: gettext_lazy(
        "Feishu's rate limit was reached. Nothing to fix: the portal waits until "
        "Feishu allows calls again and sends the result then. If this happens often, "
        "another program may be using the same app's quota."
    ),
    1002001: gettext_lazy(
        "Feishu had an internal error and may or may not have recorded the result. "
        "The portal reconciles it against Feishu's test records (tests/search) "
        "before sending anything again, so it is never recorded twice."
    ),
    99991663: gettext_lazy(
        "The access token was refused; the portal fetched a new one by itself."
    ),
    99991661: gettext_lazy(
        "The access token was missing or malformed; the portal fetched a new one "
        "by itself."
    ),
}
DEFAULT_SCOPE = "hire:exam"


def missing_scopes(response_body: str) -> list[str]:
    """The scopes Feishu says the app lacks, from a 99991672 answer."""
    try:
        payload = json.loads(response_body or "{}")
    except ValueError:
        return []
    error = (payload.get("error") or {}) if isinstance(payload, dict) else {}
    violations = error.get("permission_violations") or []
    return [str(v["subject"]) for v in violations if v.get("subject")]


def code_hint(code: int | None, response_body: str = "") -> str:
    """What a Feishu code means for staff, translated; "" for codes without one."""
    if code is None or code not in CODE_HINTS:
        return ""
    hint = str(CODE_HINTS[code])
    if code == 99991672:
        scopes = missing_scopes(response_body) or [DEFAULT_SCOPE]
        hint = hint % {"scopes": ", ".join(scopes)}
    return hint


def attempt_hint(attempt: SyncAttempt) -> str:
    hint = code_hint(attempt.feishu_code, attempt.response_body)
    if hint:
        return hint
    if attempt.http_status == 429:
        return code_hint(99991400)
    return ""


def pretty_body(body: str) -> str:
    """A JSON body indented for reading; anything else as it is."""
    try:
        return json.dumps(json.loads(body), ensure_ascii=False, indent=2)
    except ValueError:
        return body
