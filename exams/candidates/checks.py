"""The check before sending: a result goes to Feishu only when its application
exists, is active and is in a written-exam stage (type 3), as of a lookup at most
``CANDIDATE_MAX_AGE_SECONDS`` old.

A Feishu exam result cannot be taken back, so a failed check holds the result
("needs attention") with the reason, for staff to fix the application ID or, for
a terminated or other-stage application, to send it anyway with a reason.
Reasons are stored as a code and the facts they need, and put into words in the
reader's language when shown.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..models import CandidateApplication, ExamResult
from ..wording import Message, message, renders
from .mirror import Lookup, application_check, application_fetch_detail

Hold = ExamResult.Hold


@dataclass(frozen=True)
class Verdict:
    """The check's answer: go ahead, hold (with why), or not yet (wait or pause)."""

    hold: str = ""  # an ExamResult.Hold code, or "" when the check passed
    params: dict[str, Any] = field(default_factory=dict)
    wait_seconds: float = 0.0
    missing_scope: str = ""
    error: str = ""

    @property
    def passed(self) -> bool:
        return not (self.hold or self.wait_seconds or self.missing_scope or self.error)


PASSED = Verdict()


def hold_params(mirror: CandidateApplication) -> dict[str, Any]:
    """The facts a hold message shows, in both languages where Feishu has them."""
    return {
        "application_id": mirror.application_id,
        "name": mirror.candidate_name,
        "stage_zh": mirror.stage_name_zh,
        "stage_en": mirror.stage_name_en,
        "reason_zh": mirror.termination_reason_zh,
        "reason_en": mirror.termination_reason_en,
    }


def evaluate(mirror: CandidateApplication) -> Verdict:
    """What the mirror, as it is, says of sending a result to this application."""
    if mirror.exists is False:
        return Verdict(hold=Hold.NOT_FOUND, params=hold_params(mirror))
    if mirror.active is False:
        return Verdict(hold=Hold.TERMINATED, params=hold_params(mirror))
    if not mirror.in_written_exam:
        return Verdict(hold=Hold.WRONG_STAGE, params=hold_params(mirror))
    return PASSED


def is_fresh(mirror: CandidateApplication | None, *, now: dt.datetime) -> bool:
    max_age = dt.timedelta(seconds=settings.CANDIDATE_MAX_AGE_SECONDS)
    return (
        mirror is not None
        and mirror.checked_at is not None
        and mirror.checked_at >= now - max_age
    )


def fresh_mirrors() -> QuerySet[CandidateApplication]:
    """The mirror rows fresh enough for the check to go by without a lookup."""
    max_age = dt.timedelta(seconds=settings.CANDIDATE_MAX_AGE_SECONDS)
    return CandidateApplication.objects.filter(checked_at__gte=timezone.now() - max_age)


def known_verdict(application_id: str) -> Verdict | None:
    """What a fresh enough mirror says, without asking Feishu; None when the
    mirror is missing or too old to go by (delivery then checks it)."""
    if not settings.CANDIDATE_CHECK_BEFORE_SEND:
        return None
    mirror = CandidateApplication.objects.filter(application_id=application_id).first()
    return evaluate(mirror) if mirror and is_fresh(mirror, now=timezone.now()) else None


class Unread(enum.Enum):
    """application_gate(mirror=UNREAD): the caller has not read the mirror."""

    UNREAD = enum.auto()


UNREAD = Unread.UNREAD


def application_gate(
    application_id: str, *, mirror: CandidateApplication | Unread | None = UNREAD
) -> Verdict:
    """The check for delivery: from the mirror when it is fresh enough, else after
    reading the application from Feishu now (its own rate-limit budget).
    ``mirror``: the application's mirror row as the caller read it moments ago
    (None: it has none), instead of reading it again."""
    if not settings.CANDIDATE_CHECK_BEFORE_SEND:
        return PASSED
    if isinstance(mirror, Unread):
        mirror = CandidateApplication.objects.filter(
            application_id=application_id
        ).first()
    if not is_fresh(mirror, now=timezone.now()):
        lookup: Lookup = application_check(application_id, known=mirror)
        if lookup.mirror is None:
            return Verdict(
                wait_seconds=lookup.wait_seconds,
                missing_scope=lookup.missing_scope,
                error=lookup.error,
            )
        mirror = lookup.mirror
    if mirror is None:  # is_fresh() is False without a row: never reached
        return Verdict(error="no lookup")
    verdict = evaluate(mirror)
    if verdict.hold and mirror.exists and not mirror.candidate_name:
        # Staff are told whose result it is: the check's call has no names, so
        # the candidate is read once (if get_detail has a permit now).
        named = application_fetch_detail(application_id).mirror
        if named is not None:
            verdict = evaluate(named)
    return verdict


def hold_message(code: str, params: dict[str, Any], language: str | None = None) -> str:
    """Why a result was held, in the reader's language."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    zh = language.startswith("zh")
    name = params.get("name") or _("The candidate")
    if code == Hold.NOT_FOUND:
        return _(
            "Application %(id)s does not exist in Feishu: check the application ID."
        ) % {"id": params.get("application_id", "")}
    if code == Hold.TERMINATED:
        reason = (
            (params.get("reason_zh") if zh else params.get("reason_en"))
            or params.get("reason_zh")
            or params.get("reason_en")
            or _("no reason given")
        )
        return _("The application was terminated: %(reason)s") % {"reason": reason}
    if code == Hold.WRONG_STAGE:
        stage = (
            (params.get("stage_zh") if zh else params.get("stage_en"))
            or params.get("stage_zh")
            or params.get("stage_en")
            or _("an unknown stage")
        )
        return _("%(name)s is in stage %(stage)s, not a written exam.") % {
            "name": name,
            "stage": stage,
        }
    return ""


def hold_refusal(verdict: Verdict) -> Message:
    """Why a result would be held, as a stored message."""
    return message("candidates.hold", hold=verdict.hold, facts=verdict.params)


@renders("candidates.hold")
def _hold_words(params: Mapping[str, Any]) -> str:
    return hold_message(str(params.get("hold", "")), dict(params.get("facts") or {}))


def result_hold_message(result: ExamResult) -> str:
    return hold_message(result.hold_code, result.hold_params or {})


def applications_check_now(
    application_ids: list[str], *, at_most: int
) -> dict[str, Verdict]:
    """What the check would say of each application, for a preview: from fresh
    mirrors, and for up to ``at_most`` others read from Feishu now (when a permit
    is free: a preview never waits). Applications not known stay out."""
    if not settings.CANDIDATE_CHECK_BEFORE_SEND or not application_ids:
        return {}
    now = timezone.now()
    mirrors = CandidateApplication.objects.in_bulk(
        application_ids, field_name="application_id"
    )
    verdicts: dict[str, Verdict] = {}
    asked = 0
    for application_id in application_ids:
        mirror = mirrors.get(application_id)
        if not is_fresh(mirror, now=now) and asked < at_most:
            asked += 1
            mirror = application_check(application_id).mirror or mirror
        if mirror is not None and is_fresh(mirror, now=now):
            verdicts[application_id] = evaluate(mirror)
    return verdicts
