"""The worklist of candidates awaiting a result (issue 12): a refresh from scratch,
and a stage change in Feishu reaching the worklist.

The sandbox (its own process, every API at its documented limits: get_detail
10/s, the applications list 50/s and 1,000/min, job_processes 20/s) holds N
applications in the written-exam stages of two job processes (笔试; 在线笔试 and
专业笔试), active, none mirrored yet, plus ``--events`` applications in a
technical interview.

1. Refresh from scratch: ``worklist_poll()`` (what beat runs) with an empty
   mirror. Printed: calls made per API against the least the contract allows (the
   job processes' pages, ceil(n/100) list pages per stage, one get_detail per
   application), and seconds / the floor get_detail's 10/s sets for N reads
   (ceil(N / 10) - 1 s: 199 s for 2,000; goal at most 1.2), 429s from the
   sandbox (goal 0).
2. Events: the sandbox pushes ``hire.application.stage_changed_v1``, signed and
   encrypted, to ``/feishu/events/`` of a web server started here; a real Celery
   worker (its own process) handles it. Each of ``--events`` applications is moved
   into 笔试 in turn and the time until it is on the worklist measured (goal:
   under 5 s each), then moved out again and the time until it is off.

    .venv/bin/python bench/worklist_refresh.py [--applications 2000] [--events 20]

Runs on the embedded default (SQLite, the file limiter, the filesystem broker, in
a temporary folder), or with DATABASE_URL / REDIS_URL set, on those (the bench
flushes nothing: give it a database of its own).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret"  # noqa: S105 - the sandbox's own, not a real one
APP_ID = "cli_bench"
# The sandbox's catalogue (feishu/sandbox/demo.py): two processes' written exams.
EXPERIENCED = ("6990000000000000101", ["6960663240925956512"])  # 后端工程师: 笔试
CAMPUS = (
    "6990000000000000103",  # 数据分析师
    ["6960663240925956522", "6960663240925956523"],  # 在线笔试, 专业笔试
)
WRITTEN_TEST = "6960663240925956512"
INTERVIEW = "6960663240925956513"
LIMITS = {
    "job_processes": (20, 1000),
    "application_list": (50, 1000),
    "application_detail": (10, 600),
}
GOAL_RATIO = 1.2
GOAL_EVENT_SECONDS = 5.0


def floor_seconds(details: int) -> float:
    """The shortest span in which get_detail's windows (10 a second, 600 a minute)
    admit ``details`` calls: bursts of 10 at each whole second, so the last burst
    starts ceil(n / 10) - 1 seconds after the first (minutes add up once full)."""
    if not details:
        return 0.0
    per_second, per_minute = LIMITS["application_detail"]
    full_minute = min(per_minute, 60 * per_second)
    minutes = math.ceil(details / full_minute) - 1
    last = details - minutes * full_minute
    return 60.0 * minutes + math.ceil(last / per_second) - 1


def world(applications: int, moving: int, now_ms: int) -> dict[str, Any]:
    talents, apps = [], []
    slots = [(EXPERIENCED[0], s) for s in EXPERIENCED[1]] + [
        (CAMPUS[0], s) for s in CAMPUS[1]
    ]

    def add(n: int, job: str, stage: str) -> None:
        talent_id = f"7300000000{n:09d}"
        talents.append(
            {
                "id": talent_id,
                "name": f"候选人{n}",
                "email": f"wl{n}@example.com",
                "mobile_code": "86",
                "mobile_number": f"139{n:08d}",
            }
        )
        apps.append(
            {
                "id": f"6940000000{n:09d}",
                "talent_id": talent_id,
                "job_id": job,
                "stage_id": stage,
                "active": True,
                "create_time": now_ms,
                "stage_time_list": [{"stage_id": stage, "enter_time": now_ms}],
            }
        )

    for n in range(applications):
        add(n, *slots[n % len(slots)])
    for n in range(applications, applications + moving):
        add(n, EXPERIENCED[0], INTERVIEW)
    return {"talents": talents, "applications": apps}


def least_calls(applications: int, stages: int) -> dict[str, int]:
    """One job_processes page; a list page per 100 applications of each of the
    three stages filled here, and one for each other (empty) written-exam stage;
    a get_detail per application."""
    per_stage = [0, 0, 0]
    for n in range(applications):
        per_stage[n % 3] += 1
    return {
        "job_processes": 1,
        "application_list": sum(max(1, math.ceil(k / 100)) for k in per_stage)
        + max(0, stages - 3),
        "application_detail": applications,
    }


class WebServer:
    """The portal's WSGI application on a free port, in a thread of this process
    (the events endpoint answers within 3 s; the work is the worker's)."""

    def __init__(self) -> None:
        from django.core.handlers.wsgi import WSGIHandler
        from django.core.servers.basehttp import (
            ThreadedWSGIServer,
            WSGIRequestHandler,
        )

        class Quiet(WSGIRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet)
        self.server.set_app(WSGIHandler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def timed(condition: Callable[[], bool], timeout: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applications", type=int, default=2000)
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="hp_bench_worklist_"))
    os.environ["HIRING_PORTAL_VAR_DIR"] = str(var)
    os.environ["DJANGO_SETTINGS_MODULE"] = "hiring_portal.settings"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    os.environ["FEISHU_EVENT_MODE"] = "callback"
    os.environ["FEISHU_VERIFICATION_TOKEN"] = "bench-verification-token"  # noqa: S105
    os.environ["FEISHU_ENCRYPT_KEY"] = "bench-encrypt-key"
    # Beat is not running: no poll starts while the events are measured.

    from feishu.sandbox.process import spawn
    from hiring_portal import celery_process
    from tests.feishu.feishu_helpers import Sandbox

    proc, url = spawn(app_id=APP_ID, app_secret=SECRET)
    sandbox = Sandbox(url, proc)
    os.environ.update(
        FEISHU_BASE_URL=url, FEISHU_APP_ID=APP_ID, FEISHU_APP_SECRET=SECRET
    )
    worker = None
    web = None
    ok = False
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.urls import reverse

        from exams.candidates.worklist import awaiting_results, worklist_poll
        from exams.models import CandidateApplication

        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)
        CandidateApplication.objects.all().delete()
        sandbox.configure(
            strict_world=True,
            rate_limits={api: list(limit) for api, limit in LIMITS.items()},
        )
        sandbox.merge_world(
            **world(args.applications, args.events, int(time.time() * 1000))
        )
        limiter = "Redis" if settings.REDIS_URL else "file"
        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]

        # 1. The refresh from scratch.
        started = time.monotonic()
        report = worklist_poll()
        seconds = time.monotonic() - started
        awaiting = awaiting_results().count()
        least = least_calls(args.applications, report.stages)
        floor = floor_seconds(least["application_detail"])
        limited = sandbox.stats().get("rate_limited", 0)
        ratio = seconds / floor
        print(
            f"Worklist refresh from scratch: {args.applications} applications in "
            f"written-exam stages ({database}, {limiter} limiter)"
        )
        print(f"  on the worklist               {awaiting} of {args.applications}")
        for api, count in least.items():
            print(f"  {api:<29} {report.calls.get(api, 0):6d} calls (least {count})")
        print(
            f"  seconds / floor               {seconds:.1f} / {floor:.1f} = "
            f"{ratio:.3f}  (goal <= {GOAL_RATIO})"
        )
        print(f"  429s from Feishu              {limited}  (goal 0)")

        # 2. Events, pushed by the sandbox to the portal, handled by a worker.
        web = WebServer()
        sandbox.configure_events(
            callback_url=f"{web.url}{reverse('feishu_events')}",
            verification_token=settings.FEISHU_VERIFICATION_TOKEN,
            encrypt_key=settings.FEISHU_ENCRYPT_KEY,
            retry_delays=[1, 2],
        )
        worker = celery_process.start_worker(
            name="bench-worklist",
            log=var / "worker.log",
            # INFO: wait_ready() waits for the worker's "ready" line.
            env={**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_LOG_LEVEL": "INFO"},
            concurrency=2,
        )
        worker.wait_ready(timeout=60)
        first_moving = args.applications
        into: list[float] = []
        out_of: list[float] = []
        missed = 0
        for n in range(first_moving, first_moving + args.events):
            application_id = f"6940000000{n:09d}"

            def listed(a: str = application_id) -> bool:
                return awaiting_results().filter(application_id=a).exists()

            def unlisted(a: str = application_id) -> bool:
                return not listed(a)

            sandbox.move(application_id, WRITTEN_TEST)
            took = timed(listed, timeout=30)
            if took is None:
                missed += 1
                continue
            into.append(took)
            sandbox.move(application_id, INTERVIEW)
            took = timed(unlisted, timeout=30)
            if took is None:
                missed += 1
                continue
            out_of.append(took)
        pushes = sandbox.events()
        refused = sum(1 for p in pushes if not p.get("delivered"))
        print(
            f"Stage changes pushed to /feishu/events/ ({args.events} in, "
            f"{args.events} out; a worker of 2)"
        )
        for label, times in (("into the worklist", into), ("off the worklist", out_of)):
            if times:
                print(
                    f"  {label:<29} p50 {statistics.median(times):.2f} s, "
                    f"max {max(times):.2f} s  (goal < {GOAL_EVENT_SECONDS:.0f} s)"
                )
        print(f"  not reflected within 30 s     {missed}")
        print(f"  pushes not delivered          {refused}")
        worst = max(into + out_of, default=math.inf)
        checks = [
            (f"all {args.applications} on the worklist", awaiting == args.applications),
            (f"seconds / floor {ratio:.3f} <= {GOAL_RATIO}", ratio <= GOAL_RATIO),
            (f"429s {limited} == 0", limited == 0),
            (
                f"slowest event {worst:.2f} s < {GOAL_EVENT_SECONDS:.0f} s",
                worst < GOAL_EVENT_SECONDS and not missed,
            ),
        ]
        print("Goal:")
        for text, passed in checks:
            print(f"  {'PASS' if passed else 'FAIL'}  {text}")
        ok = all(passed for _text, passed in checks)
    finally:
        if worker is not None:
            worker.stop()
        if web is not None:
            web.stop()
        proc.terminate()
        proc.wait(timeout=10)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
