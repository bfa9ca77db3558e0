"""From rows of text to a plan: which rows are new, unchanged, changed, in
conflict or invalid, and why.

Rows are checked with the same functions as the admin form (exams.validation), so
a value is refused for the same reason whichever way it arrives. The database is
asked once per chunk of rows, never once per row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from .. import rules, wording
from ..candidates.matching import normalise_mobile
from ..models import ExamPaper, ExamResult, normalize_exam_name
from . import reading

CHUNK = 2000
MAX_ID_LENGTH = 64
SAMPLE_ROWS = 100
# A preview shows the start of each cell: an overlong one is refused anyway.
SAMPLE_CHARS = 300

# One letter per row of the file, in order (row number = index + 2): the preview
# and the confirmation compare these to tell staff what changed in between.
NEW = "N"
UNCHANGED = "U"
CHANGED = "C"
CONFLICT = "X"
INVALID = "I"
DUPLICATE = "D"  # the same result with the same values as an earlier row
TO_PICK = "P"  # a candidate's row whose application staff must pick
BLANK = "-"

KIND_NAMES = {
    NEW: "new",
    UNCHANGED: "unchanged",
    CHANGED: "changed",
    CONFLICT: "conflict",
    INVALID: "invalid",
    DUPLICATE: "duplicate",
    TO_PICK: "to_pick",
}

Key = tuple[str, str]


@dataclass(slots=True)
class ImportRow:
    number: int
    application_id: str  # "" until a candidate's row is matched
    exam_resource_name: str
    exam_key: str
    score: Decimal
    uuid: str  # "" when the file gives none
    operator_id: str  # "" when the file gives none
    matched_by: str = "id"  # "id", or how a candidate's row found its application
    name: str = ""
    email: str = ""
    mobile_code: str = ""
    mobile: str = ""

    @property
    def key(self) -> Key:
        return (self.application_id, self.exam_key)

    def same_values(self, other: ImportRow) -> bool:
        return (
            self.score == other.score
            and self.uuid == other.uuid
            and self.operator_id == other.operator_id
        )


@dataclass(slots=True)
class Change:
    row: ImportRow
    pk: int
    status: str
    diff: dict[str, list[str]]  # field -> [old, new], as text
    values: dict[str, Any]  # field -> new value, as stored


@dataclass
class Checked:
    """The rows that passed validation, and the errors of those that did not."""

    rows: list[ImportRow] = field(default_factory=list)
    # Candidates' rows waiting for their application (exams.candidates.matching).
    to_match: list[ImportRow] = field(default_factory=list)
    errors: list[list[Any]] = field(default_factory=list)  # [row, field, message]
    kinds: list[str] = field(default_factory=list)
    samples: list[list[Any]] = field(default_factory=list)

    def mark(self, number: int, kind: str) -> None:
        index = number - 2
        while len(self.kinds) <= index:
            self.kinds.append(BLANK)
        self.kinds[index] = kind


@dataclass
class Plan:
    checked: Checked
    new: list[ImportRow] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    conflicts: list[list[Any]] = field(default_factory=list)
    unchanged: int = 0
    duplicates: int = 0

    @property
    def errors(self) -> list[list[Any]]:
        return self.checked.errors

    @property
    def kinds(self) -> str:
        return "".join(self.checked.kinds)

    def counts(self) -> dict[str, int]:
        kinds = self.kinds
        counts = {
            "rows": len(kinds) - kinds.count(BLANK),
            "new": len(self.new),
            "unchanged": self.unchanged,
            "changed": len(self.changes),
            "conflict": len(self.conflicts),
            "invalid": kinds.count(INVALID),
            "duplicate": self.duplicates,
        }
        if TO_PICK in kinds:
            counts["to_pick"] = kinds.count(TO_PICK)
        return counts


def _message(error: ValidationError) -> dict[str, Any] | str:
    """A row's refusal as the report keeps it: its code and facts, put into words
    in the reader's language when the preview is read."""
    return wording.from_error(error)


