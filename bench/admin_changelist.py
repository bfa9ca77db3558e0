"""The exam-result change list at 1,000 and at 1,000,000 rows (issue 2, "Scale"),
with the Candidate column and the search by candidate (issue 11).

Runs in its own PostgreSQL databases, one a size (created, migrated and dropped
here; the project's own databases are never touched). Each is loaded with COPY and
VACUUM ANALYZEd, the smallest first; then the change list is rendered through the
Django test client, logged in as a superuser, for each kind of page: plain, filtered
by status, filtered by exam name, searched by an application id, and searched by
exam-name terms that match 50 rows at every size (one long enough for the trigram
index, one too short for it), and searched by a candidate's name, email and mobile
(each result's application is mirrored with a candidate). After a warm-up, each page is rendered ``--renders``
times, in rounds over all pages and sizes; printed per page: the number of queries, the
median render time at each size, the ratio of the largest size to the smallest, and
the time spent in the page's queries.

Goal: at most 10 queries per page and every ratio at most 1.5 (a page's cost does
not grow with the table).

    .venv/bin/python bench/admin_changelist.py [--sizes 1000,1000000] [--renders 15]
        [--explain] [--keep-db] [--server postgres://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
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

# One database a size: hiring_portal_bench_changelist_1000, ..._1000000.
BENCH_DB = "hiring_portal_bench_changelist"
CHANGELIST_URL = "/admin/exams/examresult/"
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

# Every result's application is mirrored with its candidate (issue 11): names of
# two or three characters that repeat, as real ones do; one candidate, halfway
# down the table, has a name no other has (searched for).
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕"
RARE_CANDIDATE = "欧阳思远"
# Terms of two characters give no trigram: names are matched by their beginning
# (a compound surname) or their end (a given name). RARE_ROWS candidates at every
# size have each, as RARE_ROWS results have the rare exam name, so both sizes show
# the same rows (characters the generated names never use).
SHORT_SURNAME = "司马"
SHORT_GIVEN = "子涵"
FIRST_MOBILE = 13_800_000_000

FIRST_APPLICATION_ID = 6_891_565_253_964_859_661
FIRST_EXAM_ID = 7_031_822_096_580_868_396
STAFF_USERS = 8

# size -> page -> (queries, median render ms, ms in the database, count shown)
Figures = dict[int, dict[str, tuple[int, float, float, str]]]


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


def drop_databases(server: str, names: list[str]) -> None:
    from django.db import connections

    connections.close_all()
    with psycopg.connect(admin_dsn(server), autocommit=True) as conn:
        for name in names:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )


class SizeRouter:
    """Sends every query to the database of the size being rendered, so that the
    sizes can be rendered in turn (load on a shared machine then weighs on all of
    them alike)."""

    alias = "default"

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return self.alias

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return self.alias


ROUTER = SizeRouter()


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiring_portal.settings")
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.conf import settings
    from django.db import router

    # Render as production does: no query log, no template debug information.
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.DATABASE_ROUTERS = [ROUTER]
    router.__dict__.pop("routers", None)


def add_database(alias: str, url: str) -> None:
    """A connection alias for one size's database, migrated."""
    from django.core.management import call_command
    from django.db import connections

    name = url.rsplit("/", 1)[1]
    # Persistent: a reconnect in the middle of the renders is not what is measured.
    connections.settings[alias] = {
        **connections.settings["default"],
        "NAME": name,
        "CONN_MAX_AGE": None,
    }
    ROUTER.alias = alias
    call_command("migrate", database=alias, verbosity=0, interactive=False)


def make_users() -> tuple[Any, list[int]]:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    admin = user_model.objects.create_superuser("bench", "bench@example.com", "x")
    staff = [
        user_model.objects.create_user(f"staff{n}", f"staff{n}@example.com", "x").pk
        for n in range(STAFF_USERS)
    ]
    return admin, staff


