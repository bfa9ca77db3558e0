"""The HTTP layer under the client: one pooled ``requests.Session``, no resends,
and the mapping from Feishu's answer to the :mod:`feishu.errors` family.

Nothing here knows a business API; :mod:`feishu.base` adds the token.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ConnectTimeoutError
from urllib3.util.retry import Retry as Urllib3Retry

from feishu import __version__
from feishu.errors import (
    FeishuError,
    InvalidRequestError,
    MissingScopeError,
    OutcomeUnknownError,
    ParameterError,
    PermanentError,
    RateLimitedError,
    RequestNotSentError,
    TokenError,
    WrongMobileError,
)

USER_AGENT = f"hiring_portal/{__version__}"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"

# Feishu codes (feishu-api.md section 9, feishu-candidates.md).
CODE_RATE_LIMITED = 99991400
CODES_INVALID_TOKEN = frozenset({99991663, 99991664, 99991668, 99991671})
CODE_MISSING_SCOPE = 99991672
CODE_HIRE_SYSTEM_ERROR = 1002001
CODE_HIRE_PARAMETER_ERROR = 1002002
# talents/batch_get_id: "wrong mobile, check mobile_code and the numbers".
CODE_WRONG_MOBILE = 1002009
# get_detail documents 1002201 "application does not exist" (HTTP 400); for the
# older GET /applications/:id it is UNCONFIRMED (feishu-api.md section 6).
CODE_APPLICATION_NOT_FOUND = 1002201

_TOKEN_IN_TEXT = re.compile(r'("(?:tenant_|app_)?access_token"\s*:\s*")[^"]*(")')


class Secret:
    """Keeps the app secret out of reprs, logs and tracebacks' locals."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'********'"

    __str__ = __repr__


def redact(text: str) -> str:
    return _TOKEN_IN_TEXT.sub(r"\1[redacted]\2", text)


