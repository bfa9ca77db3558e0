"""Delivery of exam results to Feishu, at most once each.

The row is the outbox (see docs/architecture.md for the state machine):

1. ``dispatch_due()`` (the pump) hands due ``pending`` rows to workers, only as many
   as the shared rate limit has permits for, and remembers when each was dispatched.
2. ``exam_result_deliver()`` takes a permit, claims the row with one conditional
   UPDATE (``pending`` → ``sending`` with a lease and a fencing token), records the
   attempt (committed) and re-checks the claim before the request leaves, then
   writes the outcome only if the row is still ``sending`` under the same token.
3. An outcome that may have reached Feishu (1002001, 5xx, timeout, dropped answer)
   is never re-posted on its own: the row becomes ``unknown`` and
   ``exam_results_reconcile()`` looks it up with tests/search first.
4. ``sweep()`` (Celery beat) reclaims expired leases, retries reconciliation and
   runs the pump, so a lost message or a killed worker loses nothing.

Every time comparison uses the database's clock (``Now()``), never a worker's.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext as _

from feishu import (
    CredentialsError,
    FeishuError,
    InvalidRequestError,
    MissingScopeError,
    OutcomeUnknownError,
    ParameterError,
    RateLimitedError,
    Retry,
    TokenError,
    exam_body,
)
from feishu.client import TestRecord

from . import breaker, history
from .feishu_client import get_client
from .limiter import get_limiter
from .models import (
    ExamResult,
    ExamResultChange,
    FeishuAppState,
    SyncAttempt,
    UserIdType,
    normalize_exam_name,
)

logger = logging.getLogger(__name__)
Status = ExamResult.Status
Outcome = SyncAttempt.Outcome
ENGINE = ExamResultChange.Source.ENGINE

PUMP_LOCK = "hp:delivery:pump"
PUMP_AGAIN = "hp:delivery:pump-again"
WAKEUP = "hp:delivery:wakeup"
SWEEP_LOCK = "hp:delivery:sweep"
PUMP_LOCK_SECONDS = 5


def _seconds(value: float) -> dt.timedelta:
    return dt.timedelta(seconds=value)


def _backoff(attempts: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter in its upper half, capped."""
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return delay * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security


# --- the pump -------------------------------------------------------------------


def _due_pending() -> Any:
    redispatch = _seconds(settings.DELIVERY_REDISPATCH_AFTER_SECONDS)
    return ExamResult.objects.filter(status=Status.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=Now()),
        Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=Now() - redispatch),
    )


def dispatch_due(*, limit: int | None = None) -> int:
    """Hand due pending rows to workers, as many as there are permits for.

    One pump runs at a time. A caller that finds it running flags "go round again"
    and tries the lock once more, and the running pump looks at the flag after
    releasing the lock, so no request to pump is lost between the two.
    Returns how many rows were dispatched.
    """
    dispatched = 0
    while True:
        # Short-lived: a pump killed with its worker must not stall delivery long.
        if not cache.add(PUMP_LOCK, "1", timeout=PUMP_LOCK_SECONDS):
            cache.set(PUMP_AGAIN, "1", timeout=PUMP_LOCK_SECONDS * 2)
            if not cache.add(PUMP_LOCK, "1", timeout=PUMP_LOCK_SECONDS):
                return dispatched
        try:
            cache.delete(PUMP_AGAIN)
            dispatched += _pump(limit=None if limit is None else limit - dispatched)
        finally:
            cache.delete(PUMP_LOCK)
        if not cache.get(PUMP_AGAIN) or (limit is not None and dispatched >= limit):
            return dispatched


