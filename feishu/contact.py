"""Contact lookups: a staff member's Feishu user id by email, for the operator
mapping (feishu-api.md section 6b)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from feishu.base import BaseClient
from feishu.errors import InvalidRequestError

BATCH_GET_ID_PATH = "/open-apis/contact/v3/users/batch_get_id"
BATCH_GET_ID_MAX = 50


class ContactCalls(BaseClient):
    def find_user_ids(
        self, emails: Iterable[str], user_id_type: str = "open_id"
    ) -> dict[str, str | None]:
        """Feishu user ids by email (contact v3 ``users/batch_get_id``).

        An address the app cannot see maps to None.
        """
        if user_id_type not in {"open_id", "union_id", "user_id"}:
            raise InvalidRequestError(
                f"user_id_type for contact lookups must be open_id, union_id or "
                f"user_id, got {user_id_type!r}"
            )
        wanted = list(dict.fromkeys(emails))
        found: dict[str, str | None] = {}
        for start in range(0, len(wanted), BATCH_GET_ID_MAX):
            chunk = wanted[start : start + BATCH_GET_ID_MAX]
            body = json.dumps({"emails": chunk, "include_resigned": False}).encode()
            answer = self._call(
                "POST",
                BATCH_GET_ID_PATH,
                what="find user ids",
                query=f"user_id_type={user_id_type}",
                data=body,
            )
            users = answer.data.get("user_list") or []
            by_email = {
                str(u.get("email", "")).lower(): u.get("user_id") or None for u in users
            }
            for email in chunk:
                found[email] = by_email.get(email.lower())
        return found
