"""What the audit costs: the history on the write paths, and the dashboard at scale.

History (issue 6 goal: at most 1.0):
- import: ``exams.importing.service.import_file`` of a 10,000-row CSV, run with the
  history as it is and with ``exams.history``'s change rows switched off (the rows
  themselves still written, through the same statements). The difference, per
  1,000 rows, is what the history adds.
- bulk send: ``services.exam_results_send`` of 10,000 drafts, the same two ways.
- each divided by a raw ``bulk_create`` of 1,000 result rows (no validation, no
  history): "writing history costs no more than writing the rows".

Dashboard (goal: at most 2): the admin index with its dashboard, rendered through
Django's test client as a superuser, median of N renders at 1,000 results and at
1,000,000 results (loaded with COPY, then VACUUM ANALYZE, attempts spread over a
year so the last 24 hours hold what a year's steady traffic leaves there). "cold"
clears the dashboard's cache before every render (the figures recomputed: what one
render a minute pays); "warm" is what every other render in that minute pays.

Runs on PostgreSQL only, in its own database (created, then dropped):

    .venv/bin/python bench/audit_cost.py [--base postgres://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "hiring_portal_bench_audit"
OPERATOR = "ou_f476cb099ac9227c9bae09ce46112579"
EXAMS = ("后端工程师笔试（A卷）", "产品经理逻辑测评", "Java Backend Written Test")


def setup_django(base: str) -> None:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    os.environ["DATABASE_URL"] = f"{base}/{BENCH_DB}"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiring_portal.settings")
    os.environ["HIRING_PORTAL_VAR_DIR"] = tempfile.mkdtemp(prefix="hp_bench_audit_")
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,localhost"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def drop_db(base: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def median_of(runs: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(runs))


def truncate() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE exams_historicalexamresult, exams_syncattempt, "
            "exams_scorecorrection, exams_examresult, exams_importbatch CASCADE"
        )


def new_results(n: int, start: int, user: Any) -> list[Any]:
    from exams.models import ExamResult

    return [
        ExamResult(
            application_id=str(6891565253964859661 + start + i),
            exam_resource_name=EXAMS[i % 3],
            score=Decimal(f"{i % 100}.5"),
            operator_id=OPERATOR,
            user_id_type="open_id",
            operator_app_id="cli_sandbox",
            entered_by=user,
        )
        for i in range(n)
    ]


# --- history ------------------------------------------------------------------------


class NoHistory:
    """The same writes without their history: where the services write through
    exams.models.recording, the rows alone (one UPDATE per chunk, a plain bulk
    insert). What the recording adds on top (the locking read of old values, the
    snapshots) is the history's cost."""

    def __enter__(self) -> None:
        from exams.entry import services
        from exams.importing import writing
        from exams.models import ExamResult
        from exams.models.history import recorded_as

        def update_rows(
            queryset: Any, *, actor: Any, source: str, reason: str = "", **values: Any
        ) -> list[int]:
            ids = list(queryset.order_by().values_list("pk", flat=True))
            for start in range(0, len(ids), 2000):
                ExamResult.objects.filter(
                    pk__in=ids[start : start + 2000]
                )._update_unrecorded(**values)
            return ids

        def insert_rows(
            results: Any, *, actor: Any, source: str, batch_size: int = 2000
        ) -> list[Any]:
            with recorded_as(actor=actor, source=source):
                return ExamResult.objects.bulk_create(results, batch_size=batch_size)

        self.saved = [
            (services, "update_recorded", services.update_recorded),
            (writing, "update_recorded", writing.update_recorded),
            (writing, "bulk_create_recorded", writing.bulk_create_recorded),
        ]
        services.update_recorded = update_rows
        writing.update_recorded = update_rows
        writing.bulk_create_recorded = insert_rows

    def __exit__(self, *exc: object) -> None:
        for module, name, original in self.saved:
            setattr(module, name, original)


def raw_bulk_create_1000(user: Any) -> float:
    from django.db import transaction

    from exams.models import ExamResult
    from exams.models.history import recorded_as

    truncate()
    objs = new_results(1000, 0, user)
    started = time.perf_counter()
    with transaction.atomic(), recorded_as(actor=user, source="import"):
        ExamResult.objects.bulk_create(objs)
    return time.perf_counter() - started