def _pump(*, limit: int | None) -> int:
    from .tasks import deliver_exam_result_task, upload_exam_report_task

    dispatched = 0
    while True:
        wait = breaker.paused_for(take_probe=False)
        if wait is not None:
            schedule_wakeup(wait)
            return dispatched
        free, wait = get_limiter().available("exams")
        probing = breaker.half_open()
        if probing:
            # One row goes out as the probe; the rest wait for its answer.
            free = min(free, 1)
        if not free:
            if _due_pending().exists():
                schedule_wakeup(wait)
            else:
                _wake_when_next_due(not_before=wait)
            return dispatched
        batch = min(free, settings.DELIVERY_DISPATCH_BATCH)
        if limit is not None:
            batch = min(batch, limit - dispatched)
        if batch <= 0:
            return dispatched
        rows = list(
            _due_pending()
            .order_by(F("next_attempt_at").asc(nulls_first=True), "id")
            .values_list("pk", "report", "uuid")[:batch]
        )
        if not rows:
            _wake_when_next_due()
            return dispatched
        ExamResult.objects.filter(pk__in=[r[0] for r in rows]).update(
            dispatched_at=Now()
        )
        for pk, report, attachment_id in rows:
            task = (
                upload_exam_report_task
                if report and not attachment_id
                else deliver_exam_result_task
            )
            task.delay(pk)
        dispatched += len(rows)
        if probing or len(rows) < batch:
            if not probing:
                _wake_when_next_due()
            return dispatched


def _wake_when_next_due(*, not_before: float = 0.0) -> None:
    """Rows deferred to a later time (no permit then, a backoff, a 429's reset)
    need the pump at that time, not at the next sweep."""
    wait = (
        ExamResult.objects.filter(status=Status.PENDING, next_attempt_at__gt=Now())
        .annotate(wait=F("next_attempt_at") - Now())  # the database's clock
        .order_by("next_attempt_at")
        .values_list("wait", flat=True)
        .first()
    )
    if wait is not None:
        schedule_wakeup(max(wait.total_seconds(), not_before))


def schedule_wakeup(seconds: float) -> None:
    """Run the pump again when permits free (or a pause ends), once for everyone."""
    from .tasks import dispatch_due_task

    seconds = max(0.05, min(seconds, settings.DELIVERY_SWEEP_INTERVAL_SECONDS))
    # One message per tenth of a second, however many rows ask for it. One key for
    # every wakeup lost them: a wakeup set for one time swallowed a request for a
    # later one, and a pump woken before the key expired could not set the next.
    slot = math.ceil((time.time() + seconds) * 10)
    if cache.add(f"{WAKEUP}:{slot}", "1", timeout=int(seconds) + 2):
        dispatch_due_task.apply_async(countdown=max(0.0, slot / 10 - time.time()))


def request_dispatch(result_ids: list[int]) -> None:
    """After commit: results became pending. One message runs the pump; when the
    broker is down, the rows wait for the sweeper, nothing is lost."""
    from .tasks import dispatch_due_task

    try:
        dispatch_due_task.delay()
    except Exception:  # any broker failure: the sweeper recovers
        logger.warning(
            "broker unreachable: %d results stay pending for the sweeper",
            len(result_ids),
            exc_info=True,
        )


# --- claim, send, record --------------------------------------------------------


@dataclass
class Claim:
    result: ExamResult
    token: uuid.UUID


def _defer(result_id: int, seconds: float) -> None:
    """Not now (no permit, or delivery paused): due again later, no attempt spent."""
    ExamResult.objects.filter(pk=result_id, status=Status.PENDING).update(
        next_attempt_at=Now() + _seconds(seconds), dispatched_at=None
    )
    schedule_wakeup(seconds)


def _claim(result_id: int, lease_seconds: float) -> Claim | None:
    token = uuid.uuid4()
    with transaction.atomic():
        claimed = (
            ExamResult.objects.filter(pk=result_id, status=Status.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=Now()))
            ._update_unrecorded(
                status=Status.SENDING,
                lease_token=token,
                lease_expires_at=Now() + _seconds(lease_seconds),
                dispatched_at=None,
                attempts=F("attempts") + 1,
            )
        )
        if not claimed:
            return None
        history.record_changes(
            [(result_id, {"status": [Status.PENDING, Status.SENDING]})],
            actor=None,
            source=ENGINE,
        )
    return Claim(ExamResult.objects.get(pk=result_id), token)


