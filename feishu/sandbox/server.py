"""A fake Feishu Open Platform for development, tests and benchmarks.

It answers like Feishu for the endpoints the portal calls (feishu-api.md,
feishu-candidates.md): the internal tenant token, ``POST /hire/v1/exams`` (strictly
validated), attachments, ``tests/search``, contact ``users/batch_get_id``, and the
candidate reads (applications, get_detail, talents/batch_get_id, job_processes)
over a candidate world, with each API's rate limits. It pushes Hire events to a
callback URL. Faults, the world and events are driven through ``/_sandbox/`` (see
``CONTROL_HELP``).

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

from feishu.sandbox import applications, contact, exams, processes, talents
from feishu.sandbox.config import (
    APPLICATION_PREFIX,
    APPLICATIONS_PATH,
    ATTACHMENTS_PATH,
    BATCH_GET_ID_PATH,
    CONTROL_HELP,
    DEFAULTS,
    EXAMS_PATH,
    JOB_PROCESSES_PATH,
    TALENT_BATCH_GET_ID_PATH,
    TESTS_SEARCH_PATH,
    TOKEN_PATH,
)
from feishu.sandbox.control import control
from feishu.sandbox.demo import WORLDS
from feishu.sandbox.events import EventPusher
from feishu.sandbox.gateway import token_endpoint
from feishu.sandbox.protocol import JsonObject, Reply, Request, now_ms
from feishu.sandbox.state import State
from feishu.sandbox.world import World

__all__ = ["CONTROL_HELP", "DEFAULTS", "SandboxServer", "State", "make_server"]

Endpoint = Callable[[Request, State], Reply]

_APP = re.escape(APPLICATION_PREFIX) + r"(?P<application_id>[^/]+)"

# (method, path pattern, API name for limits and counters, handler); the first
# match answers.
ROUTES: list[tuple[str, re.Pattern[str], str, Endpoint]] = [
    (method, re.compile(pattern), api, handler)
    for method, pattern, api, handler in [
        ("POST", re.escape(TOKEN_PATH), "token", token_endpoint),
        ("POST", re.escape(EXAMS_PATH), "exams", exams.create_exam),
        ("POST", re.escape(ATTACHMENTS_PATH), "attachments", exams.upload_attachment),
        ("POST", re.escape(TESTS_SEARCH_PATH), "tests", exams.search_tests),
        ("POST", re.escape(BATCH_GET_ID_PATH), "contact", contact.batch_get_user_ids),
        (
            "POST",
            re.escape(TALENT_BATCH_GET_ID_PATH),
            "talent_batch_get_id",
            talents.batch_get_id,
        ),
        (
            "GET",
            re.escape(APPLICATIONS_PATH),
            "application_list",
            applications.list_applications,
        ),
        ("GET", _APP + "/get_detail", "application_detail", applications.get_detail),
        ("GET", _APP, "application_get", applications.get_application),
        (
            "GET",
            re.escape(JOB_PROCESSES_PATH),
            "job_processes",
            processes.list_job_processes,
        ),
    ]
]


def route(method: str, path: str) -> tuple[str, Endpoint, dict[str, str]]:
    for route_method, pattern, api, handler in ROUTES:
        match = pattern.fullmatch(path)
        if match and route_method == method:
            return api, handler, match.groupdict()
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
                api, handler, params = route(self.command, path)
                with state.lock:
                    state.api_requests[api] += 1
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
    world: str = "empty",
    events: dict[str, Any] | None = None,
    **settings: Any,
) -> SandboxServer:
    """A sandbox on ``host:port``; ``world`` is ``"empty"`` (job processes and jobs
    only) or ``"demo"``; ``events``: where to push events from the start (see
    ``feishu.sandbox.events.EVENT_DEFAULTS``); ``settings`` override
    :data:`DEFAULTS`."""
    unknown = sorted(set(settings) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown sandbox settings: {unknown}")
    if world not in WORLDS:
        raise ValueError(f"unknown world {world!r}; one of {sorted(WORLDS)}")
    config = {**copy.deepcopy(DEFAULTS), **settings}
    startup_world = World()
    startup_world.merge(WORLDS[world](now_ms()), now_ms())
    state = State(
        app_id=app_id,
        app_secret=app_secret,
        startup_config=config,
        startup_world=startup_world,
        events=EventPusher(events),
    )
    return SandboxServer(
        (host, port), state, keepalive_timeout=keepalive_timeout, verbose=verbose
    )
