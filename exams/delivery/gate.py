"""The check before sending, as a step of delivery: before a row is claimed, its
application is checked (exams.candidates.checks). A row that fails is held
("needs attention") and never claimed; one whose check cannot be made now waits
without spending an attempt; an app that may not read applications pauses
delivery with the scope to grant."""

from __future__ import annotations

from django.conf import settings

from ..candidates.checks import UNREAD, Unread, application_gate
from ..candidates.mirror import missing_scope_message
from ..gateway import breaker
from ..models import CandidateApplication, ExamResult, HistorySource
from ..models.recording import update_recorded
from .claims import claim_defer

Status = ExamResult.Status


def exam_result_gate(
    result: ExamResult, *, mirror: CandidateApplication | Unread | None = UNREAD
) -> str | None:
    """None when ``result`` may be sent now; else what happened to it instead.
    ``mirror``: its application's mirror as the caller read it (None: no row)."""
    if result.check_override:
        return None
    verdict = application_gate(result.application_id, mirror=mirror)
    if verdict.passed:
        return None
    if verdict.missing_scope:
        breaker.trip(reason=missing_scope_message(verdict.missing_scope), code=99991672)
        claim_defer(result.pk, settings.DELIVERY_BREAKER_COOLDOWN_SECONDS)
        return "paused"
    if verdict.wait_seconds:
        claim_defer(result.pk, verdict.wait_seconds)
        return "deferred"
    if verdict.error:
        claim_defer(result.pk, settings.DELIVERY_BACKOFF_BASE_SECONDS)
        return "deferred"
    update_recorded(
        ExamResult.objects.filter(pk=result.pk, status=Status.PENDING),
        actor=None,
        source=HistorySource.FEISHU_LOOKUP,
        status=Status.HELD,
        hold_code=verdict.hold,
        hold_params=verdict.params,
        last_error_code=None,
        last_error_message="",
        next_attempt_at=None,
        dispatched_at=None,
    )
    return "held"
