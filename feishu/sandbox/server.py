"""A fake Feishu Open Platform for development, tests and benchmarks.

It answers like Feishu for the endpoints the portal calls (feishu-api.md): the
internal tenant token, ``POST /hire/v1/exams`` (strictly validated), attachments,
``tests/search``, get application and contact ``users/batch_get_id``, with Feishu's
rate limits. Faults are injected through ``/_sandbox/`` (see ``CONTROL_HELP``).

Every answer is written with one ``sendall`` and Nagle is off: an answer split into
a header packet and a body packet meets the client's delayed ACK and costs ~40 ms.
"""

from __future__ import annotations

import contextlib
import copy
import email.parser
import email.policy
import hashlib
import itertools
import json
import random
import secrets
import socket
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from decimal import Decimal
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"  # noqa: S105
EXAMS_PATH = "/open-apis/hire/v1/exams"
ATTACHMENTS_PATH = "/open-apis/hire/v1/attachments"
TESTS_SEARCH_PATH = "/open-apis/hire/v1/tests/search"
APPLICATION_PREFIX = "/open-apis/hire/v1/applications/"
BATCH_GET_ID_PATH = "/open-apis/contact/v3/users/batch_get_id"

_rng = random.SystemRandom()

USER_ID_TYPES = ("open_id", "union_id", "user_id", "people_admin_id")
EXAM_FIELDS = {
    "application_id": True,
    "exam_resource_name": True,
    "score": True,
    "uuid": False,
    "operator_id": True,
}
ATTACHMENT_MAX_BYTES = 300 * 1024 * 1024

DEFAULTS: dict[str, Any] = {
    # tokens
    "token_lifetime": 7200,  # seconds a new token lives
    "token_reuse_threshold": 1800,  # same token while more than this is left
    "token_latency": 0.0,  # seconds before the token endpoint answers
    # rate limits, per app and per API
    "rate_limit": True,
    "rate_per_second": 50,
    "rate_per_minute": 1000,
    # POST /exams faults
    "fail_ratio": 0.0,  # share answered 500 / 1002001
    "fail_mode": "before",  # "before" or "after" the exam is recorded
    "drop_ratio": 0.0,  # share recorded, then the connection closed unanswered
    "latency": 0.0,  # seconds before a POST /exams is handled
    "missing_scope": False,  # hire APIs answer 99991672
    # tests/search behaviours (UNCONFIRMED on the real service)
    "search_lag": 0.0,  # seconds before a created exam is listed
    "search_lists_api_exams": True,
    "search_ids_differ": False,  # test_id != exam_id
    "search_score_as_string": False,
    "search_fail_status": None,  # e.g. 500 / 503: search answers that
    # applications: any numeric id exists unless listed here, or unless
    # known_applications is a list and it is not in it
    "missing_applications": [],
    "known_applications": None,
    # contact: emails the app cannot see; explicit email -> {id type: id}
    "hidden_emails": [],
    "users": {},
}

CONTROL_HELP = {
    "GET /_sandbox/config": "current settings",
    "POST /_sandbox/config": "merge settings: " + ", ".join(sorted(DEFAULTS)),
    "POST /_sandbox/reset": "forget exams, tokens, tests, counters; settings back "
    "to startup values",
    "POST /_sandbox/revoke_tokens": "every issued token becomes invalid (99991663)",
    "POST /_sandbox/tests": "add a hand-entered test record: application_id, "
    "test_paper_name, score",
    "GET /_sandbox/exams": "recorded exams and counts per (application_id, "
    "exam_resource_name)",
    "GET /_sandbox/stats": "tokens issued, token requests, API connections, "
    "requests per path, rate-limited answers",
}

MSG_MISSING_TOKEN = (
    "Missing access token for authorization. "  # noqa: S105
    "Please make a request with token attached."
)
MSG_INVALID_TOKEN = (
    "Invalid access token for authorization. "  # noqa: S105
    "Please make a request with token attached."
)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _snowflake() -> str:
    return str(7_000_000_000_000_000_000 + secrets.randbelow(10**18))


