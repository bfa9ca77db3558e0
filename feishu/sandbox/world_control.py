"""Control commands for the candidate world and its events: what a recruiter does
in Feishu Hire (move, terminate, delete) and what Feishu then pushes."""

from __future__ import annotations

from typing import Any

from feishu.events import APPLICATIONS_DELETED, STAGE_CHANGED
from feishu.sandbox.demo import WORLDS
from feishu.sandbox.protocol import JsonObject, Reply, now_ms
from feishu.sandbox.state import State
from feishu.sandbox.synthetic import materialize
from feishu.sandbox.world import Termination, World, WorldError


def _bad(message: str) -> Reply:
    return Reply(400, {"error": message})


def _object(data: Any) -> JsonObject:
    if not isinstance(data, dict):
        raise _bad("the body must be a JSON object")
    return data


def get_world(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    with state.lock:
        return state.world.to_json()


def merge_world(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    with state.lock:
        try:
            merged = state.world.merge(_object(data), now_ms())
        except WorldError as exc:
            raise _bad(str(exc)) from exc
    return {"merged": merged}


def load_world(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    name = _object(data).get("name")
    if name not in WORLDS:
        raise _bad(f"unknown world {name!r}; one of {sorted(WORLDS)}")
    world = World()
    world.merge(WORLDS[name](now_ms()), now_ms())
    with state.lock:
        state.world = world
    return {"loaded": name, "applications": len(world.applications)}


def _application(state: State, application_id: str) -> Any:
    app = materialize(state.config, state.world, application_id)
    if app is None:
        raise Reply(404, {"error": f"no application {application_id}"})
    return app


def move(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    stage_id = _object(data).get("stage_id")
    if not isinstance(stage_id, str) or not stage_id:
        raise _bad("stage_id is required")
    now = now_ms()
    with state.lock:
        app = _application(state, params["application_id"])
        try:
            origin = state.world.move(app, stage_id, now)
        except WorldError as exc:
            raise _bad(str(exc)) from exc
    event = {
        "application_id": app.id,
        "origin_stage_id": origin,
        "target_stage_id": stage_id,
        "update_time": now,
    }
    event_id = state.events.push(STAGE_CHANGED, event, [app.id])
    return {"application_id": app.id, "origin_stage_id": origin, "event_id": event_id}


def terminate(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    data = _object(data)
    try:
        termination = Termination(
            reason_zh=str(data.get("reason_zh") or "其他"),
            reason_en=str(data.get("reason_en") or data.get("reason_zh") or "Other"),
            type=int(data.get("type", 22)),
            children=[
                (str(c["reason_zh"]), str(c.get("reason_en") or c["reason_zh"]))
                for c in data.get("children") or []
            ],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(f"invalid termination: {exc}") from exc
    now = now_ms()
    with state.lock:
        app = _application(state, params["application_id"])
        state.world.terminate(app, termination, now)
    event_id = None
    # UNCONFIRMED whether Feishu fires stage_changed on termination
    # (feishu-candidates.md section 6): a setting, on by default.
    if state.events.push_on_terminate:
        event = {
            "application_id": app.id,
            "origin_stage_id": app.stage_id,
            "target_stage_id": app.stage_id,
            "update_time": now,
        }
        event_id = state.events.push(STAGE_CHANGED, event, [app.id])
    return {"application_id": app.id, "active": False, "event_id": event_id}


def delete(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    ids = _object(data).get("application_ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise _bad("application_ids must be a list of ids")
    with state.lock:
        for application_id in ids:
            materialize(state.config, state.world, application_id)
        gone = state.world.delete(ids)
    event_id = None
    if gone:
        event = {"application_ids": gone}
        event_id = state.events.push(APPLICATIONS_DELETED, event, gone)
    return {"deleted": gone, "event_id": event_id}


def configure_events(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    try:
        return state.events.configure(_object(data))
    except ValueError as exc:
        raise _bad(str(exc)) from exc


def list_events(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    return {"events": state.events.history()}


def verify_url(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    try:
        return state.events.verify_url()
    except ValueError as exc:
        raise _bad(str(exc)) from exc


def replay(state: State, data: Any, params: dict[str, str]) -> JsonObject:
    event_id = _object(data).get("event_id")
    if not isinstance(event_id, str) or not state.events.replay(event_id):
        raise Reply(404, {"error": f"no event {event_id!r}"})
    return {"replayed": event_id}


_APP = r"/_sandbox/applications/(?P<application_id>\d+)"
COMMANDS = [
    ("GET", r"/_sandbox/world", get_world),
    ("POST", r"/_sandbox/world", merge_world),
    ("POST", r"/_sandbox/world/load", load_world),
    ("POST", _APP + "/move", move),
    ("POST", _APP + "/terminate", terminate),
    ("POST", r"/_sandbox/applications/delete", delete),
    ("POST", r"/_sandbox/events/config", configure_events),
    ("GET", r"/_sandbox/events", list_events),
    ("POST", r"/_sandbox/events/verify_url", verify_url),
    ("POST", r"/_sandbox/events/push", replay),
]
