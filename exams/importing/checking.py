"""Checking an uploaded spreadsheet: read it, check every row on its own, and
describe what an import would do (the preview's report)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from ..entry.operators import OperatorMissingError, operator_for
from ..models import ExamResult, ImportBatch
from . import plan as planning
from . import reading

Progress = Callable[[int, int], None]  # (rows done, rows in the file)


def max_upload_bytes() -> int:
    return int(settings.EXAMS_IMPORT_MAX_BYTES)


def operator_default(
    actor: User | None,
) -> tuple[tuple[str, str] | None, str | None]:
    """(operator id, app id) to fill in rows without an operator, or why there is
    none (then such rows are invalid)."""
    if actor is None:
        return None, _(
            "The row has no operator ID, and the import was not run as a staff member "
            "whose Feishu identity could fill it in (give --operator USERNAME)."
        )
    try:
        return operator_for(user=actor, user_id_type=settings.FEISHU_USER_ID_TYPE), None
    except OperatorMissingError as error:
        return None, " ".join(str(m) for m in error.messages)


def check(
    *,
    content: bytes,
    file_name: str,
    actor: User | None,
    progress: Progress | None = None,
) -> tuple[reading.Table, planning.Checked, tuple[str, str] | None]:
    if len(content) > max_upload_bytes():
        raise reading.ImportFileError(
            _("The file is larger than %(max)s MB; split it into smaller files.")
            % {"max": max_upload_bytes() // (1024 * 1024)},
            code="too_large",
        )
    table = reading.read_table(content, file_name)
    default, missing = operator_default(actor)
    checked = planning.check_rows(
        table.rows,
        operator_missing=missing,
        progress=(lambda done: progress(done, 0)) if progress else None,
    )
    return table, checked, default


def preview_report(table: reading.Table, plan: planning.Plan) -> dict[str, Any]:
    kinds = plan.kinds
    samples = []
    for sample in plan.checked.samples:
        sample = list(sample)
        sample[1] = planning.KIND_NAMES.get(kinds[sample[0] - 2], "")
        samples.append(sample)
    statuses = dict(ExamResult.Status.choices)
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
                str(statuses[change.status]),
                change.diff,
            ]
            for change in plan.changes
        ],
        "conflicts": plan.conflicts,
        "rows": samples,
        "kinds": kinds,
    }


def set_counts(batch: ImportBatch, counts: dict[str, int]) -> None:
    batch.total_rows = counts["rows"]
    batch.invalid_count = counts["invalid"]
    batch.conflict_count = counts["conflict"]
    batch.unchanged_count = counts["unchanged"] + counts["duplicate"]
