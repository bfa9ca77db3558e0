"""The exam-result change list at 1,000 and at 1,000,000 rows (issue 2, "Scale").

Runs in its own PostgreSQL database (created, migrated and dropped here; the
project's own databases are never touched). At each size the table is emptied,
loaded with COPY and VACUUM ANALYZEd, then the change list is rendered through the
Django test client, logged in as a superuser, for each kind of page: plain, filtered
by status, filtered by exam name, searched by an application id, and searched by
exam-name terms that match 50 rows at every size (one long enough for the trigram
index, one too short for it). After a warm-up, each page is rendered ``--renders``
times, in rounds over all pages; printed per page: the number of queries, the
median render time at each size, the ratio of the largest size to the smallest, and
the time spent in the page's queries.

Goal: at most 10 queries per page and every ratio at most 1.5 (a page's cost does
not grow with the table).

    .venv/bin/python bench/admin_changelist.py [--sizes 1000,1000000] [--renders 15]
        [--explain] [--keep-db] [--server postgres://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

BENCH_DB = "hiring_portal_bench_changelist"
MAX_QUERIES = 10
MAX_RATIO = 1.5

COMMON_NAMES = (
    "后端工程师笔试（A卷）",
    "后端工程师笔试（B卷）",
    "前端工程师笔试",
    "算法工程师笔试",
    "数据分析师笔试",
    "测试开发工程师笔试",
    "产品经理笔试",
    "运维工程师笔试",
    "安全工程师笔试",
    "客户端工程师笔试（iOS）",
    "客户端工程师笔试（Android）",
    "UI 设计师作品评估",
    "Java Backend Assessment",
    "Go Backend Assessment",
    "Frontend React Assessment",
    "Data Engineering Test",
    "Machine Learning Test",
    "SRE On-call Simulation",
    "English Writing Test",
    "General Aptitude Test",
)
# Exactly RARE_ROWS rows at every size carry this name; RARE_TERM matches only it.
RARE_NAME = "量子计算研究员笔试"
RARE_TERM = "量子计算"
# Too short for a trigram: searched through the distinct names (exams.changelist).
RARE_SHORT_TERM = "量子"
RARE_ROWS = 50

# (status, share of the rows)
STATUS_MIX = (
    ("synced", 0.60),
    ("draft", 0.15),
    ("failed", 0.10),
    ("pending", 0.08),
    ("unknown", 0.04),
    ("sending", 0.03),
)
FILTER_STATUS = "failed"

FIRST_APPLICATION_ID = 6_891_565_253_964_859_661
FIRST_EXAM_ID = 7_031_822_096_580_868_396
STAFF_USERS = 8

# size -> page -> (queries, median render ms, ms in the database, count shown)
Figures = dict[int, dict[str, tuple[int, float, float, str]]]

COLUMNS = (
    "application_id",
    "exam_resource_name",
    "exam_key",
    "score",
    "report",
    "uuid",
    "operator_id",
    "user_id_type",
    "operator_app_id",
    "entered_by_id",
    "status",
    "attempts",
    "next_attempt_at",
    "dispatched_at",
    "exam_id",
    "operate_time",
    "last_error_code",
    "last_error_message",
    "last_log_id",
    "synced_at",
    "unknown_since",
    "created_at",
    "updated_at",
)


def application_id(i: int) -> str:
    return str(FIRST_APPLICATION_ID + i * 7919)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--renders", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--server",
        default=os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server (the benchmark creates and drops its own database)",
    )
    parser.add_argument("--db", default=BENCH_DB)
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print EXPLAIN ANALYZE of each page's queries on the exam results",
    )
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    if args.renders < 15:
        parser.error("--renders must be at least 15")
    if min(args.sizes) < RARE_ROWS * 2:
        parser.error(f"sizes must be at least {RARE_ROWS * 2}")
    return args


def admin_dsn(server: str) -> str:
    return f"{server.rstrip('/')}/postgres"


def create_database(server: str, name: str) -> None:
    with psycopg.connect(admin_dsn(server), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(server: str, name: str) -> None:
    from django.db import connections

    connections.close_all()
    with psycopg.connect(admin_dsn(server), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiring_portal.settings")
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.conf import settings

    # Render as production does: no query log, no template debug information.
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def make_users() -> tuple[Any, list[int]]:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    admin = user_model.objects.create_superuser("bench", "bench@example.com", "x")
    staff = [
        user_model.objects.create_user(f"staff{n}", f"staff{n}@example.com", "x").pk
        for n in range(STAFF_USERS)
    ]
    return admin, staff


def rows(size: int, staff: list[int]) -> Any:
    """The rows, oldest first: ids and created_at grow together."""
    rng = random.Random(size)
    statuses = [s for s, _ in STATUS_MIX]
    weights = [w for _, w in STATUS_MIX]
    keys = {name: unicodedata.normalize("NFC", name.strip()) for name in COMMON_NAMES}
    keys[RARE_NAME] = unicodedata.normalize("NFC", RARE_NAME.strip())
    rare_every = size // RARE_ROWS
    start = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    # Spread the rows over two years whatever their number.
    step = dt.timedelta(days=730) / size
    for i in range(size):
        name = RARE_NAME if i % rare_every == 0 else rng.choice(COMMON_NAMES)
        status = rng.choices(statuses, weights)[0]
        created = start + step * i
        synced = status == "synced"
        yield (
            application_id(i),
            name,
            keys[name],
            f"{rng.randrange(0, 1001) / 10:.1f}",
            "",
            "",
            "ou_f476cb099ac9227c9bae09ce46112579",
            "open_id",
            "cli_bench",
            staff[i % len(staff)],
            status,
            1 if status != "draft" else 0,
            created + dt.timedelta(minutes=5) if status == "pending" else None,
            created + dt.timedelta(minutes=1) if status != "draft" else None,
            str(FIRST_EXAM_ID + i) if synced else "",
            created + dt.timedelta(minutes=2) if synced else None,
            1002001 if status == "failed" else None,
            "operator not found" if status == "failed" else "",
            "",
            created + dt.timedelta(minutes=2) if synced else None,
            created + dt.timedelta(minutes=2) if status == "unknown" else None,
            created,
            created + dt.timedelta(minutes=3),
        )


def load(dsn: str, size: int, staff: list[int]) -> float:
    """Empties the table and COPYs ``size`` rows in, with its secondary indexes
    dropped during the load and built again after it; returns the seconds taken."""
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE exams_examresult, exams_examresultchange, exams_syncattempt "
            "RESTART IDENTITY"
        )
        # Indexes that back no constraint: dropped for the load, rebuilt after it.
        indexes = conn.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.tablename = 'exams_examresult'
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                              WHERE c.conname = i.indexname)
            """
        ).fetchall()
        for name, _ in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        with conn.transaction(), conn.cursor() as cur:
            copy_sql = sql.SQL("COPY exams_examresult ({}) FROM STDIN").format(
                sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
            )
            with cur.copy(copy_sql) as copy:
                for row in rows(size, staff):
                    copy.write_row(row)
        conn.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("VACUUM ANALYZE exams_examresult")
    return time.perf_counter() - started


