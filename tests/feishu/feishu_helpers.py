"""Shared by the Feishu client tests: constants, the sandbox process and its
control endpoint, and a canned raw-socket server."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

import requests

from feishu.sandbox.process import spawn

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_ID = "cli_sandbox"
APP_SECRET = "sandbox-secret-for-tests"
APPLICATION_ID = "6891565253964859661"
OPERATOR = "ou_f476cb099ac9227c9bae09ce46112579"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


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

    def reset(self) -> None:
        self._post("reset")

    def configure(self, **settings: Any) -> dict[str, Any]:
        return self._post("config", settings)

    def revoke_tokens(self) -> None:
        self._post("revoke_tokens")

    def add_test(self, **record: Any) -> dict[str, Any]:
        return self._post("tests", record)

    def exams(self) -> dict[str, Any]:
        return self.http.get(f"{self.url}/_sandbox/exams").json()

    def stats(self) -> dict[str, Any]:
        return self.http.get(f"{self.url}/_sandbox/stats").json()

    def token(self) -> tuple[str, int]:
        body = self.http.post(
            f"{self.url}/open-apis/auth/v3/tenant_access_token/internal",
            json={"app_id": APP_ID, "app_secret": APP_SECRET},
        ).json()
        return body["tenant_access_token"], body["expire"]


def start_sandbox(*extra: str) -> Sandbox:
    proc, url = spawn(*extra, app_id=APP_ID, app_secret=APP_SECRET)
    return Sandbox(url, proc, proc.startup_line)


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
