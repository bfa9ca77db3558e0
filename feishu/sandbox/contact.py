"""Contact ``users/batch_get_id``: staff members' user ids by email."""

from __future__ import annotations

import hashlib
from typing import Any

from feishu.sandbox.gateway import authorize
from feishu.sandbox.protocol import (
    Reply,
    Request,
    feishu_error,
    parse_json,
    require_json,
    success,
)
from feishu.sandbox.state import State


def batch_get_user_ids(req: Request, state: State) -> Reply:
    authorize(req, state, "contact")
    require_json(req)
    id_type = req.arg("user_id_type", "open_id")
    if id_type not in ("open_id", "union_id", "user_id"):
        raise feishu_error(400, 99992402, "field validation failed: user_id_type")
    data = parse_json(req.body) if req.body else {}
    emails = data.get("emails") or [] if isinstance(data, dict) else None
    if not isinstance(emails, list) or len(emails) > 50:
        raise feishu_error(400, 99992402, "field validation failed: emails")
    cfg = state.config
    hidden = {e.lower() for e in cfg["hidden_emails"]}
    users = {k.lower(): v for k, v in cfg["users"].items()}
    user_list = []
    for address in emails:
        entry: dict[str, Any] = {"email": address}
        key = str(address).lower()
        if key not in hidden:
            digest = _stable_hex(key)
            ids = {
                "open_id": "ou_" + digest,
                "union_id": "on_" + digest,
                "user_id": digest[:8],
            }
            ids.update(users.get(key) or {})
            entry["user_id"] = ids[id_type]
            entry["status"] = {"is_frozen": False, "is_resigned": False}
        user_list.append(entry)
    return success({"user_list": user_list})


def _stable_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]
