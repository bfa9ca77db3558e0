"""How the sandbox speaks: one request in, one :class:`Reply` out, Feishu's error
bodies, and the small parsing rules every endpoint shares."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import Message
from typing import Any

JsonObject = dict[str, Any]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def snowflake() -> str:
    """A fresh 19-digit id, like Feishu's."""
    return str(7_000_000_000_000_000_000 + secrets.randbelow(10**18))


class Reply(Exception):
    """The answer to a request. Handlers return it, or raise it to answer at once.

    ``status == -1`` closes the connection without answering.
    """

    def __init__(
        self,
        status: int,
        body: JsonObject | bytes,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def feishu_error(
    status: int, code: int, msg: str, *, extra: JsonObject | None = None
) -> Reply:
    body: JsonObject = {"code": code, "msg": msg}
    if extra:
        body.update(extra)
    return Reply(status, body)


def param_error(msg: str) -> Reply:
    return feishu_error(400, 1002002, msg)


def success(data: JsonObject) -> Reply:
    return Reply(200, {"code": 0, "msg": "success", "data": data})


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # from the path

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The last value of a query parameter."""
        values = self.query.get(name)
        return values[-1] if values else default

    def header(self, name: str) -> str | None:
        value = self.headers.get(name)
        return str(value) if value is not None else None


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body, parse_float=Decimal, parse_int=Decimal)
    except ValueError as exc:
        raise param_error(f"invalid json body: {exc}") from exc


def json_object(body: bytes) -> JsonObject:
    data = parse_json(body) if body else {}
    if not isinstance(data, dict):
        raise param_error("body must be a json object")
    return data


def content_type_is_json(value: str | None) -> bool:
    if not value:
        return False
    media, _, params = value.partition(";")
    if media.strip().lower() != "application/json":
        return False
    params = params.strip().lower()
    return not params or params.replace(" ", "") in {"charset=utf-8", 'charset="utf-8"'}


def require_json(req: Request) -> None:
    if not content_type_is_json(req.header("Content-Type")):
        raise param_error("content-type must be application/json; charset=utf-8")


def page_args(req: Request, *, default_size: int, max_size: int) -> tuple[int, int]:
    """``(page_size, offset)`` from ``page_size`` / ``page_token``; the token is the
    offset as a string, which is opaque enough for a client."""
    try:
        page_size = int(req.arg("page_size") or default_size)
        offset = int(req.arg("page_token") or "0")
    except ValueError as exc:
        raise param_error("invalid page_size or page_token") from exc
    if not 1 <= page_size <= max_size or offset < 0:
        raise param_error(f"page_size must be 1..{max_size}")
    return page_size, offset


def page(items: list[Any], page_size: int, offset: int) -> JsonObject:
    has_more = offset + page_size < len(items)
    return {
        "items": items[offset : offset + page_size],
        "has_more": has_more,
        "page_token": str(offset + page_size) if has_more else "",
    }
