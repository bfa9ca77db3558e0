"""Matching a vendor's score sheet by email, against the sandbox at Feishu's limits.

The sandbox (its own process, every API at its documented limits: batch_get_id and
the applications list 50/s and 1000/min, get_detail 10/s) holds N candidates,
each with one active application in a written-exam stage. The portal's matcher
(``exams.candidates.matching.sheet_rows_match``, what the import runs) matches N
sheet rows by email. Printed:

- calls made / the least the contract allows: ceil(N/100) batch_get_id, one
  applications list per talent, one get_detail per application (its name and
  stage: the sheet's name is checked against it) — goal at most 1.1;
- seconds / the floor those calls' limits set (the slowest API's calls at its
  limits: get_detail's 10/s for N=1,000 is 100 s) — goal at most 1.2;
- 429s answered by the sandbox — goal 0.

    .venv/bin/python bench/candidate_matching.py [--rows 1000] [--margin 0.1]

Runs on the embedded default (SQLite and the file limiter in a temporary folder),
or with REDIS_URL set, the Redis limiter.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Feishu's documented limits, per API (per second, per minute).
LIMITS = {
    "talent_batch_get_id": (50, 1000),
    "application_list": (50, 1000),
    "application_detail": (10, 600),
}
SECRET = "bench-secret"  # noqa: S105 - the sandbox's own, not a real one
JOB = "6960000000000000001"
PROCESS = "6960663240925956501"
EXAM_STAGE = "6960663240925956512"


def floor_seconds(calls: dict[str, int]) -> float:
    """The least time ``calls`` take at the limits: per API, the later of what its
    second and its minute windows allow; the slowest API bounds the whole."""
    worst = 0.0
    for api, count in calls.items():
        per_second, per_minute = LIMITS[api]
        by_second = (count - 1) / per_second if count else 0.0
        by_minute = 60.0 * ((count - 1) // per_minute) if count else 0.0
        worst = max(worst, by_second, by_minute)
    return worst


def world(rows: int, now_ms: int) -> dict[str, object]:
    talents, applications = [], []
    for n in range(rows):
        talent_id = f"7200000000{n:09d}"
        talents.append(
            {
                "id": talent_id,
                "name": f"候选人{n}",
                "email": f"cand{n}@example.com",
                "mobile_code": "86",
                "mobile_number": f"137{n:08d}",
            }
        )
        applications.append(
            {
                "id": f"6930000000{n:09d}",
                "talent_id": talent_id,
                "job_id": JOB,
                "stage_id": EXAM_STAGE,
                "active": True,
                "create_time": now_ms,
                "stage_time_list": [{"stage_id": EXAM_STAGE, "enter_time": now_ms}],
            }
        )
    return {
        "jobs": [
            {"id": JOB, "name": "后端开发工程师", "code": "BE", "process_id": PROCESS}
        ],
        "talents": talents,
        "applications": applications,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument(
        "--margin",
        type=float,
        default=None,
        help="FEISHU_RATE_LOOKUP_WINDOW_MARGIN for this run (default: the portal's)",
    )
    args = parser.parse_args()

    var = tempfile.mkdtemp(prefix="hp_bench_match_")
    os.environ["HIRING_PORTAL_VAR_DIR"] = var
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "hiring_portal.settings"
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    if args.margin is not None:
        os.environ["FEISHU_RATE_LOOKUP_WINDOW_MARGIN"] = str(args.margin)

    from feishu.sandbox.process import spawn
    from tests.feishu.feishu_helpers import Sandbox

    proc, url = spawn(app_id="cli_bench", app_secret=SECRET)
    sandbox = Sandbox(url, proc)
    os.environ.update(
        FEISHU_BASE_URL=url, FEISHU_APP_ID="cli_bench", FEISHU_APP_SECRET=SECRET
    )
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)
        from exams.candidates.matching import SheetRow, sheet_rows_match

        sandbox.configure(
            strict_world=True,
            rate_limits={api: list(limit) for api, limit in LIMITS.items()},
        )
        sandbox.merge_world(**world(args.rows, int(time.time() * 1000)))
        rows = [SheetRow(n + 2, email=f"cand{n}@example.com") for n in range(args.rows)]

        started = time.monotonic()
        matches, stats = sheet_rows_match(rows)
        seconds = time.monotonic() - started

        matched = sum(1 for m in matches.values() if m.status == "matched")
        least = {
            "talent_batch_get_id": math.ceil(args.rows / 100),
            "application_list": args.rows,
            "application_detail": args.rows,
        }
        floor = floor_seconds(least)
        limited = sandbox.stats().get("rate_limited", 0)
        print(
            f"Matching {args.rows} rows by email (limiter: "
            f"{'Redis' if settings.REDIS_URL else 'file'}, window margin "
            f"{settings.FEISHU_RATE_LOOKUP_WINDOW_MARGIN} s)"
        )
        print(f"  matched                      {matched} of {args.rows}")
        for api in least:
            print(
                f"  {api:<28} {stats.calls.get(api, 0):6d} calls (least {least[api]})"
            )
        made, needed = sum(stats.calls.values()), sum(least.values())
        print(
            f"  calls / least                {made} / {needed} = "
            f"{made / needed:.3f}  (goal <= 1.1)"
        )
        print(
            f"  seconds / floor              {seconds:.1f} / {floor:.1f} = "
            f"{seconds / floor:.3f}  (goal <= 1.2)"
        )
        print(f"  429s from Feishu             {limited}  (goal 0)")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
