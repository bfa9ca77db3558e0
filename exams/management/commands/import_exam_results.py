"""``python manage.py import_exam_results FILE [--operator USERNAME] [--send]
[--dry-run] [--all-or-nothing]``: the admin's import, from the command line.

Exits 1 when rows were refused (invalid or in conflict), 2 when the file could not
be read or the import failed; 0 when every row was imported or unchanged.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from exams.importing import reading, service
from exams.importing.columns import column_label
from exams.models import HistorySource, ImportBatch
from exams.wording import render

MAX_CHANGES_LISTED = 100


class Command(BaseCommand):
    help = (
        "Import exam results from a CSV or XLSX file with the same checks and report "
        "as the admin. A score sheet without application IDs is matched to Feishu's "
        "applications by the candidates' emails or mobiles. Exits 1 when rows were "
        "refused (unless --skip-invalid)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV or XLSX file.")
        parser.add_argument(
            "--operator",
            metavar="USERNAME",
            help=(
                "The staff login the import is recorded for; its Feishu identity "
                "fills in the operator of rows that have none."
            ),
        )
        parser.add_argument(
            "--send",
            action="store_true",
            help="Queue the imported results for delivery to Feishu.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check and classify the rows, report, and write nothing.",
        )
        parser.add_argument(
            "--all-or-nothing",
            action="store_true",
            help="Import nothing if any row is invalid or in conflict.",
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help=(
                "Exit 0 although some rows were refused (they are listed, and not "
                "imported): e.g. a score sheet's candidates Feishu could not match."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error}", returncode=2) from None
        actor = None
        if options["operator"]:
            try:
                actor = get_user_model().objects.get_by_natural_key(options["operator"])
            except get_user_model().DoesNotExist:
                raise CommandError(
                    f"There is no login “{options['operator']}”.", returncode=2
                ) from None
        try:
            batch = service.import_file(
                content=content,
                file_name=path.name,
                actor=actor,
                send=options["send"],
                all_or_nothing=options["all_or_nothing"],
                dry_run=options["dry_run"],
                source=HistorySource.COMMAND,
                progress=self._progress if len(content) > 100_000 else None,
            )
        except reading.ImportFileError as error:
            raise CommandError(" ".join(error.messages), returncode=2) from None
        finally:
            self._end_progress()
        self._report(batch, verbosity=options["verbosity"])
        if batch.status == ImportBatch.Status.FAILED:
            raise CommandError(
                f"The import failed: {render(batch.error)}", returncode=2
            )
        refused = batch.invalid_count + batch.conflict_count
        if refused and not options["skip_invalid"]:
            raise CommandError(
                f"{refused} row(s) were refused (invalid or in conflict).", returncode=1
            )

    _progress_shown = False

    def _progress(self, done: int, total: int) -> None:
        self._progress_shown = True
        if total:
            width = 30
            filled = min(width, width * done // total)
            line = f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} rows checked"
        else:
            line = f"\r{done} rows checked"
        sys.stderr.write(line)
        sys.stderr.flush()

    def _end_progress(self) -> None:
        if self._progress_shown:
            sys.stderr.write("\n")
            self._progress_shown = False

    def _report(self, batch: ImportBatch, *, verbosity: int) -> None:
        report = batch.report
        counts = report.get("counts", {})
        headers = report.get("headers", {})
        write = self.stdout.write
        dry = batch.status == ImportBatch.Status.PREVIEWED
        write(
            f"{batch.file_name}: {counts.get('rows', 0)} rows — "
            f"{counts.get('new', 0)} new, {counts.get('changed', 0)} changed, "
            f"{counts.get('unchanged', 0)} unchanged, "
            f"{counts.get('duplicate', 0)} repeated (counted once), "
            f"{counts.get('invalid', 0)} invalid, {counts.get('conflict', 0)} in conflict"
            + (" (dry run: nothing written)" if dry else "")
        )
        matched = report.get("matched_by") or {}
        if matched:
            write(
                f"  candidates found in Feishu: {matched.get('email', 0)} by email, "
                f"{matched.get('mobile', 0)} by mobile"
            )
        for number, name, message in report.get("errors", []):
            column = column_label(name, headers.get(name, ""))
            write(f"  row {number}, {column}: {render(message)}")
        for name, count, _rows in report.get("unknown_papers", []):
            write(
                f"  paper “{name}” is not in the catalogue ({count} row(s)): add it "
                "with its full mark (admin › Exam papers), or fix the name"
            )
        for number, app, exam, _status, diff, why in report.get("conflicts", []):
            write(
                f"  row {number}, {app} / {exam}: in conflict ({_diff(diff)}). "
                f"{render(why)}"
            )
        changes = report.get("changes", [])
        listed = changes if verbosity >= 2 else changes[:MAX_CHANGES_LISTED]
        for number, app, exam, status, diff in listed:
            write(f"  row {number}, {app} / {exam} ({render(status)}): {_diff(diff)}")
        if len(listed) < len(changes):
            write(f"  … and {len(changes) - len(listed)} more changed (-v 2 lists all)")
        for number, was, now in report.get("differences", []):
            write(f"  row {number}: {was} in the preview, {now} now")
        if batch.status == ImportBatch.Status.REFUSED:
            write(
                self.style.WARNING(
                    "Nothing was imported: --all-or-nothing, and some rows were refused."
                )
            )
        elif not dry and batch.status == ImportBatch.Status.DONE:
            written = report.get("written", {})
            line = (
                f"Imported (import #{batch.pk}): {written.get('created', 0)} created, "
                f"{written.get('changed', 0)} changed."
            )
            if batch.options.get("send"):
                line += f" {written.get('queued', 0)} queued for delivery to Feishu."
                for reason, count in written.get("skipped", {}).items():
                    line += f" {count} not sent: {render(reason)}."
            write(self.style.SUCCESS(line))


def _diff(diff: dict[str, list[str]]) -> str:
    return ", ".join(
        f"{name} {old or '—'} → {new}" for name, (old, new) in diff.items()
    )
