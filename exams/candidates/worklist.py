"""The worklist: candidates awaiting a written-exam result.

Every active application currently in a written-exam stage (type 3) with no
result entered since it entered that stage, oldest first. The mirror of
applications (``CandidateApplication``) is the list's source; it is kept right by
polling (``worklist_poll``, on beat: job processes → their written-exam stages →
the applications in them → details for those not yet read; applications that
left drop off) and kept current within seconds by Feishu's events
(``exams.candidates.events``).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from feishu import FeishuError, MissingScopeError, RateLimitedError

from ..gateway.client import get_client
from ..gateway.limiter import get_limiter
from ..gateway.locks import lock_held
from ..models import WRITTEN_EXAM_STAGE, CandidateApplication, ExamResult
from .mirror import application_check, application_fetch_detail

logger = logging.getLogger(__name__)
T = TypeVar("T")
POLL_LOCK = "worklist-poll"


def awaiting_results() -> QuerySet[CandidateApplication]:
    """Active applications in a written-exam stage with no result entered since
    they entered it, oldest first."""
    entered_since = ExamResult.objects.filter(
        application_id=OuterRef("application_id"),
        created_at__gte=OuterRef("entered_stage_at"),
    )
    return (
        CandidateApplication.objects.filter(
            exists=True, active=True, stage_type=WRITTEN_EXAM_STAGE
        )
        .exclude(Exists(entered_since))
        .order_by("entered_stage_at", "application_id")
    )


def days_waiting(entered: dt.datetime | None, now: dt.datetime | None = None) -> int:
    if entered is None:
        return 0
    return max(0, ((now or timezone.now()) - entered).days)


@dataclass
class PollReport:
    stages: int = 0
    in_stages: int = 0
    read: int = 0
    left: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    skipped: bool = False
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        return self.__dict__.copy()


def _call(report: PollReport, api: str, send: Callable[[], T]) -> T:
    """One call through the shared limiter, waiting for its permit and Feishu's
    resets (the poll runs in the background, where waiting costs nothing)."""
    limiter = get_limiter()
    while True:
        wait = limiter.acquire(api)
        if wait:
            time.sleep(wait)
            continue
        report.calls[api] = report.calls.get(api, 0) + 1
        try:
            return send()
        except RateLimitedError as error:
            limiter.block(api, error.reset_seconds)
            time.sleep(error.reset_seconds)


def written_exam_stages(report: PollReport) -> dict[str, tuple[str, str]]:
    """Every written-exam stage of every job process: stage id → (zh, en) name."""
    stages: dict[str, tuple[str, str]] = {}
    token: str | None = None
    while True:
        page = _call(
            report,
            "job_processes",
            partial(get_client().list_job_processes, page_token=token),
        )
        for process in page.items:
            for stage in process.stages:
                if stage.type == WRITTEN_EXAM_STAGE:
                    stages[stage.id] = (stage.zh_name or "", stage.en_name or "")
        if not page.has_more:
            return stages
        token = page.page_token


def applications_in_stage(report: PollReport, stage_id: str) -> list[str]:
    ids: list[str] = []
    token: str | None = None
    while True:
        page = _call(
            report,
            "application_list",
            partial(
                get_client().list_applications,
                stage_id=stage_id,
                active_status="1",
                page_token=token,
            ),
        )
        ids.extend(page.items)
        if not page.has_more:
            return ids
        token = page.page_token


def worklist_poll(*, progress: Callable[[int, int], None] | None = None) -> PollReport:
    """Bring the mirror in line with Feishu: what is in a written-exam stage now,
    read in full where it is new (or its stage changed); what left, read again.
    Repairs whatever events missed. One poll at a time."""
    report = PollReport()
    lock_seconds = settings.CANDIDATE_WORKLIST_POLL_SECONDS
    with lock_held(POLL_LOCK, lock_seconds) as held:
        if not held:
            report.skipped = True
            return report
        try:
            _poll(report, progress)
        except MissingScopeError as error:
            report.error = ", ".join(error.scopes)
        except FeishuError as error:
            logger.warning(
                "worklist poll stopped",
                extra={"feishu_code": error.code, "log_id": error.log_id},
            )
            report.error = error.msg
    return report


def _poll(report: PollReport, progress: Callable[[int, int], None] | None) -> None:
    stages = written_exam_stages(report)
    report.stages = len(stages)
    current: dict[str, str] = {}
    for stage_id in stages:
        for application_id in applications_in_stage(report, stage_id):
            current[application_id] = stage_id
    report.in_stages = len(current)
    known = CandidateApplication.objects.in_bulk(
        list(current), field_name="application_id"
    )
    to_read = [
        application_id
        for application_id, stage_id in current.items()
        if (mirror := known.get(application_id)) is None
        or mirror.detail_fetched_at is None
        or mirror.stage_id != stage_id
        or not mirror.active
        or mirror.entered_stage_at is None
    ]
    left = list(
        CandidateApplication.objects.filter(
            exists=True, active=True, stage_type=WRITTEN_EXAM_STAGE
        )
        .exclude(application_id__in=list(current))
        .values_list("application_id", flat=True)
    )
    total = len(to_read) + len(left)
    for done, application_id in enumerate(to_read, start=1):
        _read(report, "application_detail", application_fetch_detail, application_id)
        report.read += 1
        if progress is not None:
            progress(done, total)
    # Gone from every written-exam stage (moved on, terminated, deleted): read
    # their state again, with the cheaper call.
    for done, application_id in enumerate(left, start=len(to_read) + 1):
        _read(report, "application_get", application_check, application_id)
        report.left += 1
        if progress is not None:
            progress(done, total)


def _read(
    report: PollReport,
    api: str,
    lookup: Callable[[str], object],
    application_id: str,
) -> None:
    """A mirror read that waits for its permit (the lookups themselves never
    wait: they say how long)."""
    while True:
        found = lookup(application_id)
        wait = getattr(found, "wait_seconds", 0.0)
        if wait:
            time.sleep(wait)
            continue
        report.calls[api] = report.calls.get(api, 0) + 1
        return
