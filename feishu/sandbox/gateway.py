"""What Feishu's gateway does before a business API runs: the token endpoint, the
Bearer token check, the throttle and the scope check."""

from __future__ import annotations

import secrets
import time

from feishu.sandbox.config import API_SCOPES, USER_ID_TYPES
from feishu.sandbox.protocol import (
    Reply,
    Request,
    feishu_error,
    param_error,
    parse_json,
)
from feishu.sandbox.state import State


def token_endpoint(req: Request, state: State) -> Reply:
    delay = float(state.config["token_latency"])
    if delay:
        time.sleep(delay)
    data = parse_json(req.body) if req.body else {}
    if not isinstance(data, dict):
        raise feishu_error(400, 10003, "invalid param")
    app_id, secret = data.get("app_id"), data.get("app_secret")
    if not isinstance(app_id, str) or not isinstance(secret, str) or not app_id:
        raise feishu_error(400, 10003, "invalid param")
    if app_id != state.app_id:
        raise feishu_error(400, 10003, "invalid param")
    if not secrets.compare_digest(secret.encode(), state.app_secret.encode()):
        raise feishu_error(400, 10014, "app secret invalid")
    value, expire = state.issue_token(app_id)
    return Reply(
        200,
        {"code": 0, "msg": "ok", "tenant_access_token": value, "expire": expire},
    )


def missing_scope(scope: str) -> Reply:
    return feishu_error(
        400,
        99991672,
        f"Access denied. One of the following scopes is required: [{scope}].",
        extra={
            "error": {
                "log_id": secrets.token_hex(12),
                "permission_violations": [
                    {
                        "type": "action_scope_required",
                        "subject": scope,
                        "description": "The app lacks this scope.",
                    }
                ],
                "troubleshooter": "https://open.feishu.cn/search?log_id=sandbox",
            }
        },
    )


def authorize(req: Request, state: State, api: str) -> str:
    """The calling app's id once the token, the throttle and the scope let the
    request through; else the error Feishu would answer."""
    app_id = state.check_token(req.header("Authorization"))
    state.rate_check(app_id, api)
    scope = API_SCOPES[api]
    if state.config["missing_scope"] or scope in state.config["withheld_scopes"]:
        raise missing_scope(scope)
    return app_id


def has_scope(state: State, scope: str) -> bool:
    return (
        not state.config["missing_scope"]
        and scope not in (state.config["withheld_scopes"])
    )


def user_id_type(req: Request) -> str:
    value = req.arg("user_id_type")
    if value is None:
        value = "open_id"
    if value not in USER_ID_TYPES:
        raise param_error(f"invalid user_id_type: {value}")
    return value
