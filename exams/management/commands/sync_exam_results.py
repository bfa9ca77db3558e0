"""Queue results for delivery and, with --wait, watch them until they settle."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from exams.candidates.checks import result_hold_message
from exams.entry import services
from exams.models import ExamResult, HistorySource
from exams.wording import render

Status = ExamResult.Status
CHOICES = (Status.DRAFT, Status.PENDING, Status.FAILED, Status.HELD, Status.UNKNOWN)


class Command(BaseCommand):
    help = (
        "Queue exam results for delivery to Feishu. With --wait, show progress until "
        "every one is delivered, failed, or unknown with nothing left to try; exit "
        "non-zero when any is not delivered."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--status",
            nargs="+",
            choices=[str(s) for s in CHOICES],
            default=[Status.DRAFT, Status.FAILED],
            help="Which results to queue (default: draft failed). pending ones are "
            "watched; unknown ones are reconciled by the sweeper, never re-posted.",
        )
        parser.add_argument(
            "--wait", action="store_true", help="Wait and show progress."
        )
        parser.add_argument(
            "--timeout", type=float, default=600, help="Seconds to wait at most."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        statuses = tuple(options["status"])
        selected = ExamResult.objects.filter(status__in=statuses)
        ids = list(selected.values_list("pk", flat=True))
        if not ids:
            self.stdout.write("No results with status " + ", ".join(statuses) + ".")
            return
        sendable = tuple(
            s for s in statuses if s in (Status.DRAFT, Status.FAILED, Status.HELD)
        )
        report = services.exam_results_send(
            queryset=ExamResult.objects.filter(pk__in=ids),
            actor=None,
            source=HistorySource.COMMAND,
            statuses=sendable,
        )
        self.stdout.write(f"Queued {len(report.queued)} of {len(ids)} results.")
        for reason, count in report.skipped.items():
            self.stdout.write(f"  skipped {count}: {render(reason)}")
        if not options["wait"]:
            return
        self._wait(ids, options["timeout"])

    def _wait(self, ids: list[int], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        rows = ExamResult.objects.filter(pk__in=ids)
        # Settled: delivered, failed, held for staff, or unknown with no
        # reconciliation scheduled.
        settled = Q(status__in=[Status.SYNCED, Status.FAILED, Status.HELD]) | Q(
            status=Status.UNKNOWN, next_attempt_at__isnull=True
        )
        total = len(ids)
        while True:
            done = rows.filter(settled).count()
            synced = rows.filter(status=Status.SYNCED).count()
            self._progress(done, synced, total)
            if done == total or time.monotonic() > deadline:
                break
            time.sleep(1)
        sys.stderr.write("\n")
        not_synced = rows.exclude(status=Status.SYNCED).order_by("pk")
        if not not_synced.exists():
            self.stdout.write(self.style.SUCCESS(f"All {total} results delivered."))
            return
        for result in not_synced[:200]:
            why = result_hold_message(result) or render(result.last_error_message)
            self.stdout.write(
                f"#{result.pk} {result.application_id} {result.exam_resource_name}: "
                f"{result.get_status_display()} {why}".rstrip()
            )
        raise CommandError(
            f"{not_synced.count()} of {total} results are not delivered"
            + (" (timed out)" if done < total else "")
        )

    def _progress(self, done: int, synced: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} settled, "
            f"{synced} delivered"
        )
        sys.stderr.flush()