def csv_bytes(rows: int) -> bytes:
    out = io.StringIO()
    out.write("application_id,exam_resource_name,score,uuid,operator_id\r\n")
    for i in range(rows):
        out.write(
            f"{6891565253964859661 + i},{EXAMS[i % 3]},{i % 100}.5,,{OPERATOR}\r\n"
        )
    return out.getvalue().encode()


def import_10k(user: Any, content: bytes, history_on: bool) -> float:
    from exams.importing import service as importing

    truncate()
    started = time.perf_counter()
    if history_on:
        batch = importing.import_file(content=content, file_name="b.csv", actor=user)
    else:
        with NoHistory():
            batch = importing.import_file(
                content=content, file_name="b.csv", actor=user
            )
    elapsed = time.perf_counter() - started
    if batch.created_count != 10_000:
        raise RuntimeError(f"imported {batch.created_count} rows, not 10,000")
    return elapsed


def send_10k(user: Any, history_on: bool) -> float:
    from django.db import transaction

    from exams.entry import services
    from exams.models import ExamResult, HistoricalExamResult
    from exams.models.history import recorded_as

    truncate()
    with transaction.atomic(), recorded_as(actor=user, source="import"):
        ExamResult.objects.bulk_create(new_results(10_000, 0, user))
    started = time.perf_counter()
    if history_on:
        report = services.exam_results_send(
            queryset=ExamResult.objects.all(), actor=user
        )
    else:
        with NoHistory():
            report = services.exam_results_send(
                queryset=ExamResult.objects.all(), actor=user
            )
    elapsed = time.perf_counter() - started
    if len(report.queued) != 10_000:
        raise RuntimeError(f"queued {len(report.queued)} results, not 10,000")
    recorded = HistoricalExamResult.objects.count()
    if recorded != (10_000 if history_on else 0):
        raise RuntimeError(f"{recorded} history rows recorded")
    return elapsed


# --- dashboard ------------------------------------------------------------------------

STATUSES = (
    ("synced", 0.90),
    ("failed", 0.05),
    ("draft", 0.03),
    ("pending", 0.015),
    ("unknown", 0.004),
    ("sending", 0.001),
)


def load(total: int, start: int, user_id: int) -> None:
    """COPY ``total`` results (ids from ``start``) and one attempt per delivered or
    failed result, spread over the last year."""
    from django.db import connection

    rng = random.Random(start)
    now = dt.datetime.now(dt.UTC)
    weights = [w for _s, w in STATUSES]
    names = [s for s, _w in STATUSES]
    cols = (
        "id, application_id, exam_resource_name, exam_key, score, report, uuid, "
        "operator_id, user_id_type, operator_app_id, entered_by_id, status, "
        "attempts, exam_id, last_error_code, last_error_message, last_log_id, "
        "created_at, updated_at"
    )
    attempts = []
    with connection.cursor() as cursor:
        raw = cursor.connection
        with raw.cursor() as cur:
            with cur.copy(f"COPY exams_examresult ({cols}) FROM STDIN") as copy:
                for i in range(start, start + total):
                    status = rng.choices(names, weights)[0]
                    created = now - dt.timedelta(seconds=rng.uniform(0, 365 * 86400))
                    exam = EXAMS[i % 3]
                    copy.write_row(
                        (
                            i + 1,
                            str(6891565253964859661 + i),
                            exam,
                            exam,
                            f"{i % 100}.5",
                            "",
                            "",
                            OPERATOR,
                            "open_id",
                            "cli_sandbox",
                            user_id,
                            status,
                            1,
                            f"70{i}" if status == "synced" else "",
                            1002002 if status == "failed" else None,
                            "invalid operator" if status == "failed" else "",
                            "",
                            created,
                            created,
                        )
                    )
                    if status in ("synced", "failed"):
                        attempts.append((i + 1, status, created))
            with cur.copy(
                "COPY exams_syncattempt (result_id, call, started_at, duration_ms, "
                "http_status, feishu_code, feishu_msg, log_id, request_body, "
                "response_body, outcome) FROM STDIN"
            ) as copy:
                for result_id, status, created in attempts:
                    ok = status == "synced"
                    copy.write_row(
                        (
                            result_id,
                            "create_exam",
                            created,
                            120,
                            200 if ok else 400,
                            0 if ok else 1002002,
                            "success" if ok else "invalid operator_id",
                            "20261124LOG",
                            "{}",
                            "{}",
                            "success" if ok else "permanent",
                        )
                    )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('exams_examresult', 'id'), "
            "(SELECT max(id) FROM exams_examresult))"
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE exams_examresult")
        cursor.execute("VACUUM ANALYZE exams_syncattempt")


