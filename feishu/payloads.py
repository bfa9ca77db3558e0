"""The exact bytes sent to Feishu, built before the request leaves so they can be
audited first.

The score goes out as a JSON number with exactly one decimal place (``70.0``,
``88.5``), formatted from the Decimal itself: no float ever touches it, and the
output does not depend on which JSON library is installed. Feishu's field is
"number(float), precision 1 decimal place"; a value with more places is refused
here rather than rounded silently.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from feishu.errors import InvalidRequestError

USER_ID_TYPES = frozenset({"open_id", "union_id", "user_id", "people_admin_id"})

_TENTH = Decimal("0.1")


def format_score(score: Decimal | int) -> str:
    """``Decimal("70")`` -> ``"70.0"``, ``Decimal("88.50")`` -> ``"88.5"``; refuses
    ``Decimal("95.55")``, floats, NaN and infinities."""
    if isinstance(score, bool) or not isinstance(score, Decimal | int):
        raise InvalidRequestError(
            f"score must be a Decimal or int, not {type(score).__name__}"
        )
    value = Decimal(score)
    if not value.is_finite():
        raise InvalidRequestError(f"score must be a finite number, not {value}")
    try:
        tenths = value.quantize(_TENTH)
    except InvalidOperation as exc:
        raise InvalidRequestError(f"score {value} is out of range") from exc
    if tenths != value:
        raise InvalidRequestError(
            f"score {value} has more than one decimal place; Feishu keeps one"
        )
    if tenths.is_zero():
        tenths = abs(tenths)  # no "-0.0"
    return format(tenths, "f")


def _string(value: object, field: str, *, digits: bool = False) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(f"{field} must be a non-empty string")
    if digits and not (value.isascii() and value.isdigit()):
        raise InvalidRequestError(f"{field} must be a numeric id, got {value!r}")
    return value


def _json_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def exam_body(
    application_id: str,
    exam_resource_name: str,
    score: Decimal | int,
    operator_id: str,
    uuid: str | None = None,
) -> bytes:
    """The JSON body of ``POST /open-apis/hire/v1/exams``, as UTF-8 bytes."""
    parts = [
        f'"application_id":{_json_str(_string(application_id, "application_id", digits=True))}',
        f'"exam_resource_name":{_json_str(_string(exam_resource_name, "exam_resource_name"))}',
        f'"score":{format_score(score)}',
    ]
    if uuid is not None:
        parts.append(f'"uuid":{_json_str(_string(uuid, "uuid"))}')
    parts.append(f'"operator_id":{_json_str(_string(operator_id, "operator_id"))}')
    return ("{" + ",".join(parts) + "}").encode("utf-8")


def check_user_id_type(user_id_type: str) -> str:
    if user_id_type not in USER_ID_TYPES:
        raise InvalidRequestError(
            f"user_id_type must be one of {sorted(USER_ID_TYPES)}, got {user_id_type!r}"
        )
    return user_id_type
