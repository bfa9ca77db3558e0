"""Import speed: the portal's import service vs a raw bulk_create (the floor) vs
django-import-export, in its fast configuration (the baseline) and its default one.

A generated CSV of 10,000 and 50,000 rows goes through:

- floor: ``csv.reader`` + ``Decimal`` + one ``bulk_create`` per 2,000 rows. No
  validation, no history, no classification: the least any import can do.
- service: ``exams.importing.service.import_file``, the path the admin and the
  command take: read, validate every row, classify against the database, write
  with a field-level history row per result, record the ImportBatch.
- baseline, fast configuration: a ``ModelResource`` for ExamResult with what
  django-import-export's "Bulk imports" docs give for large imports:
  ``use_bulk = True``, ``skip_diff = True``, ``batch_size = 1000``, and
  ``import_data`` (the version pinned in requirements.txt). Bulk mode never calls
  ``save()``, so no history would be written; its ``bulk_create`` goes through
  simple-history's ``bulk_create_with_history`` instead, inside
  ``exams.models.history.recorded_as`` (outside it ``ExamResult.objects.bulk_create``
  refuses: HistoryBypassError). It writes the rows plus one history row each.
- baseline, default configuration: the same resource with the library's defaults:
  one ``save()`` a row, which simple-history records (one history row each), also
  inside ``recorded_as`` so the history names the same actor and source.

Neither baseline validates rows by the portal's rules or classifies them against
the database; both are told the data is clean. Every path but the floor writes one
history row per result; the floor writes none.

Also printed: an import that changes every score of already imported rows (the
update path), and a 100,000-row export (CSV and XLSX) with its memory.

Each measurement runs in its own process; "RSS added" is the highest resident
memory sampled (every 5 ms) during the measured call minus what the process held
just before it (Django loaded, file read). Runs on PostgreSQL only: it creates the
database ``<name>_bench_import`` next to the one DATABASE_URL names (for
``.../hiring_portal``: ``hiring_portal_bench_import``), and drops it.

Goal (issue 5): service within 3x of the floor's time, at least 10x the baseline's
rows/s, under 150 MB added for 50,000 rows. The 10x was set against the default
configuration; both ratios are printed and checked.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hiring_portal \\
        .venv/bin/python bench/import_speed.py [--sizes 10000,50000] [--no-baseline]
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_SUFFIX = "_bench_import"
OPERATOR = "ou_f476cb099ac9227c9bae09ce46112579"
EXAMS = ("后端工程师笔试（A卷）", "产品经理逻辑测评", "Java Backend Written Test")
EXPORT_ROWS = 100_000
FIRST_APPLICATION_ID = 6_891_565_253_964_859_661
# django-import-export's fast configuration: rows a bulk_create (its own default).
FAST_BATCH_SIZE = 1000


def generate_csv(
    rows: int, *, score_offset: int = 0, first_id: int = FIRST_APPLICATION_ID
) -> bytes:
    """``rows`` results of applications ``first_id``, ``first_id + 1``, ...; the
    scores move with ``score_offset`` (the same file again, every score changed)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["application_id", "exam_resource_name", "score", "uuid", "operator_id"]
    )
    for n in range(rows):
        score = f"{(n + score_offset) % 100}.{(n + score_offset) % 2 * 5}"
        writer.writerow([str(first_id + n), EXAMS[n % len(EXAMS)], score, "", OPERATOR])
    return out.getvalue().encode("utf-8")


