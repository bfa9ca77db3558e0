"""Fixtures for the Feishu client tests: the sandbox as a real subprocess over HTTP.

No Django here: these tests request no database fixture.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Importable however pytest was started (script, -m, any import mode).
for _path in (Path(__file__).resolve().parents[2], Path(__file__).resolve().parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from feishu_helpers import (  # noqa: E402
    APP_ID,
    APP_SECRET,
    REDIS_URL,
    CallbackReceiver,
    CannedServer,
    Sandbox,
    start_sandbox,
)

from feishu import FeishuClient, MemoryTokenStore  # noqa: E402


@pytest.fixture(scope="session")
def sandbox_process() -> Iterator[Sandbox]:
    sandbox = start_sandbox("--keepalive-timeout", "5")
    yield sandbox
    sandbox.proc.terminate()
    sandbox.proc.wait(timeout=10)


@pytest.fixture
def sandbox(sandbox_process: Sandbox) -> Sandbox:
    """The shared sandbox, reset to its startup state for this test."""
    sandbox_process.reset()
    return sandbox_process


@pytest.fixture
def make_client(sandbox: Sandbox) -> Iterator[Callable[..., FeishuClient]]:
    clients: list[FeishuClient] = []

    def make(**kwargs: Any) -> FeishuClient:
        kwargs.setdefault("token_store", MemoryTokenStore())
        kwargs.setdefault("connect_timeout", 2)
        kwargs.setdefault("read_timeout", 5)
        base_url = kwargs.pop("base_url", sandbox.url)
        app_id = kwargs.pop("app_id", APP_ID)
        app_secret = kwargs.pop("app_secret", APP_SECRET)
        client = FeishuClient(base_url, app_id, app_secret, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., FeishuClient]) -> FeishuClient:
    return make_client()


@pytest.fixture
def canned_server() -> Iterator[Callable[[bytes], CannedServer]]:
    servers: list[CannedServer] = []

    def make(answer: bytes) -> CannedServer:
        server = CannedServer(answer)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def receiver() -> Iterator[Callable[..., CallbackReceiver]]:
    """Request URLs for event pushes, closed after the test."""
    receivers: list[CallbackReceiver] = []

    def make(**kwargs: Any) -> CallbackReceiver:
        made = CallbackReceiver(**kwargs)
        receivers.append(made)
        return made

    yield make
    for made in receivers:
        made.close()


@pytest.fixture
def redis_client() -> Iterator[Any]:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    yield client
    client.close()