class Reply(Exception):
    """Raised by a handler to answer at once."""

    def __init__(
        self,
        status: int,
        body: dict[str, Any] | bytes,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def feishu_error(
    status: int, code: int, msg: str, *, extra: dict[str, Any] | None = None
) -> Reply:
    body: dict[str, Any] = {"code": code, "msg": msg}
    if extra:
        body.update(extra)
    return Reply(status, body)


@dataclass
class Token:
    value: str
    app_id: str
    expires_at: float
    revoked: bool = False


@dataclass
class State:
    """Everything the sandbox holds; guarded by ``lock``."""

    app_id: str
    app_secret: str
    startup_config: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: dict[str, Token] = field(default_factory=dict)
    current_token: dict[str, str] = field(default_factory=dict)
    exams: list[dict[str, Any]] = field(default_factory=list)
    manual_tests: list[dict[str, Any]] = field(default_factory=list)
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)
    windows: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    tokens_issued: int = 0
    token_requests: int = 0
    rate_limited: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    user_agents: Counter[str] = field(default_factory=Counter)
    api_connections: set[int] = field(default_factory=set)
    connections_opened: int = 0
    generation: int = 0

    def __post_init__(self) -> None:
        self.config = copy.deepcopy(self.startup_config)

    def reset(self) -> None:
        with self.lock:
            self.config = copy.deepcopy(self.startup_config)
            self.tokens.clear()
            self.current_token.clear()
            self.exams.clear()
            self.manual_tests.clear()
            self.attachments.clear()
            self.windows.clear()
            self.tokens_issued = self.token_requests = self.rate_limited = 0
            self.requests.clear()
            self.user_agents.clear()
            self.api_connections.clear()
            self.connections_opened = 0
            self.generation += 1

    # -- tokens -------------------------------------------------------------

    def issue_token(self, app_id: str) -> tuple[str, int]:
        """Feishu's rule: the same token while it has >= 30 min left, else a new
        one (the old one stays valid until its own expiry)."""
        now = time.monotonic()
        with self.lock:
            self.token_requests += 1
            current = self.tokens.get(self.current_token.get(app_id, ""))
            threshold = self.config["token_reuse_threshold"]
            if (
                current is not None
                and not current.revoked
                and current.expires_at - now >= threshold
            ):
                return current.value, int(current.expires_at - now)
            lifetime = float(self.config["token_lifetime"])
            token = Token("t-" + secrets.token_hex(20), app_id, now + lifetime)
            self.tokens[token.value] = token
            self.current_token[app_id] = token.value
            self.tokens_issued += 1
            return token.value, int(lifetime)

    def check_token(self, authorization: str | None) -> str:
        """The app id the Bearer token belongs to, or a Feishu auth error."""
        if not authorization:
            raise feishu_error(400, 99991661, MSG_MISSING_TOKEN)
        scheme, _, value = authorization.partition(" ")
        if scheme != "Bearer" or not value or " " in value:
            raise feishu_error(400, 99991668, MSG_INVALID_TOKEN)
        with self.lock:
            token = self.tokens.get(value)
            if token is None:
                raise feishu_error(400, 99991668, MSG_INVALID_TOKEN)
            if token.revoked or token.expires_at <= time.monotonic():
                raise feishu_error(400, 99991663, MSG_INVALID_TOKEN)
            return token.app_id

    def revoke_tokens(self) -> int:
        with self.lock:
            for token in self.tokens.values():
                token.revoked = True
            self.current_token.clear()
            return len(self.tokens)

    # -- rate limit ---------------------------------------------------------

    def rate_check(self, app_id: str, api: str) -> None:
        """Sliding windows of 1 s and 60 s per (app, API). Refused requests do not
        count, so a client that waits out the reset header gets through."""
        with self.lock:
            if not self.config["rate_limit"]:
                return
            now = time.monotonic()
            window = self.windows.setdefault((app_id, api), deque())
            while window and window[0] <= now - 60:
                window.popleft()
            per_second = int(self.config["rate_per_second"])
            per_minute = int(self.config["rate_per_minute"])
            in_last_second = 0
            oldest_in_second = now
            for stamp in reversed(window):
                if stamp <= now - 1:
                    break
                in_last_second += 1
                oldest_in_second = stamp
            limit = reset = None
            if len(window) >= per_minute:
                limit, reset = per_minute, window[len(window) - per_minute] + 60 - now
            elif in_last_second >= per_second:
                limit, reset = per_second, oldest_in_second + 1 - now
            if limit is not None and reset is not None:
                self.rate_limited += 1
                raise Reply(
                    429,
                    {"code": 99991400, "msg": "request trigger frequency limit"},
                    {
                        "x-ogw-ratelimit-limit": str(limit),
                        "x-ogw-ratelimit-reset": str(max(1, int(reset + 0.999))),
                    },
                )
            window.append(now)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FeishuSandbox"
    sys_version = ""
    server: SandboxServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn_id = next(self.server.conn_ids)
        with self.server.state.lock:
            self.server.state.connections_opened += 1

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    # -- plumbing -----------------------------------------------------------

    def _send(
        self, status: int, body: dict[str, Any] | bytes, headers: dict[str, str]
    ) -> None:
        if isinstance(body, bytes):
            payload = body
            content_type = headers.pop("Content-Type", "text/plain; charset=utf-8")
        else:
            payload = json.dumps(body, ensure_ascii=False, default=str).encode()
            content_type = "application/json; charset=utf-8"
        phrase = (
            HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        )
        lines = [
            f"HTTP/1.1 {status} {phrase}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(payload)}",
            f"X-Tt-Logid: {time.strftime('%Y%m%d%H%M%S')}{secrets.token_hex(12)}",
            f"Date: {self.date_time_string()}",
            "Server: FeishuSandbox",
        ]
        lines.extend(f"{k}: {v}" for k, v in headers.items())
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + payload)  # one write: see module docstring
        self.log_request(status, len(payload))

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        path = url.path
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        body = self._body()
        with state.lock:
            state.requests[path] += 1
            if not path.startswith("/_sandbox/"):
                state.api_connections.add(self.conn_id)
                state.user_agents[self.headers.get("User-Agent", "")] += 1
        try:
            if path.startswith("/_sandbox/"):
                result = self.server.control(self.command, path, body)
                raise Reply(200, result)
            route = ROUTES.get(path)
            if route is None and path.startswith(APPLICATION_PREFIX):
                route = ("GET", _get_application)
            if route is None or route[0] != self.command:
                raise Reply(404, b"404 page not found")
            handler = route[1]
            handler(self, state, query, body)
        except Reply as reply:
            if reply.status == -1:  # drop: close without answering
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._send(reply.status, reply.body, dict(reply.headers))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:  # a sandbox bug must not kill the server
            self.server.handle_error(self.request, self.client_address)
            with contextlib.suppress(OSError):
                self._send(500, {"code": 1002001, "msg": "sandbox internal error"}, {})
            self.close_connection = True


