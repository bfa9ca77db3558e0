"""Shared by the Feishu client tests: constants, the sandbox process and its
control endpoint, a canned raw-socket server, and a request URL for event
pushes."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import requests

from feishu.sandbox.process import spawn

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_ID = "cli_sandbox"
APP_SECRET = "sandbox-secret-for-tests"
APPLICATION_ID = "6891565253964859661"
OPERATOR = "ou_f476cb099ac9227c9bae09ce46112579"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")

T = TypeVar("T")


def closed_after(build: Callable[..., T]) -> Iterator[Callable[..., T]]:
    """For a fixture to ``yield from``: ``build`` as the test's factory, and
    everything it made closed when the test ends."""
    made: list[Any] = []

    def make(*args: Any, **kwargs: Any) -> T:
        thing = build(*args, **kwargs)
        made.append(thing)
        return thing

    yield make
    for thing in made:
        thing.close()


class Sandbox:
    """The sandbox process and its control endpoint."""

    def __init__(
        self, url: str, proc: subprocess.Popen[str], startup_line: str = ""
    ) -> None:
        self.url = url
        self.proc = proc
        self.startup_line = startup_line
        self.http = requests.Session()

    def _post(self, command: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.post(f"{self.url}/_sandbox/{command}", json=body or {})
        response.raise_for_status()
        return response.json()

    def _get(self, command: str) -> Any:
        response = self.http.get(f"{self.url}/_sandbox/{command}")
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self._post("reset")

    def configure(self, **settings: Any) -> dict[str, Any]:
        return self._post("config", settings)

    def revoke_tokens(self) -> None:
        self._post("revoke_tokens")

    def add_test(self, **record: Any) -> dict[str, Any]:
        return self._post("tests", record)

    def exams(self) -> dict[str, Any]:
        return self._get("exams")

    def stats(self) -> dict[str, Any]:
        return self._get("stats")

    # -- the candidate world ---------------------------------------------------

    def world(self) -> dict[str, Any]:
        return self._get("world")

    def merge_world(self, **world: Any) -> dict[str, Any]:
        """Add processes / jobs / talents / applications (lists of objects)."""
        return self._post("world", world)

    def load_world(self, name: str) -> dict[str, Any]:
        return self._post("world/load", {"name": name})

    def move(self, application_id: str, stage_id: str) -> dict[str, Any]:
        return self._post(f"applications/{application_id}/move", {"stage_id": stage_id})

    def terminate(
        self,
        application_id: str,
        reason_zh: str = "候选人拒绝",
        reason_en: str = "Candidate declined",
        **more: Any,
    ) -> dict[str, Any]:
        return self._post(
            f"applications/{application_id}/terminate",
            {"reason_zh": reason_zh, "reason_en": reason_en, **more},
        )

    def delete_applications(self, *application_ids: str) -> dict[str, Any]:
        return self._post(
            "applications/delete", {"application_ids": list(application_ids)}
        )

    # -- events ------------------------------------------------------------------

    def configure_events(self, **settings: Any) -> dict[str, Any]:
        return self._post("events/config", settings)

    def events(self) -> list[dict[str, Any]]:
        return self._get("events")["events"]

    def verify_url(self) -> dict[str, Any]:
        return self._post("events/verify_url")

    def replay_event(self, event_id: str) -> dict[str, Any]:
        return self._post("events/push", {"event_id": event_id})

    def token(self) -> tuple[str, int]:
        body = self.http.post(
            f"{self.url}/open-apis/auth/v3/tenant_access_token/internal",
            json={"app_id": APP_ID, "app_secret": APP_SECRET},
        ).json()
        return body["tenant_access_token"], body["expire"]


def start_sandbox(*extra: str) -> Sandbox:
    proc, url = spawn(*extra, app_id=APP_ID, app_secret=APP_SECRET)
    return Sandbox(url, proc, getattr(proc, "startup_line", ""))


class CannedServer:
    """A raw HTTP server answering what the sandbox cannot: a proxy's HTML 502.

    ``answer`` is the exact bytes written after reading one request.
    """

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.requests = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.requests += 1
                conn.sendall(self.answer)

    def close(self) -> None:
        self.sock.close()


class CallbackReceiver:
    """A request URL for the sandbox's event pushes: records every POST and
    answers the next of ``statuses`` (200 once they run out). ``answer`` builds
    the body from (raw body, headers) when set."""

    def __init__(
        self,
        statuses: list[int] | None = None,
        answer: Callable[[bytes, dict[str, str]], bytes] | None = None,
    ) -> None:
        self.statuses = list(statuses or [])
        self.answer = answer
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = dict(self.headers.items())
                with receiver.arrived:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.received.append((headers, body))
                    receiver.arrived.notify_all()
                reply = receiver.answer(body, headers) if receiver.answer else b"{}"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/feishu/events"
        threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        ).start()

    def wait_for(
        self, count: int, timeout: float = 10
    ) -> list[tuple[dict[str, str], bytes]]:
        """The first ``count`` requests, once they arrived."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received[:count])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_until(check: Callable[[], Any], timeout: float = 10) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)