def _permit_and_claim(result_id: int, *, api: str, lease_seconds: float) -> Claim | str:
    """The breaker, then a permit for ``api``, then the claim: a Claim, or why not
    now (the row deferred without spending an attempt)."""
    wait = breaker.paused_for()
    if wait is not None:
        _defer(result_id, wait)
        return "paused"
    wait = get_limiter().acquire(api)
    if wait:
        _defer(result_id, wait)
        return "deferred"
    claim = _claim(result_id, lease_seconds)
    return claim if claim is not None else "not due"


def _finish(claim: Claim, **values: Any) -> bool:
    """Write an outcome if the row is still ours; False when the claim was lost."""
    result = claim.result
    with transaction.atomic():
        updated = ExamResult.objects.filter(
            pk=result.pk, status=Status.SENDING, lease_token=claim.token
        )._update_unrecorded(lease_token=None, lease_expires_at=None, **values)
        if not updated:
            logger.warning(
                "late answer ignored: the claim was lost",
                extra={"result_id": result.pk},
            )
            return False
        diff = {
            name: [getattr(result, name), value]
            for name, value in values.items()
            if name in ExamResult.TRACKED_FIELDS
            and history.plain(getattr(result, name)) != history.plain(value)
        }
        history.record_changes([(result.pk, diff)], actor=None, source=ENGINE)
    return True


def _record_attempt(
    claim: Claim, call: str, body: bytes, lease_seconds: float
) -> SyncAttempt | None:
    """Record the attempt and renew the lease in one transaction, just before the
    request leaves. None when the claim was lost meanwhile: then nothing is sent."""
    with transaction.atomic():
        renewed = ExamResult.objects.filter(
            pk=claim.result.pk, status=Status.SENDING, lease_token=claim.token
        ).update(lease_expires_at=Now() + _seconds(lease_seconds))
        if not renewed:
            return None
        return SyncAttempt.objects.create(
            result_id=claim.result.pk,
            call=call,
            request_body=body.decode(),
            lease_token=claim.token,
        )


def _complete_attempt(
    attempt: SyncAttempt,
    started: float,
    outcome: str,
    *,
    error: FeishuError | None = None,
    http_status: int | None = None,
    log_id: str = "",
    response_body: str = "",
    code: int | None = None,
    msg: str = "",
) -> None:
    if error is not None:
        http_status = error.http_status
        code = error.code
        msg = error.msg
        log_id = error.log_id or ""
        response_body = error.response_body or ""
    SyncAttempt.objects.filter(pk=attempt.pk).update(
        duration_ms=int((time.monotonic() - started) * 1000),
        http_status=http_status,
        feishu_code=code,
        feishu_msg=msg[:2000],
        log_id=log_id[:128],
        response_body=response_body,
        outcome=outcome,
    )


def staff_message(error: FeishuError) -> str:
    """What a failure means, in words staff understand; Feishu's own message is
    kept as Feishu sent it."""
    if isinstance(error, ParameterError):
        return _(
            "Feishu refused the result as invalid (parameter error 1002002): "
            "“%(msg)s”. Check the application ID, exam name, score and operator, "
            "then send again."
        ) % {"msg": error.msg}
    if isinstance(error, MissingScopeError):
        return _(
            "The Feishu app lacks the permission %(scopes)s. Grant it in the Feishu "
            "developer console (Permissions & Scopes) and publish a new app version; "
            "delivery resumes by itself."
        ) % {"scopes": ", ".join(error.scopes) or "hire:exam"}
    if isinstance(error, CredentialsError):
        return _(
            "Feishu refused the app's credentials: check FEISHU_APP_ID and "
            "FEISHU_APP_SECRET (and that the app is enabled). Delivery resumes by "
            "itself once they work."
        )
    if isinstance(error, RateLimitedError):
        return _("Feishu's rate limit was reached; the result is sent again later.")
    if isinstance(error, TokenError):
        return _(
            "Feishu did not issue a usable access token (%(msg)s): check that the app "
            "is enabled and its credentials are right. Delivery resumes by itself."
        ) % {"msg": error.msg}
    if error.retry == Retry.UNKNOWN:
        return _(
            "Feishu may or may not have recorded this result (%(msg)s). The portal "
            "checks Feishu before sending it again, so it is never recorded twice."
        ) % {"msg": error.msg}
    return _("Sending failed: %(msg)s. It is sent again later.") % {"msg": error.msg}


