"""Reconciliation: results whose delivery outcome is unknown, looked up in
Feishu's tests/search before anything is posted again.

- exactly one record of this result, created after the attempt began → adopt its
  id, ``synced``;
- none, tests/search is known to list this portal's exams (a *probe*: a result
  delivered long enough ago is looked up too), and the settling delay has passed
  → it was not created: back to ``pending``;
- anything else → stays ``unknown``; checked again with backoff for
  ``DELIVERY_RECONCILE_GIVE_UP_SECONDS``, then it waits for staff.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models.functions import Now
from django.utils import timezone

from feishu import FeishuError, RateLimitedError, TestRecord

from ..gateway import breaker
from ..gateway.client import get_client
from ..gateway.limiter import get_limiter
from ..models import (
    ExamResult,
    FeishuAppState,
    HistorySource,
    SyncAttempt,
    normalize_exam_name,
)
from ..models.recording import update_recorded
from ..wording import Message, message, stored
from .claims import attempt_complete
from .pump import pump_request
from .timing import backoff, seconds

Status = ExamResult.Status
Outcome = SyncAttempt.Outcome
ENGINE = HistorySource.ENGINE


def settle_seconds(state: FeishuAppState | None = None) -> float:
    """How long after a create to wait before trusting tests/search's answer."""
    state = state or breaker.app_state()
    return max(
        settings.DELIVERY_RECONCILE_SETTLE_SECONDS,
        2 * state.observed_search_lag_seconds,
    )


def _record_time(record: TestRecord) -> dt.datetime | None:
    return record.created_at or record.result_upload_time


def _same_result(
    record: TestRecord, application_id: str, exam_key: str, score: Any
) -> bool:
    return (
        record.application_id == application_id
        and normalize_exam_name(record.test_paper_name or "") == exam_key
        and record.score is not None
        and record.score == score
    )


@dataclass
class ReconcileReport:
    adopted: int = 0
    resend: int = 0
    still_unknown: int = 0
    waiting: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        return self.__dict__.copy()


def _probe_result(settle: float) -> ExamResult | None:
    """A result this portal delivered long enough ago that tests/search should list
    it: seeing it there (or not) tells whether search can be trusted."""
    return (
        ExamResult.objects.filter(
            status=Status.SYNCED,
            synced_at__lt=Now() - seconds(settle),
            sync_attempts__call=SyncAttempt.Call.CREATE_EXAM,
            sync_attempts__outcome=Outcome.SUCCESS,
        )
        .order_by("-synced_at")
        .first()
    )