def rss_mb() -> float:
    """This process's resident memory now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


class PeakSampler:
    """The highest resident memory seen while a measurement runs, sampled every
    5 ms on a thread (ru_maxrss cannot tell a later, lower peak apart)."""

    def __init__(self) -> None:
        import threading

        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_mb())

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


# --- one measurement, in its own process -----------------------------------------


def child(scenario: str, path: str, rows: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiring_portal.settings")
    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    from decimal import Decimal

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from exams.importing import exporting, service
    from exams.models import (
        ExamPaper,
        ExamResult,
        FeishuIdentity,
        HistoricalExamResult,
        HistorySource,
    )
    from exams.models.history import recorded_as

    def reset() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE exams_historicalexamresult, exams_syncattempt, "
                "exams_examresult, exams_importbatch RESTART IDENTITY CASCADE"
            )

    def insert_without_history(objs: list[Any]) -> None:
        # Inside recorded_as, bulk_create is allowed; it records nothing itself.
        with (
            recorded_as(actor=None, source=HistorySource.COMMAND),
            transaction.atomic(),
        ):
            ExamResult.objects.bulk_create(objs, batch_size=2000)

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True}
    )
    FeishuIdentity.objects.get_or_create(
        user=user, app_id=settings.FEISHU_APP_ID, defaults={"open_id": OPERATOR}
    )
    # A row is imported only for a paper in the catalogue.
    ExamPaper.objects.bulk_create(
        [ExamPaper(name=name, full_mark=Decimal(100)) for name in EXAMS],
        ignore_conflicts=True,
    )

    def floor_insert(content: bytes) -> None:
        reader = csv.reader(io.StringIO(content.decode("utf-8")))
        next(reader)
        objs = [
            ExamResult(
                application_id=app,
                exam_resource_name=exam,
                score=Decimal(score),
                uuid=uuid,
                operator_id=operator,
                operator_app_id=settings.FEISHU_APP_ID,
            )
            for app, exam, score, uuid, operator in reader
        ]
        insert_without_history(objs)

    reset()
    content = Path(path).read_bytes()
    note = ""
    if scenario == "update":
        # Untimed: the rows as first imported; the timed file changes every score.
        service.import_file(
            content=generate_csv(rows), file_name="first.csv", actor=user
        )
    if scenario.startswith("export"):
        # In chunks, so loading the rows leaves no memory peak behind.
        for start in range(0, rows, 2000):
            insert_without_history(
                [
                    ExamResult(
                        application_id=str(6891565253964859661 + n),
                        exam_resource_name=EXAMS[n % len(EXAMS)],
                        score=Decimal("88.5"),
                        operator_id=OPERATOR,
                        operator_app_id=settings.FEISHU_APP_ID,
                    )
                    for n in range(start, min(rows, start + 2000))
                ]
            )

    run: Any
    if scenario == "floor":

        def run() -> None:
            floor_insert(content)

    elif scenario in ("service", "update"):

        def run() -> None:
            batch = service.import_file(
                content=content, file_name="bench.csv", actor=user
            )
            if batch.status != "done" or batch.invalid_count:
                raise RuntimeError(
                    f"import {batch.status}: {batch.error or batch.report['errors'][:3]}"
                )

    elif scenario in ("baseline", "baseline_fast"):
        import import_export
        import tablib
        from import_export import resources
        from simple_history.utils import bulk_create_with_history

        fast = scenario == "baseline_fast"
        note = f"django-import-export {import_export.__version__}" + (
            f", use_bulk=True skip_diff=True batch_size={FAST_BATCH_SIZE}"
            if fast
            else ", default options"
        )

        class ExamResultResource(resources.ModelResource):
            class Meta:
                model = ExamResult
                if fast:
                    use_bulk = True
                    skip_diff = True
                    batch_size = FAST_BATCH_SIZE

            def bulk_create(
                self,
                using_transactions: bool,
                dry_run: bool,
                raise_errors: bool,
                batch_size: int | None = None,
                result: Any = None,
            ) -> None:
                # The library's own bulk_create, with simple-history's helper in
                # place of the manager's: bulk mode sends no post_save, so
                # nothing else would record these rows.
                if self.create_instances and (using_transactions or not dry_run):
                    try:
                        bulk_create_with_history(
                            self.create_instances,
                            ExamResult,
                            batch_size=batch_size,
                            default_user=user,
                            custom_historical_attrs={"source": HistorySource.IMPORT},
                        )
                    except Exception as error:
                        self.handle_import_error(result, error, raise_errors)
                    finally:
                        self.create_instances.clear()

        def run() -> None:
            dataset = tablib.Dataset().load(content.decode("utf-8"), format="csv")
            with recorded_as(actor=user, source=HistorySource.IMPORT):
                result = ExamResultResource().import_data(dataset, dry_run=False)
            if result.has_errors():
                raise RuntimeError(f"django-import-export: {result.base_errors[:1]}")

    elif scenario in ("export_csv", "export_xlsx"):
        fmt = scenario.split("_")[1]

        def run() -> None:
            with open(os.devnull, "wb") as sink:
                exporting.export_to(ExamResult.objects.order_by("pk"), fmt, sink)

    else:
        raise SystemExit(f"unknown scenario {scenario}")

    connection.ensure_connection()
    gc.collect()
    before = rss_mb()
    with PeakSampler() as sampler:
        started = time.perf_counter()
        run()
        seconds = time.perf_counter() - started
    added = sampler.peak - before
    stored = ExamResult.objects.count()
    history = HistoricalExamResult.objects.count()
    expected_history = {
        "service": rows,
        "update": 2 * rows,
        "baseline": rows,
        "baseline_fast": rows,
    }.get(scenario, 0)
    if stored != rows or history != expected_history:
        raise RuntimeError(f"{scenario}: {stored} rows, {history} history rows")
    if (
        scenario == "update"
        and not ExamResult.objects.filter(score=Decimal("1.5")).exists()
    ):
        raise RuntimeError("update: no score was changed")
    reset()
    return {"seconds": seconds, "rss_added_mb": added, "history": history, "note": note}


# --- the driver -------------------------------------------------------------------


def admin_url(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def bench_database(url: str) -> str:
    """The benchmark's own database: named after DATABASE_URL's, so two checkouts
    pointed at different databases never drop each other's."""
    return (urlsplit(url).path.strip("/") or "hiring_portal") + BENCH_SUFFIX


