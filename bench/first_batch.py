"""A new user's first batch (issue 15): from "Import and send" of the shared 20-row
sample on ``make run`` to the last result delivered. Goal: under 5 s.

Each round starts from nothing, as ``make run`` does: a var folder of its own,
``manage.py migrate``, ``createcachetable``, ``create_demo_user``, then every
``Procfile`` line (web, worker, beat, sandbox, events) with its defaults (the
embedded default: SQLite, the filesystem broker, the file limiter; no
DATABASE_URL, REDIS_URL or any other setting of the portal's), each under
``hiring_portal.respawn`` through ``sh`` as make run's honcho runs them, on free
ports: ``FEISHU_SANDBOX_PORT`` and
``HIRING_PORTAL_PORT`` (the sandbox pushes its events to that web), and
``FEISHU_BASE_URL`` at that sandbox (``make run`` gets it from the DEBUG default,
``127.0.0.1:8801``).

Then, as a user over HTTP (``requests``, with the forms' CSRF tokens): log in as
the demo user, upload ``shared/samples/exam_results.csv`` on the import page,
wait for its preview, and submit it with "Send to Feishu after import" checked.
Time zero is the moment that POST leaves (UTC wall time; the rows' times are
the database's ``now()``, the same machine's clock). The rows are then read
(SQLite, read-only) until each of the 20 is synced, failed or held.

Printed per round: time to the first and the last result delivered (their
``synced_at``), how many synced / failed / held, the sandbox's accepted exam calls
and 429s, and where the time went: the confirm request, the pump's first
dispatch and the deliver tasks (the worker's log), the candidate checks made
after time zero (application reads), the exam posts (the attempts' start
times). Then the median over ``--rounds`` against the goal. Side by side, each
in rounds of its own: ``--baseline``, the broker's polling at kombu's default
(1 s, ``CELERY_BROKER_POLLING_INTERVAL=1``); ``--stale-checks``, every check
before sending reading its application from Feishu (``CANDIDATE_MAX_AGE_SECONDS=0``:
the preview's reads are too old to go by, as when staff confirm ten minutes
after the preview).

    .venv/bin/python bench/first_batch.py [--rounds 3] [--baseline]
        [--stale-checks] [--sample ../shared/samples/exam_results.csv] [--keep]
"""

from __future__ import annotations

import argparse
import ast
import csv
import datetime as dt
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from delivery_throughput import PROCESSES  # noqa: E402
from web_load import CSRF, free_port, procfile  # noqa: E402

from hiring_portal.celery_process import CeleryProcess  # noqa: E402

GOAL_SECONDS = 5.0
SAMPLE = ROOT.parent / "shared" / "samples" / "exam_results.csv"
USERNAME, PASSWORD = "demo", "demo-portal-2026"  # create_demo_user's
LIST_URL = "/admin/exams/examresult/"
IMPORT_URL = f"{LIST_URL}import/"
# The settings a host's environment might carry; make run's defaults are wanted.
PORTAL_PREFIXES = (
    "DJANGO_",
    "FEISHU_",
    "CELERY_",
    "CANDIDATE_",
    "DELIVERY_",
    "EXAMS_",
    "HIRING_PORTAL_",
    "PORTAL_",
    "WEB_CONCURRENCY",
)
PORTAL_NAMES = ("DATABASE_URL", "REDIS_URL")
SETTLED = ("synced", "failed", "held", "unknown")
# The text formatter's lines (hiring_portal/log.py): asctime in TIME_ZONE.
LOG_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ [\w.]+: "
    r"Task exams\.tasks\.(\w+)\[([0-9a-f-]+)\] (received|succeeded in ([0-9.e-]+)s: (.*))"
)


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# --- the portal, as make run starts it ---------------------------------------------


