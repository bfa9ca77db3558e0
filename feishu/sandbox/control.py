"""The sandbox's own endpoints under ``/_sandbox/``: settings, faults, what it
recorded, and counters (``CONTROL_HELP`` lists them)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from feishu.sandbox import world_control
from feishu.sandbox.config import CONTROL_HELP, DEFAULTS
from feishu.sandbox.protocol import JsonObject, Reply, now_ms, snowflake
from feishu.sandbox.state import State

Command = Callable[[State, Any, dict[str, str]], JsonObject]


def _get_config(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    with state.lock:
        return dict(state.config)


def _set_config(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    unknown = sorted(set(data) - set(DEFAULTS))
    if unknown:
        raise Reply(400, {"error": f"unknown settings: {unknown}"})
    limits = data.get("rate_limits", {})
    if not isinstance(limits, dict) or not all(
        isinstance(v, list | tuple) and len(v) == 2 for v in limits.values()
    ):
        raise Reply(400, {"error": "rate_limits: {api: [per second, per minute]}"})
    with state.lock:
        state.config.update(data)
        return dict(state.config)


def _reset(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    state.reset()
    return {"ok": True}


def _revoke_tokens(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    return {"revoked": state.revoke_tokens()}


def _add_test(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    missing = {"application_id", "test_paper_name", "score"} - set(data)
    if missing:
        raise Reply(400, {"error": f"missing: {sorted(missing)}"})
    record = {
        "test_id": snowflake(),
        "application_id": str(data["application_id"]),
        "exam_resource_name": str(data["test_paper_name"]),
        "score": str(data["score"]),
        "operate_time": str(now_ms()),
    }
    with state.lock:
        state.manual_tests.append(record)
    return record


def _exams(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    with state.lock:
        exams = [
            {k: v for k, v in e.items() if k != "created_monotonic"}
            for e in state.exams
        ]
    counts = Counter((e["application_id"], e["exam_resource_name"]) for e in exams)
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


def _stats(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    with state.lock:
        return {
            "tokens_issued": state.tokens_issued,
            "token_requests": state.token_requests,
            "api_connections": len(state.api_connections),
            "connections_opened": state.connections_opened,
            "rate_limited": state.rate_limited,
            "requests": dict(state.requests),
            "api_requests": dict(state.api_requests),
            "rate_limited_by_api": dict(state.rate_limited_by_api),
            "rate_limited_by_window": dict(state.rate_limited_by_window),
            "user_agents": dict(state.user_agents),
            "exams": len(state.exams),
            "attachments": len(state.attachments),
        }


def _help(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    return {"commands": CONTROL_HELP}


COMMANDS: list[tuple[str, re.Pattern[str], Command]] = [
    (method, re.compile(pattern), command)
    for method, pattern, command in [
        ("GET", r"/_sandbox/config", _get_config),
        ("POST", r"/_sandbox/config", _set_config),
        ("POST", r"/_sandbox/reset", _reset),
        ("POST", r"/_sandbox/revoke_tokens", _revoke_tokens),
        ("POST", r"/_sandbox/tests", _add_test),
        ("GET", r"/_sandbox/exams", _exams),
        ("GET", r"/_sandbox/stats", _stats),
        ("GET", r"/_sandbox/", _help),
        *world_control.COMMANDS,
    ]
]


def control(state: State, method: str, path: str, body: bytes) -> JsonObject:
    """Answer one ``/_sandbox/`` command."""
    try:
        data = json.loads(body) if body else {}
    except ValueError as exc:
        raise Reply(400, {"error": f"invalid json: {exc}"}) from exc
    for command_method, pattern, command in COMMANDS:
        match = pattern.fullmatch(path)
        if match and command_method == method:
            return command(state, data, match.groupdict())
    raise Reply(404, {"error": "unknown control command", "commands": CONTROL_HELP})