def recreate_database(url: str, *, drop_only: bool = False) -> None:
    import psycopg

    name = bench_database(url)
    with psycopg.connect(admin_url(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def measure(env: dict[str, str], scenario: str, path: str, rows: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", scenario, path, str(rows)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{scenario} with {rows} rows failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--child", nargs=3, metavar=("SCENARIO", "FILE", "ROWS"))
    args = parser.parse_args()
    if args.child:
        scenario, path, rows = args.child
        print(json.dumps(child(scenario, path, int(rows))))
        return

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            "Set DATABASE_URL to a PostgreSQL server, e.g. "
            "postgres://postgres@127.0.0.1:5432/hiring_portal"
        )
    env = {
        **os.environ,
        "DATABASE_URL": admin_url(url, bench_database(url)),
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_DEBUG": "true",
    }
    env.pop("REDIS_URL", None)  # nothing here needs a broker or a shared cache
    recreate_database(url)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            env=env,
            cwd=ROOT,
            check=True,
        )
        report(env, [int(size) for size in args.sizes.split(",")], args)
    finally:
        recreate_database(url, drop_only=True)


LABELS = {
    "floor": "raw bulk_create (floor, no history)",
    "service": "import service (validate+classify+history)",
    "update": "import service, every score changed",
    "baseline_fast": "django-import-export fast (baseline)",
    "baseline": "django-import-export default",
}
# The baselines, each with the goal the service is checked against.
BASELINES = (("baseline_fast", "fast"), ("baseline", "default"))
GOAL_SPEEDUP = 10