# -- API handlers -------------------------------------------------------------


def _json(body: bytes) -> Any:
    try:
        return json.loads(body, parse_float=Decimal, parse_int=Decimal)
    except ValueError as exc:
        raise feishu_error(400, 1002002, f"invalid json body: {exc}") from exc


def _content_type_is_json(value: str | None) -> bool:
    if not value:
        return False
    media, _, params = value.partition(";")
    if media.strip().lower() != "application/json":
        return False
    params = params.strip().lower()
    return not params or params.replace(" ", "") in {"charset=utf-8", 'charset="utf-8"'}


def _param_error(msg: str) -> Reply:
    return feishu_error(400, 1002002, msg)


def _token(h: Handler, state: State, query: dict[str, str], body: bytes) -> None:
    delay = float(state.config["token_latency"])
    if delay:
        time.sleep(delay)
    data = _json(body) if body else {}
    if not isinstance(data, dict):
        raise feishu_error(400, 10003, "invalid param")
    app_id, secret = data.get("app_id"), data.get("app_secret")
    if not isinstance(app_id, str) or not isinstance(secret, str) or not app_id:
        raise feishu_error(400, 10003, "invalid param")
    if app_id != state.app_id:
        raise feishu_error(400, 10003, "invalid param")
    if not secrets.compare_digest(secret.encode(), state.app_secret.encode()):
        raise feishu_error(400, 10014, "app secret invalid")
    value, expire = state.issue_token(app_id)
    raise Reply(
        200,
        {"code": 0, "msg": "ok", "tenant_access_token": value, "expire": expire},
    )