def _deployment_wide(error: FeishuError) -> bool:
    # TokenError: Feishu refuses even a freshly fetched token (a revoked app), or
    # the token endpoint itself fails: no row can be delivered until that changes.
    return isinstance(error, MissingScopeError | CredentialsError | TokenError)


def exam_result_deliver(*, result_id: int) -> str:
    """Deliver one result to Feishu. Returns what happened, for logs and tests."""
    result = (
        ExamResult.objects.filter(pk=result_id).only("status", "report", "uuid").first()
    )
    if result is None or result.status != Status.PENDING:
        return "not pending"
    if result.report and not result.uuid:
        return exam_result_upload_report(result_id=result_id)
    claim = _permit_and_claim(
        result_id, api="exams", lease_seconds=settings.DELIVERY_LEASE_SECONDS
    )
    if isinstance(claim, str):
        return claim
    result = claim.result
    if (
        result.user_id_type == UserIdType.OPEN_ID
        and result.operator_app_id != settings.FEISHU_APP_ID
    ):
        _finish(
            claim,
            status=Status.FAILED,
            last_error_code=None,
            last_error_message=_(
                "The operator's open_id belongs to the Feishu app %(old)s, but the "
                "portal now delivers with %(new)s: enter the operator again."
            )
            % {"old": result.operator_app_id, "new": settings.FEISHU_APP_ID},
        )
        return "failed"
    try:
        body = exam_body(
            result.application_id,
            result.exam_resource_name,
            result.score,
            result.operator_id,
            result.uuid or None,
        )
    except InvalidRequestError as error:
        _finish(claim, status=Status.FAILED, last_error_message=str(error.msg))
        return "failed"
    attempt = _record_attempt(
        claim, SyncAttempt.Call.CREATE_EXAM, body, settings.DELIVERY_LEASE_SECONDS
    )
    if attempt is None:
        return "claim lost"
    started = time.monotonic()
    try:
        created = get_client().create_exam(
            result.application_id,
            result.exam_resource_name,
            result.score,
            result.operator_id,
            user_id_type=result.user_id_type,
            uuid=result.uuid or None,
        )
    except FeishuError as error:
        return _failed(claim, attempt, started, error)
    except BaseException as error:
        # A soft time limit, a bug, a kill: the request may have left.
        unknown = OutcomeUnknownError(f"{type(error).__name__}: {error}")
        _failed(claim, attempt, started, unknown)
        raise
    _complete_attempt(
        attempt,
        started,
        Outcome.SUCCESS,
        http_status=created.http_status,
        log_id=created.log_id or "",
        response_body=created.response_body,
        code=0,
        msg="ok",
    )
    _finish(
        claim,
        status=Status.SYNCED,
        exam_id=created.exam_id,
        operate_time=created.operate_time,
        synced_at=Now(),
        last_log_id=created.log_id or "",
        last_error_code=None,
        last_error_message="",
        next_attempt_at=None,
        unknown_since=None,
    )
    if breaker.record_success():
        request_dispatch([])  # the probe succeeded: the paused rows go out now
    logger.info(
        "exam result delivered",
        extra={
            "result_id": result.pk,
            "attempt": attempt.pk,
            "exam_id": created.exam_id,
            "log_id": created.log_id,
        },
    )
    return "synced"


