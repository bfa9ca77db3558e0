"""The Feishu Open Platform client: one object per app, over a ``requests.Session``.

Calls follow the contract in ``shared/feishu-api.md``. The client retries nothing
except one token refresh after Feishu refuses a token; every other failure is
raised as a :class:`~feishu.errors.FeishuError` saying whether a retry is safe, and
the caller decides.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlencode

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ConnectTimeoutError
from urllib3.util.retry import Retry as Urllib3Retry

from feishu import __version__
from feishu.errors import (
    CredentialsError,
    FeishuError,
    InvalidRequestError,
    MissingScopeError,
    OutcomeUnknownError,
    ParameterError,
    PermanentError,
    RateLimitedError,
    RequestNotSentError,
    TokenError,
)
from feishu.payloads import check_user_id_type, exam_body
from feishu.tokens import TokenStore, cache_ttl

logger = logging.getLogger(__name__)

USER_AGENT = f"hiring_portal/{__version__}"

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"  # noqa: S105
EXAMS_PATH = "/open-apis/hire/v1/exams"
ATTACHMENTS_PATH = "/open-apis/hire/v1/attachments"
TESTS_SEARCH_PATH = "/open-apis/hire/v1/tests/search"
APPLICATION_PATH = "/open-apis/hire/v1/applications/"
BATCH_GET_ID_PATH = "/open-apis/contact/v3/users/batch_get_id"

JSON_CONTENT_TYPE = "application/json; charset=utf-8"

# Feishu codes (feishu-api.md section 9).
CODE_RATE_LIMITED = 99991400
CODES_INVALID_TOKEN = frozenset({99991663, 99991664, 99991668, 99991671})
CODE_MISSING_SCOPE = 99991672
CODE_HIRE_SYSTEM_ERROR = 1002001
CODE_HIRE_PARAMETER_ERROR = 1002002
# UNCONFIRMED: a third-party copy of the hire error table names 1002201
# "Application not exist" (feishu-api.md section 6).
CODE_APPLICATION_NOT_FOUND = 1002201
# Token endpoint: 10003 invalid app_id / param, 10014 app secret invalid.
CODES_BAD_CREDENTIALS = frozenset({10003, 10014})

ATTACHMENT_MAX_BYTES = 100 * 1024 * 1024
_ATTACHMENT_TYPES = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}

SEARCH_PAGE_SIZE = 100
SEARCH_MAX_IDS = 100
SEARCH_MAX_PAGES = 200  # Feishu lists at most 10,000 records (100 pages of 100)
BATCH_GET_ID_MAX = 50

_TOKEN_IN_TEXT = re.compile(r'("(?:tenant_|app_)?access_token"\s*:\s*")[^"]*(")')


@dataclass(frozen=True)
class CreatedExam:
    exam_id: str
    application_id: str
    exam_resource_name: str
    score: Decimal
    uuid: str | None
    operator_id: str
    operate_time: datetime
    log_id: str | None
    request_body: bytes
    response_body: str
    http_status: int


@dataclass(frozen=True)
class Attachment:
    id: str
    name: str
    log_id: str | None


@dataclass(frozen=True)
class TestRecord:
    """One item of ``tests/search`` (Feishu's ``Test``)."""

    __test__ = False  # not a pytest test class

    test_id: str
    application_id: str
    test_paper_name: str | None
    score: Decimal | None
    created_at: datetime | None
    result_upload_time: datetime | None
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Application:
    id: str
    job_id: str | None
    talent_id: str | None
    active_status: int | None
    raw: dict[str, Any] = field(repr=False)


def ms_to_datetime(value: object) -> datetime | None:
    """Feishu's millisecond timestamp (string or number) -> aware UTC datetime."""
    if value is None or value == "":
        return None
    try:
        ms = int(str(value))
    except ValueError:
        return None
    seconds, millis = divmod(ms, 1000)
    return datetime.fromtimestamp(seconds, UTC) + timedelta(milliseconds=millis)


def to_decimal(value: object) -> Decimal | None:
    """A score as Decimal, whether Feishu sent a number or a string."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


class _Secret:
    """Keeps the app secret out of reprs, logs and tracebacks' locals."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'********'"

    __str__ = __repr__


def _redact(text: str) -> str:
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


def _transport_error(
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
class _Answer:
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


def _reset_seconds(header: str | None) -> float:
    try:
        value = float(header) if header is not None else 1.0
    except ValueError:
        value = 1.0
    return max(value, 0.0)


class FeishuClient:
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
    ) -> None:
        if not app_id or not app_secret:
            raise InvalidRequestError("app_id and app_secret are required")
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self._app_secret = _Secret(app_secret)
        self._store = token_store
        self._timeout = (connect_timeout, read_timeout)
        self._pool_idle_seconds = pool_idle_seconds
        self.token_key = f"feishu:tenant_token:{app_id}"
        self._lock_key = f"{self.token_key}:lock"
        # The lock outlives one token fetch; a waiter gives up after the same time.
        self._lock_ttl = connect_timeout + read_timeout + 5
        self._pool_lock = threading.Lock()
        self._last_used = 0.0
        self._session = self._new_session()
        # Resolve proxies / CA bundle from the environment once, not on every call
        # (requests re-reads them, and ~/.netrc, per request when trust_env is on).
        self._send_kwargs = self._session.merge_environment_settings(
            self.base_url, {}, None, None, None
        )
        self._session.trust_env = False
        try:
            requests.Request("GET", self.base_url).prepare()
            self._adapter = self._session.get_adapter(self.base_url + "/")
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
        return f"FeishuClient(base_url={self.base_url!r}, app_id={self.app_id!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> FeishuClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- HTTP ---------------------------------------------------------------

    def _http(
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
    ) -> _Answer:
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
                    timeout=self._timeout,
                    allow_redirects=False,
                    **self._send_kwargs,
                )
            content = response.content
        except requests.RequestException as exc:
            raise _transport_error(exc, what, audit_body) from exc
        finally:
            self._last_used = time.monotonic()
        rheaders = response.headers
        try:
            payload = json.loads(content, parse_float=Decimal)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            payload = None
        return _Answer(
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
        request.headers = CaseInsensitiveDict(self._session.headers)
        if headers:
            request.headers.update(headers)
        if data is not None or method == "POST":
            request.headers["Content-Length"] = str(len(data or b""))
        request.body = data
        request.hooks = {"response": []}
        return self._adapter.send(
            request,
            timeout=self._timeout,
            verify=self._send_kwargs["verify"],
            cert=self._send_kwargs["cert"],
            proxies=self._send_kwargs["proxies"],
        )

    @staticmethod
    def _error(
        answer: _Answer, what: str, request_body: bytes | None
    ) -> FeishuError | None:
        """The exception an answer means, or None when it is a success."""
        code = answer.code
        common: dict[str, Any] = {
            "http_status": answer.status,
            "code": code,
            "log_id": answer.log_id,
            "request_body": request_body,
            "response_body": _redact(answer.text),
        }
        if answer.status == 429 or code == CODE_RATE_LIMITED:
            return RateLimitedError(
                answer.msg or f"{what}: rate limited",
                reset_seconds=_reset_seconds(answer.reset_header),
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
        if code == CODE_MISSING_SCOPE:
            return MissingScopeError(msg, scopes=_scopes(answer.payload), **common)
        if code in CODES_INVALID_TOKEN:
            return TokenError(msg, **common)
        if code == CODE_HIRE_SYSTEM_ERROR or answer.status >= 500:
            return OutcomeUnknownError(msg, **common)
        # A definite refusal with a code this client has no special case for.
        return PermanentError(msg, **common)

    # -- tokens -------------------------------------------------------------

    def _fetch_token(self) -> tuple[str, float]:
        what = "tenant_access_token"
        body = json.dumps(
            {"app_id": self.app_id, "app_secret": self._app_secret.reveal()}
        ).encode()
        try:
            answer = self._http(
                "POST",
                TOKEN_PATH,
                what=what,
                data=body,
                headers={"Content-Type": JSON_CONTENT_TYPE},
            )
        except OutcomeUnknownError as exc:
            # Fetching a token changes nothing at Feishu: no business call was sent.
            raise TokenError(exc.msg) from exc
        error = self._error(answer, what, None)
        if error is None:
            assert answer.payload is not None
            token = answer.payload.get("tenant_access_token")
            expire = answer.payload.get("expire")
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

    def _token(self) -> str:
        """The stored token, or a fresh one fetched by one caller at a time."""
        token = self._store.get(self.token_key)
        if token:
            return token
        deadline = time.monotonic() + self._lock_ttl
        pause = 0.01
        while True:
            lock = self._store.acquire_lock(self._lock_key, self._lock_ttl)
            if lock is not None:
                try:
                    token = self._store.get(self.token_key)
                    if token:
                        return token
                    return self._fetch_and_store()
                finally:
                    self._store.release_lock(self._lock_key, lock)
            time.sleep(pause)
            pause = min(pause * 2, 0.2)
            token = self._store.get(self.token_key)
            if token:
                return token
            if time.monotonic() >= deadline:
                # The holder died or is stuck: fetching without the lock is harmless
                # (Feishu hands out the same token while it has > 30 min left).
                logger.warning("feishu token lock wait expired; fetching anyway")
                return self._fetch_and_store()

    def _fetch_and_store(self) -> str:
        token, expire = self._fetch_token()
        ttl = cache_ttl(expire)
        if ttl is not None:
            self._store.set(self.token_key, token, ttl)
        logger.info("feishu tenant token fetched (app_id=%s)", self.app_id)
        return token

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
    ) -> _Answer:
        """An authenticated call; refreshes the token once if Feishu refuses it."""
        token = self._token()
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {token}"}
            if content_type:
                headers["Content-Type"] = content_type
            answer = self._http(
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
            error = self._error(answer, what, audit_body)
            if error is None:
                return answer
            if isinstance(error, TokenError) and attempt == 1:
                # Evict only the token that was refused: another worker may already
                # have stored a fresh one.
                self._store.delete_if_equals(self.token_key, token)
                token = self._token()
                continue
            raise error
        raise AssertionError("unreachable")

    # -- API ----------------------------------------------------------------

    def create_exam(
        self,
        application_id: str,
        exam_resource_name: str,
        score: Decimal | int,
        operator_id: str,
        user_id_type: str = "open_id",
        uuid: str | None = None,
    ) -> CreatedExam:
        """``POST /open-apis/hire/v1/exams``: add a written-exam result.

        Sends exactly ``exam_body(...)``; the same bytes are on the result and on
        any error, for the audit.
        """
        check_user_id_type(user_id_type)
        body = exam_body(application_id, exam_resource_name, score, operator_id, uuid)
        answer = self._call(
            "POST",
            EXAMS_PATH,
            what="create exam",
            query=f"user_id_type={user_id_type}",
            data=body,
            audit_body=body,
        )
        assert answer.payload is not None
        data = answer.payload.get("data")
        try:
            assert isinstance(data, dict)
            exam_id = str(data["exam_id"])
            operate_time = ms_to_datetime(data.get("operate_time"))
            assert exam_id and operate_time is not None
            result_score = to_decimal(data.get("score"))
        except (AssertionError, KeyError) as exc:
            raise OutcomeUnknownError(
                "create exam: success answer without exam_id / operate_time",
                http_status=answer.status,
                code=0,
                log_id=answer.log_id,
                request_body=body,
                response_body=answer.text,
            ) from exc
        return CreatedExam(
            exam_id=exam_id,
            application_id=str(data.get("application_id", application_id)),
            exam_resource_name=str(data.get("exam_resource_name", exam_resource_name)),
            score=result_score if result_score is not None else Decimal(score),
            uuid=data.get("uuid") or uuid,
            operator_id=str(data.get("operator_id", operator_id)),
            operate_time=operate_time,
            log_id=answer.log_id,
            request_body=body,
            response_body=answer.text,
            http_status=answer.status,
        )

    def upload_attachment(
        self, file: BinaryIO | str | os.PathLike[str], filename: str | None = None
    ) -> Attachment:
        """``POST /open-apis/hire/v1/attachments`` (multipart field ``content``).

        A JPG, PNG or PDF report of at most 100 MB; checked before upload.
        """
        if isinstance(file, str | os.PathLike):
            path = Path(file)
            filename = filename or path.name
            with path.open("rb") as fh:
                content = fh.read(ATTACHMENT_MAX_BYTES + 1)
        else:
            filename = filename or Path(str(getattr(file, "name", ""))).name
            content = file.read(ATTACHMENT_MAX_BYTES + 1)
        if not filename:
            raise InvalidRequestError("attachment needs a file name")
        suffix = Path(filename).suffix.lower()
        if suffix not in _ATTACHMENT_TYPES:
            raise InvalidRequestError(
                f"attachment must be JPG, PNG or PDF, not {filename!r}"
            )
        mime, magics = _ATTACHMENT_TYPES[suffix]
        if not content:
            raise InvalidRequestError("attachment is empty")
        if len(content) > ATTACHMENT_MAX_BYTES:
            raise InvalidRequestError("attachment is larger than 100 MB")
        if not content.startswith(magics):
            raise InvalidRequestError(
                f"attachment {filename!r} content does not look like {suffix[1:]}"
            )
        answer = self._call(
            "POST",
            ATTACHMENTS_PATH,
            what="upload attachment",
            files={"content": (filename, content, mime)},
            content_type=None,
        )
        assert answer.payload is not None
        data = answer.payload.get("data") or {}
        if not isinstance(data, dict) or not data.get("id"):
            raise OutcomeUnknownError(
                "upload attachment: success answer without an id",
                http_status=answer.status,
                log_id=answer.log_id,
                response_body=answer.text,
            )
        return Attachment(
            id=str(data["id"]),
            name=str(data.get("name") or filename),
            log_id=answer.log_id,
        )

    def search_tests(
        self, application_ids: Iterable[str], user_id_type: str = "open_id"
    ) -> list[TestRecord]:
        """Every ``tests/search`` item for these applications, all pages."""
        check_user_id_type(user_id_type)
        ids = list(dict.fromkeys(application_ids))
        records: list[TestRecord] = []
        for start in range(0, len(ids), SEARCH_MAX_IDS):
            chunk = ids[start : start + SEARCH_MAX_IDS]
            records.extend(self._search_chunk(chunk, user_id_type))
        return records

    def _search_chunk(self, ids: list[str], user_id_type: str) -> Iterator[TestRecord]:
        body = json.dumps({"application_id_list": ids}).encode()
        page_token: str | None = None
        for _ in range(SEARCH_MAX_PAGES):
            params = {"page_size": SEARCH_PAGE_SIZE, "user_id_type": user_id_type}
            if page_token:
                params["page_token"] = page_token
            answer = self._call(
                "POST",
                TESTS_SEARCH_PATH,
                what="search tests",
                query=urlencode(params),
                data=body,
            )
            assert answer.payload is not None
            data = answer.payload.get("data") or {}
            for item in data.get("items") or []:
                yield TestRecord(
                    test_id=str(item.get("test_id", "")),
                    application_id=str(item.get("application_id", "")),
                    test_paper_name=item.get("test_paper_name"),
                    score=to_decimal(item.get("score")),
                    created_at=ms_to_datetime(item.get("created_at")),
                    result_upload_time=ms_to_datetime(item.get("result_upload_time")),
                    raw=item,
                )
            next_token = data.get("page_token")
            if not data.get("has_more"):
                return
            if not next_token or next_token == page_token:
                raise OutcomeUnknownError(
                    "search tests: has_more without a new page_token",
                    http_status=answer.status,
                    log_id=answer.log_id,
                    response_body=answer.text,
                )
            page_token = str(next_token)
        raise OutcomeUnknownError("search tests: too many pages")

    def get_application(self, application_id: str) -> Application | None:
        """``GET /open-apis/hire/v1/applications/:id``; None when it does not exist."""
        if not isinstance(application_id, str) or not application_id.isdigit():
            raise InvalidRequestError(
                f"application_id must be a numeric id, got {application_id!r}"
            )
        answer = self._call(
            "GET",
            APPLICATION_PATH + quote(application_id, safe=""),
            what="get application",
            content_type=None,
            accept_codes=frozenset({CODE_APPLICATION_NOT_FOUND}),
        )
        if answer.code == CODE_APPLICATION_NOT_FOUND:
            return None
        assert answer.payload is not None
        app = (answer.payload.get("data") or {}).get("application")
        if not isinstance(app, dict) or not app.get("id"):
            return None
        status = app.get("active_status")
        return Application(
            id=str(app["id"]),
            job_id=app.get("job_id"),
            talent_id=app.get("talent_id"),
            active_status=status if isinstance(status, int) else None,
            raw=app,
        )

    def find_user_ids(
        self, emails: Iterable[str], user_id_type: str = "open_id"
    ) -> dict[str, str | None]:
        """Feishu user ids by email (contact v3 ``users/batch_get_id``).

        An address the app cannot see maps to None.
        """
        if user_id_type not in {"open_id", "union_id", "user_id"}:
            raise InvalidRequestError(
                f"user_id_type for contact lookups must be open_id, union_id or "
                f"user_id, got {user_id_type!r}"
            )
        wanted = list(dict.fromkeys(emails))
        found: dict[str, str | None] = {}
        for start in range(0, len(wanted), BATCH_GET_ID_MAX):
            chunk = wanted[start : start + BATCH_GET_ID_MAX]
            body = json.dumps({"emails": chunk, "include_resigned": False}).encode()
            answer = self._call(
                "POST",
                BATCH_GET_ID_PATH,
                what="find user ids",
                query=f"user_id_type={user_id_type}",
                data=body,
            )
            assert answer.payload is not None
            users = (answer.payload.get("data") or {}).get("user_list") or []
            by_email = {
                str(u.get("email", "")).lower(): u.get("user_id") or None for u in users
            }
            for email in chunk:
                found[email] = by_email.get(email.lower())
        return found


def _scopes(payload: dict[str, Any] | None) -> list[str]:
    error = (payload or {}).get("error") or {}
    violations = error.get("permission_violations") or []
    return [str(v.get("subject")) for v in violations if v.get("subject")]