def _authorize(h: Handler, state: State, api: str) -> str:
    app_id = state.check_token(h.headers.get("Authorization"))
    state.rate_check(app_id, api)
    if state.config["missing_scope"]:
        scope = {
            "exams": "hire:exam",
            "tests": "hire:exam:readonly",
            "attachments": "hire:attachment",
            "applications": "hire:application:readonly",
            "contact": "contact:user.id:readonly",
        }[api]
        raise feishu_error(
            400,
            99991672,
            f"Access denied. One of the following scopes is required: [{scope}].",
            extra={
                "error": {
                    "log_id": secrets.token_hex(12),
                    "permission_violations": [
                        {
                            "type": "action_scope_required",
                            "subject": scope,
                            "description": "The app lacks this scope.",
                        }
                    ],
                    "troubleshooter": "https://open.feishu.cn/search?log_id=sandbox",
                }
            },
        )
    return app_id


def _user_id_type(query: dict[str, str]) -> str:
    value = query.get("user_id_type", "open_id")
    if value not in USER_ID_TYPES:
        raise _param_error(f"invalid user_id_type: {value}")
    return value


def _require_json(h: Handler) -> None:
    if not _content_type_is_json(h.headers.get("Content-Type")):
        raise _param_error("content-type must be application/json; charset=utf-8")


def _application_known(state: State, application_id: str) -> bool:
    with state.lock:
        if application_id in state.config["missing_applications"]:
            return False
        known = state.config["known_applications"]
        return known is None or application_id in known


def _create_exam(h: Handler, state: State, query: dict[str, str], body: bytes) -> None:
    cfg = state.config
    if cfg["latency"]:
        time.sleep(float(cfg["latency"]))
    _authorize(h, state, "exams")
    _require_json(h)
    id_type = _user_id_type(query)
    data = _json(body)
    if not isinstance(data, dict):
        raise _param_error("body must be a json object")
    unknown = sorted(set(data) - set(EXAM_FIELDS))
    if unknown:
        raise _param_error(f"unknown field: {', '.join(unknown)}")
    for name, required in EXAM_FIELDS.items():
        if required and name not in data:
            raise _param_error(f"missing required field: {name}")
    for name in ("application_id", "exam_resource_name", "operator_id", "uuid"):
        if name in data and (not isinstance(data[name], str) or not data[name]):
            raise _param_error(f"{name} must be a non-empty string")
    score = data["score"]
    if not isinstance(score, Decimal):
        raise _param_error("score must be a number")
    exponent = score.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -1:
        raise _param_error("score supports one decimal place")
    application_id = data["application_id"]
    if not application_id.isascii() or not application_id.isdigit():
        raise _param_error(f"invalid application_id: {application_id}")
    operator_id = data["operator_id"]
    prefix = {"open_id": "ou_", "union_id": "on_"}.get(id_type)
    if prefix and not operator_id.startswith(prefix):
        raise _param_error(f"operator_id is not a valid {id_type}")
    uuid = data.get("uuid")
    if uuid is not None and not uuid.isdigit():
        raise _param_error(f"invalid uuid (attachment id): {uuid}")
    if not _application_known(state, application_id):
        raise _param_error(f"application not exist: {application_id}")

    fail = _rng.random() < float(cfg["fail_ratio"])
    if fail and cfg["fail_mode"] != "after":
        raise feishu_error(500, 1002001, "system error")
    exam = {
        "exam_id": _snowflake(),
        "application_id": application_id,
        "exam_resource_name": data["exam_resource_name"],
        "score": f"{score.quantize(Decimal('0.1'))}",
        "uuid": uuid,
        "operator_id": operator_id,
        "user_id_type": id_type,
        "operate_time": str(_now_ms()),
        "created_monotonic": time.monotonic(),
        "test_id": _snowflake(),
        "request_body": body.decode("utf-8"),
    }
    with state.lock:
        state.exams.append(exam)
    if fail:
        raise feishu_error(500, 1002001, "system error")
    if _rng.random() < float(cfg["drop_ratio"]):
        raise Reply(-1, b"")
    payload = (
        '{"code":0,"msg":"success","data":{'
        f'"exam_id":"{exam["exam_id"]}",'
        f'"application_id":{json.dumps(application_id)},'
        f'"exam_resource_name":{json.dumps(exam["exam_resource_name"], ensure_ascii=False)},'
        f'"score":{exam["score"]},'
        + (f'"uuid":{json.dumps(uuid)},' if uuid is not None else "")
        + f'"operator_id":{json.dumps(operator_id)},'
        f'"operate_time":"{exam["operate_time"]}"}}}}'
    )
    raise Reply(
        200, payload.encode(), {"Content-Type": "application/json; charset=utf-8"}
    )


