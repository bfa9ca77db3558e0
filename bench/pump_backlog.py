"""One pump round at a season's backlog (issue 15): 100,000 pending results
against 1,000.

Each size gets its own PostgreSQL database (created, migrated, loaded with one
INSERT ... SELECT, VACUUM ANALYZEd; dropped at the end unless ``--keep-db``), and
the broker and limiter a Redis database index of their own (flushed). A round is
what a worker runs for ``exam_results_dispatch_due()``: the breaker, the limiter's
free permits (the sandbox's 50 a second), the rows handed out and not claimed, the
due rows in the pump's order, the UPDATE that marks them dispatched and one Celery
message each to the real broker. Between rounds (not timed) the rows are made
due again and the broker's queue emptied, so every round faces the same table;
the sizes are measured in turns, so load on a shared machine weighs on both alike.

Printed: per size the median and p90 of a round, its queries, and the query plans
(EXPLAIN ANALYZE) of the pump's reads; the ratio of the medians. Goal: a round at
100,000 pending costs at most 1.5 times a round at 1,000.

    .venv/bin/python bench/pump_backlog.py [--sizes 1000,100000] [--rounds 40]
        [--keep-db] [--server postgres://postgres@127.0.0.1:5432]
        [--redis redis://127.0.0.1:6379/11]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from admin_changelist import (  # noqa: E402 (the change list bench's databases, one a size)
    ROUTER,
    add_database,
    create_database,
    drop_databases,
)

BENCH_DB = "hiring_portal_bench_pump"
PER_SECOND, PER_MINUTE = 50, 1000
GOAL_RATIO = 1.5
# A backlog as a season leaves it: most rows fresh, some waiting out a backoff
# or a 429's reset (due later), some due again now.
_LOAD_SQL = """
INSERT INTO exams_examresult (
    application_id, exam_resource_name, exam_key, score, report, uuid,
    operator_id, user_id_type, operator_app_id, entered_by_id, status, attempts,
    next_attempt_at, dispatched_at, exam_id, operate_time, last_error_code,
    last_error_message, last_log_id, synced_at, unknown_since, created_at,
    updated_at, hold_code, hold_params, check_override, matched_by
)
SELECT
    (6900000000000000000 + i * 7919)::text, '后端工程师笔试（A卷）',
    '后端工程师笔试（a卷）', 60 + i %% 40, '', '',
    'ou_f476cb099ac9227c9bae09ce46112579', 'open_id', 'cli_bench', NULL,
    'pending', CASE WHEN i %% 10 = 0 THEN 1 ELSE 0 END,
    CASE WHEN i %% 20 = 0 THEN now() + interval '10 min'
         WHEN i %% 20 = 10 THEN now() - interval '1 min' END,
    NULL, '', NULL, NULL, '', '', NULL, NULL,
    now() - i * interval '1 second', now(), '', '{}'::jsonb, false, 'id'
FROM generate_series(1::bigint, %(size)s) AS i
"""


def setup_django(server: str, first: str, redis_url: str) -> None:
    os.environ["DATABASE_URL"] = f"{server.rstrip('/')}/{first}"
    os.environ["REDIS_URL"] = redis_url
    os.environ["FEISHU_RATE_PER_SECOND"] = str(PER_SECOND)
    os.environ["FEISHU_RATE_PER_MINUTE"] = str(PER_MINUTE)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiring_portal.settings")
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.conf import settings
    from django.db import router

    settings.DEBUG = False
    settings.DATABASE_ROUTERS = [ROUTER]
    router.__dict__.pop("routers", None)


def load(dsn: str, size: int) -> float:
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE exams_examresult RESTART IDENTITY CASCADE")
        conn.execute(_LOAD_SQL, {"size": size})
        conn.execute("VACUUM ANALYZE exams_examresult")
    return time.perf_counter() - started


def reset(alias: str, redis_client: Any) -> None:
    """Every row due as loaded, nothing handed out, the broker's queue and the
    limiter's windows empty (the permits of the last round freed)."""
    from django.core.cache import cache
    from django.db import connections

    from exams.gateway.limiter import limiter_start_fresh

    with connections[alias].cursor() as cur:
        cur.execute(
            "UPDATE exams_examresult SET dispatched_at = NULL "
            "WHERE status = 'pending' AND dispatched_at IS NOT NULL"
        )
    redis_client.flushdb()
    cache.clear()
    limiter_start_fresh()


def one_round(alias: str) -> tuple[float, list[dict[str, str]], int]:
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from exams.delivery.pump import exam_results_dispatch_due

    with CaptureQueriesContext(connections[alias]) as captured:
        began = time.perf_counter()
        dispatched = exam_results_dispatch_due()
        spent = time.perf_counter() - began
    return spent, list(captured.captured_queries), dispatched


def explain(alias: str, queries: list[dict[str, str]]) -> None:
    from django.db import connections

    for query in queries:
        text = query["sql"]
        if not text.lstrip().upper().startswith("SELECT"):
            continue
        print(f"\n    -- {text}")
        with connections[alias].cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + text)
            for (line,) in cur.fetchall():
                print(f"    {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    names = {size: f"{BENCH_DB}_{size}" for size in sizes}
    for name in names.values():
        create_database(args.server, name)
    setup_django(args.server, names[sizes[0]], args.redis)
    import redis

    redis_client = redis.Redis.from_url(args.redis)
    times: dict[int, list[float]] = {size: [] for size in sizes}
    queries: dict[int, list[dict[str, str]]] = {}
    dispatched: dict[int, int] = {}
    try:
        for size in sizes:
            alias = f"size_{size}"
            add_database(alias, f"{args.server.rstrip('/')}/{names[size]}")
            took = load(f"{args.server.rstrip('/')}/{names[size]}", size)
            print(f"loaded {size:,} pending results in {took:.1f} s")
        for round_no in range(args.rounds + 3):  # three rounds of warm-up
            for size in sizes:
                alias = f"size_{size}"
                ROUTER.alias = alias
                reset(alias, redis_client)
                spent, captured, count = one_round(alias)
                if round_no >= 3:
                    times[size].append(spent)
                queries[size], dispatched[size] = captured, count
        print(
            f"\nA pump round ({args.rounds} rounds a size; the limiter at "
            f"{PER_SECOND}/s and {PER_MINUTE}/min; rows handed out per round):"
        )
        for size in sizes:
            ms = sorted(t * 1000 for t in times[size])
            print(
                f"  {size:>9,} pending: median {statistics.median(ms):6.1f} ms, "
                f"p90 {ms[int(len(ms) * 0.9) - 1]:6.1f} ms, "
                f"{len(queries[size])} queries, {dispatched[size]} handed out"
            )
        base, big = sizes[0], sizes[-1]
        ratio = statistics.median(times[big]) / statistics.median(times[base])
        verdict = "met" if ratio <= GOAL_RATIO else "MISSED"
        print(
            f"\n  ratio {big:,} / {base:,}: {ratio:.2f} "
            f"(goal <= {GOAL_RATIO}: {verdict})"
        )
        for size in sizes:
            alias = f"size_{size}"
            ROUTER.alias = alias
            reset(alias, redis_client)
            print(f"\n  Query plans at {size:,} pending:")
            # The plans of a round's reads, as the round asked them.
            _spent, captured, _count = one_round(alias)
            reset(alias, redis_client)
            explain(alias, captured)
        return 0 if ratio <= GOAL_RATIO else 1
    finally:
        redis_client.flushdb()
        if not args.keep_db:
            drop_databases(args.server, list(names.values()))


if __name__ == "__main__":
    sys.exit(main())