def exam_results_reconcile(
    *,
    result_ids: Iterable[int],
    actor: User | None = None,
    force: bool = False,
) -> ReconcileReport:
    """Look results whose delivery outcome is unknown up in Feishu's tests/search.

    - exactly one record of this result, created after the attempt began → adopt
      its id, ``synced``;
    - none, tests/search is known to list this portal's exams, and the settling
      delay has passed → it was not created: back to ``pending``;
    - anything else → stays ``unknown``; retried later, for a bounded time.

    ``force`` (staff's "Check Feishu") ignores the schedule and the time bound.
    """
    report = ReconcileReport()
    source = HistorySource.BULK_ACTION if actor else ENGINE
    rows = list(
        ExamResult.objects.filter(pk__in=list(result_ids), status=Status.UNKNOWN)
    )
    if not force:
        now = timezone.now()
        due = [r for r in rows if r.next_attempt_at is None or r.next_attempt_at <= now]
        report.skipped += len(rows) - len(due)
        rows = due
    if not rows:
        return report
    wait = get_limiter().acquire("tests_search")
    if wait:
        report.waiting += len(rows)
        return report
    state = breaker.app_state()
    settle = settle_seconds(state)
    probe = _probe_result(settle)
    ids = [r.application_id for r in rows] + ([probe.application_id] if probe else [])
    started = time.monotonic()
    try:
        records = get_client().search_tests(ids)
    except FeishuError as error:
        if isinstance(error, RateLimitedError):
            get_limiter().block("tests_search", error.reset_seconds)
        for row in rows:
            attempt = SyncAttempt.objects.create(
                result=row,
                call=SyncAttempt.Call.SEARCH_TESTS,
                request_body=f"application_id_list: {ids}",
            )
            attempt_complete(attempt, started, Outcome.RETRY, error=error)
        _still_unknown(
            rows,
            actor=actor,
            source=source,
            force=force,
            why=message("reconcile.search_failed", feishu_msg=error.msg),
        )
        report.still_unknown += len(rows)
        return report

    trusted = _update_search_trust(state, probe, records)
    calls = _latest_create_calls([r.pk for r in rows])
    tolerance = seconds(settings.DELIVERY_RECONCILE_CLOCK_TOLERANCE_SECONDS)
    now = timezone.now()
    for row in rows:
        SyncAttempt.objects.create(
            result=row,
            call=SyncAttempt.Call.SEARCH_TESTS,
            request_body=f"application_id_list: {ids}",
            http_status=200,
            feishu_code=0,
            feishu_msg="ok",
            response_body=f"{len(records)} records",
            outcome=Outcome.SUCCESS,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        attempt_started, answered = calls.get(row.pk, (None, False))
        same = [
            r
            for r in records
            if _same_result(r, row.application_id, row.exam_key, row.score)
        ]
        undated = [r for r in same if _record_time(r) is None]
        matches = [
            r
            for r in same
            if attempt_started is not None
            and (t := _record_time(r)) is not None
            and t >= attempt_started - tolerance
        ]
        if len(matches) == 1 and not undated:
            record = matches[0]
            _update_row(
                row,
                actor=actor,
                source=source,
                status=Status.SYNCED,
                exam_id=record.test_id,
                operate_time=_record_time(record),
                synced_at=Now(),
                unknown_since=None,
                next_attempt_at=None,
                last_error_message=stored("reconcile.found"),
            )
            report.adopted += 1
        elif (
            not same
            and trusted
            and attempt_started is not None
            and not answered
            and now >= attempt_started + seconds(settle)
        ):
            _update_row(
                row,
                actor=actor,
                source=source,
                status=Status.PENDING,
                unknown_since=None,
                next_attempt_at=None,
                dispatched_at=None,
                last_error_message=stored("reconcile.not_found"),
            )
            report.resend += 1
        elif not same and trusted and attempt_started is not None and not answered:
            ExamResult.objects.filter(pk=row.pk, status=Status.UNKNOWN).update(
                next_attempt_at=attempt_started + seconds(settle)
            )
            report.still_unknown += 1
        else:
            if len(same) > 1:
                why = message("reconcile.several", n=len(same))
            elif not trusted:
                why = message("reconcile.untrusted")
            elif answered:
                # Feishu said it recorded it: never sent again on its own.
                why = message("reconcile.answered_not_listed")
            else:
                why = message("reconcile.undated")
            _still_unknown([row], actor=actor, source=source, force=force, why=why)
            report.still_unknown += 1
    if report.resend:
        pump_request()
    return report


def _update_search_trust(
    state: FeishuAppState, probe: ExamResult | None, records: list[TestRecord]
) -> bool:
    if probe is None:
        return bool(state.search_lists_created)
    found = any(
        r.test_id == probe.exam_id
        or _same_result(r, probe.application_id, probe.exam_key, probe.score)
        for r in records
    )
    age = (timezone.now() - probe.synced_at).total_seconds() if probe.synced_at else 0
    if found:
        FeishuAppState.objects.filter(pk=state.pk).update(
            search_lists_created=True, search_checked_at=Now()
        )
        return True
    values: dict[str, Any] = {
        "search_checked_at": Now(),
        "observed_search_lag_seconds": max(state.observed_search_lag_seconds, age),
    }
    if age > settings.DELIVERY_SEARCH_TRUST_GIVE_UP_SECONDS:
        values["search_lists_created"] = False
    FeishuAppState.objects.filter(pk=state.pk).update(**values)
    return False


def _latest_create_calls(
    result_ids: list[int],
) -> dict[int, tuple[dt.datetime, bool]]:
    """Each result's latest create call that may have reached Feishu: when it
    began, and whether Feishu answered that it recorded it. That answer can come
    after the claim was lost (the lease ran out mid-call and the sweeper made the
    row unknown): it is written on the attempt only, and such a row is adopted
    when found, never sent again."""
    latest: dict[int, tuple[dt.datetime, bool]] = {}
    for result_id, started_at, outcome in (
        SyncAttempt.objects.filter(
            result_id__in=result_ids,
            call=SyncAttempt.Call.CREATE_EXAM,
            outcome__in=[Outcome.UNKNOWN, Outcome.IN_FLIGHT, Outcome.SUCCESS],
        )
        .order_by("result_id", "started_at")
        .values_list("result_id", "started_at", "outcome")
    ):
        latest[result_id] = (started_at, outcome == Outcome.SUCCESS)
    return latest


def _update_row(row: ExamResult, *, actor: Any, source: str, **values: Any) -> None:
    update_recorded(
        ExamResult.objects.filter(pk=row.pk, status=row.status),
        actor=actor,
        source=source,
        **values,
    )


def _still_unknown(
    rows: list[ExamResult], *, actor: Any, source: str, force: bool, why: Message
) -> None:
    now = timezone.now()
    give_up = seconds(settings.DELIVERY_RECONCILE_GIVE_UP_SECONDS)
    for row in rows:
        since = row.unknown_since or now
        checks = SyncAttempt.objects.filter(
            result=row, call=SyncAttempt.Call.SEARCH_TESTS
        ).count()
        if now - since > give_up:
            next_at = None
            said = stored(
                "reconcile.gave_up", hours=int(give_up.total_seconds() // 3600), why=why
            )
        else:
            delay = backoff(
                checks,
                settings.DELIVERY_RECONCILE_BACKOFF_BASE_SECONDS,
                settings.DELIVERY_RECONCILE_BACKOFF_CAP_SECONDS,
            )
            next_at = now + seconds(delay)
            said = stored("reconcile.later", why=why)
        _update_row(row, actor=actor, source=source, last_error_message=said)
        ExamResult.objects.filter(pk=row.pk, status=Status.UNKNOWN).update(
            next_attempt_at=next_at
        )