def _upload_attachment(
    h: Handler, state: State, query: dict[str, str], body: bytes
) -> None:
    _authorize(h, state, "attachments")
    content_type = h.headers.get("Content-Type") or ""
    if not content_type.lower().startswith("multipart/form-data"):
        raise _param_error("content-type must be multipart/form-data")
    if len(body) > ATTACHMENT_MAX_BYTES:
        raise _param_error("file too large")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    parts = [
        p
        for p in (message.iter_parts() if message.is_multipart() else [])
        if p.get_param("name", header="content-disposition") == "content"
    ]
    if not parts:
        raise _param_error("missing form field: content")
    part = parts[0]
    content = part.get_payload(decode=True) or b""
    if not content:
        raise _param_error("empty file")
    name = part.get_filename() or "attachment"
    attachment_id = _snowflake()
    with state.lock:
        state.attachments[attachment_id] = {"name": name, "size": len(content)}
    raise Reply(
        200,
        {
            "code": 0,
            "msg": "success",
            "data": {
                "id": attachment_id,
                "name": name,
                "url": f"https://sandbox.invalid/attachments/{attachment_id}",
            },
        },
    )


def _test_item(
    exam: dict[str, Any], cfg: dict[str, Any], manual: bool
) -> dict[str, Any]:
    score: Any = exam["score"]
    if not cfg["search_score_as_string"] and not manual:
        score = Decimal(score)
    created = exam.get("operate_time") or str(_now_ms())
    item = {
        "test_id": exam["test_id"]
        if (cfg["search_ids_differ"] or manual)
        else exam.get("exam_id", exam["test_id"]),
        "application_id": exam["application_id"],
        "talent_id": "6" + exam["application_id"][-18:].rjust(18, "0"),
        "job_id": "6900000000000000001",
        "test_paper_id": "7100000000000000001",
        "test_paper_name": exam["exam_resource_name"],
        "reply_status": 1,
        "test_status": 3,
        "test_schedule": {"start_time": created, "end_time": created},
        "test_complete_time": created,
        "report_url_list": [],
        "result_detail_list": [],
        "score": score,
        "score_submit_time": created,
        "created_at": created,
    }
    if manual:
        # The Go SDK says result_upload_time is set only for hand-entered scores.
        item["result_upload_time"] = created
    return item


