"""Feishu's events over the long connection (lark-oapi's ``ws.Client``), for a
self-built app behind a firewall: no public URL, outbound traffic only. The SDK
hands over its own event objects; they become the portal's events and go the
same way as the callback's (``events.event_accept``). A handler must return
within 3 s without raising, or Feishu pushes the event again: keeping it and
handing it to a worker is all it does."""

from __future__ import annotations

from typing import Any

import lark_oapi as lark
from django.conf import settings
from lark_oapi.api.hire.v1 import (
    P2HireApplicationDeletedV1,
    P2HireApplicationStageChangedV1,
)

from feishu.events import ApplicationsDeleted, StageChanged
from feishu.models import ms_to_datetime

from .events import event_accept


def from_sdk_stage_changed(data: P2HireApplicationStageChangedV1) -> StageChanged:
    event = data.event
    return StageChanged(
        event_id=str(data.header.event_id),
        application_id=str(event.application_id or "") if event else "",
        origin_stage_id=event.origin_stage_id if event else None,
        target_stage_id=event.target_stage_id if event else None,
        update_time=ms_to_datetime(event.update_time) if event else None,
    )


def from_sdk_deleted(data: P2HireApplicationDeletedV1) -> ApplicationsDeleted:
    event = data.event
    return ApplicationsDeleted(
        event_id=str(data.header.event_id),
        application_ids=tuple(
            str(i) for i in ((event.application_ids if event else None) or [])
        ),
    )


def on_stage_changed(data: P2HireApplicationStageChangedV1) -> None:
    event_accept(from_sdk_stage_changed(data))


def on_deleted(data: P2HireApplicationDeletedV1) -> None:
    event_accept(from_sdk_deleted(data))


def event_handler() -> Any:
    # Token and key are unused on the long connection: the SDK does no
    # decryption or verification there (feishu-candidates.md §8).
    return (
        lark.EventDispatcherHandler.builder("", "")
        .register_p2_hire_application_stage_changed_v1(on_stage_changed)
        .register_p2_hire_application_deleted_v1(on_deleted)
        .build()
    )


def long_connection_run() -> None:
    """Connect and receive until stopped (the SDK reconnects by itself)."""
    lark.ws.Client(
        settings.FEISHU_APP_ID,
        settings.FEISHU_APP_SECRET,
        event_handler=event_handler(),
        domain=settings.FEISHU_BASE_URL,
        log_level=lark.LogLevel.INFO,
    ).start()