def check_rows(
    raw_rows: Iterable[tuple[int, dict[str, Any]]],
    *,
    operator_missing: ValidationError | None,
    progress: Callable[[int], None] | None = None,
) -> Checked:
    """Validate each row on its own. ``operator_missing`` is why a row without an
    operator cannot be imported (no default operator), or None when there is one."""
    checked = Checked()
    count = 0
    # The catalogue is a few papers: read once, each row looked up in it.
    papers = ExamPaper.objects.by_name()
    shared: dict[str, str] = {}
    keys: dict[str, str] = {}
    scores: dict[str, Decimal] = {}
    for number, raw in raw_rows:
        count += 1
        if progress is not None and count % CHUNK == 0:
            progress(count)
        row_errors: list[list[Any]] = []

        def refuse(
            name: str,
            error: ValidationError,
            number: int = number,
            row_errors: list[list[Any]] = row_errors,
        ) -> None:
            row_errors.append([number, name, _message(error)])

        if not (
            reading.cell_text(raw.get("exam_resource_name")).strip()
            or reading.cell_text(raw.get("score")).strip()
        ):
            # No paper and no score: nothing to import (a fill-in sheet's row
            # left empty, for a candidate whose result is not in yet).
            checked.mark(number, BLANK)
            continue
        application_id = exam_name = ""
        score = Decimal(0)
        identity = _candidate_identity(raw)
        try:
            raw_id = reading.application_id_text(raw.get("application_id"))
        except ValidationError as error:
            refuse("application_id", error)
            raw_id = "?"  # mangled: refused above, never matched by email
        if raw_id.strip():
            try:
                application_id = rules.clean_application_id(raw_id)
            except ValidationError as error:
                if raw_id != "?":
                    refuse("application_id", error)
        elif identity["email"] and not _EMAIL.fullmatch(identity["email"]):
            refuse(
                "email",
                wording.refusal("import.email_invalid", value=identity["email"]),
            )
        elif identity["mobile"] and not identity["mobile"].isdigit():
            refuse(
                "mobile",
                wording.refusal(
                    "import.mobile_invalid", value=reading.cell_text(raw.get("mobile"))
                ),
            )
        elif not (identity["email"] or identity["mobile"]):
            refuse(
                "application_id",
                wording.refusal(
                    "import.no_identity"
                    if raw.keys() & {"email", "mobile"}
                    else "application_id.required"
                ),
            )
        try:
            exam_name = rules.clean_exam_resource_name(
                reading.cell_text(raw.get("exam_resource_name"))
            )
        except ValidationError as error:
            refuse("exam_resource_name", error)
        try:
            score = rules.parse_score(reading.cell_text(raw.get("score")))
        except ValidationError as error:
            refuse("score", error)
        else:
            if exam_name:
                _check_paper(exam_name, score, papers, refuse)
        uuid = ""
        try:
            uuid = rules.clean_attachment_id(reading.cell_text(raw.get("uuid")))
        except ValidationError as error:
            refuse("uuid", error)
        operator_id = reading.cell_text(raw.get("operator_id")).strip()
        if len(operator_id) > MAX_ID_LENGTH:
            refuse(
                "operator_id",
                wording.refusal("import.operator_too_long", max=MAX_ID_LENGTH),
            )
        elif not operator_id and operator_missing:
            refuse("operator_id", operator_missing)
        else:
            try:
                rules.refuse_control_characters(
                    operator_id, wording.TEMPLATES["label.operator_id"]
                )
            except ValidationError as error:
                refuse("operator_id", error)
        if len(checked.samples) < SAMPLE_ROWS:
            checked.samples.append(
                [
                    number,
                    "",
                    reading.cell_text(raw.get("application_id"))[:SAMPLE_CHARS],
                    reading.cell_text(raw.get("exam_resource_name"))[:SAMPLE_CHARS],
                    reading.cell_text(raw.get("score"))[:SAMPLE_CHARS],
                    operator_id[:SAMPLE_CHARS],
                ]
            )
        if row_errors:
            checked.errors.extend(row_errors)
            checked.mark(number, INVALID)
            continue
        # A file repeats a few papers, scores and operators over every row: one
        # object each, not one a row (a million rows are then held in ~half the
        # memory). Scores are shared by their text, so 88.50 stays 88.50.
        exam_name = shared.setdefault(exam_name, exam_name)
        row = ImportRow(
            number=number,
            application_id=application_id,
            exam_resource_name=exam_name,
            exam_key=keys.get(exam_name)
            or keys.setdefault(exam_name, normalize_exam_name(exam_name)),
            score=scores.setdefault(str(score), score),
            uuid=shared.setdefault(uuid, uuid),
            operator_id=shared.setdefault(operator_id, operator_id),
            **identity,
        )
        if application_id:
            checked.rows.append(row)
        else:
            checked.to_match.append(row)
    if progress is not None:
        progress(count)
    return checked


def _check_paper(
    exam_name: str,
    score: Decimal,
    papers: Mapping[str, ExamPaper],
    refuse: Callable[[str, ValidationError], object],
) -> None:
    """The row's paper is in the catalogue (else the preview lists it among the
    papers to add, ``unknown_papers``) and its score at most the full mark."""
    try:
        paper = rules.exam_paper(exam_name, papers)
    except ValidationError as error:
        refuse("exam_resource_name", error)
        return
    try:
        rules.check_full_mark(score, paper)
    except ValidationError as error:
        refuse("score", error)


UNKNOWN_PAPER_ROWS_LISTED = 10


