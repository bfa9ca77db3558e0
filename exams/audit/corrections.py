"""Score corrections made by hand in Feishu, recorded beside the delivered result."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import ExamPaper, ExamResult, ScoreCorrection
from ..rules import check_full_mark, parse_score

Status = ExamResult.Status


def score_correction_record(
    *,
    result: ExamResult,
    new_score: Any,
    reason: str,
    actor: User,
) -> ScoreCorrection:
    """Record that a delivered result's score was corrected by hand in Feishu.

    The result itself is not changed: Feishu has no API to update an exam result,
    and the score the portal sent stays visible beside the correction.
    """
    score = parse_score(new_score)
    # A result always names a paper of the catalogue (migration 0020 made one for
    # every result entered before it); its full mark bounds a correction too.
    paper = ExamPaper.objects.named(result.exam_resource_name)
    if paper is not None:
        check_full_mark(score, paper)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            _("Say why the score was corrected."), code="reason_required"
        )
    with transaction.atomic():
        locked = (
            ExamResult.objects.select_for_update()
            .only("status", "score")
            .get(pk=result.pk)
        )
        if locked.status != Status.SYNCED:
            raise ValidationError(
                _(
                    "Only a delivered result can have a correction made in Feishu "
                    "recorded; this one is %(status)s. Change it and send it instead."
                )
                % {"status": locked.get_status_display()},
                code="not_synced",
            )
        latest = (
            ScoreCorrection.objects.filter(result_id=result.pk)
            .order_by("-created_at", "-id")
            .values_list("new_score", flat=True)
            .first()
        )
        previous = latest if latest is not None else locked.score
        if Decimal(previous) == score:
            raise ValidationError(
                _("The score in Feishu is already %(score)s.") % {"score": score},
                code="unchanged",
            )
        return ScoreCorrection.objects.create(
            result_id=result.pk,
            previous_score=previous,
            new_score=score,
            corrected_by=actor,
            reason=reason,
        )
