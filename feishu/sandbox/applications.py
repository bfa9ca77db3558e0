"""The application endpoints (feishu-candidates.md section 3)."""

from __future__ import annotations

from feishu.sandbox.gateway import authorize
from feishu.sandbox.protocol import Reply, Request, feishu_error, param_error
from feishu.sandbox.state import State


def application_known(state: State, application_id: str) -> bool:
    with state.lock:
        if application_id in state.config["missing_applications"]:
            return False
        known = state.config["known_applications"]
        return known is None or application_id in known


def get_application(req: Request, state: State) -> Reply:
    authorize(req, state, "applications")
    application_id = req.params["application_id"]
    if not application_id.isdigit():
        raise param_error(f"invalid application_id: {application_id}")
    if not application_known(state, application_id):
        raise feishu_error(400, 1002201, "application not exist")
    return Reply(
        200,
        {
            "code": 0,
            "msg": "success",
            "data": {
                "application": {
                    "id": application_id,
                    "job_id": "6900000000000000001",
                    "talent_id": "6" + application_id[-18:].rjust(18, "0"),
                    "resume_source_id": "MU",
                    "stage": {
                        "id": "6960663240925956576",
                        "zh_name": "笔试",
                        "en_name": "Written test",
                        "type": 2,
                    },
                    "active_status": 1,
                    "delivery_type": 1,
                    "create_time": "1637295516451",
                    "modify_time": "1637295516451",
                }
            },
        },
    )
