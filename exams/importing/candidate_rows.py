"""The rows of a score sheet that name a candidate (email, mobile, name) instead
of an application: read into the row, then given their application once
exams.candidates.matching has found it (or staff picked it)."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..candidates.matching import match_refusal
from .plan import INVALID, TO_PICK, Checked


def resolve_matches(
    checked: Checked,
    matches: dict[str, dict[str, Any]],
    picks: dict[str, str],
    *,
    refuse_unpicked: bool,
) -> Checked:
    """The rows with their application, once candidates' rows are matched: a
    match or staff's pick gives it; a refused row is invalid with the reason; a
    row still to pick waits (``TO_PICK``), or is refused when the import goes
    ahead (``refuse_unpicked``). ``checked`` is left as it was."""
    resolved = Checked(
        rows=list(checked.rows),
        errors=list(checked.errors),
        kinds=list(checked.kinds),
        samples=checked.samples,
    )
    for row in checked.to_match:
        match = matches.get(str(row.number)) or {}
        picked = picks.get(str(row.number), "")
        offered = {c["application_id"] for c in match.get("candidates") or []}
        application_id = (
            match.get("application_id", "") if match.get("status") == "matched" else ""
        )
        if not application_id and picked in offered:
            application_id = picked
        if application_id:
            resolved.rows.append(
                dataclasses.replace(
                    row, application_id=application_id, matched_by=match["by"]
                )
            )
        elif match.get("status") == "pick" and not refuse_unpicked:
            resolved.mark(row.number, TO_PICK)
        else:
            field_name = "email" if match.get("by") == "email" else "mobile"
            resolved.errors.append(
                [
                    row.number,
                    field_name,
                    match_refusal(match, unpicked=match.get("status") == "pick").data(),
                ]
            )
            resolved.mark(row.number, INVALID)
    resolved.errors.sort(key=lambda error: error[0])
    return resolved