def pages() -> dict[str, dict[str, str]]:
    return {
        "plain": {},
        f"status={FILTER_STATUS}": {"status__exact": FILTER_STATUS},
        "exam filter": {"exam": COMMON_NAMES[0]},
        "search application id": {"q": "<application id>"},
        f"search name '{RARE_TERM}'": {"q": RARE_TERM},
        f"search name '{RARE_SHORT_TERM}'": {"q": RARE_SHORT_TERM},
    }


def page_params(size: int) -> dict[str, dict[str, str]]:
    params = pages()
    # An application id from the middle of the table.
    params["search application id"] = {"q": application_id(size // 2 + 1)}
    return params


def explain(queries: list[dict[str, str]]) -> None:
    from django.db import connection

    for query in queries:
        text = query["sql"]
        if "exams_examresult" not in text or not text.lstrip().upper().startswith(
            ("SELECT", "WITH")
        ):
            continue
        print(f"\n    -- {text}")
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + text)
            for (line,) in cur.fetchall():
                print(f"    {line}")


def measure(
    client: Any, size: int, renders: int, warmup: int, show_plans: bool
) -> dict[str, tuple[int, float, float, str]]:
    """Per page: (queries, median render ms, ms spent in the database, count shown).

    Pages are rendered in rounds (each round renders every page once), so that the
    noise of a shared machine spreads over all pages alike."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    url = reverse("admin:exams_examresult_changelist")
    params = page_params(size)
    for _ in range(warmup):
        for page_params_ in params.values():
            assert client.get(url, page_params_).status_code == 200
    counted = {}
    for page, page_params_ in params.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, page_params_)
        assert response.status_code == 200, response.status_code
        # Read now: the next request clears the connection's query log.
        queries = list(captured.captured_queries)
        cl = response.context_data["cl"]
        shown = f"{'>' if cl.paginator.is_capped else ''}{cl.result_count}"
        db_ms = sum(float(q["time"]) for q in queries) * 1000
        counted[page] = (queries, db_ms, shown)
    timings: dict[str, list[float]] = {page: [] for page in params}
    for _ in range(renders):
        for page, page_params_ in params.items():
            began = time.perf_counter()
            response = client.get(url, page_params_)
            timings[page].append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200
    results = {}
    for page, (queries, db_ms, shown) in counted.items():
        results[page] = (len(queries), statistics.median(timings[page]), db_ms, shown)
        if show_plans:
            print(f"\n  [{size:,} rows] {page}: {len(queries)} queries")
            explain(queries)
    return results


def main() -> int:
    args = parse_args()
    url = f"{args.server.rstrip('/')}/{args.db}"
    create_database(args.server, args.db)
    try:
        setup_django(url)
        from django.test import Client

        admin, staff = make_users()
        client = Client()
        client.force_login(admin)

        figures: Figures = {}
        for size in args.sizes:
            seconds = load(url, size, staff)
            print(f"loaded {size:,} rows in {seconds:.1f} s (COPY, VACUUM ANALYZE)")
            figures[size] = measure(
                client, size, args.renders, args.warmup, args.explain
            )
        report(figures, args.renders)
        return 0 if goals_met(figures) else 1
    finally:
        if not args.keep_db:
            drop_database(args.server, args.db)


def report(figures: Figures, renders: int) -> None:
    small, large = min(figures), max(figures)
    print()
    print(
        f"median of {renders} renders per page (after a warm-up); shown = the count "
        "the page displays; db = time in the page's queries, one render"
    )
    header = (
        f"{'page':<24}{'queries':>8}{f'shown {small:,}':>13}"
        f"{f'shown {large:,}':>17}{f'ms {small:,}':>10}{f'ms {large:,}':>13}"
        f"{'ratio':>7}{f'db ms {small:,}':>13}{f'db ms {large:,}':>16}"
    )
    print(header)
    print("-" * len(header))
    for page in figures[small]:
        q_small, ms_small, db_small, shown_small = figures[small][page]
        q_large, ms_large, db_large, shown_large = figures[large][page]
        queries = str(q_large) if q_small == q_large else f"{q_small}/{q_large}"
        ratio = ms_large / ms_small
        missed = ratio > MAX_RATIO or max(q_small, q_large) > MAX_QUERIES
        print(
            f"{page:<24}{queries:>8}{shown_small:>13}{shown_large:>17}"
            f"{ms_small:>10.1f}{ms_large:>13.1f}{ratio:>7.2f}"
            f"{db_small:>13.1f}{db_large:>16.1f}{'  MISSED' if missed else ''}"
        )
    print(f"goal: <= {MAX_QUERIES} queries per page, every ratio <= {MAX_RATIO}")


def goals_met(figures: Figures) -> bool:
    small, large = min(figures), max(figures)
    for page in figures[small]:
        if max(figures[small][page][0], figures[large][page][0]) > MAX_QUERIES:
            return False
        if figures[large][page][1] / figures[small][page][1] > MAX_RATIO:
            return False
    return True


if __name__ == "__main__":
    sys.exit(main())
