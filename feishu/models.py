"""What the client's calls return: frozen dataclasses, plus the conversions of
Feishu's field formats (millisecond timestamps as strings, scores as numbers or
strings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any


def ms_to_datetime(value: object) -> datetime | None:
    """Feishu's millisecond timestamp (string or number) -> aware UTC datetime."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        ms = int(str(value))
    except ValueError:
        return None
    seconds, millis = divmod(ms, 1000)
    try:
        return datetime.fromtimestamp(seconds, UTC) + timedelta(milliseconds=millis)
    except (OverflowError, OSError, ValueError):
        return None


def id_string(value: object) -> str | None:
    """A Feishu id as its string, or None when the value is no usable id (null,
    empty, a bool, an object). Ids are strings; a JSON integer is accepted as its
    digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value
    return None


def to_decimal(value: object) -> Decimal | None:
    """A score as Decimal, whether Feishu sent a number or a string."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class CreatedExam:
    exam_id: str
    application_id: str
    exam_resource_name: str
    score: Decimal
    uuid: str | None
    operator_id: str
    operate_time: datetime
    log_id: str | None
    request_body: bytes
    response_body: str
    http_status: int


@dataclass(frozen=True)
class Attachment:
    id: str
    name: str
    log_id: str | None


@dataclass(frozen=True)
class TestRecord:
    """One item of ``tests/search`` (Feishu's ``Test``)."""

    __test__ = False  # not a pytest test class

    test_id: str
    application_id: str
    test_paper_name: str | None
    score: Decimal | None
    created_at: datetime | None
    result_upload_time: datetime | None
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Application:
    id: str
    job_id: str | None
    talent_id: str | None
    active_status: int | None
    raw: dict[str, Any] = field(repr=False)