def _search_tests(h: Handler, state: State, query: dict[str, str], body: bytes) -> None:
    _authorize(h, state, "tests")
    _require_json(h)
    _user_id_type(query)
    cfg = state.config
    if cfg["search_fail_status"]:
        raise feishu_error(int(cfg["search_fail_status"]), 1002001, "system error")
    data = _json(body) if body else {}
    if not isinstance(data, dict):
        raise _param_error("body must be a json object")
    ids = data.get("application_id_list")
    if ids is not None and (
        not isinstance(ids, list)
        or len(ids) > 100
        or not all(isinstance(i, str) for i in ids)
    ):
        raise _param_error("application_id_list must be up to 100 strings")
    try:
        page_size = int(query.get("page_size", "10"))
        offset = int(query.get("page_token") or "0")
    except ValueError as exc:
        raise _param_error("invalid page_size or page_token") from exc
    if not 1 <= page_size <= 100 or offset < 0:
        raise _param_error("page_size must be 1..100")
    wanted = set(ids) if ids else None
    now = time.monotonic()
    with state.lock:
        items: list[dict[str, Any]] = []
        if cfg["search_lists_api_exams"]:
            items.extend(
                _test_item(e, cfg, manual=False)
                for e in state.exams
                if now - e["created_monotonic"] >= float(cfg["search_lag"])
                and (wanted is None or e["application_id"] in wanted)
            )
        items.extend(
            _test_item(t, cfg, manual=True)
            for t in state.manual_tests
            if wanted is None or t["application_id"] in wanted
        )
    page = items[offset : offset + page_size]
    has_more = offset + page_size < len(items)
    raise Reply(
        200,
        {
            "code": 0,
            "msg": "success",
            "data": {
                "items": page,
                "has_more": has_more,
                "page_token": str(offset + page_size) if has_more else "",
            },
        },
    )


def _get_application(
    h: Handler, state: State, query: dict[str, str], body: bytes
) -> None:
    _authorize(h, state, "applications")
    application_id = urlsplit(h.path).path[len(APPLICATION_PREFIX) :]
    if not application_id.isdigit():
        raise _param_error(f"invalid application_id: {application_id}")
    if not _application_known(state, application_id):
        raise feishu_error(400, 1002201, "application not exist")
    raise Reply(
        200,
        {
            "code": 0,
            "msg": "success",
            "data": {
                "application": {
                    "id": application_id,
                    "job_id": "6900000000000000001",
                    "talent_id": "6" + application_id[-18:].rjust(18, "0"),
                    "resume_source_id": "MU",
                    "stage": {
                        "id": "6960663240925956576",
                        "zh_name": "笔试",
                        "en_name": "Written test",
                        "type": 2,
                    },
                    "active_status": 1,
                    "delivery_type": 1,
                    "create_time": "1637295516451",
                    "modify_time": "1637295516451",
                }
            },
        },
    )


def _batch_get_id(h: Handler, state: State, query: dict[str, str], body: bytes) -> None:
    _authorize(h, state, "contact")
    _require_json(h)
    id_type = query.get("user_id_type", "open_id")
    if id_type not in ("open_id", "union_id", "user_id"):
        raise feishu_error(400, 99992402, "field validation failed: user_id_type")
    data = _json(body) if body else {}
    emails = data.get("emails") or [] if isinstance(data, dict) else None
    if not isinstance(emails, list) or len(emails) > 50:
        raise feishu_error(400, 99992402, "field validation failed: emails")
    cfg = state.config
    hidden = {e.lower() for e in cfg["hidden_emails"]}
    users = {k.lower(): v for k, v in cfg["users"].items()}
    user_list = []
    for address in emails:
        entry: dict[str, Any] = {"email": address}
        key = str(address).lower()
        if key not in hidden:
            digest = _stable_hex(key)
            ids = {
                "open_id": "ou_" + digest,
                "union_id": "on_" + digest,
                "user_id": digest[:8],
            }
            ids.update(users.get(key) or {})
            entry["user_id"] = ids[id_type]
            entry["status"] = {"is_frozen": False, "is_resigned": False}
        user_list.append(entry)
    raise Reply(200, {"code": 0, "msg": "success", "data": {"user_list": user_list}})


def _stable_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


