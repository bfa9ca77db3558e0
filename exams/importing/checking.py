"""Checking an uploaded spreadsheet: read it, check every row on its own, and
describe what an import would do (the preview's report)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from .. import wording
from ..candidates.checks import applications_check_now, hold_refusal
from ..candidates.lookups import applications_request_lookup
from ..candidates.matching import (
    MatchingError,
    SheetRow,
    match_refusal,
    sheet_rows_match,
)
from ..entry.operators import OperatorMissingError, operator_for
from ..models import ImportBatch
from . import plan as planning
from . import reading
from .candidate_rows import resolve_matches
from .errors import file_refusal

Progress = Callable[[int, int], None]  # (rows done, rows in the file)


def max_upload_bytes() -> int:
    return int(settings.EXAMS_IMPORT_MAX_BYTES)


def operator_default(
    actor: User | None,
) -> tuple[tuple[str, str] | None, ValidationError | None]:
    """(operator id, app id) to fill in rows without an operator, or why there is
    none (then such rows are invalid)."""
    if actor is None:
        return None, wording.refusal("import.no_operator")
    try:
        return operator_for(user=actor, user_id_type=settings.FEISHU_USER_ID_TYPE), None
    except OperatorMissingError as error:
        return None, error


def check_size(content: bytes) -> None:
    if len(content) > max_upload_bytes():
        raise file_refusal(
            "import_file.too_large",
            code="too_large",
            max=max_upload_bytes() // (1024 * 1024),
        )


def check(
    *,
    content: bytes,
    file_name: str,
    actor: User | None,
    progress: Progress | None = None,
) -> tuple[reading.Table, planning.Checked, tuple[str, str] | None]:
    check_size(content)
    table = reading.read_table(content, file_name)
    default, missing = operator_default(actor)
    checked = planning.check_rows(
        table.rows,
        operator_missing=missing,
        progress=(lambda done: progress(done, 0)) if progress else None,
    )
    return table, checked, default


def match_candidates(
    checked: planning.Checked, *, progress: Progress | None = None
) -> dict[str, dict[str, Any]]:
    """Find the application of each candidate's row in Feishu (Feishu calls, at
    its limits: seconds for a vendor's sheet, minutes for thousands of rows).

    Raises ``reading.ImportFileError`` when Feishu cannot be asked at all."""
    if not checked.to_match:
        return {}
    rows = [
        SheetRow(r.number, r.name, r.email, r.mobile_code, r.mobile)
        for r in checked.to_match
    ]
    try:
        matches, _stats = sheet_rows_match(rows, progress=progress)
    except MatchingError as error:
        raise file_refusal(
            "import_file.lookup_scope", code="matching", scopes=error.scopes
        ) from error
    return {str(number): match.as_dict() for number, match in matches.items()}


def candidate_rows(checked: planning.Checked) -> dict[str, dict[str, str]]:
    """What the file says of each candidate's row, for the preview."""
    return {
        str(r.number): {"name": r.name, "email": r.email, "mobile": r.mobile}
        for r in checked.to_match
    }


def matching_report(
    checked: planning.Checked, matches: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The preview's part about candidates' rows: how each was matched, and the
    rows whose application staff must pick, with the candidates found."""
    to_pick = []
    by: dict[str, int] = {}
    for row in checked.to_match:
        match = matches.get(str(row.number)) or {}
        if match.get("status") == "matched":
            by[match["by"]] = by.get(match["by"], 0) + 1
        if match.get("status") == "pick":
            to_pick.append(
                {
                    "row": row.number,
                    "name": row.name,
                    "contact": row.email
                    if match.get("by") == "email"
                    else f"+{row.mobile_code} {row.mobile}",
                    "message": match_refusal(match).data(),
                    "candidates": match.get("candidates") or [],
                }
            )
    return {"matches": matches, "to_pick": to_pick, "matched_by": by}


def preview(
    table: reading.Table,
    checked: planning.Checked,
    matches: dict[str, dict[str, Any]],
) -> tuple[dict[str, Any], planning.Plan]:
    """What confirming would do, as the database is now: the report and the plan."""
    resolved = resolve_matches(checked, matches, {}, refuse_unpicked=False)
    plan = planning.classify(resolved, operator_app_id=settings.FEISHU_APP_ID)
    report = preview_report(table, plan)
    report.update(matching_report(checked, matches))
    report["checks"] = checks_report(plan)
    return report, plan


def checks_report(plan: planning.Plan) -> list[list[Any]]:
    """Rows whose application the check before sending would hold, as far as
    Feishu was seen (the rest is checked before each is sent): [row, id, why]."""
    rows = [*plan.new, *(change.row for change in plan.changes)]
    ids = list(dict.fromkeys(row.application_id for row in rows))
    verdicts = applications_check_now(ids, at_most=settings.CANDIDATE_MATCH_INLINE_ROWS)
    applications_request_lookup(ids)
    return [
        [row.number, row.application_id, hold_refusal(verdict).data()]
        for row in sorted(rows, key=lambda r: r.number)
        if (verdict := verdicts.get(row.application_id)) and verdict.hold
    ]


def preview_report(table: reading.Table, plan: planning.Plan) -> dict[str, Any]:
    kinds = plan.kinds
    samples = []
    for sample in plan.checked.samples:
        sample = list(sample)
        sample[1] = planning.KIND_NAMES.get(kinds[sample[0] - 2], "")
        samples.append(sample)
    return {
        "format": table.format,
        "encoding": table.encoding,
        "headers": table.headers,
        "counts": plan.counts(),
        "errors": plan.errors,
        "changes": [
            [
                change.row.number,
                change.row.application_id,
                change.row.exam_resource_name,
                wording.message(f"status.{change.status}").data(),
                change.diff,
            ]
            for change in plan.changes
        ],
        "conflicts": plan.conflicts,
        # Named by rows but not in the catalogue: staff add them or fix the file.
        "unknown_papers": planning.unknown_papers(plan.errors),
        "rows": samples,
        "kinds": kinds,
    }


def set_counts(batch: ImportBatch, counts: dict[str, int]) -> None:
    batch.total_rows = counts["rows"]
    batch.invalid_count = counts["invalid"]
    batch.conflict_count = counts["conflict"]
    batch.unchanged_count = counts["unchanged"] + counts["duplicate"]
