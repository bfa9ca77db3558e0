"""The rules of what may be entered and sent, with messages that say what to fix.

Shared by the admin form, the importer and the command line, so a value is refused
for the same reason whichever way it arrives.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import MAX_SCORE, ExamResult, UserIdType

_DIGITS = re.compile(r"[0-9]+")
ALLOWED_REPORT_EXTENSIONS = (".pdf", ".jpg", ".jpeg", ".png")
MAX_REPORT_BYTES = 100 * 1024 * 1024


def parse_score(raw: object) -> Decimal:
    """The score exactly as given, or a ValidationError saying what is wrong.

    Never rounds: 95.55 is refused, not turned into 95.6. Trailing zeros are fine
    ("70", "88.50"): they do not change the value.
    """
    text = str(raw).strip() if raw is not None else ""
    if not text:
        raise ValidationError(_("Enter a score."), code="required")
    try:
        score = Decimal(text)
    except InvalidOperation:
        raise ValidationError(
            _("“%(value)s” is not a number. Enter the score in digits, e.g. 88.5."),
            code="invalid",
            params={"value": text},
        ) from None
    if not score.is_finite():
        raise ValidationError(
            _("“%(value)s” is not a number. Enter the score in digits, e.g. 88.5."),
            code="invalid",
            params={"value": text},
        )
    if score != score.quantize(Decimal("0.1")):
        raise ValidationError(
            _(
                "%(value)s has more than one decimal place. Feishu keeps one decimal "
                "place and the portal never rounds: enter the score as it should be "
                "recorded, e.g. %(example)s."
            ),
            code="precision",
            params={"value": text, "example": score.quantize(Decimal("0.1"))},
        )
    if score < 0:
        raise ValidationError(
            _("The score cannot be negative (%(value)s)."),
            code="negative",
            params={"value": text},
        )
    if score > MAX_SCORE:
        raise ValidationError(
            _(
                "The score %(value)s is larger than %(max)s, the largest the portal keeps."
            ),
            code="too_large",
            params={"value": text, "max": MAX_SCORE},
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
            params={"value": text},
        )
    if len(text) > 19:
        raise ValidationError(
            _("“%(value)s” has %(length)s digits; an application ID has at most 19."),
            code="too_long",
            params={"value": text, "length": len(text)},
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
    return text


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