def _failed(
    claim: Claim, attempt: SyncAttempt, started: float, error: FeishuError
) -> str:
    result = claim.result
    if error.http_status is not None:
        breaker.record_answer()
    common = {"last_error_code": error.code, "last_log_id": (error.log_id or "")[:128]}
    log_extra = {
        "result_id": result.pk,
        "attempt": attempt.pk,
        "feishu_code": error.code,
        "log_id": error.log_id,
    }
    if isinstance(error, RateLimitedError):
        _complete_attempt(attempt, started, Outcome.RETRY, error=error)
        get_limiter().block("exams", error.reset_seconds)
        # Waiting out a 429 never counts as an attempt.
        _finish(
            claim,
            status=Status.PENDING,
            attempts=F("attempts") - 1,
            next_attempt_at=Now() + _seconds(error.reset_seconds),
            **common,
        )
        schedule_wakeup(error.reset_seconds)
        logger.warning("rate limited by Feishu", extra=log_extra)
        return "rate limited"
    if _deployment_wide(error):
        _complete_attempt(attempt, started, Outcome.PERMANENT, error=error)
        message = staff_message(error)
        breaker.trip(reason=message, code=error.code)
        _finish(
            claim,
            status=Status.PENDING,
            attempts=F("attempts") - 1,
            next_attempt_at=Now() + _seconds(settings.BREAKER_COOLDOWN_SECONDS),
            last_error_message=message,
            **common,
        )
        logger.error("delivery paused by a deployment-wide error", extra=log_extra)
        return "paused"
    if error.retry == Retry.PERMANENT:
        _complete_attempt(attempt, started, Outcome.PERMANENT, error=error)
        _finish(
            claim,
            status=Status.FAILED,
            last_error_message=staff_message(error),
            **common,
        )
        logger.warning("exam result refused by Feishu", extra=log_extra)
        return "failed"
    if error.retry == Retry.SAFE:
        _complete_attempt(attempt, started, Outcome.RETRY, error=error)
        attempts = result.attempts
        if attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            _finish(
                claim,
                status=Status.FAILED,
                last_error_message=_(
                    "Gave up after %(n)d attempts: %(msg)s. Fix the cause and send "
                    "again."
                )
                % {"n": attempts, "msg": error.msg},
                **common,
            )
            return "failed"
        delay = _backoff(
            attempts,
            settings.DELIVERY_BACKOFF_BASE_SECONDS,
            settings.DELIVERY_BACKOFF_CAP_SECONDS,
        )
        _finish(
            claim,
            status=Status.PENDING,
            next_attempt_at=Now() + _seconds(delay),
            last_error_message=staff_message(error),
            **common,
        )
        schedule_wakeup(delay)
        return "retry"
    # Outcome unknown: reconcile before anything is sent again.
    _complete_attempt(attempt, started, Outcome.UNKNOWN, error=error)
    _finish(
        claim,
        status=Status.UNKNOWN,
        unknown_since=Now(),
        next_attempt_at=Now() + _seconds(_settle_seconds()),
        last_error_message=staff_message(error),
        **common,
    )
    if error.http_status is None or error.http_status >= 500:
        breaker.record_server_failure(code=error.code, message=error.msg)
    logger.warning("delivery outcome unknown; will reconcile", extra=log_extra)
    return "unknown"


# --- report upload ----------------------------------------------------------------


