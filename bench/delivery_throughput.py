"""Delivery throughput (issue 4): the shared limiter vs Celery's per-worker rate_limit.

N results are delivered by two Celery worker processes (``--concurrency 4`` each,
queues ``feishu,celery``) plus one ``celery beat``, through Redis, to the Feishu
sandbox running in its own process and enforcing 50 calls/s and 1,000 calls/min
(``--quick``: 10/s and 120/min, same shape, about a minute and a quarter a phase).
Everything runs in its own PostgreSQL database (created, migrated, dropped) and
its own Redis database index (flushed); the project's own are never touched.

Two phases, each with a fresh sandbox, fresh workers, emptied tables and Redis:

- ``shared limiter``: the portal as deployed; ``FEISHU_RATE_*`` equal to the
  sandbox's limits.
- ``Celery rate_limit`` (the baseline): ``FEISHU_RATE_*`` so large that the shared
  limiter never refuses, and Celery's ``rate_limit`` on the delivery task, set per
  worker to half the per-second limit (two workers; ``--baseline-rate`` to change).
  The portal's reaction to a 429 (waiting out Feishu's reset) still applies.
  Its workers carry bench/celery_bucket_wakeup.py (through bench/bench_settings.py):
  Celery 5.7 as shipped schedules a timer entry per message that finds its task's
  bucket without a token and never cancels the extra ones; past ten due at once,
  kombu's hub polls with a one-second timeout, and a rate-limited task then runs
  about once a second per worker (730 of 2,000 results after 300 s; the cause,
  with line numbers, is in bench/celery_rate_limit.py). The module keeps one
  pending wakeup per bucket and changes nothing else: same bucket, same rate,
  same order. The baseline is Celery's per-worker ``rate_limit`` doing what its
  documentation says, at most that many tasks a second per worker, no more
  clever than that: it knows nothing of the minute's limit nor of the other
  worker.

Time zero is ``exam_results_send()`` of all N drafts (one UPDATE, the pump after
commit). A phase ends when no row is ``pending`` or ``sending`` any more, or at
``--timeout``.

The ceiling: the most calls that sliding windows of 1 s (limit P) and 60 s (limit
M) admit in the closed interval [first, last] of the sandbox's accepted calls, of
length T. Any half-open interval of one window's length holds at most that
window's limit, so cutting [first, last] into q = floor(T / 60) minutes and a rest
of r = T - 60q seconds, and the rest into floor(r) + 1 pieces shorter than a
second, bounds the count by::

    ceiling(T) = q * min(M, 60 P) + min(M, P * (floor(r) + 1))

and bursts of P calls at each of the first M/P whole seconds of every minute
reach it, so it is exact. (The simpler min(P ceil(T/1), M ceil(T/60)) overstates
it whenever the last minute is short: at T = 181 s it allows 4,000 calls where at
most 3,050 fit.) The ceiling is a step function of the span: when the last minute
is full it says only whether the work ended within that minute, so the script also
prints the shortest span N calls need (60 k + ceil(s / P) - 1 with k full minutes
and s calls in the last) over the span measured.

With ``--checks`` (issue 11) the phases are instead the shared limiter with the
check before sending off (the baseline) and on: each result's application read
(``GET /hire/v1/applications/:id``, its own budget of 50/s and 1,000/min) before
its exam is posted, in ``--rounds`` rounds (3) that alternate the order of the
phases. Goal: the median of elapsed with the checks / without at most 1.1. The
sandbox's lenient world answers every id as an active application in a
written-exam stage, so every check passes and both phases post all N.

Printed side by side: accepted calls / ceiling, 429 answers and duplicate records
(from the sandbox), elapsed time, deliver tasks run per result (the churn of
deferrals), and per worker pool child the resident memory (VmRSS) after warm-up
(a share of the results synced) and at the end. Goal: accepted / ceiling >= 0.95,
no 429, no child growing by 10 MB or more after warm-up.

    .venv/bin/python bench/delivery_throughput.py [--quick] [--results N]
        [--skip-baseline] [--baseline-rate 25/s] [--timeout S] [--keep-db]
        [--timeline] [--checks] [--server postgres://postgres@127.0.0.1:5432]
        [--db hiring_portal_bench_delivery] [--redis redis://127.0.0.1:6379/9]

Worker, beat and sandbox logs stay in a temporary folder whose path is printed.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import itertools
import json
import math
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import redis  # noqa: E402
from psycopg import sql  # noqa: E402

from feishu.sandbox.process import spawn  # noqa: E402
from hiring_portal import celery_process  # noqa: E402
from hiring_portal.celery_process import CeleryProcess, children_of  # noqa: E402

BENCH_DB = "hiring_portal_bench_delivery"
APP_ID = "cli_bench"
APP_SECRET = "bench-secret"  # noqa: S105 (the sandbox's, not a real one)
OPERATOR = "ou_f476cb099ac9227c9bae09ce46112579"
FIRST_APPLICATION_ID = 6_891_565_253_964_859_661
WORKERS = 2
CONCURRENCY = 4
GOAL_RATIO = 0.95
GOAL_GROWTH_MB = 10.0
HUGE = 1_000_000_000  # a shared limit that never binds

TASK_LINE = re.compile(
    r"Task (exams\.tasks\.\w+)\[[^\]]+\] succeeded in ([0-9.e-]+)s: (.*)$"
)


# --- processes ------------------------------------------------------------------


class Processes:
    """Every process this script starts, each in its own session so that it and
    its children can be stopped by its process group id."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[Any]] = []

    def start(self, command: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
        kwargs.setdefault("cwd", ROOT)
        proc = subprocess.Popen(command, start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[Any], timeout: float = 20) -> None:
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)  # Celery: warm shutdown
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        # the pool children, or anything the warm shutdown left
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.wait(timeout=5)
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in list(reversed(self.procs)):
            self.stop(proc)


