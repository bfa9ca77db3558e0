"""Candidates awaiting a written-exam result, on the command line."""

from __future__ import annotations

import csv
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from exams.candidates.worklist import awaiting_results, days_waiting, worklist_poll


class Command(BaseCommand):
    help = (
        "List the candidates in a written-exam stage awaiting a result, oldest "
        "first. --refresh polls Feishu first (minutes at get_detail's 10 a second "
        "for a large list)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--refresh", action="store_true", help="Poll Feishu before listing."
        )
        parser.add_argument(
            "--format", choices=("table", "csv"), default="table", help="Output."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["refresh"]:
            report = worklist_poll(progress=self._progress)
            sys.stderr.write("\n")
            if report.skipped:
                self.stderr.write("Another poll is running; listing what is known.")
            elif report.error:
                self.stderr.write(f"Feishu could not be polled: {report.error}")
            else:
                self.stderr.write(
                    f"Polled {report.stages} written-exam stages: "
                    f"{report.in_stages} applications, {report.read} read, "
                    f"{report.left} that left read again."
                )
        language = settings.LANGUAGE_CODE
        now = timezone.now()
        rows = [
            (
                c.application_id,
                c.candidate_name,
                c.job_name,
                c.stage_name(language),
                timezone.localtime(c.entered_stage_at).strftime("%Y-%m-%d %H:%M")
                if c.entered_stage_at
                else "",
                str(days_waiting(c.entered_stage_at, now)),
            )
            for c in awaiting_results().iterator()
        ]
        headers = ("application_id", "name", "job", "stage", "entered", "days")
        if options["format"] == "csv":
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(headers)
            writer.writerows(rows)
            return
        widths = [
            max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
            for i, h in enumerate(headers)
        ]
        for line in (headers, *rows):
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(line, widths, strict=True)
                )
            )
        self.stdout.write(f"{len(rows)} awaiting a result.")

    def _progress(self, done: int, total: int) -> None:
        sys.stderr.write(f"\rreading {done}/{total}")
        sys.stderr.flush()