def _not_sent(exc: BaseException) -> bool:
    """True when urllib3 failed before any byte of the request left: refused
    connection, DNS failure, connect timeout (all ``ConnectTimeoutError`` or its
    subclasses ``NewConnectionError`` / ``NameResolutionError``)."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ConnectTimeoutError | requests.ConnectTimeout):
            return True
        stack.extend(item.args)
        stack.extend([getattr(item, "reason", None), item.__cause__, item.__context__])
    return False


def transport_error(
    exc: requests.RequestException, what: str, request_body: bytes | None
) -> FeishuError:
    if isinstance(exc, requests.ConnectTimeout) or (
        isinstance(exc, requests.ConnectionError) and _not_sent(exc)
    ):
        return RequestNotSentError(
            f"{what}: request not sent ({type(exc).__name__}: {exc})",
            request_body=request_body,
        )
    if isinstance(exc, requests.ReadTimeout):
        return OutcomeUnknownError(
            f"{what}: no answer within the read timeout", request_body=request_body
        )
    if isinstance(exc, requests.exceptions.InvalidURL | requests.URLRequired):
        return InvalidRequestError(f"{what}: {exc}", request_body=request_body)
    return OutcomeUnknownError(
        f"{what}: connection failed after sending ({type(exc).__name__}: {exc})",
        request_body=request_body,
    )


@dataclass
class Answer:
    """One HTTP answer, its body parsed when it is a JSON object."""

    status: int
    log_id: str | None
    text: str
    payload: dict[str, Any] | None
    reset_header: str | None

    @property
    def code(self) -> int | None:
        if self.payload is None:
            return None
        code = self.payload.get("code")
        return code if isinstance(code, int) and not isinstance(code, bool) else None

    @property
    def msg(self) -> str:
        if self.payload is None:
            return ""
        msg = self.payload.get("msg", self.payload.get("message", ""))
        return str(msg)

    @property
    def data(self) -> dict[str, Any]:
        """``data`` of a success answer; ``{}`` when it is missing or not an object."""
        data = (self.payload or {}).get("data")
        return data if isinstance(data, dict) else {}


def reset_seconds(header: str | None) -> float:
    try:
        value = float(header) if header is not None else 1.0
    except ValueError:
        value = 1.0
    return max(value, 0.0)


def scopes(payload: dict[str, Any] | None) -> list[str]:
    error = (payload or {}).get("error") or {}
    violations = error.get("permission_violations") or []
    return [str(v.get("subject")) for v in violations if v.get("subject")]


def error_for(
    answer: Answer, what: str, request_body: bytes | None
) -> FeishuError | None:
    """The exception an answer means, or None when it is a success."""
    code = answer.code
    common: dict[str, Any] = {
        "http_status": answer.status,
        "code": code,
        "log_id": answer.log_id,
        "request_body": request_body,
        "response_body": redact(answer.text),
    }
    if answer.status == 429 or code == CODE_RATE_LIMITED:
        return RateLimitedError(
            answer.msg or f"{what}: rate limited",
            reset_seconds=reset_seconds(answer.reset_header),
            **common,
        )
    if code is None:
        return OutcomeUnknownError(
            f"{what}: HTTP {answer.status} answer is not Feishu's JSON", **common
        )
    if code == 0:
        if 200 <= answer.status < 300:
            return None
        return OutcomeUnknownError(
            f"{what}: code 0 with HTTP {answer.status}", **common
        )
    msg = answer.msg or f"{what}: code {code}"
    if code == CODE_HIRE_PARAMETER_ERROR:
        return ParameterError(msg, **common)
    if code == CODE_WRONG_MOBILE:
        return WrongMobileError(
            f"{what}: Feishu refused a mobile number; check mobile_code and the "
            f"numbers ({msg})",
            **common,
        )
    if code == CODE_MISSING_SCOPE:
        return MissingScopeError(msg, scopes=scopes(answer.payload), **common)
    if code in CODES_INVALID_TOKEN:
        return TokenError(msg, **common)
    if code == CODE_HIRE_SYSTEM_ERROR or answer.status >= 500:
        return OutcomeUnknownError(msg, **common)
    # A definite refusal with a code this client has no special case for.
    return PermanentError(msg, **common)


class Transport:
    """Sends one request and reads one answer; never resends anything.

    Idle pooled connections older than ``pool_idle_seconds`` are dropped before
    the next call, so a connection the server already closed is not reused: that
    would turn an ordinary call into an "outcome unknown".
    """

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        pool_idle_seconds: float,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self._pool_idle_seconds = pool_idle_seconds
        self._pool_lock = threading.Lock()
        self._last_used = 0.0
        self._session = self._new_session()
        # Resolve proxies / CA bundle from the environment once, not on every call
        # (requests re-reads them, and ~/.netrc, per request when trust_env is on).
        self._send_kwargs = self._session.merge_environment_settings(
            self.base_url, {}, None, None, None
        )
        self._session.trust_env = False
        verify = self._send_kwargs["verify"]
        self._verify: bool | str = True if verify is None else verify
        self._headers = {
            name: value if isinstance(value, str) else value.decode("latin-1")
            for name, value in self._session.headers.items()
        }
        try:
            requests.Request("GET", self.base_url).prepare()
            self._adapter: BaseAdapter = self._session.get_adapter(self.base_url + "/")
        except requests.RequestException as exc:
            raise InvalidRequestError(f"invalid base_url {base_url!r}: {exc}") from exc

    @staticmethod
    def _new_session() -> requests.Session:
        session = requests.Session()
        # Never resend anything at the HTTP layer: a resent POST could create a
        # second exam record (Feishu has no idempotency key).
        adapter = HTTPAdapter(
            max_retries=Urllib3Retry(total=0, read=False, redirect=False)
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["User-Agent"] = USER_AGENT
        return session

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        query: str = "",
        data: bytes | None = None,
        files: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        audit_body: bytes | None = None,
    ) -> Answer:
        url = self.base_url + path + (f"?{query}" if query else "")
        with self._pool_lock:
            now = time.monotonic()
            if self._last_used and now - self._last_used > self._pool_idle_seconds:
                # Drop pooled connections the server may be closing right now.
                self._session.close()
            self._last_used = now
        try:
            if files is None:
                response = self._send(method, url, data, headers)
            else:  # multipart: let requests build the body
                response = self._session.request(
                    method,
                    url,
                    files=files,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                    **self._send_kwargs,
                )
            content = response.content
        except requests.RequestException as exc:
            raise transport_error(exc, what, audit_body) from exc
        finally:
            self._last_used = time.monotonic()
        rheaders = response.headers
        try:
            payload = json.loads(content, parse_float=Decimal)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            payload = None
        return Answer(
            status=response.status_code,
            log_id=rheaders.get("X-Tt-Logid") or rheaders.get("X-Request-Id"),
            text=content.decode("utf-8", "replace"),
            payload=payload,
            reset_header=rheaders.get("x-ogw-ratelimit-reset"),
        )

    def _send(
        self, method: str, url: str, data: bytes | None, headers: dict[str, str] | None
    ) -> requests.Response:
        """Send through the session's adapter (its pooled connections) without
        ``Session.request``'s per-call merging of settings, cookies, hooks and
        redirects: none apply to Feishu's API, and skipping them roughly halves the
        client's CPU per call. URLs are built from the base URL checked at init."""
        request = requests.PreparedRequest()
        request.method = method
        request.url = url
        request.headers = CaseInsensitiveDict(self._headers)
        if headers:
            request.headers.update(headers)
        if data is not None or method == "POST":
            request.headers["Content-Length"] = str(len(data or b""))
        request.body = data
        request.hooks = {"response": []}
        return self._adapter.send(
            request,
            timeout=self.timeout,
            verify=self._verify,
            cert=self._send_kwargs["cert"],
            proxies=self._send_kwargs["proxies"],
        )
