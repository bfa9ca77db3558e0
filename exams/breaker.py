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
import logging

from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.db.models.functions import Now
from django.utils import timezone

from .models import FeishuAppState

logger = logging.getLogger(__name__)


def app_state() -> FeishuAppState:
    state, _created = FeishuAppState.objects.get_or_create(
        app_id=settings.FEISHU_APP_ID
    )
    return state


def paused_for() -> float | None:
    """Seconds until delivery may resume, or None when it may go ahead now.

    After a pause ends, only one caller at a time is let through as the probe.
    """
    state = FeishuAppState.objects.filter(app_id=settings.FEISHU_APP_ID).first()
    if state is None or state.paused_since is None:
        return None
    now = timezone.now()
    if state.paused_until and state.paused_until > now:
        return (state.paused_until - now).total_seconds()
    probe_key = f"hp:breaker-probe:{settings.FEISHU_APP_ID}"
    if cache.add(probe_key, "1", timeout=settings.DELIVERY_LEASE_SECONDS):
        return None
    return float(settings.BREAKER_PROBE_WAIT_SECONDS)


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
            max(settings.BREAKER_COOLDOWN_SECONDS, previous * 2),
            settings.BREAKER_MAX_COOLDOWN_SECONDS,
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


def record_success() -> None:
    """A call succeeded: close the breaker and reset the failure run."""
    updated = FeishuAppState.objects.filter(app_id=settings.FEISHU_APP_ID).update(
        paused_until=None,
        paused_since=None,
        pause_reason="",
        pause_code=None,
        consecutive_failures=0,
        last_answer_at=Now(),
        last_success_at=Now(),
    )
    if not updated:
        app_state()
        record_success()


def record_server_failure(*, code: int | None, message: str) -> None:
    """A 1002001 / 5xx answer: a long enough run of them pauses delivery."""
    state = app_state()
    FeishuAppState.objects.filter(pk=state.pk).update(
        consecutive_failures=F("consecutive_failures") + 1, last_answer_at=Now()
    )
    state.refresh_from_db(fields=["consecutive_failures"])
    if state.consecutive_failures >= settings.BREAKER_FAILURE_THRESHOLD:
        trip(
            reason=(
                f"Feishu answered {state.consecutive_failures} times in a row with a "
                f"server error ({message}); delivery resumes by itself once Feishu "
                "answers normally again."
            ),
            code=code,
        )


def pause_status() -> FeishuAppState | None:
    """The app's state while delivery is paused, for the admin; else None."""
    state = FeishuAppState.objects.filter(
        app_id=settings.FEISHU_APP_ID, paused_since__isnull=False
    ).first()
    return state
