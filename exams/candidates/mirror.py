"""Reading an application from Feishu into the local mirror, one call at a time,
each through the shared limiter with its API's own documented limit:

- ``application_check``: ``GET /applications/:id`` (50/s): exists, active, the
  current stage. What the check before sending needs, on its own budget beside
  the exam posts.
- ``application_fetch_detail``: ``get_detail`` with job and talent (10/s): also
  the candidate's name, email, mobile and the job, for staff to see.

Both answer with a :class:`Lookup`: the mirror row, or how long to wait (no
permit, or Feishu's 429 reset), or a failure staff or operators must act on (a
scope the app lacks). Personal data goes to the database only, never to a log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils import timezone

from feishu import (
    Application,
    ApplicationDetail,
    FeishuError,
    MissingScopeError,
    RateLimitedError,
)

from ..gateway.client import get_client
from ..gateway.limiter import get_limiter
from ..gateway.messages import staff_message
from ..models import CandidateApplication
from ..models.statements import upsert_one
from ..wording import stored

logger = logging.getLogger(__name__)

# The scopes the lookups need (shared/feishu-candidates.md, sections 3a and 3b).
APPLICATION_SCOPE = "hire:application:readonly"
FIELD_SCOPES = ("hire:talent:readonly", "hire:job:readonly")


@dataclass(frozen=True)
class Lookup:
    """What a lookup came to: the mirror row, or why there is none now."""

    mirror: CandidateApplication | None = None
    wait_seconds: float = 0.0  # no permit now, or Feishu said to wait
    missing_scope: str = ""  # the app cannot read applications at all
    hidden_scopes: str = ""  # read, but without the talent or the job (field scopes)
    error: str = ""  # Feishu or the network failed; worth another try later

    @property
    def ok(self) -> bool:
        return self.mirror is not None


def _store(
    application_id: str,
    values: dict[str, object],
    *,
    known: CandidateApplication | None = None,
) -> CandidateApplication:
    """Write what Feishu said in one statement (INSERT ... ON CONFLICT DO UPDATE:
    a check is on delivery's path, once per result). ``known``: the row as the
    caller loaded it a moment ago, brought up to date instead of read again."""
    row = CandidateApplication(application_id=application_id, **values)
    upsert_one(row, unique="application_id", update=list(values))
    if known is None:
        # What the statement did not write (names fetched earlier by another
        # process, in a race) is read when needed, not on every check.
        return row
    for name, value in values.items():
        setattr(known, name, value)
    return known


def mirror_store_missing(
    application_id: str, *, known: CandidateApplication | None = None
) -> CandidateApplication:
    now = timezone.now()
    return _store(
        application_id,
        {
            "exists": False,
            "active": None,
            "stage_type": None,
            "checked_at": now,
            "detail_fetched_at": now,
        },
        known=known,
    )


def mirror_store_application(
    app: Application, *, known: CandidateApplication | None = None
) -> CandidateApplication:
    """3a's answer: the state, without names (those stay as last fetched)."""
    reason = (app.termination_reason or "") if not app.active else ""
    return _store(
        app.id,
        {
            "exists": True,
            "talent_id": app.talent_id or "",
            "job_id": app.job_id or "",
            "stage_id": app.stage_id or "",
            "stage_name_zh": app.stage_zh_name or "",
            "stage_name_en": app.stage_en_name or "",
            "stage_type": app.stage_type,
            "active": app.active,
            "termination_reason_zh": reason,
            "termination_reason_en": reason,
            "entered_stage_at": app.entered_stage_at,
            "checked_at": timezone.now(),
        },
        known=known,
    )


def mirror_store_detail(detail: ApplicationDetail) -> CandidateApplication:
    now = timezone.now()
    values: dict[str, object] = {
        "exists": True,
        "talent_id": detail.talent_id or "",
        "job_id": detail.job_id or "",
        "stage_id": detail.stage_id or "",
        "stage_name_zh": detail.stage_zh_name or "",
        "stage_name_en": detail.stage_en_name or "",
        "stage_type": detail.stage_type,
        "active": detail.active,
        "termination_reason_zh": detail.termination_reason_zh or "",
        "termination_reason_en": detail.termination_reason_en or "",
        "entered_stage_at": detail.entered_stage_at,
        "checked_at": now,
        "detail_fetched_at": now,
    }
    # Without the field scopes Feishu leaves the talent or the job out: keep what
    # the mirror had rather than blank it.
    if detail.talent_visible:
        values.update(
            candidate_name=detail.talent_name or "",
            email=detail.email or "",
            mobile_code=detail.mobile_code or "",
            mobile_number=detail.mobile_number or "",
        )
    if detail.job_visible:
        values["job_name"] = detail.job_name or ""
    return _store(detail.application_id, values)


def _failed(api: str, error: FeishuError) -> Lookup:
    if isinstance(error, RateLimitedError):
        get_limiter().block(api, error.reset_seconds)
        return Lookup(wait_seconds=max(error.reset_seconds, 0.1))
    if isinstance(error, MissingScopeError):
        return Lookup(
            missing_scope=", ".join(error.scopes) or APPLICATION_SCOPE,
            error=staff_message(error),
        )
    logger.warning(
        "application lookup failed",
        extra={"feishu_code": error.code, "log_id": error.log_id},
    )
    return Lookup(error=staff_message(error))


def application_check(
    application_id: str, *, known: CandidateApplication | None = None
) -> Lookup:
    """Read the application's state (one 3a call), if a permit is free now.
    ``known``: its mirror row as the caller just loaded it (or None)."""
    wait = get_limiter().acquire("application_get")
    if wait:
        return Lookup(wait_seconds=wait)
    try:
        app = get_client().get_application(application_id)
    except FeishuError as error:
        return _failed("application_get", error)
    if app is None:
        return Lookup(mirror=mirror_store_missing(application_id, known=known))
    return Lookup(mirror=mirror_store_application(app, known=known))


def application_fetch_detail(application_id: str) -> Lookup:
    """Read the application with its candidate and job (one get_detail call), if
    a permit is free now."""
    wait = get_limiter().acquire("application_detail")
    if wait:
        return Lookup(wait_seconds=wait)
    try:
        detail = get_client().get_application_detail(application_id)
    except FeishuError as error:
        return _failed("application_detail", error)
    if detail is None:
        return Lookup(mirror=mirror_store_missing(application_id))
    hidden = [
        scope
        for scope, visible in zip(
            FIELD_SCOPES, (detail.talent_visible, detail.job_visible), strict=True
        )
        if not visible
    ]
    return Lookup(mirror=mirror_store_detail(detail), hidden_scopes=", ".join(hidden))


def missing_scope_message(scopes: str) -> str:
    """Why delivery pauses, as a stored message (``exams.wording``)."""
    return stored("feishu.applications_scope", scopes=scopes)
