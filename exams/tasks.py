"""Celery tasks: thin. Each takes ids, calls one service and returns."""

from __future__ import annotations

from celery import shared_task

from .importing import service as importing


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