def make_run_env(
    var: Path, polling: float | None, *, stale_checks: bool = False
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(PORTAL_PREFIXES) and key not in PORTAL_NAMES
    }
    sandbox_port, web_port = free_port(), free_port()
    env.update(
        {
            # make run puts the virtualenv first on PATH (gunicorn, celery).
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
            "HIRING_PORTAL_VAR_DIR": str(var),
            "HIRING_PORTAL_PORT": str(web_port),
            "FEISHU_SANDBOX_PORT": str(sandbox_port),
            "FEISHU_BASE_URL": f"http://127.0.0.1:{sandbox_port}",
            "PYTHONUNBUFFERED": "1",  # honcho sets it: log lines as they happen
        }
    )
    if polling is not None:
        env["CELERY_BROKER_POLLING_INTERVAL"] = str(polling)
    if stale_checks:
        # No lookup is fresh enough to go by: every check before sending reads
        # its application from Feishu, as after a preview left for ten minutes.
        env["CANDIDATE_MAX_AGE_SECONDS"] = "0"
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


@dataclass
class Portal:
    env: dict[str, str]
    var: Path
    procs: dict[str, subprocess.Popen[Any]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['HIRING_PORTAL_PORT']}"

    @property
    def sandbox_url(self) -> str:
        return self.env["FEISHU_BASE_URL"]

    @property
    def database(self) -> Path:
        return self.var / "hiring_portal.sqlite3"

    def log(self, name: str) -> Path:
        return self.var / f"{name}.log"

    def start(self) -> None:
        manage(self.env, "migrate", "--noinput")
        manage(self.env, "createcachetable")
        manage(self.env, "create_demo_user")
        for name, command in procfile().items():
            # As make run's var/Procfile.run: each line under hiring_portal.respawn,
            # run by sh as honcho does (the lines hold no single quote).
            respawned = f"python -m hiring_portal.respawn '{command}'"
            with self.log(name).open("wb") as log:
                self.procs[name] = PROCESSES.start(
                    ["sh", "-c", respawned],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        self.wait_ready()

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        CeleryProcess(self.procs["worker"], self.log("worker")).wait_ready(timeout)
        for url in (f"{self.sandbox_url}/_sandbox/stats", f"{self.url}/healthz"):
            while True:
                try:
                    if requests.get(url, timeout=5).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                dead = [n for n, p in self.procs.items() if p.poll() is not None]
                if dead or time.monotonic() > deadline:
                    raise RuntimeError(f"{dead or url} did not start: see {self.var}")
                time.sleep(0.2)

    def sandbox(self, path: str) -> Any:
        return requests.get(f"{self.sandbox_url}{path}", timeout=30).json()

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            PROCESSES.stop(proc)


# --- reading the database ------------------------------------------------------------


def read_only(database: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)


def utc(text: str | None) -> float | None:
    """A time Django stored in SQLite (UTC, no zone) as a Unix time."""
    if not text:
        return None
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


def demo_settled(database: Path) -> bool:
    """The demo results make run queues are out of the way (delivered or held)."""
    with read_only(database) as conn:
        (busy,) = conn.execute(
            "SELECT count(*) FROM exams_examresult WHERE status IN ('pending', 'sending')"
        ).fetchone()
    return int(busy) == 0


def rows_of(database: Path, ids: list[str]) -> list[tuple[str, str, float | None]]:
    marks = ",".join("?" * len(ids))
    with read_only(database) as conn:
        rows = conn.execute(
            f"SELECT application_id, status, synced_at FROM exams_examresult "
            f"WHERE application_id IN ({marks})",
            ids,
        ).fetchall()
    return [(a, s, utc(t)) for a, s, t in rows]


def attempts_of(database: Path, ids: list[str]) -> list[tuple[float, int | None]]:
    marks = ",".join("?" * len(ids))
    with read_only(database) as conn:
        rows = conn.execute(
            f"SELECT a.started_at, a.duration_ms FROM exams_syncattempt a "
            f"JOIN exams_examresult r ON r.id = a.result_id "
            f"WHERE r.application_id IN ({marks}) ORDER BY a.started_at",
            ids,
        ).fetchall()
    return [(t, d) for s, d in rows if (t := utc(s)) is not None]


# --- the worker's log ----------------------------------------------------------------


@dataclass
class TaskRun:
    name: str
    received: float | None = None
    succeeded: float | None = None
    runtime: float | None = None
    outcome: str = ""


def task_runs(log: Path, zone: zoneinfo.ZoneInfo) -> list[TaskRun]:
    runs: dict[str, TaskRun] = {}
    for line in log.read_text(errors="replace").splitlines():
        match = LOG_LINE.match(line)
        if not match:
            continue
        stamp, name, task_id, what, runtime, outcome = match.groups()
        at = (
            dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
            .replace(tzinfo=zone)
            .timestamp()
        )
        run = runs.setdefault(task_id, TaskRun(name))
        if what == "received":
            run.received = at
        else:
            run.succeeded, run.runtime = at, float(runtime)
            run.outcome = outcome.strip("'\"")
    return list(runs.values())


# --- the user --------------------------------------------------------------------------


class User:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def get(self, path: str) -> requests.Response:
        answer = self.http.get(self.url + path, timeout=60)
        answer.raise_for_status()
        return answer

    def post(self, path: str, data: dict[str, str], **kwargs: Any) -> requests.Response:
        answer = self.http.post(
            self.url + path, data=data, timeout=60, allow_redirects=False, **kwargs
        )
        if answer.status_code != 302:
            raise RuntimeError(
                f"POST {path}: {answer.status_code}\n{answer.text[:800]}"
            )
        return answer

    @staticmethod
    def csrf(page: requests.Response) -> str:
        match = CSRF.search(page.text)
        if not match:
            raise RuntimeError(f"no CSRF token on {page.url}")
        return match.group(1)

    def log_in(self) -> None:
        path = "/admin/login/?next=/admin/"
        form = self.get(path)
        self.post(
            path,
            {
                "csrfmiddlewaretoken": self.csrf(form),
                "username": USERNAME,
                "password": PASSWORD,
                "next": "/admin/",
            },
        )

    def upload(self, sample: Path) -> str:
        """The import page's form; returns the batch's page (its preview)."""
        form = self.get(IMPORT_URL)
        uploaded = self.post(
            IMPORT_URL,
            {"csrfmiddlewaretoken": self.csrf(form)},
            files={"file": (sample.name, sample.read_bytes(), "text/csv")},
        )
        return str(uploaded.headers["Location"])

    def wait_for_preview(self, batch: str, timeout: float = 60) -> requests.Response:
        """The preview page, once it shows the "Import" button (a preview made by a
        worker shows a progress page first)."""
        deadline = time.monotonic() + timeout
        while True:
            page = self.get(batch)
            if 'name="send"' in page.text:
                return page
            if time.monotonic() > deadline:
                raise RuntimeError(f"no preview at {batch} after {timeout} s")
            time.sleep(0.1)


# --- one round -------------------------------------------------------------------------


@dataclass
class Round:
    label: str
    first_s: float | None = None
    last_s: float | None = None
    statuses: Counter[str] = field(default_factory=Counter)
    accepted: int = 0
    rate_limited: int = 0
    duplicates: int = 0
    confirm_s: float = 0.0
    steps: list[str] = field(default_factory=list)
    timed_out: bool = False
    var: str = ""
    # Lines of every process's log: restarts by hiring_portal.respawn (a process
    # that died), and "database is locked".
    restarts: int = 0
    locked: int = 0


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"


@dataclass(frozen=True)
class Series:
    key: str
    title: str
    polling: float | None = None  # None: as shipped
    stale_checks: bool = False


SHIPPED = Series("shipped", "as shipped (make run)")
BASELINE = Series(
    "kombu-1s", "broker polling at kombu's 1 s (CELERY_BROKER_POLLING_INTERVAL=1)", 1.0
)
STALE_CHECKS = Series(
    "stale-checks",
    "as shipped, every check before sending reads Feishu (CANDIDATE_MAX_AGE_SECONDS=0)",
    stale_checks=True,
)


def run_round(
    label: str, kind: Series, sample: Path, timeout: float, keep: bool
) -> Round:
    var = Path(tempfile.mkdtemp(prefix=f"bench-first-batch-{label}-"))
    env = make_run_env(var, kind.polling, stale_checks=kind.stale_checks)
    portal = Portal(env, var)
    result = Round(label, var=str(var))
    with sample.open(encoding="utf-8-sig", newline="") as sheet:
        ids = [row["application_id"] for row in csv.DictReader(sheet)]
    try:
        portal.start()
        # make run queues a few demo results at start: out of the way first.
        deadline = time.monotonic() + 60
        while not demo_settled(portal.database) and time.monotonic() < deadline:
            time.sleep(0.2)
        user = User(portal.url)
        user.log_in()
        batch = user.upload(sample)
        preview = user.wait_for_preview(batch)
        before = portal.sandbox("/_sandbox/stats")
        t0 = time.time()
        user.post(
            batch,
            {
                "csrfmiddlewaretoken": User.csrf(preview),
                "send": "on",
                "_confirm": "Confirm import",
            },
        )
        result.confirm_s = time.time() - t0
        while True:
            rows = rows_of(portal.database, ids)
            result.statuses = Counter(status for _a, status, _t in rows)
            if len(rows) == len(ids) and all(s in SETTLED for _a, s, _t in rows):
                break
            if time.time() - t0 > timeout:
                result.timed_out = True
                break
            time.sleep(0.05)
        synced = sorted(t - t0 for _a, s, t in rows if s == "synced" and t)
        if synced:
            result.first_s, result.last_s = synced[0], synced[-1]
        stats = portal.sandbox("/_sandbox/stats")
        exams = portal.sandbox("/_sandbox/exams")
        mine = set(ids)
        result.accepted = sum(1 for e in exams["exams"] if e["application_id"] in mine)
        result.duplicates = sum(
            d["count"] - 1 for d in exams["duplicates"] if d["application_id"] in mine
        )
        result.rate_limited = stats["rate_limited"]
        result.steps = where_time_went(portal, ids, t0, result, before, stats)
    finally:
        portal.stop()
        logs = [p.read_text(errors="replace") for p in var.glob("*.log")]
        result.restarts = sum(log.count("respawn: the command ended") for log in logs)
        result.locked = sum(log.count("database is locked") for log in logs)
        if not keep and not result.timed_out:
            shutil.rmtree(var, ignore_errors=True)
    return result


def where_time_went(
    portal: Portal,
    ids: list[str],
    t0: float,
    result: Round,
    before: dict[str, Any],
    after: dict[str, Any],
) -> list[str]:
    zone = zoneinfo.ZoneInfo("Asia/Shanghai")  # TIME_ZONE's default (make run)
    runs = [
        r
        for r in task_runs(portal.log("worker"), zone)
        if r.received is not None and r.received >= t0
    ]
    pumps = sorted(
        (r for r in runs if r.name == "exam_results_dispatch_due_task"),
        key=lambda r: r.received or 0,
    )
    delivers = sorted(
        (
            r
            for r in runs
            if r.name in ("exam_results_deliver_task", "exam_result_deliver_task")
        ),
        key=lambda r: r.received or 0,
    )
    lookups = [r for r in runs if r.name == "candidate_applications_lookup_task"]
    attempts = [(t - t0, d) for t, d in attempts_of(portal.database, ids) if t >= t0]
    calls = {
        path: count - before.get("api_requests", {}).get(path, 0)
        for path, count in after.get("api_requests", {}).items()
    }
    steps = [f"confirm request (import written, rows pending): {ms(result.confirm_s)}"]
    if pumps:
        first = pumps[0]
        steps.append(
            f"pump: {len(pumps)} runs; first received {ms(first.received and first.received - t0)}"
            f", ran {ms(first.runtime)}"
        )
    if delivers:
        outcomes: Counter[str] = Counter()
        for r in delivers:  # a message's rows by outcome, or one row's outcome
            value = ast.literal_eval(r.outcome) if r.outcome.startswith("{") else None
            outcomes.update(value if isinstance(value, dict) else {r.outcome: 1})
        runtimes = [r.runtime for r in delivers if r.runtime is not None]
        first_received = delivers[0].received
        steps.append(
            f"deliver messages: {len(delivers)}, rows ({', '.join(f'{k} {v}' for k, v in outcomes.most_common())}); "
            f"first received {ms(first_received and first_received - t0)}, "
            f"last received {ms((delivers[-1].received or t0) - t0)}; runtime median "
            f"{ms(statistics.median(runtimes) if runtimes else None)}, "
            f"max {ms(max(runtimes) if runtimes else None)}, "
            f"sum {ms(sum(runtimes))} over 2 pool processes"
        )
    if lookups:
        steps.append(
            f"candidate lookup tasks (get_detail, for the pages) after t0: {len(lookups)}, "
            f"runtime sum {ms(sum(r.runtime or 0 for r in lookups))}"
        )
    read = calls.get("application_get", 0)
    previewed = before.get("api_requests", {}).get("application_get", 0)
    steps.append(
        f"candidate checks (application_get): {previewed} before t0 (the preview "
        f"and make run's demo rows), {read} after (before sending)"
    )
    if attempts:
        durations = [d for _t, d in attempts if d is not None]
        steps.append(
            f"exam posts: {len(attempts)}, first left {ms(attempts[0][0])}, last "
            f"{ms(attempts[-1][0])}; call median "
            f"{statistics.median(durations) if durations else '-'} ms"
        )
    steps.append(
        "sandbox calls after t0: "
        + ", ".join(f"{p} {c}" for p, c in sorted(calls.items()) if c)
    )
    return steps


def summary(result: Round) -> str:
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(result.statuses.items()))
    return (
        f"first delivered {ms(result.first_s)}, last delivered {ms(result.last_s)}; "
        f"{statuses}; sandbox accepted {result.accepted}, 429s {result.rate_limited}, "
        f"duplicates {result.duplicates}; processes restarted {result.restarts}, "
        f'"database is locked" {result.locked}'
        + (" (TIMED OUT)" if result.timed_out else "")
    )