def exam_result_upload_report(*, result_id: int) -> str:
    """Upload a result's report to get its attachment id, as a step of its own.

    Uploading again is harmless (an unused attachment creates no exam record), so
    any failure simply returns the row to pending with a backoff.
    """
    claim = _permit_and_claim(
        result_id,
        api="attachments",
        lease_seconds=settings.DELIVERY_UPLOAD_LEASE_SECONDS,
    )
    if isinstance(claim, str):
        return claim
    result = claim.result
    attempt = _record_attempt(
        claim,
        SyncAttempt.Call.UPLOAD_ATTACHMENT,
        f"report: {result.report.name}".encode(),
        settings.DELIVERY_UPLOAD_LEASE_SECONDS,
    )
    if attempt is None:
        return "claim lost"
    started = time.monotonic()
    try:
        with result.report.open("rb") as fh:
            attachment = get_client().upload_attachment(
                fh, filename=result.report.name.rsplit("/", 1)[-1]
            )
    except FeishuError as error:
        if isinstance(error, RateLimitedError):
            get_limiter().block("attachments", error.reset_seconds)
        if _deployment_wide(error):
            breaker.trip(reason=staff_message(error), code=error.code)
        permanent = isinstance(error, InvalidRequestError)
        _complete_attempt(
            attempt,
            started,
            Outcome.PERMANENT if permanent else Outcome.RETRY,
            error=error,
        )
        delay = _backoff(
            1,
            settings.DELIVERY_BACKOFF_BASE_SECONDS,
            settings.DELIVERY_BACKOFF_CAP_SECONDS,
        )
        _finish(
            claim,
            status=Status.FAILED if permanent else Status.PENDING,
            next_attempt_at=None if permanent else Now() + _seconds(delay),
            last_error_code=error.code,
            last_error_message=_("The report could not be uploaded: %(msg)s")
            % {"msg": error.msg},
        )
        return "failed" if permanent else "retry"
    except OSError as error:
        _complete_attempt(attempt, started, Outcome.PERMANENT, msg=str(error))
        _finish(
            claim,
            status=Status.FAILED,
            last_error_message=_("The report file cannot be read: %(error)s")
            % {"error": error},
        )
        return "failed"
    _complete_attempt(
        attempt,
        started,
        Outcome.SUCCESS,
        log_id=attachment.log_id or "",
        code=0,
        msg="ok",
    )
    _finish(claim, status=Status.PENDING, uuid=attachment.id, next_attempt_at=None)
    request_dispatch([result_id])
    return "uploaded"


# --- reconciliation -------------------------------------------------------------


def _settle_seconds(state: FeishuAppState | None = None) -> float:
    """How long after a create to wait before trusting tests/search's answer."""
    state = state or breaker.app_state()
    return max(settings.RECONCILE_SETTLE_SECONDS, 2 * state.observed_search_lag_seconds)


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
            synced_at__lt=Now() - _seconds(settle),
            sync_attempts__call=SyncAttempt.Call.CREATE_EXAM,
            sync_attempts__outcome=Outcome.SUCCESS,
        )
        .order_by("-synced_at")
        .first()
    )


def exam_results_reconcile(
    *,
    result_ids: Iterable[int],
    actor: Any = None,
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
    source = ExamResultChange.Source.BULK_ACTION if actor else ENGINE
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
    settle = _settle_seconds(state)
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
            _complete_attempt(attempt, started, Outcome.RETRY, error=error)
        _still_unknown(rows, actor=actor, source=source, force=force, why=error.msg)
        report.still_unknown += len(rows)
        return report

    trusted = _update_search_trust(state, probe, records)
    attempts_by_result = _unknown_attempt_starts([r.pk for r in rows])
    tolerance = _seconds(settings.RECONCILE_CLOCK_TOLERANCE_SECONDS)
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
        attempt_started = attempts_by_result.get(row.pk)
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
                last_error_message=_(
                    "Found in Feishu by reconciliation: the result was recorded once."
                ),
            )
            report.adopted += 1
        elif (
            not same
            and trusted
            and attempt_started is not None
            and now >= attempt_started + _seconds(settle)
        ):
            _update_row(
                row,
                actor=actor,
                source=source,
                status=Status.PENDING,
                unknown_since=None,
                next_attempt_at=None,
                dispatched_at=None,
                last_error_message=_(
                    "Feishu has no record of this result: it is sent again."
                ),
            )
            report.resend += 1
        elif not same and trusted and attempt_started is not None:
            ExamResult.objects.filter(pk=row.pk, status=Status.UNKNOWN).update(
                next_attempt_at=attempt_started + _seconds(settle)
            )
            report.still_unknown += 1
        else:
            if len(same) > 1:
                why = _("Feishu lists %(n)d matching records.") % {"n": len(same)}
            elif not trusted:
                why = _(
                    "tests/search has not been shown to list exams this portal "
                    "creates, so an empty answer proves nothing."
                )
            else:
                why = _("The matching record cannot be dated.")
            _still_unknown([row], actor=actor, source=source, force=force, why=why)
            report.still_unknown += 1
    if report.resend:
        request_dispatch([])
    return report


