"""The delivery stack, really started: the Feishu sandbox and Celery workers as
separate processes, against the test database and the broker (Redis when REDIS_URL
is set, else the serverless filesystem broker).

Workers run with short leases, backoffs and sweep intervals so the suite stays fast;
tests use transactional_db so workers see committed rows.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from exams.gateway.limiter import limiter_start_fresh
from feishu.sandbox.process import spawn
from hiring_portal import celery_process
from hiring_portal.celery_process import CeleryProcess
from tests.feishu.feishu_helpers import Sandbox

APP_ID = "cli_sandbox"
APP_SECRET = "sandbox-secret"

FAST = {
    "FEISHU_CONNECT_TIMEOUT": "1",
    "FEISHU_READ_TIMEOUT": "2",
    "DELIVERY_LEASE_SECONDS": "5",
    "DELIVERY_BACKOFF_BASE_SECONDS": "0.2",
    "DELIVERY_BACKOFF_CAP_SECONDS": "1",
    "DELIVERY_SWEEP_INTERVAL_SECONDS": "1",
    "DELIVERY_REDISPATCH_AFTER_SECONDS": "3",
    "DELIVERY_RECONCILE_SETTLE_SECONDS": "1",
    "DELIVERY_RECONCILE_CLOCK_TOLERANCE_SECONDS": "5",
    "DELIVERY_RECONCILE_BACKOFF_BASE_SECONDS": "0.5",
    "DELIVERY_RECONCILE_BACKOFF_CAP_SECONDS": "2",
    "DELIVERY_BREAKER_COOLDOWN_SECONDS": "1",
    "DELIVERY_BREAKER_MAX_COOLDOWN_SECONDS": "2",
    "DELIVERY_BREAKER_PROBE_WAIT_SECONDS": "0.5",
    "DELIVERY_BREAKER_FAILURE_THRESHOLD": "50",
    "FEISHU_RATE_WINDOW_MARGIN": "0.1",
}


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = db["USER"] or "postgres"
        password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
        return (
            f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
    return f"sqlite:///{db['NAME']}"


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    proc, url = spawn(app_id=APP_ID, app_secret=APP_SECRET)
    yield Sandbox(url, proc, proc.startup_line)
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def sandbox(sandbox_server: Sandbox, settings) -> Sandbox:
    sandbox_server.reset()
    settings.FEISHU_BASE_URL = sandbox_server.url
    settings.FEISHU_APP_ID = APP_ID
    settings.FEISHU_APP_SECRET = APP_SECRET
    for name, value in FAST.items():
        setattr(settings, name, type(getattr(settings, name))(value))
    return sandbox_server


def _clear_shared_state() -> None:
    """Forget locks, permits, tokens and queued messages of the previous test."""
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        keys = list(client.scan_iter("hp:*")) + list(client.scan_iter("feishu*"))
        keys += [b"feishu", b"celery"]
        if keys:
            client.delete(*keys)
        # Emptied on purpose, not lost: no minute's pause as after a fault.
        limiter_start_fresh()
    else:
        from django.core.cache import cache

        cache.clear()
        for path in Path(settings.VAR_DIR).glob("limiter-*.json"):
            path.unlink()
        # Messages earlier tests queued (lookups, dispatches) without a worker.
        for path in (Path(settings.VAR_DIR) / "broker" / "queue").glob("*"):
            path.unlink(missing_ok=True)


@pytest.fixture
def start_worker(
    sandbox: Sandbox,
    transactional_db: None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., CeleryProcess]]:
    """Start a Celery worker process (and beat, in a process of its own) for this
    test. A test that fails shows the end of their logs (tests/conftest.py)."""
    _clear_shared_state()
    started: list[CeleryProcess] = []
    request.node.celery_processes = started

    def start(
        name: str = "w1",
        concurrency: int = 2,
        beat: bool = True,
        env: dict[str, str] | None = None,
    ) -> CeleryProcess:
        environment = {
            **os.environ,
            **FAST,
            "DATABASE_URL": _database_url(),
            "FEISHU_BASE_URL": sandbox.url,
            "FEISHU_APP_ID": APP_ID,
            "FEISHU_APP_SECRET": APP_SECRET,
            "HIRING_PORTAL_VAR_DIR": str(settings.VAR_DIR),
            "DJANGO_SETTINGS_MODULE": "hiring_portal.settings",
            **(env or {}),
        }
        worker = celery_process.start_worker(
            name=name,
            log=tmp_path / f"{name}.log",
            env=environment,
            concurrency=concurrency,
        )
        started.append(worker)
        if beat:
            started.append(
                celery_process.start_beat(
                    log=tmp_path / f"{name}-beat.log",
                    env=environment,
                    schedule=tmp_path / f"{name}-beat",
                )
            )
        worker.wait_ready(timeout=30)
        return worker

    yield start
    # The test is over: nothing is left to finish (a warm shutdown cost 2-8 s a
    # test, most of the suite's time with workers).
    for process in started:
        process.kill()
    _clear_shared_state()


def wait_until(
    condition: Callable[[], Any], timeout: float = 30, what: str = ""
) -> Any:
    """Poll until ``condition()`` is truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what or condition}")
        time.sleep(0.2)


@pytest.fixture
def tmp_var(tmp_path: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=tmp_path))
