"""``python manage.py export_exam_results FILE|- [--status ...] [--format csv|xlsx]``:
the admin's export, from the command line. Streams: 100,000 rows are never all in
memory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exams.importing import exporting
from exams.models import ExamResult


class Command(BaseCommand):
    help = (
        "Export exam results as CSV (UTF-8 with BOM) or XLSX, to FILE or to "
        "standard output with -."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Where to write; - for standard output.")
        parser.add_argument(
            "--status",
            action="append",
            choices=ExamResult.Status.values,
            help="Only results in this status (repeat for several).",
        )
        parser.add_argument(
            "--format",
            choices=sorted(exporting.CONTENT_TYPES),
            help="csv or xlsx; by default from FILE's extension, csv for -.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        target = options["file"]
        fmt = options["format"] or (
            "xlsx" if target.lower().endswith(".xlsx") else "csv"
        )
        queryset = ExamResult.objects.order_by("pk")
        if options["status"]:
            queryset = queryset.filter(status__in=options["status"])
        total = queryset.count()
        shown = [False]

        def progress(done: int) -> None:
            if total < 10_000:
                return
            shown[0] = True
            sys.stderr.write(f"\r{done}/{total} results exported")
            sys.stderr.flush()

        try:
            if target == "-":
                exporting.export_to(queryset, fmt, sys.stdout.buffer, progress)
                sys.stdout.buffer.flush()
            else:
                with Path(target).open("wb") as out:
                    exporting.export_to(queryset, fmt, out, progress)
        except OSError as error:
            raise CommandError(f"Cannot write {target}: {error}") from None
        finally:
            if shown[0]:
                sys.stderr.write("\n")
        if target != "-":
            self.stderr.write(f"{total} results written to {target} ({fmt}).")
