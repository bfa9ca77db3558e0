"""Run once on a database restored from a backup, before any worker starts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from exams.delivery import restore


class Command(BaseCommand):
    help = (
        "After restoring the database from a backup: move every pending and sending "
        "exam result to 'unknown', so the portal looks each one up in Feishu before "
        "sending it (it may have been delivered after the backup was taken). Run it "
        "with every worker stopped; see docs/deploy.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only count the results that would be marked.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"]:
            counts = restore.exam_results_in_flight()
            self.stdout.write(
                f"Would mark {sum(counts.values())} results as unknown "
                f"(pending: {counts['pending']}, sending: {counts['sending']})."
            )
            return
        report = restore.exam_results_mark_restored_in_flight()
        self.stdout.write(
            self.style.SUCCESS(
                f"Marked {report.total} results as unknown (pending: "
                f"{report.pending}, sending: {report.sending}); reconciliation "
                "checks Feishu for each before anything is sent again."
            )
        )
