"""Fixtures for the Feishu client tests: the sandbox as a real subprocess over HTTP.

No Django here: these tests request no database fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from feishu import FeishuClient, MemoryTokenStore
from tests.feishu.feishu_helpers import (
    APP_ID,
    APP_SECRET,
    REDIS_URL,
    CallbackReceiver,
    CannedServer,
    Sandbox,
    closed_after,
    start_sandbox,
)


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
    def build(**kwargs: Any) -> FeishuClient:
        kwargs.setdefault("token_store", MemoryTokenStore())
        kwargs.setdefault("connect_timeout", 2)
        kwargs.setdefault("read_timeout", 5)
        base_url = kwargs.pop("base_url", sandbox.url)
        app_id = kwargs.pop("app_id", APP_ID)
        app_secret = kwargs.pop("app_secret", APP_SECRET)
        return FeishuClient(base_url, app_id, app_secret, **kwargs)

    yield from closed_after(build)


@pytest.fixture
def client(make_client: Callable[..., FeishuClient]) -> FeishuClient:
    return make_client()


@pytest.fixture
def canned_server() -> Iterator[Callable[[bytes], CannedServer]]:
    yield from closed_after(CannedServer)


@pytest.fixture
def canned_client(
    make_client: Callable[..., FeishuClient],
    canned_server: Callable[[bytes], CannedServer],
) -> Callable[[bytes], tuple[FeishuClient, CannedServer]]:
    """A client whose requests all get ``answer``'s exact bytes, already holding a
    token, so that its one request is the call under test."""

    def make(answer: bytes) -> tuple[FeishuClient, CannedServer]:
        server = canned_server(answer)
        client = make_client(base_url=server.url)
        client._store.set(client.token_key, "t-canned", 60)
        return client, server

    return make


@pytest.fixture
def receiver() -> Iterator[Callable[..., CallbackReceiver]]:
    """Request URLs for event pushes, closed after the test."""
    yield from closed_after(CallbackReceiver)


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
