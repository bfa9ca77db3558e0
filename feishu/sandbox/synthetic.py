"""The lenient sandbox's made-up candidates, and which application ids exist.

Any all-digit application id outside the world exists (unless settings say
otherwise) as a candidate derived from the id alone: a Chinese name, an email
``cand{last 6 digits}@example.com``, a job with a written-exam stage, active, in
that stage. Tests that post results for random ids keep working once the portal
checks applications first. Such candidates are answered by id, never listed:
there are infinitely many.
"""

from __future__ import annotations

import hashlib
from typing import Any

from feishu.sandbox.world import Application, StageTime, Talent, World

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕"
BASE_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
DAY_MS = 86_400_000


def talent_id_for(application_id: str) -> str:
    """The made-up talent of a made-up application (as tests/search shows it)."""
    return "6" + application_id[-18:].rjust(18, "0")


def synthesize(world: World, application_id: str) -> tuple[Application, Talent] | None:
    jobs = sorted(world.written_exam_jobs(), key=lambda js: js[0].id)
    if not jobs:
        return None
    digest = int.from_bytes(hashlib.sha256(application_id.encode()).digest()[:8])
    job, stage = jobs[digest % len(jobs)]
    name = (
        SURNAMES[digest % len(SURNAMES)]
        + GIVEN[(digest >> 8) % len(GIVEN)]
        + ("" if digest & 1 << 20 else GIVEN[(digest >> 16) % len(GIVEN)])
    )
    talent = Talent(
        id=talent_id_for(application_id),
        name=name,
        email=f"cand{application_id[-6:]}@example.com",
        mobile_code="86",
        mobile_number=f"139{digest % 10**8:08d}",
    )
    entered = BASE_MS + (digest >> 24) % (60 * DAY_MS)
    app = Application(
        id=application_id,
        talent_id=talent.id,
        job_id=job.id,
        stage_id=stage.id,
        create_time=entered - DAY_MS,
        modify_time=entered,
        stage_times=[StageTime(stage.id, entered)],
    )
    return app, talent


def exists(config: dict[str, Any], world: World, application_id: str) -> bool:
    """Whether an application exists for POST /exams and the application reads.

    ``missing_applications`` never exist; when ``known_applications`` is a list,
    only those do; deleted ones are gone; with ``strict_world`` only the world's.
    """
    if application_id in config["missing_applications"]:
        return False
    known = config["known_applications"]
    if known is not None and application_id not in known:
        return False
    if application_id in world.applications:
        return True
    if application_id in world.deleted or config["strict_world"]:
        return False
    return application_id.isascii() and application_id.isdigit()


def lookup(
    config: dict[str, Any], world: World, application_id: str
) -> tuple[Application, Talent] | None:
    """The application and its talent, real or made up; None when it does not
    exist."""
    if not exists(config, world, application_id):
        return None
    app = world.applications.get(application_id)
    if app is not None:
        return app, world.talents[app.talent_id]
    return synthesize(world, application_id)


def materialize(
    config: dict[str, Any], world: World, application_id: str
) -> Application | None:
    """The world's application, adding a made-up one to the world first (so it can
    be moved, terminated or deleted)."""
    found = lookup(config, world, application_id)
    if found is None:
        return None
    app, talent = found
    world.talents.setdefault(talent.id, talent)
    world.applications.setdefault(app.id, app)
    return app
