"""Celery tasks: thin. Each takes ids, calls one service and returns."""

from __future__ import annotations

from celery import shared_task

# An import of tens of thousands of rows runs in one transaction: it needs longer
# than the default limit for delivery tasks (still below the broker's visibility
# timeout, so the message is never redelivered while the import runs).
IMPORT_TIME_LIMIT = 30 * 60


@shared_task(time_limit=IMPORT_TIME_LIMIT + 60, soft_time_limit=IMPORT_TIME_LIMIT)
def import_batch_run_task(batch_id: int) -> None:
    from .importing.service import import_batch_run

    import_batch_run(batch_id=batch_id)


@shared_task
def import_batches_expire_task() -> None:
    from .importing.service import import_batches_expire

    import_batches_expire()
