"""Everything the sandbox holds, behind one lock: settings, tokens, recorded exams,
throttle windows and counters."""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from feishu.sandbox.config import API_RATE_LIMITS
from feishu.sandbox.events import EventPusher
from feishu.sandbox.protocol import Reply, feishu_error
from feishu.sandbox.ratelimit import SlidingWindows
from feishu.sandbox.world import World

MSG_MISSING_TOKEN = (
    "Missing access token for authorization. "  # noqa: S105
    "Please make a request with token attached."
)
MSG_INVALID_TOKEN = (
    "Invalid access token for authorization. "  # noqa: S105
    "Please make a request with token attached."
)


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
    startup_world: World = field(default_factory=World)
    world: World = field(default_factory=World)
    events: EventPusher = field(default_factory=EventPusher)
    config: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: dict[str, Token] = field(default_factory=dict)
    current_token: dict[str, str] = field(default_factory=dict)
    exams: list[dict[str, Any]] = field(default_factory=list)
    manual_tests: list[dict[str, Any]] = field(default_factory=list)
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)
    windows: SlidingWindows = field(default_factory=SlidingWindows)
    tokens_issued: int = 0
    token_requests: int = 0
    rate_limited: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    api_requests: Counter[str] = field(default_factory=Counter)
    rate_limited_by_api: Counter[str] = field(default_factory=Counter)
    # "<api> <limit>/s" or "<api> <limit>/min": which window refused
    rate_limited_by_window: Counter[str] = field(default_factory=Counter)
    user_agents: Counter[str] = field(default_factory=Counter)
    api_connections: set[int] = field(default_factory=set)
    connections_opened: int = 0
    generation: int = 0

    def __post_init__(self) -> None:
        self.config = copy.deepcopy(self.startup_config)
        self.world = self.startup_world.copy()

    def reset(self) -> None:
        with self.lock:
            self.config = copy.deepcopy(self.startup_config)
            self.world = self.startup_world.copy()
            self.tokens.clear()
            self.current_token.clear()
            self.exams.clear()
            self.manual_tests.clear()
            self.attachments.clear()
            self.windows.clear()
            self.tokens_issued = self.token_requests = self.rate_limited = 0
            self.requests.clear()
            self.api_requests.clear()
            self.rate_limited_by_api.clear()
            self.rate_limited_by_window.clear()
            self.user_agents.clear()
            self.api_connections.clear()
            self.connections_opened = 0
            self.generation += 1
        self.events.reset()

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

    def limits(self, api: str) -> tuple[int, int]:
        """``(per second, per minute)`` for one API: ``rate_limits`` names it,
        else the candidate APIs' documented limits, else ``rate_per_second`` /
        ``rate_per_minute`` (the exam APIs)."""
        configured = self.config["rate_limits"].get(api)
        if configured is not None:
            per_second, per_minute = configured
            return int(per_second), int(per_minute)
        if api in API_RATE_LIMITS:
            return API_RATE_LIMITS[api]
        return int(self.config["rate_per_second"]), int(self.config["rate_per_minute"])

    def rate_check(self, app_id: str, api: str) -> None:
        """Sliding windows of 1 s and 60 s per (app, API)."""
        with self.lock:
            if not self.config["rate_limit"]:
                return
            refused = self.windows.admit((app_id, api), *self.limits(api))
            if refused is not None:
                limit, reset = refused
                self.rate_limited += 1
                self.rate_limited_by_api[api] += 1
                per_second, _ = self.limits(api)
                window = "s" if limit == per_second else "min"
                self.rate_limited_by_window[f"{api} {limit}/{window}"] += 1
                raise Reply(
                    429,
                    {"code": 99991400, "msg": "request trigger frequency limit"},
                    {
                        "x-ogw-ratelimit-limit": str(limit),
                        "x-ogw-ratelimit-reset": str(reset),
                    },
                )
