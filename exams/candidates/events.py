"""Feishu's events about applications, however they arrive: at the HTTP callback
(``/feishu/events/``) or over the long connection (``manage.py feishu_events``).

Both hand a parsed event to ``event_accept``, which keeps it once (by its
``event_id``: Feishu delivers at least once) and hands it to a worker, so
Feishu gets its answer well within the 3 s it waits. The worker
(``event_handle``) reads the application again into the mirror: a candidate
moved into a written-exam stage appears on the worklist, one that left (or was
terminated, or deleted) drops off, within seconds.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from feishu.events import (
    ApplicationsDeleted,
    EventRejected,
    OtherEvent,
    StageChanged,
    UrlVerification,
    parse_callback,
)

from ..gateway import enqueue
from ..models import CandidateApplication, FeishuEvent
from .mirror import application_fetch_detail

logger = logging.getLogger(__name__)
# A signed request older than this is a replay, not Feishu (its retries are
# signed anew).
MAX_REQUEST_AGE_SECONDS = 300
Event = StageChanged | ApplicationsDeleted | OtherEvent


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def callback_receive(raw_body: bytes, headers: Mapping[str, str]) -> Answer:
    """What the callback answers Feishu: the challenge when the URL is saved in
    the console, 200 for an event kept, 4xx for anything forged, tampered with,
    stale or replayed (which changes nothing)."""
    if settings.FEISHU_EVENT_MODE != "callback":
        return Answer(404, {"msg": "events are not received here"})
    encrypt_key = settings.FEISHU_ENCRYPT_KEY or None
    try:
        parsed = parse_callback(
            raw_body,
            headers,
            verification_token=settings.FEISHU_VERIFICATION_TOKEN,
            encrypt_key=encrypt_key,
        )
    except EventRejected as error:
        logger.warning("event refused", extra={"reason": error.reason})
        return Answer(400, {"msg": "refused"})
    if isinstance(parsed, UrlVerification):
        return Answer(200, {"challenge": parsed.challenge})
    stamp = headers.get("X-Lark-Request-Timestamp")
    if encrypt_key and stamp and _stale(stamp):
        logger.warning("event refused", extra={"reason": "stale timestamp"})
        return Answer(400, {"msg": "refused"})
    if not event_accept(parsed):
        return Answer(409, {"msg": "already received"})
    return Answer(200, {"msg": "ok"})


def _stale(stamp: str) -> bool:
    try:
        sent = float(stamp)
    except ValueError:
        return True
    return abs(time.time() - sent) > MAX_REQUEST_AGE_SECONDS


def _payload(event: Event) -> dict[str, Any]:
    if isinstance(event, StageChanged):
        return {
            "application_id": event.application_id,
            "origin_stage_id": event.origin_stage_id,
            "target_stage_id": event.target_stage_id,
        }
    if isinstance(event, ApplicationsDeleted):
        return {"application_ids": list(event.application_ids)}
    return {}


def _type(event: Event) -> str:
    if isinstance(event, StageChanged):
        return "hire.application.stage_changed_v1"
    if isinstance(event, ApplicationsDeleted):
        return "hire.application.deleted_v1"
    return event.event_type


def event_accept(event: Event) -> bool:
    """Keep ``event`` and hand it to a worker; False when it was received before."""
    try:
        with transaction.atomic():
            kept = FeishuEvent.objects.create(
                event_id=event.event_id,
                event_type=_type(event),
                payload=_payload(event),
            )
    except IntegrityError:
        return False
    if isinstance(event, OtherEvent):
        FeishuEvent.objects.filter(pk=kept.pk).update(handled_at=timezone.now())
        return True
    try:
        enqueue.event_handle(kept.event_id)
    except Exception:  # the broker is down: events_sweep hands it over later
        logger.warning("broker unreachable: an event waits", exc_info=True)
    return True


def event_handle(event_id: str) -> str:
    """Apply one event to the mirror (what the worker runs); once."""
    event = FeishuEvent.objects.filter(
        event_id=event_id, handled_at__isnull=True
    ).first()
    if event is None:
        return "done before"
    payload = event.payload
    if event.event_type == "hire.application.stage_changed_v1":
        application_id = str(payload.get("application_id") or "")
        if application_id:
            _read_now(application_id)
    elif event.event_type == "hire.application.deleted_v1":
        CandidateApplication.objects.filter(
            application_id__in=[str(i) for i in payload.get("application_ids") or []]
        ).update(exists=False, active=None, checked_at=timezone.now())
    FeishuEvent.objects.filter(pk=event.pk).update(handled_at=timezone.now())
    return "handled"


def _read_now(application_id: str) -> None:
    """Read the application into the mirror, waiting for get_detail's permit."""
    for _attempt in range(60):
        lookup = application_fetch_detail(application_id)
        if not lookup.wait_seconds:
            return
        time.sleep(lookup.wait_seconds)


def events_sweep(*, older_than_seconds: float = 30) -> int:
    """Hand over events whose message to a worker was lost."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    ids = list(
        FeishuEvent.objects.filter(
            handled_at__isnull=True, received_at__lt=cutoff
        ).values_list("event_id", flat=True)[:500]
    )
    for event_id in ids:
        enqueue.event_handle(event_id)
    return len(ids)