ROUTES = {
    TOKEN_PATH: ("POST", _token),
    EXAMS_PATH: ("POST", _create_exam),
    ATTACHMENTS_PATH: ("POST", _upload_attachment),
    TESTS_SEARCH_PATH: ("POST", _search_tests),
    BATCH_GET_ID_PATH: ("POST", _batch_get_id),
}


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        state: State,
        *,
        keepalive_timeout: float = 30,
        verbose: bool = False,
    ) -> None:
        self.state = state
        self.verbose = verbose
        self.conn_ids = itertools.count(1)
        handler = type("SandboxHandler", (Handler,), {"timeout": keepalive_timeout})
        super().__init__(address, handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{port}"

    def control(self, method: str, path: str, body: bytes) -> dict[str, Any]:
        state = self.state
        try:
            data = json.loads(body) if body else {}
        except ValueError as exc:
            raise Reply(400, {"error": f"invalid json: {exc}"}) from exc
        key = (method, path)
        if key == ("GET", "/_sandbox/config"):
            with state.lock:
                return dict(state.config)
        if key == ("POST", "/_sandbox/config"):
            unknown = sorted(set(data) - set(DEFAULTS))
            if unknown:
                raise Reply(400, {"error": f"unknown settings: {unknown}"})
            with state.lock:
                state.config.update(data)
                return dict(state.config)
        if key == ("POST", "/_sandbox/reset"):
            state.reset()
            return {"ok": True}
        if key == ("POST", "/_sandbox/revoke_tokens"):
            return {"revoked": state.revoke_tokens()}
        if key == ("POST", "/_sandbox/tests"):
            missing = {"application_id", "test_paper_name", "score"} - set(data)
            if missing:
                raise Reply(400, {"error": f"missing: {sorted(missing)}"})
            record = {
                "test_id": _snowflake(),
                "application_id": str(data["application_id"]),
                "exam_resource_name": str(data["test_paper_name"]),
                "score": str(data["score"]),
                "operate_time": str(_now_ms()),
            }
            with state.lock:
                state.manual_tests.append(record)
            return record
        if key == ("GET", "/_sandbox/exams"):
            with state.lock:
                exams = [
                    {k: v for k, v in e.items() if k != "created_monotonic"}
                    for e in state.exams
                ]
            counts = Counter(
                (e["application_id"], e["exam_resource_name"]) for e in exams
            )
            return {
                "total": len(exams),
                "exams": exams,
                "counts": [
                    {"application_id": a, "exam_resource_name": n, "count": c}
                    for (a, n), c in counts.items()
                ],
                "duplicates": [
                    {"application_id": a, "exam_resource_name": n, "count": c}
                    for (a, n), c in counts.items()
                    if c > 1
                ],
            }
        if key == ("GET", "/_sandbox/stats"):
            with state.lock:
                return {
                    "tokens_issued": state.tokens_issued,
                    "token_requests": state.token_requests,
                    "api_connections": len(state.api_connections),
                    "connections_opened": state.connections_opened,
                    "rate_limited": state.rate_limited,
                    "requests": dict(state.requests),
                    "user_agents": dict(state.user_agents),
                    "exams": len(state.exams),
                    "attachments": len(state.attachments),
                }
        if key == ("GET", "/_sandbox/"):
            return {"commands": CONTROL_HELP}
        raise Reply(404, {"error": "unknown control command", "commands": CONTROL_HELP})


def make_server(
    host: str = "127.0.0.1",
    port: int = 8801,
    *,
    app_id: str = "cli_sandbox",
    app_secret: str = "sandbox-secret",  # noqa: S107
    keepalive_timeout: float = 30,
    verbose: bool = False,
    **settings: Any,
) -> SandboxServer:
    unknown = sorted(set(settings) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown sandbox settings: {unknown}")
    config = {**copy.deepcopy(DEFAULTS), **settings}
    state = State(app_id=app_id, app_secret=app_secret, startup_config=config)
    return SandboxServer(
        (host, port), state, keepalive_timeout=keepalive_timeout, verbose=verbose
    )
