"""Remove candidates' data older than the retention age (exams.retention)."""

from __future__ import annotations

import getpass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from exams.audit.retention import candidate_data_purge


class Command(BaseCommand):
    help = (
        "Remove exam results (except pending, sending and unknown ones), their calls "
        "to Feishu, history and score corrections older than the retention age, "
        "and record the run in the audit."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=None,
            help="Age in days (default: EXAMS_RETENTION_DAYS, "
            f"now {settings.EXAMS_RETENTION_DAYS}).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count only; remove nothing."
        )
        parser.add_argument(
            "--as-user",
            default="",
            help="The portal login to record as having run the purge.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["older_than_days"] or settings.EXAMS_RETENTION_DAYS
        if days < 1:
            raise CommandError("--older-than-days must be at least 1.")
        actor = None
        if options["as_user"]:
            User = get_user_model()
            try:
                actor = User.objects.get(username=options["as_user"])
            except User.DoesNotExist as error:
                raise CommandError(f"No login {options['as_user']!r}.") from error
        try:
            os_user = getpass.getuser()
        except (KeyError, OSError):
            os_user = "unknown"
        report = candidate_data_purge(
            older_than_days=days,
            dry_run=options["dry_run"],
            actor=actor,
            actor_label=f"{os_user} (manage.py purge_candidate_data)",
        )
        verb = "Would remove" if report.dry_run else "Removed"
        self.stdout.write(
            f"{verb}, older than {days} days (before {report.cutoff}): "
            f"{report.results} results, {report.attempts} calls to Feishu, "
            f"{report.changes} history entries, {report.corrections} score "
            f"corrections, {report.orphan_changes} history entries of results "
            f"deleted earlier, {report.imports} imports, {report.report_files} "
            f"report files, {report.candidates} candidates read from Feishu. Kept {report.kept_in_flight} results still in flight "
            "(pending, sending or unknown)."
        )
        if not report.dry_run:
            self.stdout.write("Recorded in the audit (audit events).")