PROCESSES = Processes()


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes, in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


# --- the sandbox ------------------------------------------------------------------


class Sandbox:
    def __init__(self, per_second: int, per_minute: int, log_dir: Path) -> None:
        self.proc, self.url = spawn(
            "--rate-per-second",
            str(per_second),
            "--rate-per-minute",
            str(per_minute),
            app_id=APP_ID,
            app_secret=APP_SECRET,
            popen=PROCESSES.start,
            stderr=(log_dir / "sandbox.log").open("wb"),
        )

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=30) as answer:  # noqa: S310
            return json.loads(answer.read())

    def stop(self) -> None:
        PROCESSES.stop(self.proc)


# --- ceiling ------------------------------------------------------------------------


def ceiling(span_ms: int, per_second: int, per_minute: int) -> int:
    """Most calls sliding 1 s / 60 s windows admit in a closed interval of span_ms
    (see the module docstring)."""
    minutes, rest_ms = divmod(span_ms, 60_000)
    full_minute = min(per_minute, 60 * per_second)
    return minutes * full_minute + min(per_minute, per_second * (rest_ms // 1000 + 1))


def shortest_span_s(calls: int, per_second: int, per_minute: int) -> int:
    """The shortest span (whole seconds) in which those windows admit ``calls``."""
    full_minute = min(per_minute, 60 * per_second)
    minutes = math.ceil(calls / full_minute) - 1
    last = calls - minutes * full_minute
    return 60 * minutes + math.ceil(last / per_second) - 1


# --- one phase ----------------------------------------------------------------------


@dataclass
class Phase:
    key: str
    title: str
    portal_per_second: int
    portal_per_minute: int
    rate_limit: str = ""
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class ChildMemory:
    worker: str
    pid: int
    warm_kb: int | None
    end_kb: int | None

    @property
    def growth_mb(self) -> float | None:
        if self.warm_kb is None or self.end_kb is None:
            return None
        return (self.end_kb - self.warm_kb) / 1024


@dataclass
class Result:
    phase: Phase
    statuses: Counter[str] = field(default_factory=Counter)
    timed_out: bool = False
    aborted: str = ""
    elapsed_s: float | None = None
    accepted: int = 0
    span_ms: int = 0
    ceiling: int = 0
    rate_limited: int = 0
    duplicates: int = 0
    memory: list[ChildMemory] = field(default_factory=list)
    warm_at_s: float | None = None
    tasks: Counter[str] = field(default_factory=Counter)
    deliver_outcomes: Counter[str] = field(default_factory=Counter)
    deliver_messages: int = 0
    pumped: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    timeline: list[int] = field(default_factory=list)
    max_gap_ms: int = 0
    tightest_second_ms: int | None = None
    tightest_minute_ms: int | None = None
    worker_cpu_s: float = 0.0
    synced_runtimes: list[float] = field(default_factory=list)
    load: tuple[float, float] = (0.0, 0.0)
    application_calls: int = 0
    queries: int = 0
    profile: list[str] = field(default_factory=list)


class Bench:
    def __init__(self, args: argparse.Namespace, log_root: Path) -> None:
        self.args = args
        self.log_root = log_root
        self.per_second = args.per_second
        self.per_minute = args.per_minute

    # -- environment of the worker and beat processes

    def env(self, phase: Phase, sandbox: Sandbox, var_dir: Path) -> dict[str, str]:
        environment = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
            "DATABASE_URL": self.args.database_url,
            "REDIS_URL": self.args.redis,
            "CELERY_BROKER_URL": self.args.redis,
            "HIRING_PORTAL_VAR_DIR": str(var_dir),
            "FEISHU_BASE_URL": sandbox.url,
            "FEISHU_APP_ID": APP_ID,
            "FEISHU_APP_SECRET": APP_SECRET,
            "FEISHU_RATE_PER_SECOND": str(phase.portal_per_second),
            "FEISHU_RATE_PER_MINUTE": str(phase.portal_per_minute),
            "BENCH_DELIVER_RATE_LIMIT": phase.rate_limit,
            "BENCH_QUERY_COUNTER": QUERY_COUNTER,
            "DJANGO_LOG_LEVEL": "INFO",  # "Task ... succeeded" lines are counted
            **phase.env,
        }
        if self.args.margin is not None:
            environment["FEISHU_RATE_WINDOW_MARGIN"] = str(self.args.margin)
        return environment

    def start_celery(
        self, phase: Phase, sandbox: Sandbox, log_dir: Path
    ) -> list[tuple[str, CeleryProcess]]:
        environment = self.env(phase, sandbox, log_dir)
        started = [
            (
                f"w{n}",
                celery_process.start_worker(
                    name=f"bench-{phase.key}-w{n}",
                    log=log_dir / f"w{n}.log",
                    env=environment,
                    concurrency=CONCURRENCY,
                    popen=PROCESSES.start,
                ),
            )
            for n in range(1, WORKERS + 1)
        ]
        beat = celery_process.start_beat(
            log=log_dir / "beat.log",
            env=environment,
            schedule=log_dir / "beat-schedule",
            pidfile=log_dir / "beat.pid",
            popen=PROCESSES.start,
        )
        for _name, worker in started:
            worker.wait_ready(timeout=60)
        return [*started, ("beat", beat)]

    # -- the database

    def reset_state(self) -> None:
        from django.core.management import call_command
        from django.db import connection

        from exams.gateway.limiter import state_marker

        call_command("flush", interactive=False, verbosity=0)
        connection.close()
        store = redis.Redis.from_url(self.args.redis)
        store.flushdb()
        # Emptied on purpose: the limiter's windows are empty, not lost.
        store.set(state_marker(APP_ID), "bench")

    def load(self, n: int) -> None:
        from exams.models import ExamResult, HistorySource
        from exams.models.recording import bulk_create_recorded

        rows = [
            ExamResult(
                application_id=str(FIRST_APPLICATION_ID + i),
                exam_resource_name="Bench paper",
                score=Decimal("80.5"),
                operator_id=OPERATOR,
                user_id_type="open_id",
                operator_app_id=APP_ID,
            )
            for i in range(n)
        ]
        bulk_create_recorded(rows, actor=None, source=HistorySource.IMPORT)

    def status_counts(self) -> Counter[str]:
        from django.db.models import Count

        from exams.models import ExamResult

        return Counter(
            dict(
                ExamResult.objects.values_list("status")
                .annotate(n=Count("id"))
                .order_by()
            )
        )

    # -- run

    def run(self, phase: Phase) -> Result:
        from django.db import connection
        from django.db.models import Max

        from exams.entry import services
        from exams.models import ExamResult

        args = self.args
        result = Result(phase)
        log_dir = self.log_root / phase.key
        log_dir.mkdir(parents=True, exist_ok=True)
        print(f"\n== {phase.title} ==", flush=True)
        self.reset_state()
        self.load(args.results)
        sandbox = Sandbox(self.per_second, self.per_minute, log_dir)
        celery = self.start_celery(phase, sandbox, log_dir)
        workers = [(name, c.proc) for name, c in celery if name != "beat"]
        print(
            f"sandbox {sandbox.url} ({self.per_second}/s, {self.per_minute}/min); "
            f"workers {', '.join(str(p.pid) for _n, p in workers)}; "
            f"logs {log_dir}",
            flush=True,
        )
        warm_target = max(1, int(args.results * args.warmup))
        spies: list[tuple[subprocess.Popen[bytes], Path]] = []
        warm: dict[tuple[str, int], int | None] = {}

        def worker_pids() -> list[int]:
            pids = []
            for _name, proc in workers:
                pids += [proc.pid, *children_of(proc.pid)]
            return pids

        load_start = os.getloadavg()[0]
        cpu_start = cpu_seconds(worker_pids())
        try:
            t0_wall = time.time()
            t0 = time.monotonic()
            services.exam_results_send(
                queryset=ExamResult.objects.filter(status=ExamResult.Status.DRAFT),
                actor=None,
            )
            next_report = t0 + 10
            while True:
                time.sleep(0.5)
                now = time.monotonic()
                counts = self.status_counts()
                if not warm and counts["synced"] >= warm_target:
                    result.warm_at_s = now - t0
                    if args.profile:
                        spies = [
                            start_spy(proc.pid, args.profile, log_dir / f"{name}.spy")
                            for name, proc in workers
                        ]
                    for name, proc in workers:
                        for pid in children_of(proc.pid):
                            warm[(name, pid)] = rss_kb(pid)
                busy = counts["pending"] + counts["sending"] + counts["draft"]
                if now >= next_report or not busy:
                    stats = sandbox.get("/_sandbox/stats")
                    print(
                        f"  [{now - t0:6.1f}s] "
                        + " ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                        + f" | sandbox exams {stats['exams']} "
                        f"429s {stats['rate_limited']}",
                        flush=True,
                    )
                    next_report = now + 10
                if not busy:
                    break
                if now - t0 > args.timeout:
                    result.timed_out = True
                    break
                gone = [n for n, proc in workers if proc.poll() is not None]
                if gone:
                    # Not this script's doing: something else stopped it.
                    result.aborted = (
                        f"worker {', '.join(gone)} exited at {now - t0:.0f} s "
                        f"(see {log_dir})"
                    )
                    print(f"  ABORTED: {result.aborted}", flush=True)
                    break
            result.statuses = counts
            result.worker_cpu_s = cpu_seconds(worker_pids()) - cpu_start
            result.queries = int(
                redis.Redis.from_url(args.redis).get(QUERY_COUNTER) or 0
            )
            result.profile = summarize_spies(spies)
            result.load = (load_start, os.getloadavg()[0])
            last = ExamResult.objects.aggregate(last=Max("synced_at"))["last"]
            if last is not None:
                result.elapsed_s = last.timestamp() - t0_wall
            for name, proc in workers:
                pids = children_of(proc.pid)
                for (wname, pid), warm_kb in warm.items():
                    if wname == name:
                        end = rss_kb(pid) if pid in pids else None
                        result.memory.append(ChildMemory(name, pid, warm_kb, end))
                for pid in pids:
                    if (name, pid) not in warm:
                        result.memory.append(ChildMemory(name, pid, None, rss_kb(pid)))
            self.collect_sandbox(sandbox, result)
            result.errors = list(
                ExamResult.objects.exclude(status=ExamResult.Status.SYNCED)
                .values_list("status", "last_error_message")
                .distinct()[:5]
            )
        finally:
            connection.close()
            for _name, process in reversed(celery):
                PROCESSES.stop(process.proc)
            sandbox.stop()
        self.collect_logs(celery, result)
        return result

    def collect_sandbox(self, sandbox: Sandbox, result: Result) -> None:
        exams = sandbox.get("/_sandbox/exams")
        stats = sandbox.get("/_sandbox/stats")
        result.rate_limited = stats["rate_limited"]
        result.application_calls = stats["api_requests"].get("application_get", 0)
        result.accepted = exams["total"]
        result.duplicates = sum(d["count"] - 1 for d in exams["duplicates"])
        stamps = sorted(int(e["operate_time"]) for e in exams["exams"])
        if stamps:
            result.span_ms = stamps[-1] - stamps[0]
            result.ceiling = ceiling(result.span_ms, self.per_second, self.per_minute)
            result.max_gap_ms = max(
                (b - a for a, b in itertools.pairwise(stamps)), default=0
            )
            p, m = self.per_second, self.per_minute
            if len(stamps) > p:
                result.tightest_second_ms = min(
                    b - a for a, b in zip(stamps, stamps[p:], strict=False)
                )
            if len(stamps) > m:
                result.tightest_minute_ms = min(
                    b - a for a, b in zip(stamps, stamps[m:], strict=False)
                )
            buckets = Counter((s - stamps[0]) // 5000 for s in stamps)
            result.timeline = [buckets[i] for i in range(max(buckets) + 1)]

    def collect_logs(
        self, celery: list[tuple[str, CeleryProcess]], result: Result
    ) -> None:
        for _name, process in celery:
            for line in process.log.read_text(errors="replace").splitlines():
                match = TASK_LINE.search(line)
                if not match:
                    continue
                task, runtime, value = match.groups()
                short = task.rsplit(".", 1)[-1].removesuffix("_task")
                result.tasks[short] += 1
                if short in ("exam_results_deliver", "exam_result_deliver"):
                    # A message's rows and their outcomes (several since the
                    # pump batched them), or one row's.
                    outcomes = ast.literal_eval(value)
                    if isinstance(outcomes, str):
                        outcomes = {outcomes: 1}
                    result.deliver_outcomes.update(outcomes)
                    result.deliver_messages += 1
                    if outcomes.get("synced"):
                        result.synced_runtimes.append(float(runtime))
                elif short == "exam_results_dispatch_due" and value.isdigit():
                    result.pumped += int(value)


# --- report ---------------------------------------------------------------------------


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _mb(kb: int | None) -> str:
    return "-" if kb is None else f"{kb / 1024:.1f}"


QUERY_COUNTER = "bench:worker-queries"
# Where CPU goes, by the first frame (innermost last) that matches; in order.
SPY_AREAS = (
    ("Feishu client (requests, json, ssl)", ("feishu/", "requests/", "urllib3/")),
    ("shared limiter (Redis Lua)", ("exams/gateway/limiter",)),
    ("history (simple_history)", ("simple_history/", "models/recording")),
    ("SQL (psycopg)", ("psycopg/",)),
    ("Django ORM (query building)", ("django/db/",)),
    ("Celery and kombu (messages, pool)", ("celery/", "kombu/", "billiard/")),
    ("logging", ("logging/", "pythonjsonlogger")),
    ("Redis client", ("redis/",)),
)


def start_spy(
    pid: int, seconds: float, out: Path
) -> tuple[subprocess.Popen[bytes], Path]:
    """py-spy sampling a worker and its pool children, on-CPU stacks only."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    proc = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--format",
            "raw",
            "--rate",
            "200",
            "--duration",
            str(int(seconds)),
            "--nonblocking",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, out


def summarize_spies(spies: list[tuple[subprocess.Popen[bytes], Path]]) -> list[str]:
    """Samples by area (a stack counts for the innermost area it passes through)
    and the functions most often on top of the stack."""
    areas: Counter[str] = Counter()
    tops: Counter[str] = Counter()
    total = 0
    for proc, out in spies:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=60)
        if not out.exists():
            continue
        for line in out.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            frames = stack.split(";")
            total += n
            tops[frames[-1]] += n
            area = "other (the task's own code, Python)"
            for frame in reversed(frames):
                found = next(
                    (
                        name
                        for name, marks in SPY_AREAS
                        if any(m in frame for m in marks)
                    ),
                    None,
                )
                if found:
                    area = found
                    break
            areas[area] += n
    if not total:
        return []
    lines = [f"{n * 100 / total:5.1f}%  {area}" for area, n in areas.most_common()]
    lines.append("on top of the stack:")
    lines += [
        f"{n * 100 / total:5.1f}%  {frame[:110]}" for frame, n in tops.most_common(12)
    ]
    return lines


def report(
    results: list[Result], bench: Bench, rounds: list[list[Result]] | None = None
) -> bool:
    args = bench.args
    p, m = bench.per_second, bench.per_minute
    shortest = shortest_span_s(args.results, p, m)

    def row(label: str, values: list[str]) -> None:
        print(f"{label:<40}" + "".join(f"{v:>24}" for v in values))

    print(
        f"\n== {args.results} results, sandbox {p}/s {m}/min, {WORKERS} workers x "
        f"{CONCURRENCY}, shortest possible span {shortest} s =="
    )
    row("", [r.phase.title for r in results])
    row(
        "synced / failed / unknown / other",
        [
            f"{r.statuses['synced']}/{r.statuses['failed']}/{r.statuses['unknown']}/"
            f"{sum(r.statuses.values()) - r.statuses['synced'] - r.statuses['failed'] - r.statuses['unknown']}"
            + (" TIMEOUT" if r.timed_out else "")
            + (" ABORTED" if r.aborted else "")
            for r in results
        ],
    )
    row(
        "elapsed, send -> last synced (s)",
        [f"{r.elapsed_s:.1f}" if r.elapsed_s is not None else "-" for r in results],
    )
    row("accepted calls (sandbox)", [str(r.accepted) for r in results])
    row("span first -> last accepted (s)", [f"{r.span_ms / 1000:.2f}" for r in results])
    row("ceiling for that span", [str(r.ceiling) for r in results])
    row(
        "accepted / ceiling",
        [f"{r.accepted / r.ceiling:.3f}" if r.ceiling else "-" for r in results],
    )
    row(
        f"shortest span / span ({shortest} s)",
        [f"{shortest * 1000 / r.span_ms:.3f}" if r.span_ms else "-" for r in results],
    )
    row(
        "longest gap between accepted calls (s)",
        [f"{r.max_gap_ms / 1000:.2f}" for r in results],
    )
    row(
        f"tightest {p + 1} accepted calls (s, >= 1)",
        [
            "-"
            if r.tightest_second_ms is None
            else f"{r.tightest_second_ms / 1000:.3f}"
            for r in results
        ],
    )
    row(
        f"tightest {m + 1} accepted calls (s, >= 60)",
        [
            "-"
            if r.tightest_minute_ms is None
            else f"{r.tightest_minute_ms / 1000:.2f}"
            for r in results
        ],
    )
    row("429 answers (sandbox)", [str(r.rate_limited) for r in results])
    row("duplicate records (sandbox)", [str(r.duplicates) for r in results])
    row(
        "deliver tasks run / result (rows)",
        [
            f"{sum(r.deliver_outcomes.values()) / max(args.results, 1):.2f}"
            for r in results
        ],
    )
    row(
        "deliver messages / result",
        [f"{r.deliver_messages / max(args.results, 1):.2f}" for r in results],
    )
    row(
        "  synced/deferred/rate limited/other",
        [
            f"{r.deliver_outcomes['synced']}/{r.deliver_outcomes['deferred']}/"
            f"{r.deliver_outcomes['rate limited']}/"
            f"{sum(r.deliver_outcomes.values()) - r.deliver_outcomes['synced'] - r.deliver_outcomes['deferred'] - r.deliver_outcomes['rate limited']}"
            for r in results
        ],
    )
    row(
        "pump runs / rows dispatched",
        [f"{r.tasks['exam_results_dispatch_due']}/{r.pumped}" for r in results],
    )
    row("sweeps", [str(r.tasks["delivery_sweep"]) for r in results])
    row(
        "task runtime with a synced row p50 / p90 (s)",
        [
            f"{_quantile(r.synced_runtimes, 0.5):.3f} / "
            f"{_quantile(r.synced_runtimes, 0.9):.3f}"
            for r in results
        ],
    )
    row(
        "worker CPU per result (ms)",
        [f"{r.worker_cpu_s * 1000 / max(args.results, 1):.1f}" for r in results],
    )
    row(
        "worker SQL queries per result",
        [f"{r.queries / max(r.statuses['synced'], 1):.2f}" for r in results],
    )
    row(
        "machine load average, start -> end",
        [f"{r.load[0]:.1f} -> {r.load[1]:.1f}" for r in results],
    )
    row(
        "warm-up at (s)",
        [f"{r.warm_at_s:.1f}" if r.warm_at_s is not None else "-" for r in results],
    )
    growths = [[g for c in r.memory if (g := c.growth_mb) is not None] for r in results]
    row(
        "child RSS growth max (MB)",
        [f"{max(g):.1f}" if g else "-" for g in growths],
    )
    for r in results:
        print(
            f"\n{r.phase.title}: worker pool children, VmRSS after warm-up -> end (MB)"
        )
        for c in r.memory:
            growth = c.growth_mb
            print(
                f"  {c.worker} pid {c.pid:>7}: {_mb(c.warm_kb):>6} -> {_mb(c.end_kb):>6}"
                + (f"  ({growth:+.1f})" if growth is not None else "")
            )
        other = {
            k: v
            for k, v in r.deliver_outcomes.items()
            if k not in ("synced", "deferred", "rate limited")
        }
        if other:
            print(f"  other deliver outcomes: {dict(other)}")
        if r.aborted:
            print(f"  ABORTED: {r.aborted}")
        for status, message in r.errors:
            print(f"  {status}: {message[:200]}")
        if args.timeline:
            print(f"  accepted per 5 s: {' '.join(map(str, r.timeline))}")
        if r.profile:
            print(f"  where the workers' CPU went (py-spy, {args.profile:g} s):")
            for line in r.profile:
                print(f"    {line}")

    portal = results[0]
    ratio = portal.accepted / portal.ceiling if portal.ceiling else 0.0
    growth = max(growths[0], default=math.inf)
    done = (
        portal.statuses["synced"] == args.results
        and not portal.timed_out
        and not portal.aborted
    )
    checks = [
        (f"all {args.results} synced", done),
        (f"accepted / ceiling {ratio:.3f} >= {GOAL_RATIO}", ratio >= GOAL_RATIO),
        (f"429 answers {portal.rate_limited} == 0", portal.rate_limited == 0),
        (f"duplicates {portal.duplicates} == 0", portal.duplicates == 0),
        (
            f"child RSS growth max {growth:.1f} MB < {GOAL_GROWTH_MB:.0f} MB",
            growth < GOAL_GROWTH_MB,
        ),
    ]
    if args.checks and rounds:
        ratios = []
        print("\nelapsed, checks on / off, round by round (order alternates):")
        for number, (on, off) in enumerate(rounds, start=1):
            ratio = (
                on.elapsed_s / off.elapsed_s
                if on.elapsed_s and off.elapsed_s
                else math.inf
            )
            ratios.append(ratio)
            print(
                f"  round {number}: {on.elapsed_s or 0:.1f} / {off.elapsed_s or 0:.1f}"
                f" s = {ratio:.3f}; worker CPU per result {on.worker_cpu_s * 1000 / max(args.results, 1):.1f}"
                f" / {off.worker_cpu_s * 1000 / max(args.results, 1):.1f} ms; "
                f"application reads {on.application_calls}"
            )
        median = statistics.median(ratios)
        checks.append((f"median elapsed on / off {median:.3f} <= 1.1", median <= 1.1))
        checks.append(
            (
                f"checks off: all {args.results} synced, every round",
                all(off.statuses["synced"] == args.results for _on, off in rounds),
            )
        )
    print(f"\nGoal ({portal.phase.title}):")
    for text, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    return all(ok for _text, ok in checks)


# --- main -----------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="10/s, 120/min, 240 results"
    )
    parser.add_argument("--results", type=int, default=None)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--baseline-rate",
        default=None,
        help="Celery rate_limit per worker in the baseline (default: half of /s)",
    )
    parser.add_argument(
        "--margin",
        type=float,
        default=None,
        help="FEISHU_RATE_WINDOW_MARGIN for workers",
    )
    parser.add_argument("--warmup", type=float, default=0.2, help="share synced")
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--timeline", action="store_true")
    parser.add_argument(
        "--checks",
        action="store_true",
        help="phases: the check before sending on and off (issue 11)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="--checks: rounds of both phases"
    )
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--profile",
        type=float,
        default=0.0,
        help="seconds of py-spy sampling of the workers after warm-up",
    )
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--db",
        default=BENCH_DB,
        help="name of the PostgreSQL database created and dropped on --server",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()
    args.per_second, args.per_minute = (10, 120) if args.quick else (50, 1000)
    if args.results is None:
        args.results = 240 if args.quick else 3000
    if args.baseline_rate is None:
        args.baseline_rate = f"{args.per_second / WORKERS:g}/s"
    if args.timeout is None:
        args.timeout = (
            3 * shortest_span_s(args.results, args.per_second, args.per_minute) + 120
        )
    args.database_url = f"{args.server}/{args.db}"
    return args


def create_database(server: str, name: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(server: str, name: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGINT, _interrupted)
    signal.signal(signal.SIGTERM, _interrupted)
    log_root = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis,
            "CELERY_BROKER_URL": args.redis,
            "HIRING_PORTAL_VAR_DIR": str(log_root),
            "FEISHU_APP_ID": APP_ID,
            "FEISHU_APP_SECRET": APP_SECRET,
            "DJANGO_LOG_LEVEL": "WARNING",
            # As deployed: with DEBUG on, Django keeps the last 9,000 queries of
            # each connection in memory, which shows up as growth in the workers.
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "FEISHU_ALLOW_SANDBOX": "true",
            "DJANGO_LOG_FORMAT": "text",  # the task lines this script counts
        }
    )
    create_database(args.server, args.db)
    ok = False
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        bench = Bench(args, log_root)
        half = args.baseline_rate
        if args.checks:
            phases = [
                Phase(
                    f"checks-{state}",
                    f"checks {state}",
                    args.per_second,
                    args.per_minute,
                    env={"CANDIDATE_CHECK_BEFORE_SEND": str(state == "on").lower()},
                )
                for state in ("on", "off")
            ]
        else:
            phases = [
                Phase("portal", "shared limiter", args.per_second, args.per_minute),
            ]
        if not args.skip_baseline and not args.checks:
            phases.append(
                Phase(
                    "baseline", f"Celery rate_limit {half}", HUGE, HUGE, rate_limit=half
                )
            )
        print(
            f"delivery_throughput: {args.results} results, sandbox {args.per_second}/s "
            f"{args.per_minute}/min, {WORKERS} workers x {CONCURRENCY} + beat, "
            f"redis {args.redis}, database {args.db}, logs {log_root}",
            flush=True,
        )
        if args.checks:
            # The machine warms up and cools down: each round runs the two
            # phases in the other order, and the goal is on the median ratio.
            rounds = []
            for number in range(args.rounds):
                order = phases if number % 2 == 0 else phases[::-1]
                ran = {r.phase.key: r for r in (bench.run(p) for p in order)}
                rounds.append([ran[p.key] for p in phases])
            ok = report(rounds[0], bench, rounds)
        else:
            results = [bench.run(phase) for phase in phases]
            ok = report(results, bench)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping every process started", file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        PROCESSES.stop_all()
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop_database(args.server, args.db)
        redis.Redis.from_url(args.redis).flushdb()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
