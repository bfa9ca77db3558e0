"""``POST /hire/v1/talents/batch_get_id`` (feishu-candidates.md section 1): talent
ids by email or mobile.

Kinds given together are ANDed, as documented. Emails match case-insensitively and
mobiles after normalisation (spaces, dashes and a ``+<mobile_code>`` prefix
dropped); both are UNCONFIRMED on the real service. Each match echoes the values
as they were passed, which is how a caller maps results back to its rows.
"""

from __future__ import annotations

import re
from typing import Any

from feishu.sandbox.gateway import authorize
from feishu.sandbox.protocol import (
    Reply,
    Request,
    feishu_error,
    json_object,
    param_error,
    require_json,
    success,
)
from feishu.sandbox.state import State

MAX_PER_KIND = 100
_SEPARATORS = re.compile(r"[\s\-()]")


def wrong_mobile(number: str) -> Reply:
    return feishu_error(
        400, 1002009, f"wrong mobile, check mobile_code and the numbers: {number}"
    )


def normalise_mobile(number: str, mobile_code: str) -> str:
    """``"+86 139-0013-9002"`` -> ``"13900139002"``; 1002009 when it is no
    number of that country."""
    digits = _SEPARATORS.sub("", number)
    for prefix in (f"+{mobile_code}", f"00{mobile_code}"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    if not digits.isascii() or not digits.isdigit():
        raise wrong_mobile(number)
    if mobile_code == "86" and not (len(digits) == 11 and digits.startswith("1")):
        raise wrong_mobile(number)
    if not 4 <= len(digits) <= 15:
        raise wrong_mobile(number)
    return digits


def _strings(data: dict[str, Any], name: str) -> list[str]:
    values = data.get(name)
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise param_error(f"{name} must be a list of strings")
    if len(values) > MAX_PER_KIND:
        raise param_error(f"{name}: at most {MAX_PER_KIND} items")
    return values


def batch_get_id(req: Request, state: State) -> Reply:
    authorize(req, state, "talent_batch_get_id")
    require_json(req)
    data = json_object(req.body)
    emails = _strings(data, "email_list")
    mobiles = _strings(data, "mobile_number_list")
    id_numbers = _strings(data, "identification_number_list")
    mobile_code = data.get("mobile_code") or "86"
    if not isinstance(mobile_code, str) or not mobile_code.isdigit():
        raise wrong_mobile(str(mobile_code))
    if not (emails or mobiles or id_numbers):
        raise param_error(
            "one of email_list, mobile_number_list, identification_number_list "
            "is required"
        )
    if id_numbers and "identification_type" not in data:
        raise param_error("identification_type is required with id numbers")
    by_email: dict[str, str] = {}
    for email in emails:
        by_email.setdefault(email.strip().lower(), email)
    by_mobile: dict[str, str] = {}
    for number in mobiles:
        by_mobile.setdefault(normalise_mobile(number, mobile_code), number)
    found = []
    with state.lock:
        for talent in state.world.talents.values():
            item: dict[str, Any] = {"talent_id": talent.id, "is_onboarded": False}
            if emails:
                passed = by_email.get((talent.email or "").lower())
                if passed is None:
                    continue
                item["email"] = passed
            if mobiles:
                passed = (
                    by_mobile.get(talent.mobile_number or "")
                    if talent.mobile_code == mobile_code
                    else None
                )
                if passed is None:
                    continue
                item["mobile_code"] = mobile_code
                item["mobile_number"] = passed
            if id_numbers:
                continue  # the sandbox's talents have no id numbers
            found.append(item)
    return success({"talent_list": found})
