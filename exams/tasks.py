"""Celery tasks: thin. Each takes ids, calls one service, returns.

Delivery retries are not Celery's: transient failures are rescheduled through the
row's ``next_attempt_at`` (see exams.delivery), never as long countdowns that the
Redis broker would redeliver after its visibility timeout.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import delivery
from .importing import service as importing


@shared_task(ignore_result=True)
def deliver_exam_result_task(result_id: int) -> str:
    return delivery.exam_result_deliver(result_id=result_id)


@shared_task(
    ignore_result=True,
    soft_time_limit=settings.DELIVERY_UPLOAD_LEASE_SECONDS - 20,
    time_limit=settings.DELIVERY_UPLOAD_LEASE_SECONDS + 30,
)
def upload_exam_report_task(result_id: int) -> str:
    return delivery.exam_result_upload_report(result_id=result_id)


@shared_task(ignore_result=True)
def reconcile_exam_results_task(result_ids: list[int], force: bool = False) -> dict:
    return delivery.exam_results_reconcile(result_ids=result_ids, force=force).as_dict()


@shared_task(ignore_result=True)
def check_feishu_for_task(result_ids: list[int], user_id: int | None) -> dict:
    return delivery.exam_results_check_for(
        result_ids=result_ids, user_id=user_id
    ).as_dict()


@shared_task(ignore_result=True)
def dispatch_due_task() -> int:
    return delivery.dispatch_due()


@shared_task(ignore_result=True)
def sweep_task() -> dict:
    return delivery.sweep()


# An import of tens of thousands of rows runs in one transaction, so it has its own,
# longer time limit (see exams.importing.service.IMPORT_TIME_LIMIT).
@shared_task(
    ignore_result=True,
    soft_time_limit=importing.IMPORT_TIME_LIMIT,
    time_limit=importing.IMPORT_TIME_LIMIT + 60,
)
def import_batch_run_task(batch_id: int) -> None:
    importing.import_batch_run(batch_id=batch_id)


@shared_task(ignore_result=True)
def import_batches_expire_task() -> int:
    return importing.import_batches_expire()


@shared_task(ignore_result=True)
def alerts_check_task() -> dict:
    from . import alerts

    return alerts.alerts_check()