def series(kind: Series, args: argparse.Namespace) -> list[Round]:
    rounds = []
    print(f"\n== {kind.title} ==", flush=True)
    for n in range(1, args.rounds + 1):
        label = f"{kind.key}{n}"
        result = run_round(label, kind, args.sample, args.timeout, args.keep)
        rounds.append(result)
        print(f"round {n}: {summary(result)}", flush=True)
        for step in result.steps:
            print(f"    {step}", flush=True)
        if args.keep or result.timed_out:
            print(f"    logs: {result.var}", flush=True)
    return rounds


def safe(rounds: list[Round]) -> bool:
    """No 429, no duplicate, every synced row accepted by Feishu once, no process
    died."""
    return all(
        r.rate_limited == 0
        and r.duplicates == 0
        and r.restarts == 0
        and r.statuses.get("synced", 0) == r.accepted
        for r in rounds
    )


def median_last(rounds: list[Round]) -> float | None:
    values = [r.last_s for r in rounds if r.last_s is not None and not r.timed_out]
    return statistics.median(values) if len(values) == len(rounds) else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sample", type=Path, default=SAMPLE)
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also run the rounds with the broker polling at kombu's 1 s",
    )
    parser.add_argument(
        "--stale-checks",
        action="store_true",
        help="also run the rounds with every check before sending reading Feishu",
    )
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--keep", action="store_true", help="keep each round's var")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _interrupted)
    kinds = [
        SHIPPED,
        *([STALE_CHECKS] if args.stale_checks else []),
        *([BASELINE] if args.baseline else []),
    ]
    results: dict[Series, list[Round]] = {}
    try:
        for kind in kinds:
            results[kind] = series(kind, args)
    finally:
        PROCESSES.stop_all()
    print()
    shipped = median_last(results[SHIPPED])
    for kind, rounds in results.items():
        median = median_last(rounds)
        firsts = [r.first_s for r in rounds if r.first_s is not None]
        first = statistics.median(firsts) if firsts else None
        ratio = f", {median / shipped:.1f}x as shipped" if median and shipped else ""
        print(
            f"{kind.key:>13}: median to the last delivered {ms(median)} "
            f"(to the first {ms(first)}){ratio}; "
            f"0 429s, 0 duplicates, no process restarted: "
            f"{'yes' if safe(rounds) else 'NO'}"
        )
    met = shipped is not None and shipped < GOAL_SECONDS and safe(results[SHIPPED])
    print(
        f"{'met' if met else 'MISSED'}: as shipped, median {ms(shipped)} < "
        f'{GOAL_SECONDS:.0f} s from "Import and send" to the last of the sample\'s '
        "results delivered, with 0 429s, 0 duplicates and no process restarted"
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
