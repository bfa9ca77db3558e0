"""The exam endpoints: ``POST /hire/v1/exams`` (validated as strictly as Feishu),
report attachments, and ``tests/search`` with the UNCONFIRMED behaviours switchable
(feishu-api.md sections 3-5)."""

from __future__ import annotations

import email.parser
import email.policy
import json
import random
import time
from decimal import Decimal
from typing import Any

from feishu.sandbox.applications import application_known
from feishu.sandbox.gateway import authorize, user_id_type
from feishu.sandbox.protocol import (
    Reply,
    Request,
    feishu_error,
    json_object,
    now_ms,
    page,
    page_args,
    param_error,
    require_json,
    snowflake,
    success,
)
from feishu.sandbox.state import State

_rng = random.SystemRandom()

EXAM_FIELDS = {
    "application_id": True,
    "exam_resource_name": True,
    "score": True,
    "uuid": False,
    "operator_id": True,
}
ATTACHMENT_MAX_BYTES = 300 * 1024 * 1024


def create_exam(req: Request, state: State) -> Reply:
    cfg = state.config
    if cfg["latency"]:
        time.sleep(float(cfg["latency"]))
    authorize(req, state, "exams")
    require_json(req)
    id_type = user_id_type(req)
    data = json_object(req.body)
    unknown = sorted(set(data) - set(EXAM_FIELDS))
    if unknown:
        raise param_error(f"unknown field: {', '.join(unknown)}")
    for name, required in EXAM_FIELDS.items():
        if required and name not in data:
            raise param_error(f"missing required field: {name}")
    for name in ("application_id", "exam_resource_name", "operator_id", "uuid"):
        if name in data and (not isinstance(data[name], str) or not data[name]):
            raise param_error(f"{name} must be a non-empty string")
    score = data["score"]
    if not isinstance(score, Decimal):
        raise param_error("score must be a number")
    exponent = score.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -1:
        raise param_error("score supports one decimal place")
    application_id = data["application_id"]
    if not application_id.isascii() or not application_id.isdigit():
        raise param_error(f"invalid application_id: {application_id}")
    operator_id = data["operator_id"]
    prefix = {"open_id": "ou_", "union_id": "on_"}.get(id_type)
    if prefix and not operator_id.startswith(prefix):
        raise param_error(f"operator_id is not a valid {id_type}")
    uuid = data.get("uuid")
    if uuid is not None and not uuid.isdigit():
        raise param_error(f"invalid uuid (attachment id): {uuid}")
    if not application_known(state, application_id):
        raise param_error(f"application not exist: {application_id}")

    fail = _rng.random() < float(cfg["fail_ratio"])
    if fail and cfg["fail_mode"] != "after":
        raise feishu_error(500, 1002001, "system error")
    exam = {
        "exam_id": snowflake(),
        "application_id": application_id,
        "exam_resource_name": data["exam_resource_name"],
        "score": f"{score.quantize(Decimal('0.1'))}",
        "uuid": uuid,
        "operator_id": operator_id,
        "user_id_type": id_type,
        "operate_time": str(now_ms()),
        "created_monotonic": time.monotonic(),
        "test_id": snowflake(),
        "request_body": req.body.decode("utf-8"),
    }
    with state.lock:
        state.exams.append(exam)
    if fail:
        raise feishu_error(500, 1002001, "system error")
    if _rng.random() < float(cfg["drop_ratio"]):
        raise Reply(-1, b"")
    payload = (
        '{"code":0,"msg":"success","data":{'
        f'"exam_id":"{exam["exam_id"]}",'
        f'"application_id":{json.dumps(application_id)},'
        f'"exam_resource_name":{json.dumps(exam["exam_resource_name"], ensure_ascii=False)},'
        f'"score":{exam["score"]},'
        + (f'"uuid":{json.dumps(uuid)},' if uuid is not None else "")
        + f'"operator_id":{json.dumps(operator_id)},'
        f'"operate_time":"{exam["operate_time"]}"}}}}'
    )
    return Reply(
        200, payload.encode(), {"Content-Type": "application/json; charset=utf-8"}
    )


def upload_attachment(req: Request, state: State) -> Reply:
    authorize(req, state, "attachments")
    content_type = req.header("Content-Type") or ""
    if not content_type.lower().startswith("multipart/form-data"):
        raise param_error("content-type must be multipart/form-data")
    if len(req.body) > ATTACHMENT_MAX_BYTES:
        raise param_error("file too large")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + req.body
    )
    parts = [
        p
        for p in (message.iter_parts() if message.is_multipart() else [])
        if p.get_param("name", header="content-disposition") == "content"
    ]
    if not parts:
        raise param_error("missing form field: content")
    part = parts[0]
    content = part.get_payload(decode=True) or b""
    if not content:
        raise param_error("empty file")
    name = part.get_filename() or "attachment"
    attachment_id = snowflake()
    with state.lock:
        state.attachments[attachment_id] = {"name": name, "size": len(content)}
    return Reply(
        200,
        {
            "code": 0,
            "msg": "success",
            "data": {
                "id": attachment_id,
                "name": name,
                "url": f"https://sandbox.invalid/attachments/{attachment_id}",
            },
        },
    )


def _test_item(
    exam: dict[str, Any], cfg: dict[str, Any], manual: bool
) -> dict[str, Any]:
    score: Any = exam["score"]
    if not cfg["search_score_as_string"] and not manual:
        score = Decimal(score)
    created = exam.get("operate_time") or str(now_ms())
    item = {
        "test_id": exam["test_id"]
        if (cfg["search_ids_differ"] or manual)
        else exam.get("exam_id", exam["test_id"]),
        "application_id": exam["application_id"],
        "talent_id": "6" + exam["application_id"][-18:].rjust(18, "0"),
        "job_id": "6900000000000000001",
        "test_paper_id": "7100000000000000001",
        "test_paper_name": exam["exam_resource_name"],
        "reply_status": 1,
        "test_status": 3,
        "test_schedule": {"start_time": created, "end_time": created},
        "test_complete_time": created,
        "report_url_list": [],
        "result_detail_list": [],
        "score": score,
        "score_submit_time": created,
        "created_at": created,
    }
    if manual:
        # The Go SDK says result_upload_time is set only for hand-entered scores.
        item["result_upload_time"] = created
    return item


def search_tests(req: Request, state: State) -> Reply:
    authorize(req, state, "tests")
    require_json(req)
    user_id_type(req)
    cfg = state.config
    if cfg["search_fail_status"]:
        raise feishu_error(int(cfg["search_fail_status"]), 1002001, "system error")
    data = json_object(req.body)
    ids = data.get("application_id_list")
    if ids is not None and (
        not isinstance(ids, list)
        or len(ids) > 100
        or not all(isinstance(i, str) for i in ids)
    ):
        raise param_error("application_id_list must be up to 100 strings")
    page_size, offset = page_args(req, default_size=10, max_size=100)
    wanted = set(ids) if ids else None
    now = time.monotonic()
    with state.lock:
        items: list[dict[str, Any]] = []
        if cfg["search_lists_api_exams"]:
            items.extend(
                _test_item(e, cfg, manual=False)
                for e in state.exams
                if now - e["created_monotonic"] >= float(cfg["search_lag"])
                and (wanted is None or e["application_id"] in wanted)
            )
        items.extend(
            _test_item(t, cfg, manual=True)
            for t in state.manual_tests
            if wanted is None or t["application_id"] in wanted
        )
    return success(page(items, page_size, offset))