def report(env: dict[str, str], sizes: list[int], args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(env["DATABASE_URL"]) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    database = urlsplit(env["DATABASE_URL"]).path.strip("/")
    print(
        f"import_speed: PostgreSQL {version}, database {database} (created and dropped)"
    )
    print(
        "writes: floor the rows only; service, both baselines the rows plus one "
        "history row per result (baselines through simple-history, inside "
        "recorded_as); update the changed rows plus one history row each."
    )
    print(
        "baselines: a ModelResource + import_data, fast = use_bulk=True, "
        f"skip_diff=True, batch_size={FAST_BATCH_SIZE}; default = the library's "
        "defaults. Neither validates by the portal's rules nor classifies."
    )
    print()
    header = (
        f"{'rows':>6}  {'path':<44} {'seconds':>8} {'rows/s':>9} {'x floor':>8}"
        f" {'fast/svc':>9} {'default/svc':>12} {'RSS added':>10}"
    )
    print(header)
    print("-" * len(header))
    verdicts = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            path = str(Path(tmp) / f"rows_{rows}.csv")
            Path(path).write_bytes(generate_csv(rows))
            changed = str(Path(tmp) / f"changed_{rows}.csv")
            Path(changed).write_bytes(generate_csv(rows, score_offset=1))
            results = {
                "floor": measure(env, "floor", path, rows),
                "service": measure(env, "service", path, rows),
                "update": measure(env, "update", changed, rows),
            }
            if not args.no_baseline:
                for scenario, _name in BASELINES:
                    results[scenario] = measure(env, scenario, path, rows)
            floor = results["floor"]["seconds"]
            service = results["service"]["seconds"]
            for name, result in results.items():
                seconds = result["seconds"]
                versus = "".join(
                    f" {results[scenario]['seconds'] / seconds:>{width - 1}.1f}x"
                    if scenario in results
                    else f" {'-':>{width}}"
                    for (scenario, _name), width in zip(BASELINES, (9, 12), strict=True)
                )
                print(
                    f"{rows:>6}  {LABELS[name]:<44} {seconds:>8.2f}"
                    f" {rows / seconds:>9.0f} {seconds / floor:>7.2f}x{versus}"
                    f" {result['rss_added_mb']:>7.1f} MB"
                )
            for scenario, _name in BASELINES:
                if scenario in results:
                    print(f"{'':>8}({results[scenario]['note']})")
            ratio_floor = service / floor
            verdicts.append(
                f"{rows} rows: service {ratio_floor:.2f}x the floor's time "
                f"({'PASS' if ratio_floor <= 3 else 'FAIL'}, goal <= 3x)"
            )
            for scenario, name in BASELINES:
                if scenario in results:
                    speedup = results[scenario]["seconds"] / service
                    verdicts.append(
                        f"{rows} rows: service {speedup:.1f}x the {name} "
                        f"configuration's rows/s ("
                        f"{'PASS' if speedup >= GOAL_SPEEDUP else 'FAIL'}, "
                        f"goal >= {GOAL_SPEEDUP}x)"
                    )
            if rows == 50_000:
                added = results["service"]["rss_added_mb"]
                verdicts.append(
                    f"50000 rows: service added {added:.1f} MB peak RSS "
                    f"({'PASS' if added < 150 else 'FAIL'}, goal < 150 MB)"
                )
        if not args.no_export:
            print()
            dummy = str(Path(tmp) / "unused.csv")
            Path(dummy).write_bytes(b"")
            for fmt in ("csv", "xlsx"):
                result = measure(env, f"export_{fmt}", dummy, EXPORT_ROWS)
                print(
                    f"{EXPORT_ROWS:>6}  {'export ' + fmt.upper() + ' (streamed)':<44} "
                    f"{result['seconds']:>8.2f} {EXPORT_ROWS / result['seconds']:>9.0f}"
                    f" {'':>8} {'':>9} {'':>12} {result['rss_added_mb']:>7.1f} MB"
                )
    print()
    for verdict in verdicts:
        print(verdict)


if __name__ == "__main__":
    main()