def render_median(client: Any, runs: int, cold: bool) -> float:
    from django.core.cache import cache

    from exams import dashboard

    def once() -> float:
        if cold:
            cache.delete(dashboard.cache_key())
        started = time.perf_counter()
        response = client.get("/admin/")
        elapsed = time.perf_counter() - started
        if response.status_code != 200 or b"exams-dashboard" not in response.content:
            raise RuntimeError(f"no dashboard on /admin/ ({response.status_code})")
        return elapsed

    once()
    return median_of(runs, once)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--renders", type=int, default=21)
    parser.add_argument("--big", type=int, default=1_000_000)
    args = parser.parse_args()
    setup_django(args.base)
    try:
        run(args)
    finally:
        drop_db(args.base)


def run(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from exams.entry import services
    from exams.models import ExamPaper, FeishuIdentity

    services.pump_request_after_commit = lambda: None  # measure the writes only
    user = get_user_model().objects.create_superuser("bench", "b@example.com", "x")
    FeishuIdentity.objects.create(user=user, app_id="cli_sandbox", open_id=OPERATOR)
    # A row is imported only for a paper in the catalogue.
    ExamPaper.objects.bulk_create(
        [ExamPaper(name=name, full_mark=Decimal(100)) for name in EXAMS]
    )
    version = connection.cursor().connection.info.server_version
    print(f"PostgreSQL {version}; medians of {args.runs} runs")

    raw = median_of(args.runs, lambda: raw_bulk_create_1000(user))
    content = csv_bytes(10_000)
    imp_on = median_of(args.runs, lambda: import_10k(user, content, True))
    imp_off = median_of(args.runs, lambda: import_10k(user, content, False))
    send_on = median_of(args.runs, lambda: send_10k(user, True))
    send_off = median_of(args.runs, lambda: send_10k(user, False))
    imp_hist = (imp_on - imp_off) / 10
    send_hist = (send_on - send_off) / 10
    print()
    print("History cost (per 1,000 rows)")
    print(f"  raw bulk_create of 1,000 results          {raw * 1000:8.1f} ms")
    print(
        f"  import 10,000 rows: with history {imp_on * 1000:8.1f} ms, without "
        f"{imp_off * 1000:8.1f} ms"
    )
    print(
        f"    history per 1,000 rows                  {imp_hist * 1000:8.1f} ms  "
        f"ratio to raw {imp_hist / raw:5.2f}  (goal <= 1.0)"
    )
    print(
        f"  bulk send 10,000 rows: with history {send_on * 1000:8.1f} ms, without "
        f"{send_off * 1000:8.1f} ms"
    )
    print(
        f"    history per 1,000 rows                  {send_hist * 1000:8.1f} ms  "
        f"ratio to raw {send_hist / raw:5.2f}  (goal <= 1.0)"
    )

    truncate()
    client = Client()
    client.force_login(user)
    load(1_000, 0, user.pk)
    small_cold = render_median(client, args.renders, cold=True)
    small_warm = render_median(client, args.renders, cold=False)
    load(args.big - 1_000, 1_000, user.pk)
    big_cold = render_median(client, args.renders, cold=True)
    big_warm = render_median(client, args.renders, cold=False)
    print()
    print(f"Dashboard (admin index), median of {args.renders} renders")
    print(
        f"  1,000 results:     cold {small_cold * 1000:7.1f} ms   warm "
        f"{small_warm * 1000:7.1f} ms"
    )
    print(
        f"  {args.big:,} results: cold {big_cold * 1000:7.1f} ms   warm "
        f"{big_warm * 1000:7.1f} ms"
    )
    print(
        f"  ratio big/small: cold {big_cold / small_cold:5.2f}   warm "
        f"{big_warm / small_warm:5.2f}   (goal <= 2; the page is cold at most once "
        "a minute)"
    )


if __name__ == "__main__":
    main()