def exam_results_check_for(
    *, result_ids: list[int], user_id: int | None
) -> ReconcileReport:
    """Staff's "Check Feishu" on many results, in the background: reconcile them
    100 applications to a search, then tell the person who asked what was found."""
    from django.contrib.auth import get_user_model

    from . import alerts

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    total = ReconcileReport()
    for start in range(0, len(result_ids), 100):
        part = exam_results_reconcile(
            result_ids=result_ids[start : start + 100], actor=user, force=True
        )
        for name, value in part.as_dict().items():
            setattr(total, name, getattr(total, name) + value)
    alerts.check_finished(user=user, checked=len(result_ids), report=total)
    return total


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
    if age > settings.SEARCH_TRUST_GIVE_UP_SECONDS:
        values["search_lists_created"] = False
    FeishuAppState.objects.filter(pk=state.pk).update(**values)
    return False


def _unknown_attempt_starts(result_ids: list[int]) -> dict[int, dt.datetime]:
    """When each result's latest create call whose outcome is unknown began."""
    starts: dict[int, dt.datetime] = {}
    for result_id, started_at in (
        SyncAttempt.objects.filter(
            result_id__in=result_ids,
            call=SyncAttempt.Call.CREATE_EXAM,
            outcome__in=[Outcome.UNKNOWN, Outcome.IN_FLIGHT],
        )
        .order_by("result_id", "started_at")
        .values_list("result_id", "started_at")
    ):
        starts[result_id] = started_at
    return starts


def _update_row(row: ExamResult, *, actor: Any, source: str, **values: Any) -> None:
    history.update_recorded(
        ExamResult.objects.filter(pk=row.pk, status=row.status),
        actor=actor,
        source=source,
        **values,
    )


def _still_unknown(
    rows: list[ExamResult], *, actor: Any, source: str, force: bool, why: str
) -> None:
    now = timezone.now()
    give_up = _seconds(settings.RECONCILE_GIVE_UP_SECONDS)
    for row in rows:
        since = row.unknown_since or now
        checks = SyncAttempt.objects.filter(
            result=row, call=SyncAttempt.Call.SEARCH_TESTS
        ).count()
        if now - since > give_up:
            next_at = None
            message = _(
                "Outcome still unknown after checking Feishu for %(hours)d hours: %(why)s "
                "Look the result up in Feishu, then use “Mark as delivered” or "
                "“Resend anyway”."
            ) % {"hours": give_up.total_seconds() // 3600, "why": why}
        else:
            delay = _backoff(
                checks,
                settings.RECONCILE_BACKOFF_BASE_SECONDS,
                settings.RECONCILE_BACKOFF_CAP_SECONDS,
            )
            next_at = now + _seconds(delay)
            message = _(
                "Outcome unknown: %(why)s The portal checks Feishu again later and "
                "never sends it again on its own."
            ) % {"why": why}
        _update_row(row, actor=actor, source=source, last_error_message=message)
        ExamResult.objects.filter(pk=row.pk, status=Status.UNKNOWN).update(
            next_attempt_at=next_at
        )


# --- the sweeper ------------------------------------------------------------------


def sweep() -> dict[str, int]:
    """Recover whatever a lost message or a dead worker left behind. Runs on beat;
    one sweep at a time across every machine."""
    from .tasks import reconcile_exam_results_task

    if not cache.add(
        SWEEP_LOCK, "1", timeout=max(5, settings.DELIVERY_SWEEP_INTERVAL_SECONDS - 1)
    ):
        return {"skipped": 1}
    try:
        counts = {"reclaimed": 0, "to_reconcile": 0, "reconcile_batches": 0}
        batch = settings.DELIVERY_SWEEP_BATCH
        expired = list(
            ExamResult.objects.filter(
                status=Status.SENDING, lease_expires_at__lt=Now()
            ).values_list("pk", "lease_token")[:batch]
        )
        for pk, token in expired:
            counts["reclaimed"] += _reclaim(pk, token)
        due_unknown = list(
            ExamResult.objects.filter(
                status=Status.UNKNOWN,
                next_attempt_at__isnull=False,
                next_attempt_at__lte=Now(),
            )
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:batch]
        )
        counts["to_reconcile"] = len(due_unknown)
        for start in range(0, len(due_unknown), 100):
            reconcile_exam_results_task.delay(due_unknown[start : start + 100])
            counts["reconcile_batches"] += 1
        counts["dispatched"] = dispatch_due()
        return counts
    finally:
        cache.delete(SWEEP_LOCK)


