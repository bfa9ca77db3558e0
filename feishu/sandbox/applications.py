"""The application endpoints (feishu-candidates.md sections 2-3): get one, get its
detail, list ids. Answers come from the world, or from a made-up candidate for an
unknown numeric id while the sandbox is lenient (:mod:`feishu.sandbox.synthetic`).
"""

from __future__ import annotations

from typing import Any

from feishu.sandbox.config import JOB_FIELD_SCOPE, TALENT_FIELD_SCOPE
from feishu.sandbox.gateway import authorize, has_scope, user_id_type
from feishu.sandbox.protocol import (
    Reply,
    Request,
    feishu_error,
    page,
    page_args,
    param_error,
    success,
)
from feishu.sandbox.state import State
from feishu.sandbox.synthetic import exists, lookup
from feishu.sandbox.world import Application, Stage, Talent, World

DETAIL_OPTIONS = frozenset(
    {
        "with_job",
        "with_talent",
        "with_interview",
        "with_offer",
        "with_evaluation",
        "with_employee",
        "with_agency",
        "with_referral",
        "with_portal",
    }
)
ACTIVE_STATUSES = {"1": True, "2": False}  # "3": all


def application_known(state: State, application_id: str) -> bool:
    with state.lock:
        return exists(state.config, state.world, application_id)


def _found(state: State, application_id: str) -> tuple[Application, Talent]:
    if not application_id.isascii() or not application_id.isdigit():
        raise param_error(f"invalid application_id: {application_id}")
    found = lookup(state.config, state.world, application_id)
    if found is None:
        raise feishu_error(400, 1002201, "application not exist")
    return found


def _stage(world: World, app: Application) -> Stage:
    stage = world.stage_of_job(app.job_id, app.stage_id)
    if stage is None:  # World.check() keeps this from happening
        return Stage(app.stage_id, "", "", 255)
    return stage


def _stage_json(stage: Stage) -> dict[str, Any]:
    return {
        "id": stage.id,
        "zh_name": stage.zh_name,
        "en_name": stage.en_name,
        "type": stage.type,
    }


def _stage_times(app: Application) -> list[dict[str, str]]:
    times = []
    for entry in app.stage_times:
        item = {"stage_id": entry.stage_id, "enter_time": str(entry.enter_time)}
        if entry.exit_time is not None:  # absent while in that stage
            item["exit_time"] = str(entry.exit_time)
        times.append(item)
    return times


def get_application(req: Request, state: State) -> Reply:
    """``GET /hire/v1/applications/:id`` (section 3a): ids only, no names."""
    authorize(req, state, "application_get")
    user_id_type(req)
    with state.lock:
        app, _talent = _found(state, req.params["application_id"])
        data: dict[str, Any] = {
            "id": app.id,
            "job_id": app.job_id,
            "talent_id": app.talent_id,
            "resume_source_id": "MU",
            "stage": _stage_json(_stage(state.world, app)),
            "active_status": 1 if app.active else 2,
            "delivery_type": 1,
            "create_time": str(app.create_time),
            "modify_time": str(app.modify_time),
            "stage_time_list": _stage_times(app),
        }
        if app.termination is not None:
            data["termination_type"] = app.termination.type
            data["termination_reason_list"] = []
            data["termination_reason_note"] = app.termination.reason_zh
    return success({"application": data})


def get_detail(req: Request, state: State) -> Reply:
    """``GET /hire/v1/applications/:id/get_detail`` (section 3b). The job and
    talent objects need their option and their field scope."""
    authorize(req, state, "application_detail")
    user_id_type(req)
    options = set(req.query.get("options", []))
    if options - DETAIL_OPTIONS:
        raise param_error(f"invalid options: {sorted(options - DETAIL_OPTIONS)}")
    with state.lock:
        app, talent = _found(state, req.params["application_id"])
        basic: dict[str, Any] = {
            "id": app.id,
            "job_id": app.job_id,
            "talent_id": app.talent_id,
            "stage": _stage_json(_stage(state.world, app)),
            "active_status": 1 if app.active else 2,
            "onboard_status": 1,
            "stage_time_list": _stage_times(app),
            "create_time": str(app.create_time),
            "modify_time": str(app.modify_time),
        }
        if app.termination is not None:
            ended = app.termination
            basic["termination_reason"] = {
                "id": f"69{ended.type:017d}",
                "name": {"zh_cn": ended.reason_zh, "en_us": ended.reason_en},
                "children": [
                    {
                        "id": f"69{ended.type:015d}{i:02d}",
                        "name": {"zh_cn": zh, "en_us": en},
                    }
                    for i, (zh, en) in enumerate(ended.children)
                ],
            }
        detail: dict[str, Any] = {"basic_info": basic}
        job = state.world.jobs.get(app.job_id)
        if "with_job" in options and job and has_scope(state, JOB_FIELD_SCOPE):
            detail["job"] = {"id": job.id, "name": job.name, "code": job.code}
        if "with_talent" in options and has_scope(state, TALENT_FIELD_SCOPE):
            detail["talent"] = {
                "id": talent.id,
                "name": talent.name,
                "mobile_code": talent.mobile_code,
                "mobile_number": talent.mobile_number,
                "email": talent.email,
            }
    return success({"application_detail": detail})


def _ms(req: Request, name: str) -> int | None:
    value = req.arg(name)
    if not value:
        return None
    if not value.isdigit():
        raise param_error(f"invalid {name}: {value}")
    return int(value)


def list_applications(req: Request, state: State) -> Reply:
    """``GET /hire/v1/applications`` (section 2): ids only. ``stage_id`` filters on
    the current stage (UNCONFIRMED on the real service). Made-up candidates are not
    listed."""
    authorize(req, state, "application_list")
    page_size, offset = page_args(req, default_size=10, max_size=100)
    active = req.arg("active_status") or "3"
    if active not in ("1", "2", "3"):
        raise param_error(f"invalid active_status: {active}")
    start, end = _ms(req, "update_start_time"), _ms(req, "update_end_time")
    wanted = {
        name: req.arg(name)
        for name in ("talent_id", "stage_id", "job_id", "process_id")
    }
    with state.lock:
        world = state.world
        ids = []
        for app in sorted(
            world.applications.values(), key=lambda a: (a.create_time, a.id)
        ):
            job = world.jobs.get(app.job_id)
            actual = {
                "talent_id": app.talent_id,
                "stage_id": app.stage_id,
                "job_id": app.job_id,
                "process_id": job.process_id if job else None,
            }
            if any(v and actual[k] != v for k, v in wanted.items()):
                continue
            if active != "3" and app.active != ACTIVE_STATUSES[active]:
                continue
            if (start is not None and app.modify_time < start) or (
                end is not None and app.modify_time > end
            ):
                continue
            if app.id in state.config["missing_applications"]:
                continue
            ids.append(app.id)
    return success(page(ids, page_size, offset))
