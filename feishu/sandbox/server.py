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
import itertools
import json
import re
import secrets
import socket
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from feishu.sandbox import applications, contact, exams
from feishu.sandbox.config import (
    APPLICATION_PREFIX,
    ATTACHMENTS_PATH,
    BATCH_GET_ID_PATH,
    CONTROL_HELP,
    DEFAULTS,
    EXAMS_PATH,
    TESTS_SEARCH_PATH,
    TOKEN_PATH,
)
from feishu.sandbox.control import control
from feishu.sandbox.gateway import token_endpoint
from feishu.sandbox.protocol import JsonObject, Reply, Request
from feishu.sandbox.state import State

__all__ = ["CONTROL_HELP", "DEFAULTS", "SandboxServer", "State", "make_server"]

Endpoint = Callable[[Request, State], Reply]

# (method, path pattern, handler); the first match answers.
ROUTES: list[tuple[str, re.Pattern[str], Endpoint]] = [
    (method, re.compile(pattern), handler)
    for method, pattern, handler in [
        ("POST", re.escape(TOKEN_PATH), token_endpoint),
        ("POST", re.escape(EXAMS_PATH), exams.create_exam),
        ("POST", re.escape(ATTACHMENTS_PATH), exams.upload_attachment),
        ("POST", re.escape(TESTS_SEARCH_PATH), exams.search_tests),
        ("POST", re.escape(BATCH_GET_ID_PATH), contact.batch_get_user_ids),
        (
            "GET",
            re.escape(APPLICATION_PREFIX) + r"(?P<application_id>.+)",
            applications.get_application,
        ),
    ]
]


def route(method: str, path: str) -> tuple[Endpoint, dict[str, str]]:
    for route_method, pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if match and route_method == method:
            return handler, match.groupdict()
    raise Reply(404, b"404 page not found")


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
        self, status: int, body: JsonObject | bytes, headers: dict[str, str]
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
        body = self._body()
        with state.lock:
            state.requests[path] += 1
            if not path.startswith("/_sandbox/"):
                state.api_connections.add(self.conn_id)
                state.user_agents[self.headers.get("User-Agent", "")] += 1
        try:
            if path.startswith("/_sandbox/"):
                reply = Reply(200, control(state, self.command, path, body))
            else:
                handler, params = route(self.command, path)
                request = Request(
                    method=self.command,
                    path=path,
                    query=parse_qs(url.query),
                    headers=self.headers,
                    body=body,
                    params=params,
                )
                reply = handler(request, state)
        except Reply as raised:
            reply = raised
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
