"""The sandbox's candidate world: job processes and their stages, jobs, talents and
applications, with the moves Feishu Hire makes (stage change, termination,
deletion).

Its JSON form (``GET /_sandbox/world``, ``POST /_sandbox/world``)::

    {"processes": [{"id", "zh_name", "en_name", "type",
                    "stages": [{"id", "zh_name", "en_name", "type"}]}],
     "jobs": [{"id", "name", "code", "process_id"}],
     "talents": [{"id", "name", "email", "mobile_code", "mobile_number"}],
     "applications": [{"id", "talent_id", "job_id", "stage_id", "active",
                       "termination": {"reason_zh", "reason_en", "type",
                                       "children": [{"reason_zh", "reason_en"}]},
                       "stage_time_list": [{"stage_id", "enter_time",
                                            "exit_time"}],
                       "create_time", "modify_time"}]}

Times are milliseconds. Not thread-safe: the caller holds the sandbox's lock.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any

WRITTEN_EXAM = 3  # stage type 3: 笔试型 (feishu-candidates.md section 5)


@dataclass
class Stage:
    id: str
    zh_name: str
    en_name: str
    type: int


@dataclass
class Process:
    id: str
    zh_name: str
    en_name: str
    type: int
    stages: list[Stage]


@dataclass
class Job:
    id: str
    name: str
    code: str
    process_id: str


@dataclass
class Talent:
    id: str
    name: str
    email: str | None = None
    mobile_code: str | None = "86"
    mobile_number: str | None = None


@dataclass
class StageTime:
    stage_id: str
    enter_time: int
    exit_time: int | None = None


@dataclass
class Termination:
    reason_zh: str
    reason_en: str
    type: int = 22  # 1 we rejected, 22 the candidate declined, 27 other
    children: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Application:
    id: str
    talent_id: str
    job_id: str
    stage_id: str
    create_time: int
    modify_time: int
    active: bool = True
    termination: Termination | None = None
    stage_times: list[StageTime] = field(default_factory=list)


class WorldError(ValueError):
    """A world document or a move the sandbox refuses."""


def _str(item: dict[str, Any], name: str, default: str | None = None) -> str:
    value = item.get(name, default)
    if value is None or isinstance(value, bool | dict | list) or str(value) == "":
        raise WorldError(f"{name} is required: {item!r}")
    return str(value)


def _opt(item: dict[str, Any], name: str, default: str | None = None) -> str | None:
    value = item.get(name, default)
    return None if value is None or value == "" else str(value)


def _int(item: dict[str, Any], name: str, default: int | None = None) -> int:
    value: Any = item.get(name, default)
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise WorldError(f"{name} must be an integer: {item!r}") from exc


def _objects(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    items = data.get(name) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise WorldError(f"{name} must be a list of objects")
    return items


class World:
    def __init__(self) -> None:
        self.processes: dict[str, Process] = {}
        self.jobs: dict[str, Job] = {}
        self.talents: dict[str, Talent] = {}
        self.applications: dict[str, Application] = {}
        self.deleted: set[str] = set()  # never synthesized again once deleted

    def copy(self) -> World:
        return copy.deepcopy(self)

    # -- JSON ---------------------------------------------------------------

    def merge(self, data: dict[str, Any], now: int) -> dict[str, int]:
        """Add or replace the given entities; the whole document is checked
        before anything changes."""
        if not isinstance(data, dict):
            raise WorldError("the world must be a JSON object")
        unknown = sorted(set(data) - {"processes", "jobs", "talents", "applications"})
        if unknown:
            raise WorldError(f"unknown keys: {unknown}")
        merged = self.copy()
        for item in _objects(data, "processes"):
            stages = [
                Stage(
                    _str(s, "id"),
                    _str(s, "zh_name"),
                    _str(s, "en_name", s.get("zh_name")),
                    _int(s, "type"),
                )
                for s in _objects(item, "stages")
            ]
            process = Process(
                _str(item, "id"),
                _str(item, "zh_name"),
                _str(item, "en_name", item.get("zh_name")),
                _int(item, "type", 1),
                stages,
            )
            merged.processes[process.id] = process
        for item in _objects(data, "jobs"):
            job = Job(
                _str(item, "id"),
                _str(item, "name", item.get("title")),
                _str(item, "code", item.get("id")),
                _str(item, "process_id"),
            )
            merged.jobs[job.id] = job
        for item in _objects(data, "talents"):
            talent = Talent(
                _str(item, "id"),
                _str(item, "name"),
                _opt(item, "email"),
                _opt(item, "mobile_code", "86"),
                _opt(item, "mobile_number"),
            )
            merged.talents[talent.id] = talent
        for item in _objects(data, "applications"):
            application = merged._application(item, now)
            merged.applications[application.id] = application
            merged.deleted.discard(application.id)
        merged.check()
        self.__dict__.update(merged.__dict__)
        return {name: len(_objects(data, name)) for name in sorted(data)}

    def _application(self, item: dict[str, Any], now: int) -> Application:
        stage_id = _str(item, "stage_id")
        created = _int(item, "create_time", now)
        times = [
            StageTime(
                _str(t, "stage_id"), _int(t, "enter_time"), _opt_int(t, "exit_time")
            )
            for t in _objects(item, "stage_time_list")
        ] or [StageTime(stage_id, created)]
        termination = item.get("termination")
        ended = None
        if isinstance(termination, dict):
            ended = Termination(
                _str(termination, "reason_zh"),
                _str(termination, "reason_en", termination.get("reason_zh")),
                _int(termination, "type", 22),
                [
                    (_str(c, "reason_zh"), _str(c, "reason_en", c.get("reason_zh")))
                    for c in _objects(termination, "children")
                ],
            )
        active = item.get("active", ended is None)
        return Application(
            id=_str(item, "id"),
            talent_id=_str(item, "talent_id"),
            job_id=_str(item, "job_id"),
            stage_id=stage_id,
            create_time=created,
            modify_time=_int(item, "modify_time", max(t.enter_time for t in times)),
            active=bool(active),
            termination=ended,
            stage_times=times,
        )

    def check(self) -> None:
        for job in self.jobs.values():
            if job.process_id not in self.processes:
                raise WorldError(f"job {job.id}: unknown process {job.process_id}")
        for app in self.applications.values():
            if app.talent_id not in self.talents:
                raise WorldError(f"application {app.id}: unknown talent")
            if app.job_id not in self.jobs:
                raise WorldError(f"application {app.id}: unknown job")
            if self.stage_of_job(app.job_id, app.stage_id) is None:
                raise WorldError(
                    f"application {app.id}: stage {app.stage_id} is not in its "
                    "job's process"
                )
            if not app.id.isdigit():
                raise WorldError(f"application {app.id}: ids are numeric")

    def to_json(self) -> dict[str, Any]:
        def application(app: Application) -> dict[str, Any]:
            data = asdict(app)
            data["stage_time_list"] = data.pop("stage_times")
            if app.termination is not None:
                data["termination"]["children"] = [
                    {"reason_zh": zh, "reason_en": en}
                    for zh, en in app.termination.children
                ]
            return data

        return {
            "processes": [asdict(p) for p in self.processes.values()],
            "jobs": [asdict(j) for j in self.jobs.values()],
            "talents": [asdict(t) for t in self.talents.values()],
            "applications": [application(a) for a in self.applications.values()],
        }

    # -- reading ------------------------------------------------------------

    def stage_of_job(self, job_id: str, stage_id: str) -> Stage | None:
        job = self.jobs.get(job_id)
        process = self.processes.get(job.process_id) if job else None
        if process is None:
            return None
        return next((s for s in process.stages if s.id == stage_id), None)

    def written_exam_jobs(self) -> list[tuple[Job, Stage]]:
        """Every job with the first written-exam stage of its process."""
        found = []
        for job in self.jobs.values():
            process = self.processes.get(job.process_id)
            stages = [
                s for s in (process.stages if process else []) if s.type == WRITTEN_EXAM
            ]
            if stages:
                found.append((job, stages[0]))
        return found

    # -- Feishu Hire's moves ------------------------------------------------

    def move(self, app: Application, stage_id: str, now: int) -> str:
        """Move to another stage of the job's process; returns the origin stage."""
        if self.stage_of_job(app.job_id, stage_id) is None:
            raise WorldError(f"stage {stage_id} is not in the job's process")
        origin = app.stage_id
        for entry in app.stage_times:
            if entry.stage_id == origin and entry.exit_time is None:
                entry.exit_time = now
        app.stage_times.append(StageTime(stage_id, now))
        app.stage_id = stage_id
        app.modify_time = now
        return origin

    def terminate(self, app: Application, termination: Termination, now: int) -> None:
        app.active = False
        app.termination = termination
        app.modify_time = now

    def delete(self, application_ids: list[str]) -> list[str]:
        gone = []
        for application_id in application_ids:
            self.applications.pop(application_id, None)
            if application_id not in self.deleted:
                self.deleted.add(application_id)
                gone.append(application_id)
        return gone


def _opt_int(item: dict[str, Any], name: str) -> int | None:
    value = item.get(name)
    if value is None or value == "":
        return None
    return _int(item, name)
