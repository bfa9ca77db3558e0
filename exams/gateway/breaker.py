"""The circuit breaker: deployment-wide trouble pauses delivery instead of failing
every row.

Bad app credentials, a missing scope, a revoked app, or a run of 1002001 / 5xx
answers open it: new sends stop, rows stay ``pending``, the admin says why and what
to fix. When the pause ends, one delivery goes through as a probe (half-open); its
success closes the breaker, another failure opens it again for longer.

The state is a row of ``FeishuAppState``, shared by every worker, compared with the
database's clock.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone

from ..models import FeishuAppState
from ..wording import stored

logger = logging.getLogger(__name__)


def app_state() -> FeishuAppState:
    state, _created = FeishuAppState.objects.get_or_create(
        app_id=settings.FEISHU_APP_ID
    )
    return state


def current_state() -> FeishuAppState | None:
    """The breaker as it stands (one read), for a caller that asks it twice."""
    return FeishuAppState.objects.filter(app_id=settings.FEISHU_APP_ID).first()


def is_clean(state: FeishuAppState | None) -> bool:
    """Closed, with no failure run to reset: a success has nothing to undo."""
    return state is None or (
        state.paused_since is None and not state.consecutive_failures
    )


class Unread(enum.Enum):
    """paused_for(state=UNREAD): the caller has not read the breaker; it reads it."""

    UNREAD = enum.auto()


UNREAD = Unread.UNREAD


def paused_for(
    *, take_probe: bool = True, state: FeishuAppState | Unread | None = UNREAD
) -> float | None:
    """Seconds until delivery may resume, or None when it may go ahead now.

    After a pause ends (half-open), only the caller that takes the probe goes
    ahead; ``take_probe=False`` asks without taking it (the pump, which then
    dispatches a single row to be that probe). ``state``: the breaker as this
    caller read it moments ago (``current_state()``), instead of reading it again.
    """
    if isinstance(state, Unread):
        state = current_state()
    if state is None or state.paused_since is None:
        return None
    now = timezone.now()
    if state.paused_until and state.paused_until > now:
        return (state.paused_until - now).total_seconds()
    if not take_probe:
        return None
    probe_key = f"hp:breaker-probe:{settings.FEISHU_APP_ID}"
    if cache.add(probe_key, "1", timeout=settings.DELIVERY_LEASE_SECONDS):
        return None
    return float(settings.DELIVERY_BREAKER_PROBE_WAIT_SECONDS)


def half_open(state: FeishuAppState | None) -> bool:
    """The pause is over but no call has succeeded since: probing. ``state``: the
    breaker as the caller read it (``current_state()``)."""
    return (
        state is not None
        and state.paused_since is not None
        and state.paused_until is not None
        and state.paused_until <= timezone.now()
    )


def trip(*, reason: str, code: int | None, cooldown: float | None = None) -> None:
    """Pause delivery for everyone, saying why."""
    state = app_state()
    now = timezone.now()
    if cooldown is None:
        # Each failed probe doubles the pause, up to the cap.
        previous = (
            (state.paused_until - state.paused_since).total_seconds()
            if state.paused_since and state.paused_until
            else 0
        )
        cooldown = min(
            max(settings.DELIVERY_BREAKER_COOLDOWN_SECONDS, previous * 2),
            settings.DELIVERY_BREAKER_MAX_COOLDOWN_SECONDS,
        )
    FeishuAppState.objects.filter(pk=state.pk).update(
        paused_until=now + dt.timedelta(seconds=cooldown),
        pause_reason=reason,
        pause_code=code,
        paused_since=state.paused_since or now,
        last_answer_at=Now(),
    )
    cache.delete(f"hp:breaker-probe:{settings.FEISHU_APP_ID}")
    logger.warning(
        "delivery paused",
        extra={"feishu_code": code, "reason": reason, "cooldown_s": cooldown},
    )


# When this process last tried to write "Feishu answered" (monotonic clock): a
# process that wrote it, or found another had, under ANSWERED_EVERY seconds ago
# skips even asking the shared cache (a round trip on every delivery otherwise).
_last_answer_write: dict[str, float] = {}
ANSWERED_EVERY = 5.0


def _due_locally(key: str) -> bool:
    now = time.monotonic()
    if now - _last_answer_write.get(key, -ANSWERED_EVERY) < ANSWERED_EVERY:
        return False
    _last_answer_write[key] = now
    return True


def record_success(*, was_clean: bool = False) -> bool:
    """A call succeeded: close the breaker and reset the failure run. True when
    this success ended a pause or a run of failures (the caller then restarts
    delivery).

    ``was_clean``: the caller read the breaker closed with no failure run just
    before its call (``is_clean``), so there is nothing to close: on that hot path
    only the "Feishu answered" time is written, at most every few seconds. (A
    failure another worker records in between is reset by the next success.)
    """
    closed = (
        0
        if was_clean
        else FeishuAppState.objects.filter(
            Q(app_id=settings.FEISHU_APP_ID),
            Q(paused_since__isnull=False) | Q(consecutive_failures__gt=0),
        ).update(
            paused_until=None,
            paused_since=None,
            pause_reason="",
            pause_code=None,
            consecutive_failures=0,
            last_answer_at=Now(),
            last_success_at=Now(),
        )
    )
    answered_key = f"hp:breaker-answered:{settings.FEISHU_APP_ID}"
    if (
        not closed
        and _due_locally(answered_key)
        and cache.add(answered_key, "1", timeout=ANSWERED_EVERY)
    ):
        now = timezone.now()
        app = FeishuAppState.objects.filter(app_id=settings.FEISHU_APP_ID)
        if not app.update(last_answer_at=now, last_success_at=now):
            FeishuAppState.objects.get_or_create(
                app_id=settings.FEISHU_APP_ID,
                defaults={"last_answer_at": now, "last_success_at": now},
            )
    return bool(closed)


def record_answer() -> None:
    """Feishu answered (even with an error): the dashboard shows it is reachable.
    Written at most every few seconds."""
    key = f"hp:breaker-answer:{settings.FEISHU_APP_ID}"
    if not (_due_locally(key) and cache.add(key, "1", timeout=5)):
        return
    state = FeishuAppState.objects.filter(app_id=settings.FEISHU_APP_ID)
    if not state.update(last_answer_at=Now()):
        app_state()


def record_server_failure(*, code: int | None, message: str) -> None:
    """A 1002001 / 5xx answer: a long enough run of them pauses delivery."""
    state = app_state()
    FeishuAppState.objects.filter(pk=state.pk).update(
        consecutive_failures=F("consecutive_failures") + 1, last_answer_at=Now()
    )
    state.refresh_from_db(fields=["consecutive_failures"])
    if state.consecutive_failures >= settings.DELIVERY_BREAKER_FAILURE_THRESHOLD:
        trip(
            reason=stored(
                "feishu.server_errors",
                count=state.consecutive_failures,
                feishu_msg=message,
            ),
            code=code,
        )


def pause_status() -> FeishuAppState | None:
    """The app's state while delivery is paused, for the admin; else None."""
    state = FeishuAppState.objects.filter(
        app_id=settings.FEISHU_APP_ID, paused_since__isnull=False
    ).first()
    return state
