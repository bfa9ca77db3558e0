"""The candidate as staff see it: on the results list (name · job, mobile masked),
on a result's page (everything, mobile whole) and on the add form as the
application ID is typed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from ..models import CandidateApplication
from .checks import evaluate, hold_message, is_fresh


def mask_mobile(number: str) -> str:
    """138****5678: the first three and last four digits, the rest hidden."""
    digits = number.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    if len(digits) <= 7:
        return digits[:1] + "*" * (len(digits) - 3) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def candidate_label(mirror: CandidateApplication | None) -> str:
    """ "name · job" for a list, "" while not yet read."""
    if mirror is None or (
        mirror.detail_fetched_at is None and not mirror.candidate_name
    ):
        return ""
    if mirror.exists is False:
        return _("not in Feishu")
    parts = [p for p in (mirror.candidate_name, mirror.job_name) if p]
    return " · ".join(parts) or _("name not shown by Feishu")


def candidate_state(mirror: CandidateApplication | None) -> str:
    if mirror is None or (
        mirror.checked_at is None and mirror.detail_fetched_at is None
    ):
        return "pending"
    return "not_found" if mirror.exists is False else "found"


def candidate_view(
    mirror: CandidateApplication | None, *, whole_mobile: bool
) -> dict[str, Any]:
    """What a page shows of the candidate (JSON-able)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    state = candidate_state(mirror)
    view: dict[str, Any] = {"state": state}
    if mirror is None or state == "pending":
        view["message"] = _("Looking the application up in Feishu…")
        return view
    view["application_id"] = mirror.application_id
    checked = mirror.checked_at or mirror.detail_fetched_at
    view["checked_at"] = (
        formats.date_format(timezone.localtime(checked), "DATETIME_FORMAT")
        if checked
        else ""
    )
    verdict = evaluate(mirror)
    view["check"] = {
        "ok": verdict.passed,
        "message": hold_message(verdict.hold, verdict.params) if verdict.hold else "",
        "fresh": is_fresh(mirror, now=timezone.now()),
    }
    if state == "not_found":
        return view
    mobile = mirror.mobile_number
    view.update(
        name=mirror.candidate_name,
        email=mirror.email,
        mobile=(mobile if whole_mobile else mask_mobile(mobile)) if mobile else "",
        mobile_code=mirror.mobile_code,
        job=mirror.job_name,
        stage=mirror.stage_name(language),
        written_exam=mirror.in_written_exam,
        active=mirror.active is not False,
        terminated_because=mirror.termination_reason(language)
        if mirror.active is False
        else "",
    )
    return view