def choices(size: int, staff: list[int]) -> Any:
    """What varies from row to row, oldest row first: (i, name, exam_key, status,
    score, entered_by); the rest is derived from them in SQL (see ``load``)."""
    rng = random.Random(size)
    keys = {name: unicodedata.normalize("NFC", name.strip()) for name in COMMON_NAMES}
    keys[RARE_NAME] = unicodedata.normalize("NFC", RARE_NAME.strip())
    names = rng.choices(COMMON_NAMES, k=size)
    for i in range(0, size, size // RARE_ROWS)[:RARE_ROWS]:
        names[i] = RARE_NAME
    statuses = rng.choices(
        [s for s, _ in STATUS_MIX], [w for _, w in STATUS_MIX], k=size
    )
    scores = rng.choices([f"{n / 10:.1f}" for n in range(1001)], k=size)
    for i in range(size):
        name = names[i]
        yield (i, name, keys[name], statuses[i], scores[i], staff[i % len(staff)])


# Everything but the choices above, derived in one pass; created_at grows with i
# over two years whatever the size, and so does the row's place in the table.
_INSERT_SQL = """
INSERT INTO exams_examresult (
    application_id, exam_resource_name, exam_key, score, report, uuid,
    operator_id, user_id_type, operator_app_id, entered_by_id, status, attempts,
    next_attempt_at, dispatched_at, exam_id, operate_time, last_error_code,
    last_error_message, last_log_id, synced_at, unknown_since, created_at,
    updated_at, hold_code, hold_params, check_override, matched_by
)
SELECT
    (%(first_application_id)s::bigint + i * 7919)::text, name, exam_key, score,
    '', '', 'ou_f476cb099ac9227c9bae09ce46112579', 'open_id', 'cli_bench',
    entered_by, status, CASE WHEN status = 'draft' THEN 0 ELSE 1 END,
    CASE WHEN status = 'pending' THEN c + interval '5 min' END,
    CASE WHEN status <> 'draft' THEN c + interval '1 min' END,
    CASE WHEN status = 'synced' THEN (%(first_exam_id)s::bigint + i)::text
         ELSE '' END,
    CASE WHEN status = 'synced' THEN c + interval '2 min' END,
    CASE WHEN status = 'failed' THEN 1002001 END,
    CASE WHEN status = 'failed' THEN 'operator not found' ELSE '' END,
    '',
    CASE WHEN status = 'synced' THEN c + interval '2 min' END,
    CASE WHEN status = 'unknown' THEN c + interval '2 min' END,
    c, c + interval '3 min', '', '{}'::jsonb, '', 'id'
FROM (
    SELECT *, timestamptz '2023-01-01 00:00:00+00'
              + i * (interval '730 days' / %(size)s) AS c
    FROM bench_rows
) AS r
"""


def load(dsn: str, size: int, staff: list[int]) -> float:
    """Empties the table and loads ``size`` rows: their varying parts by COPY into
    a staging table, then one INSERT ... SELECT, with the table's secondary indexes
    dropped during the load and built again after it; returns the seconds taken."""
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            # CASCADE: whatever refers to the results goes too (bench database only).
            "TRUNCATE exams_examresult, exams_historicalexamresult RESTART IDENTITY CASCADE"
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
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute("SET synchronize_seqscans = off")
        conn.execute(
            "CREATE TEMP TABLE bench_rows (i bigint, name text, exam_key text, "
            "status text, score numeric, entered_by bigint)"
        )
        with conn.cursor() as cur:
            with cur.copy("COPY bench_rows FROM STDIN") as copy:
                for row in choices(size, staff):
                    copy.write_row(row)
            cur.execute(
                _INSERT_SQL,
                {
                    "first_application_id": FIRST_APPLICATION_ID,
                    "first_exam_id": FIRST_EXAM_ID,
                    "size": size,
                },
            )
        conn.execute("DROP TABLE bench_rows")
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("VACUUM ANALYZE exams_examresult")
        load_candidates(conn, size)
    return time.perf_counter() - started


_CANDIDATES_SQL = """
INSERT INTO exams_candidateapplication (
    application_id, "exists", talent_id, candidate_name, email, mobile_code,
    mobile_number, job_id, job_name, stage_id, stage_name_zh, stage_name_en,
    stage_type, active, termination_reason_zh, termination_reason_en,
    entered_stage_at, checked_at, detail_fetched_at
)
SELECT
    (%(first_application_id)s::bigint + i * 7919)::text, true,
    (7200000000000000000 + i)::text,
    CASE WHEN i = %(rare)s THEN %(rare_name)s
         WHEN i %% %(spacing)s = 3 AND i / %(spacing)s < %(rare_rows)s
              THEN %(short_surname)s || substr(%(given)s, (i %% 30)::int + 1, 1)
         WHEN i %% %(spacing)s = 5 AND i / %(spacing)s < %(rare_rows)s
              THEN substr(%(surnames)s, (i %% 30)::int + 1, 1) || %(short_given)s
         ELSE substr(%(surnames)s, (i %% 30)::int + 1, 1)
              || substr(%(given)s, ((i / 30) %% 30)::int + 1, 1)
              || CASE WHEN i %% 3 = 0 THEN ''
                      ELSE substr(%(given)s, ((i / 900) %% 30)::int + 1, 1) END
    END,
    'cand' || i || '@example.com', '86', (%(first_mobile)s + i)::text,
    '6990000000000000101', '后端工程师', '6960663240925956512', '笔试',
    'Written test', 3, true, '', '', now(), now(), now()
FROM generate_series(0::bigint, %(last)s) AS i
"""


def load_candidates(conn: Any, size: int) -> None:
    """One mirrored application a result, its indexes (trigram ones included)
    built after the load."""
    conn.execute("TRUNCATE exams_candidateapplication RESTART IDENTITY")
    indexes = conn.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.tablename = 'exams_candidateapplication'
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """
    ).fetchall()
    for name, _ in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    conn.execute(
        _CANDIDATES_SQL,
        {
            "first_application_id": FIRST_APPLICATION_ID,
            "rare": rare_candidate(size),
            "rare_name": RARE_CANDIDATE,
            "spacing": size // RARE_ROWS,
            "rare_rows": RARE_ROWS,
            "short_surname": SHORT_SURNAME,
            "short_given": SHORT_GIVEN,
            "surnames": SURNAMES,
            "given": GIVEN,
            "first_mobile": FIRST_MOBILE,
            "last": size - 1,
        },
    )
    for _, definition in indexes:
        conn.execute(definition)
    conn.execute("VACUUM ANALYZE exams_candidateapplication")


def rare_candidate(size: int) -> int:
    return size // 2 + 1


def pages() -> dict[str, dict[str, str]]:
    return {
        "plain": {},
        f"status={FILTER_STATUS}": {"status__exact": FILTER_STATUS},
        "exam filter": {"exam": COMMON_NAMES[0]},
        "search application id": {"q": "<application id>"},
        f"search name '{RARE_TERM}'": {"q": RARE_TERM},
        f"search name '{RARE_SHORT_TERM}'": {"q": RARE_SHORT_TERM},
        "search candidate name": {"q": RARE_CANDIDATE},
        f"search candidate '{SHORT_SURNAME}'": {"q": SHORT_SURNAME},
        f"search candidate '{SHORT_GIVEN}'": {"q": SHORT_GIVEN},
        "search candidate email": {"q": "<email>"},
        "search candidate mobile": {"q": "<mobile>"},
    }


def page_params(size: int) -> dict[str, dict[str, str]]:
    params = pages()
    # An application id from the middle of the table.
    params["search application id"] = {"q": application_id(size // 2 + 1)}
    # The candidate with the unique name: found by email, by mobile (+86, spaced).
    i = rare_candidate(size)
    params["search candidate email"] = {"q": f"cand{i}@example.com"}
    mobile = str(FIRST_MOBILE + i)
    params["search candidate mobile"] = {
        "q": f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    }
    return params


def explain(alias: str, queries: list[dict[str, str]]) -> None:
    from django.db import connections

    for query in queries:
        text = query["sql"]
        if "exams_examresult" not in text or not text.lstrip().upper().startswith(
            ("SELECT", "WITH")
        ):
            continue
        print(f"\n    -- {text}")
        with connections[alias].cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + text)
            for (line,) in cur.fetchall():
                print(f"    {line}")


def _timed(spent: list[float]) -> Any:
    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append(time.perf_counter() - began)

    return wrapper


def count_queries(
    client: Any, alias: str, params: dict[str, dict[str, str]]
) -> dict[str, tuple[list[dict[str, str]], float, str]]:
    """Per page, one render: its queries, the time spent in them, the count shown."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    connection = connections[alias]
    counted = {}
    for page, page_params_ in params.items():
        spent: list[float] = []
        with (
            CaptureQueriesContext(connection) as captured,
            connection.execute_wrapper(_timed(spent)),
        ):
            response = client.get(CHANGELIST_URL, page_params_)
        if response.status_code != 200:
            raise RuntimeError(f"the change list answered {response.status_code}")
        # Read now: the next request clears the connection's query log.
        queries = list(captured.captured_queries)
        cl = response.context_data["cl"]
        shown = f"{'>' if cl.paginator.is_capped else ''}{cl.result_count}"
        counted[page] = (queries, sum(spent) * 1000, shown)
    return counted


def measure(
    clients: dict[int, Any],
    aliases: dict[int, str],
    renders: int,
    warmup: int,
    show_plans: bool,
) -> Figures:
    """Renders every page of every size, in rounds: each round renders each page of
    each size once, so that the noise of a shared machine spreads over all alike."""
    from django.db import connections

    params = {size: page_params(size) for size in clients}
    for size, client in clients.items():
        ROUTER.alias = aliases[size]
        for _ in range(warmup):
            for page_params_ in params[size].values():
                status = client.get(CHANGELIST_URL, page_params_).status_code
                if status != 200:
                    raise RuntimeError(f"the change list answered {status}")
    counted = {}
    for size, client in clients.items():
        ROUTER.alias = aliases[size]
        counted[size] = count_queries(client, aliases[size], params[size])
    timings: dict[int, dict[str, list[float]]] = {
        size: {page: [] for page in params[size]} for size in clients
    }
    db_timings: dict[int, dict[str, list[float]]] = {
        size: {page: [] for page in params[size]} for size in clients
    }
    for _ in range(renders):
        for size, client in clients.items():
            ROUTER.alias = aliases[size]
            connection = connections[aliases[size]]
            for page, page_params_ in params[size].items():
                spent: list[float] = []
                with connection.execute_wrapper(_timed(spent)):
                    began = time.perf_counter()
                    response = client.get(CHANGELIST_URL, page_params_)
                    timings[size][page].append((time.perf_counter() - began) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(
                        f"the change list answered {response.status_code}"
                    )
                db_timings[size][page].append(sum(spent) * 1000)
    figures: Figures = {}
    for size in clients:
        figures[size] = {
            page: (
                len(queries),
                statistics.median(timings[size][page]),
                statistics.median(db_timings[size][page]),
                shown,
            )
            for page, (queries, _, shown) in counted[size].items()
        }
        if show_plans:
            for page, (queries, _, _) in counted[size].items():
                print(f"\n  [{size:,} rows] {page}: {len(queries)} queries")
                explain(aliases[size], queries)
    return figures


def main() -> int:
    global CHANGELIST_URL
    args = parse_args()
    server = args.server.rstrip("/")
    urls = {size: f"{server}/{args.db}_{size}" for size in args.sizes}
    aliases = {size: f"size_{size}" for size in args.sizes}
    try:
        for url in urls.values():
            create_database(args.server, url.rsplit("/", 1)[1])
        setup_django(urls[args.sizes[0]])
        from django.test import Client
        from django.urls import reverse

        CHANGELIST_URL = reverse("admin:exams_examresult_changelist")
        clients = {}
        staff = {}
        for size in args.sizes:
            add_database(aliases[size], urls[size])
            admin, staff[size] = make_users()
            clients[size] = Client()
            clients[size].force_login(admin)
        for size in args.sizes:
            seconds = load(urls[size], size, staff[size])
            print(f"loaded {size:,} rows in {seconds:.1f} s (COPY, VACUUM ANALYZE)")
        figures = measure(clients, aliases, args.renders, args.warmup, args.explain)
        report(figures, args.renders)
        return 0 if goals_met(figures) else 1
    finally:
        if not args.keep_db:
            drop_databases(args.server, [u.rsplit("/", 1)[1] for u in urls.values()])


def report(figures: Figures, renders: int) -> None:
    small, large = min(figures), max(figures)
    print()
    print(
        f"median of {renders} renders per page (after a warm-up); shown = the count "
        "the page displays; db = median time in the page's queries"
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