def unknown_papers(errors: Iterable[list[Any]]) -> list[list[Any]]:
    """The papers rows named that are not in the catalogue, from the rows'
    errors: [name, how many rows, the first rows], in the order first named."""
    found: dict[str, list[Any]] = {}
    for number, _name, refusal in errors:
        if isinstance(refusal, dict) and refusal.get("code") == "paper.unknown":
            name = str((refusal.get("params") or {}).get("name", ""))
            entry = found.setdefault(name, [name, 0, []])
            entry[1] += 1
            if len(entry[2]) < UNKNOWN_PAPER_ROWS_LISTED:
                entry[2].append(number)
    return list(found.values())


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _candidate_identity(raw: dict[str, Any]) -> dict[str, str]:
    mobile_code, mobile = "", ""
    written = reading.cell_text(raw.get("mobile")).strip()
    if written:
        mobile_code, mobile = normalise_mobile(
            written, reading.cell_text(raw.get("mobile_code"))
        )
    return {
        "name": reading.cell_text(raw.get("name")).strip(),
        "email": reading.cell_text(raw.get("email")).strip(),
        "mobile_code": mobile_code,
        "mobile": mobile,
    }


def _refuse_conflicting_duplicates(checked: Checked) -> tuple[list[ImportRow], int]:
    """The rows to compare with the database, one per result.

    The same result twice with the same values counts once; with different values
    every one of its rows is refused, because only staff can tell which is right.
    """
    first: dict[Key, ImportRow] = {}
    repeats: dict[Key, list[ImportRow]] = {}
    for row in checked.rows:
        if row.key in first:
            repeats.setdefault(row.key, []).append(row)
        else:
            first[row.key] = row
    refused: set[Key] = set()
    duplicates = 0
    for key, rows in repeats.items():
        original = first[key]
        if all(original.same_values(row) for row in rows):
            duplicates += len(rows)
            for row in rows:
                checked.mark(row.number, DUPLICATE)
            continue
        refused.add(key)
        group = [original, *rows]
        numbers = ", ".join(str(row.number) for row in group)
        scores = ", ".join(str(row.score) for row in group)
        differing = "score" if len({row.score for row in group}) > 1 else "uuid"
        if differing == "uuid" and len({row.uuid for row in group}) == 1:
            differing = "operator_id"
        for row in group:
            checked.errors.append(
                [
                    row.number,
                    differing,
                    wording.message(
                        "import.same_result_differs",
                        rows=numbers,
                        application=row.application_id,
                        exam=row.exam_resource_name,
                        scores=scores,
                    ).data(),
                ]
            )
            checked.mark(row.number, INVALID)
    checked.errors.sort(key=lambda error: error[0])
    return [row for key, row in first.items() if key not in refused], duplicates


def classify(checked: Checked, *, operator_app_id: str) -> Plan:
    """Compare the valid rows with the database, one query per chunk of rows.

    ``checked`` is left as it was, so the same rows can be classified again (at
    confirmation, or after a concurrent insert)."""
    checked = Checked(
        rows=checked.rows,
        to_match=checked.to_match,
        errors=list(checked.errors),
        kinds=list(checked.kinds),
        samples=checked.samples,
    )
    candidates, duplicates = _refuse_conflicting_duplicates(checked)
    plan = Plan(checked=checked, duplicates=duplicates)
    for start in range(0, len(candidates), CHUNK):
        chunk = candidates[start : start + CHUNK]
        existing: dict[Key, tuple[Any, ...]] = {
            (row[1], row[2]): row
            for row in ExamResult.objects.filter(
                application_id__in={row.application_id for row in chunk},
                exam_key__in={row.exam_key for row in chunk},
            )
            .order_by()
            .values_list(
                "pk",
                "application_id",
                "exam_key",
                "score",
                "uuid",
                "operator_id",
                "status",
            )
        }
        for row in chunk:
            found = existing.get(row.key)
            if found is None:
                plan.new.append(row)
                checked.mark(row.number, NEW)
                continue
            pk, _app, _key, score, uuid, operator_id, status = found
            diff: dict[str, list[str]] = {}
            values: dict[str, Any] = {}
            if row.score != score:
                diff["score"] = [str(score), str(row.score)]
                values["score"] = row.score
            if row.uuid and row.uuid != uuid:
                diff["uuid"] = [uuid, row.uuid]
                values["uuid"] = row.uuid
            if row.operator_id and row.operator_id != operator_id:
                diff["operator_id"] = [operator_id, row.operator_id]
                values["operator_id"] = row.operator_id
                values["operator_app_id"] = operator_app_id
            if not diff:
                plan.unchanged += 1
                checked.mark(row.number, UNCHANGED)
            elif status in ExamResult.EDITABLE_STATUSES:
                plan.changes.append(
                    Change(row=row, pk=pk, status=status, diff=diff, values=values)
                )
                checked.mark(row.number, CHANGED)
            else:
                plan.conflicts.append(conflict_entry(row, status, diff))
                checked.mark(row.number, CONFLICT)
    return plan


def conflict_entry(row: ImportRow, status: str, diff: dict[str, Any]) -> list[Any]:
    """[row, application, exam, status, diff, why] of a row the import leaves
    alone; the status and why as stored messages (``wording.render`` reads them)."""
    shown = wording.message(f"status.{status}")
    return [
        row.number,
        row.application_id,
        row.exam_resource_name,
        shown.data(),
        diff,
        wording.message("import.not_editable", status=shown).data(),
    ]
