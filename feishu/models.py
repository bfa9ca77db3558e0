"""What the client's calls return: frozen dataclasses, plus the conversions of
Feishu's field formats (millisecond timestamps as strings, scores as numbers or
strings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple


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
    """``GET /hire/v1/applications/:id`` (section 3a): the application's state
    without names (50/s, where get_detail is 10/s)."""

    id: str
    job_id: str | None
    talent_id: str | None
    active_status: int | None
    raw: dict[str, Any] = field(repr=False)
    stage_id: str | None = None
    stage_zh_name: str | None = None
    stage_en_name: str | None = None
    stage_type: int | None = None
    # termination_reason_note, else the reasons listed (3a has no i18n names).
    termination_reason: str | None = None
    entered_stage_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.active_status == 1


# -- candidates (feishu-candidates.md) ------------------------------------------

WRITTEN_EXAM_STAGE_TYPE = 3  # stage type 3: 笔试型


class StageTime(NamedTuple):
    """One entry of ``stage_time_list``; ``exited_at`` is None while in it."""

    stage_id: str
    entered_at: datetime | None
    exited_at: datetime | None


@dataclass(frozen=True)
class ApplicationDetail:
    """``get_detail`` of one application, with its job and talent.

    ``talent_visible`` / ``job_visible`` are False when Feishu left the object out
    (the app lacks the field scope ``hire:talent:readonly`` / ``hire:job:readonly``);
    their fields are None then.
    """

    application_id: str
    job_id: str | None
    talent_id: str | None
    talent_visible: bool
    talent_name: str | None
    email: str | None
    mobile_code: str | None
    mobile_number: str | None
    job_visible: bool
    job_name: str | None
    job_code: str | None
    stage_id: str | None
    stage_zh_name: str | None
    stage_en_name: str | None
    stage_type: int | None
    active: bool
    termination_reason_zh: str | None
    termination_reason_en: str | None
    stage_times: tuple[StageTime, ...]
    entered_stage_at: datetime | None
    create_time: datetime | None
    modify_time: datetime | None
    log_id: str | None = field(compare=False)
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def in_written_exam(self) -> bool:
        """Active and in a written-exam stage (type 3; never match on names)."""
        return self.active and self.stage_type == WRITTEN_EXAM_STAGE_TYPE


@dataclass(frozen=True)
class TalentMatch:
    """One talent of ``talents/batch_get_id``; the email or mobile as passed."""

    talent_id: str
    email: str | None
    mobile_code: str | None
    mobile_number: str | None


@dataclass(frozen=True)
class IdPage:
    """One page of application ids; call again with ``page_token`` while
    ``has_more``."""

    items: tuple[str, ...]
    page_token: str | None
    has_more: bool
    log_id: str | None = None


@dataclass(frozen=True)
class Stage:
    id: str
    zh_name: str | None
    en_name: str | None
    type: int | None


@dataclass(frozen=True)
class JobProcess:
    id: str
    zh_name: str | None
    en_name: str | None
    type: int | None  # 1 social recruitment, 2 campus recruitment
    stages: tuple[Stage, ...]

    @property
    def written_exam_stages(self) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.type == WRITTEN_EXAM_STAGE_TYPE)


@dataclass(frozen=True)
class JobProcessPage:
    items: tuple[JobProcess, ...]
    page_token: str | None
    has_more: bool
    log_id: str | None = None
