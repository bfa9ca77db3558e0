"""The rules of what may be entered and sent, with messages that say what to fix.

Shared by the admin form, the importer and the command line, so a value is refused
for the same reason whichever way it arrives.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Q

from .models import MAX_SCORE, ExamPaper, ExamResult, UserIdType, normalize_exam_name
from .wording import TEMPLATES, Message, message, refusal

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

_DIGITS = re.compile(r"[0-9]+")
SHOWN_CHARS = 40


# C0 control characters as their Unicode "control pictures" (NUL as ␀): shown,
# never acted on, and storable where a NUL is not (PostgreSQL text and jsonb).
_CONTROL_PICTURES = {code: 0x2400 + code for code in range(0x20)} | {0x7F: 0x2421}


def visible(text: str) -> str:
    """``text`` with its control characters made visible (a message or a preview
    quoting what staff's file held)."""
    return text.translate(_CONTROL_PICTURES)


def visible_all(value: Any) -> Any:
    """``value`` (a report of nested lists and dicts) with every string visible."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, list | tuple):
        return [visible_all(item) for item in value]
    if isinstance(value, dict):
        return {key: visible_all(item) for key, item in value.items()}
    return value


def _shown(text: str) -> str:
    """A value as a message quotes it: the start of an overlong one, its control
    characters visible."""
    text = visible(text)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


ALLOWED_REPORT_EXTENSIONS = (".pdf", ".jpg", ".jpeg", ".png")
MAX_REPORT_BYTES = 100 * 1024 * 1024


# What a score may look like, on every path (form, import, command, correction):
# digits with at most one decimal point. Full-width digits and point (８８．５, as a
# Chinese input method types them) are read as their ASCII twins; nothing else is
# guessed at: no sign, exponent, digit separator or another script's digits, each
# of which Python's Decimal would otherwise take ("1e2" as 100, "1_0" as 10).
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．", "0123456789.")
_SCORE = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
_SCORE_WHOLE_DIGITS = len(str(int(MAX_SCORE)))


def parse_score(raw: object) -> Decimal:
    """The score exactly as given, or a ValidationError saying what is wrong.

    Never rounds: 95.55 is refused, not turned into 95.6. Trailing zeros are fine
    ("70", "88.50"): they do not change the value.
    """
    text = str(raw).strip() if raw is not None else ""
    if not text:
        raise refusal("score.required")
    digits = text.translate(_FULL_WIDTH)
    if digits.startswith("-") and _SCORE.fullmatch(digits[1:]):
        raise refusal("score.negative", value=_shown(text))
    match = _SCORE.fullmatch(digits)
    if match is None:
        raise refusal("score.invalid", value=_shown(text))
    # Too many digits is refused before any arithmetic: a 29-digit number is past
    # what a Decimal context computes with.
    if len(match.group(1).lstrip("0")) > _SCORE_WHOLE_DIGITS or Decimal(digits) > (
        MAX_SCORE
    ):
        raise refusal("score.too_large", value=_shown(text), max=str(MAX_SCORE))
    score = Decimal(digits)
    if score != score.quantize(Decimal("0.1")):
        raise refusal(
            "score.precision",
            value=_shown(text),
            example=str(score.quantize(Decimal("0.1"))),
        )
    return score


def clean_application_id(raw: object) -> str:
    """A Feishu application ID: digits only, at most 19 of them."""
    text = str(raw).strip() if raw is not None else ""
    if not text:
        raise refusal("application_id.required")
    if not _DIGITS.fullmatch(text):
        raise refusal("application_id.invalid", value=_shown(text))
    if len(text) > 19:
        raise refusal("application_id.too_long", value=_shown(text), length=len(text))
    if text.startswith("0"):
        raise refusal("application_id.leading_zero", value=_shown(text))
    return text


def clean_attachment_id(raw: object) -> str:
    """The report's attachment ID (``uuid``), as Feishu gave it when the report was
    uploaded: digits, at most 19; empty when there is no report."""
    text = str(raw).strip() if raw is not None else ""
    if text and (not _DIGITS.fullmatch(text) or len(text) > 19 or text.startswith("0")):
        raise refusal("attachment_id.invalid", value=_shown(text))
    return text


# Tab and line breaks are what a spreadsheet's cell may hold (Alt+Enter); any other
# control character is what no XLSX cell or PostgreSQL text holds (NUL), and never
# what staff meant to type.
_CELL_WHITESPACE = "\t\n\r"


def refuse_control_characters(text: str, what: StrOrPromise) -> str:
    """``text``, or a ValidationError naming the control character it holds
    (``what``: a label of exams.wording, e.g. ``TEMPLATES["label.exam_name"]``)."""
    for position, char in enumerate(text, start=1):
        if unicodedata.category(char) == "Cc" and char not in _CELL_WHITESPACE:
            raise refusal(
                "text.control_character",
                what=what,
                code=f"{ord(char):04X}",
                position=position,
            )
    return text


def clean_exam_resource_name(raw: object) -> str:
    """The exam name as typed; only an empty (or blank) one is refused."""
    text = "" if raw is None else str(raw)
    if not text.strip():
        raise refusal("exam_name.required")
    if len(text) > 255:
        raise refusal("exam_name.too_long")
    return refuse_control_characters(text, TEMPLATES["label.exam_name"])


# --- the catalogue of exam papers ----------------------------------------------------
# A result is for a paper in the catalogue, and its score is at most the paper's
# full mark: Feishu takes any number, so 1000 on a paper marked out of 100 would be
# recorded as it is.


def exam_paper(name: str, papers: Mapping[str, ExamPaper] | None = None) -> ExamPaper:
    """The catalogue's paper for a result naming ``name`` (as typed), or a
    ValidationError saying it is not in the catalogue. ``papers``: the catalogue
    read once (``ExamPaper.objects.by_name()``) for many rows; else it is asked."""
    key = normalize_exam_name(name)
    paper = papers.get(key) if papers is not None else ExamPaper.objects.named(key)
    if paper is None:
        raise refusal("paper.unknown", name=visible(key))
    return paper


def check_full_mark(score: Decimal, paper: ExamPaper) -> Decimal:
    """``score``, or a ValidationError when it is above the paper's full mark."""
    if score > paper.full_mark:
        raise refusal(
            "score.above_full_mark",
            value=str(score),
            paper=visible(paper.name),
            full_mark=mark_text(paper.full_mark),
        )
    return score


def mark_text(mark: Decimal) -> str:
    """A full or pass mark as staff write it: 100, 60.5 (not 100.0)."""
    return f"{mark.normalize():f}"


def validate_report_file(name: str, size: int) -> None:
    """Feishu takes JPG, PNG or PDF reports of at most 100 MB."""
    if not name.lower().endswith(ALLOWED_REPORT_EXTENSIONS):
        raise refusal("report.file_type", name=name)
    if size > MAX_REPORT_BYTES:
        raise refusal("report.file_size")


# --- the operator's Feishu app ------------------------------------------------------
# An open_id is issued per Feishu app. A result whose operator was looked up for
# another app (the portal's app was switched since) would be refused by Feishu, or
# worse, name someone else: it is not sent until staff enter the operator again.


def operator_app_problem(*, user_id_type: str, operator_app_id: str) -> Message | None:
    """Why a result with this operator cannot be sent by the portal's app, or None."""
    app_id = settings.FEISHU_APP_ID
    if user_id_type == UserIdType.OPEN_ID and operator_app_id != app_id:
        return message("delivery.operator_other_app", old=operator_app_id, new=app_id)
    return None


def operator_from_other_app() -> Q:
    """The same rule as ``operator_app_problem``, for a queryset."""
    return Q(user_id_type=UserIdType.OPEN_ID) & ~Q(
        operator_app_id=settings.FEISHU_APP_ID
    )


def result_operator_problem(result: ExamResult) -> Message | None:
    return operator_app_problem(
        user_id_type=result.user_id_type, operator_app_id=result.operator_app_id
    )
