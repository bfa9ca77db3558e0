"""Celery tasks: thin. Each takes ids, calls the service it is named after, and
returns. Work is handed to them by name from one place, exams.gateway.enqueue.

Delivery retries are not Celery's: transient failures of Feishu are rescheduled
through the row's ``next_attempt_at`` (see exams.delivery), never as long countdowns
that the Redis broker would redeliver after its visibility timeout. What Celery
retries is the portal's own footing: a task sending one row that meets the database
or Redis restarting tries again within seconds (``OWN_FAULTS``), instead of leaving
its row to the sweeper's redispatch timeout. A retry is as safe as the first run:
the claim decides whether anything is sent, never the message.
"""

from __future__ import annotations

from typing import Any

import kombu.exceptions
import redis
from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from .audit.alerts import alerts_check, exam_results_check_feishu
from .candidates.events import event_handle, events_sweep
from .candidates.lookups import candidate_applications_lookup
from .candidates.worklist import worklist_poll
from .delivery.pump import exam_results_dispatch_due
from .delivery.reconcile import exam_results_reconcile
from .delivery.sending import exam_result_deliver, exam_results_deliver
from .delivery.sweep import delivery_sweep
from .delivery.upload import exam_result_upload_report
from .importing.service import (
    IMPORT_TIME_LIMIT,
    import_batch_match,
    import_batch_run,
    import_batches_expire,
    import_batches_sweep,
)

# The database or Redis (cache, limiter, broker) unreachable for a moment.
OWN_FAULTS = (
    OperationalError,
    InterfaceError,
    redis.ConnectionError,
    redis.TimeoutError,
    kombu.exceptions.OperationalError,
)
# 1, 2, 4, 8, 16, 30 s (each with jitter): about a minute, then the sweeper's turn.
RETRY_OWN_FAULTS: dict[str, Any] = {
    "autoretry_for": OWN_FAULTS,
    "max_retries": 6,
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "retry_jitter": True,
}


@shared_task(
    ignore_result=True,
    **RETRY_OWN_FAULTS,
    soft_time_limit=settings.DELIVERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.DELIVERY_TASK_TIME_LIMIT,
)
def exam_results_deliver_task(result_ids: list[int]) -> dict[str, int]:
    return exam_results_deliver(result_ids=result_ids)


# One row a message, as the pump sent them before it sent several in one: kept so
# that messages queued by a worker of the previous release are still delivered.
@shared_task(ignore_result=True, **RETRY_OWN_FAULTS)
def exam_result_deliver_task(result_id: int) -> str:
    return exam_result_deliver(result_id=result_id)


@shared_task(
    ignore_result=True,
    **RETRY_OWN_FAULTS,
    soft_time_limit=settings.DELIVERY_UPLOAD_LEASE_SECONDS - 20,
    time_limit=settings.DELIVERY_UPLOAD_LEASE_SECONDS + 30,
)
def exam_result_upload_report_task(result_id: int) -> str:
    return exam_result_upload_report(result_id=result_id)


@shared_task(ignore_result=True)
def exam_results_reconcile_task(result_ids: list[int]) -> dict[str, int]:
    return exam_results_reconcile(result_ids=result_ids).as_dict()


@shared_task(ignore_result=True)
def exam_results_check_feishu_task(
    result_ids: list[int], user_id: int | None
) -> dict[str, int]:
    return exam_results_check_feishu(result_ids=result_ids, user_id=user_id).as_dict()


@shared_task(ignore_result=True)
def exam_results_dispatch_due_task() -> int:
    return exam_results_dispatch_due()


@shared_task(ignore_result=True)
def delivery_sweep_task() -> dict[str, int]:
    return delivery_sweep()


# An import of tens of thousands of rows runs in one transaction, so it has its own,
# longer time limit.
@shared_task(
    ignore_result=True,
    soft_time_limit=IMPORT_TIME_LIMIT,
    time_limit=IMPORT_TIME_LIMIT + 60,
)
def import_batch_run_task(batch_id: int) -> None:
    import_batch_run(batch_id=batch_id)


@shared_task(ignore_result=True)
def import_batches_expire_task() -> int:
    return import_batches_expire()


@shared_task(ignore_result=True)
def import_batches_sweep_task() -> dict[str, int]:
    return import_batches_sweep()


@shared_task(ignore_result=True)
def alerts_check_task() -> dict[str, Any]:
    return alerts_check()


@shared_task(ignore_result=True)
def candidate_applications_lookup_task(application_ids: list[str]) -> dict[str, int]:
    return candidate_applications_lookup(application_ids)


# Minutes of Feishu calls at its limits: on the default queue, beside imports,
# not in front of deliveries.
@shared_task(
    ignore_result=True,
    soft_time_limit=IMPORT_TIME_LIMIT,
    time_limit=IMPORT_TIME_LIMIT + 60,
)
def import_batch_match_task(batch_id: int) -> None:
    import_batch_match(batch_id=batch_id)


@shared_task(ignore_result=True)
def feishu_event_handle_task(event_id: str) -> str:
    return event_handle(event_id)


@shared_task(ignore_result=True)
def feishu_events_sweep_task() -> int:
    return events_sweep()


# Minutes at get_detail's 10 a second for a large worklist: the default queue.
@shared_task(
    ignore_result=True,
    soft_time_limit=IMPORT_TIME_LIMIT,
    time_limit=IMPORT_TIME_LIMIT + 60,
)
def worklist_poll_task() -> dict[str, object]:
    return worklist_poll().as_dict()