def _reclaim(result_id: int, token: uuid.UUID | None) -> int:
    """An expired claim: if its request may have left, reconcile; else pending."""
    sent = SyncAttempt.objects.filter(
        result_id=result_id,
        lease_token=token,
        call=SyncAttempt.Call.CREATE_EXAM,
    ).exists()
    row = ExamResult.objects.get(pk=result_id)
    claim = Claim(row, token) if token else None
    if claim is None:
        return 0
    with transaction.atomic():
        if sent:
            SyncAttempt.objects.filter(
                result_id=result_id, lease_token=token, outcome=Outcome.IN_FLIGHT
            ).update(outcome=Outcome.UNKNOWN)
            done = _finish(
                claim,
                status=Status.UNKNOWN,
                unknown_since=Now(),
                next_attempt_at=Now() + _seconds(_settle_seconds()),
                last_error_message=_(
                    "The worker sending this result stopped before Feishu answered. "
                    "The portal checks Feishu before sending it again."
                ),
            )
        else:
            done = _finish(claim, status=Status.PENDING, dispatched_at=None)
    return int(done)


# --- staff's steering -------------------------------------------------------------


def exam_results_retry_now(*, queryset: Any, actor: Any) -> list[int]:
    """Pending results waiting for a backoff go out now."""
    ids = list(queryset.filter(status=Status.PENDING).values_list("pk", flat=True))
    ExamResult.objects.filter(pk__in=ids, status=Status.PENDING).update(
        next_attempt_at=None, dispatched_at=None
    )
    transaction.on_commit(lambda: request_dispatch(ids), robust=True)
    return ids


def exam_results_resend_anyway(*, queryset: Any, actor: Any) -> list[int]:
    """Staff decided: send results whose outcome is unknown again, accepting that
    Feishu may then hold the result twice."""
    ids = history.update_recorded(
        queryset.filter(status=Status.UNKNOWN),
        actor=actor,
        source=ExamResultChange.Source.BULK_ACTION,
        status=Status.PENDING,
        unknown_since=None,
        next_attempt_at=None,
        dispatched_at=None,
        last_error_message=_("Sent again by staff although the outcome was unknown."),
    )
    transaction.on_commit(lambda: request_dispatch(ids), robust=True)
    return ids


def exam_result_mark_delivered(*, result: ExamResult, exam_id: str, actor: Any) -> bool:
    """Staff found the result in Feishu: record its exam_id, ``synced``."""
    ids = history.update_recorded(
        ExamResult.objects.filter(pk=result.pk, status=Status.UNKNOWN),
        actor=actor,
        source=ExamResultChange.Source.ADMIN,
        status=Status.SYNCED,
        exam_id=exam_id,
        synced_at=Now(),
        unknown_since=None,
        next_attempt_at=None,
        last_error_message=_("Marked as delivered by staff, who found it in Feishu."),
    )
    return bool(ids)
