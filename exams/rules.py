"""The rules of what may be entered and sent, with messages that say what to fix.

Shared by the admin form, the importer and the command line, so a value is refused
for the same reason whichever way it arrives.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import MAX_SCORE, ExamResult, UserIdType

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
        raise ValidationError(_("Enter a score."), code="required")
    digits = text.translate(_FULL_WIDTH)
    if digits.startswith("-") and _SCORE.fullmatch(digits[1:]):
        raise ValidationError(
            _("The score cannot be negative (%(value)s)."),
            code="negative",
            params={"value": _shown(text)},
        )
    match = _SCORE.fullmatch(digits)
    if match is None:
        raise ValidationError(
            _("“%(value)s” is not a number. Enter the score in digits, e.g. 88.5."),
            code="invalid",
            params={"value": _shown(text)},
        )
    # Too many digits is refused before any arithmetic: a 29-digit number is past
    # what a Decimal context computes with.
    if len(match.group(1).lstrip("0")) > _SCORE_WHOLE_DIGITS or Decimal(digits) > (
        MAX_SCORE
    ):
        raise ValidationError(
            _(
                "The score %(value)s is larger than %(max)s, the largest the portal keeps."
            ),
            code="too_large",
            params={"value": _shown(text), "max": MAX_SCORE},
        )
    score = Decimal(digits)
    if score != score.quantize(Decimal("0.1")):
        raise ValidationError(
            _(
                "%(value)s has more than one decimal place. Feishu keeps one decimal "
                "place and the portal never rounds: enter the score as it should be "
                "recorded, e.g. %(example)s."
            ),
            code="precision",
            params={"value": _shown(text), "example": score.quantize(Decimal("0.1"))},
        )
    return score


def clean_application_id(raw: object) -> str:
    """A Feishu application ID: digits only, at most 19 of them."""
    text = str(raw).strip() if raw is not None else ""
    if not text:
        raise ValidationError(_("Enter the application ID."), code="required")
    if not _DIGITS.fullmatch(text):
        raise ValidationError(
            _(
                "“%(value)s” is not an application ID: it must be digits only, "
                "e.g. 6891565253964859661."
            ),
            code="invalid",
            params={"value": _shown(text)},
        )
    if len(text) > 19:
        raise ValidationError(
            _("“%(value)s” has %(length)s digits; an application ID has at most 19."),
            code="too_long",
            params={"value": _shown(text), "length": len(text)},
        )
    if text.startswith("0"):
        raise ValidationError(
            _(
                "“%(value)s” is not an application ID: Feishu's IDs never begin "
                "with 0, e.g. 6891565253964859661."
            ),
            code="invalid",
            params={"value": _shown(text)},
        )
    return text


def clean_attachment_id(raw: object) -> str:
    """The report's attachment ID (``uuid``), as Feishu gave it when the report was
    uploaded: digits, at most 19; empty when there is no report."""
    text = str(raw).strip() if raw is not None else ""
    if text and (not _DIGITS.fullmatch(text) or len(text) > 19 or text.startswith("0")):
        raise ValidationError(
            _(
                "“%(value)s” is not a Feishu attachment ID: it is the number Feishu "
                "gave the uploaded report, e.g. 6949805467799537964. Leave it empty "
                "to send no report, or attach the report file instead."
            ),
            code="invalid",
            params={"value": _shown(text)},
        )
    return text


# Tab and line breaks are what a spreadsheet's cell may hold (Alt+Enter); any other
# control character is what no XLSX cell or PostgreSQL text holds (NUL), and never
# what staff meant to type.
_CELL_WHITESPACE = "\t\n\r"


def refuse_control_characters(text: str, what: StrOrPromise) -> str:
    """``text``, or a ValidationError naming the control character it holds."""
    for position, char in enumerate(text, start=1):
        if unicodedata.category(char) == "Cc" and char not in _CELL_WHITESPACE:
            raise ValidationError(
                _(
                    "%(what)s holds an invisible control character (U+%(code)s) at "
                    "character %(position)s: type it again without it."
                ),
                code="control_character",
                params={"what": what, "code": f"{ord(char):04X}", "position": position},
            )
    return text


def clean_exam_resource_name(raw: object) -> str:
    """The exam name as typed; only an empty (or blank) one is refused."""
    text = "" if raw is None else str(raw)
    if not text.strip():
        raise ValidationError(_("Enter the exam name."), code="required")
    if len(text) > 255:
        raise ValidationError(
            _("The exam name is longer than 255 characters."), code="too_long"
        )
    return refuse_control_characters(text, _("The exam name"))


def validate_report_file(name: str, size: int) -> None:
    """Feishu takes JPG, PNG or PDF reports of at most 100 MB."""
    if not name.lower().endswith(ALLOWED_REPORT_EXTENSIONS):
        raise ValidationError(
            _("The report must be a PDF, JPG or PNG file (got “%(name)s”)."),
            code="file_type",
            params={"name": name},
        )
    if size > MAX_REPORT_BYTES:
        raise ValidationError(
            _("The report is larger than 100 MB, the most Feishu accepts."),
            code="file_size",
        )


# --- the operator's Feishu app ------------------------------------------------------
# An open_id is issued per Feishu app. A result whose operator was looked up for
# another app (the portal's app was switched since) would be refused by Feishu, or
# worse, name someone else: it is not sent until staff enter the operator again.


def operator_app_problem(*, user_id_type: str, operator_app_id: str) -> str | None:
    """Why a result with this operator cannot be sent by the portal's app, or None."""
    app_id = settings.FEISHU_APP_ID
    if user_id_type == UserIdType.OPEN_ID and operator_app_id != app_id:
        return str(
            _(
                "The operator's open_id belongs to the Feishu app %(old)s, but the "
                "portal now delivers with %(new)s: enter the operator again."
            )
            % {"old": operator_app_id, "new": app_id}
        )
    return None


def operator_from_other_app() -> Q:
    """The same rule as ``operator_app_problem``, for a queryset."""
    return Q(user_id_type=UserIdType.OPEN_ID) & ~Q(
        operator_app_id=settings.FEISHU_APP_ID
    )


def result_operator_problem(result: ExamResult) -> str | None:
    return operator_app_problem(
        user_id_type=result.user_id_type, operator_app_id=result.operator_app_id
    )
