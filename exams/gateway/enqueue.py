"""The one place that hands work to Celery.

Tasks are sent by name, so nothing below ``exams.tasks`` imports it (the tasks
import the services; the services and the engine only know these names). Routing
(the ``feishu`` queue) comes from ``CELERY_TASK_ROUTES``, by the same names.

Every function here may raise when the broker is unreachable; callers that run
after a commit use ``after_commit`` or catch it, since the sweeper (and the
import sweep) pick up whatever a lost message left behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import redis
from celery import current_app
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

# Kept in the broker's own Redis database, beside its queues: gone with them.
BROKER_MARKER = "hp:broker:queues-since"

PREFIX = "exams.tasks."
DELIVER = PREFIX + "exam_results_deliver_task"
UPLOAD_REPORT = PREFIX + "exam_result_upload_report_task"
RECONCILE = PREFIX + "exam_results_reconcile_task"
CHECK_FEISHU = PREFIX + "exam_results_check_feishu_task"
DISPATCH_DUE = PREFIX + "exam_results_dispatch_due_task"
SWEEP = PREFIX + "delivery_sweep_task"
IMPORT_RUN = PREFIX + "import_batch_run_task"
IMPORTS_EXPIRE = PREFIX + "import_batches_expire_task"
IMPORTS_SWEEP = PREFIX + "import_batches_sweep_task"
ALERTS_CHECK = PREFIX + "alerts_check_task"
CANDIDATE_LOOKUP = PREFIX + "candidate_applications_lookup_task"
MATCH_RUN = PREFIX + "import_batch_match_task"
EVENT_HANDLE = PREFIX + "feishu_event_handle_task"


def _send(name: str, *args: object, countdown: float | None = None) -> None:
    current_app.send_task(name, args=list(args), countdown=countdown)


def deliver(result_ids: Sequence[int]) -> None:
    _send(DELIVER, list(result_ids))


def upload_report(result_id: int) -> None:
    _send(UPLOAD_REPORT, result_id)


def reconcile(result_ids: Sequence[int]) -> None:
    _send(RECONCILE, list(result_ids))


def check_feishu(result_ids: Sequence[int], user_id: int | None) -> None:
    _send(CHECK_FEISHU, list(result_ids), user_id)


def dispatch_due(*, countdown: float | None = None) -> None:
    _send(DISPATCH_DUE, countdown=countdown)


def sweep() -> None:
    _send(SWEEP)


def import_run(batch_id: int) -> None:
    _send(IMPORT_RUN, batch_id)


def candidate_lookup(
    application_ids: Sequence[str], *, countdown: float | None = None
) -> None:
    _send(CANDIDATE_LOOKUP, list(application_ids), countdown=countdown)


def match_run(batch_id: int) -> None:
    _send(MATCH_RUN, batch_id)


def event_handle(event_id: str) -> None:
    _send(EVENT_HANDLE, event_id)


def after_commit(send: Callable[[], None], *, what: str) -> None:
    """Send once the transaction commits; a broker that is down then is logged,
    not raised: the row that asked for the work is committed, and the sweepers
    pick it up."""

    def run() -> None:
        try:
            send()
        except Exception:  # any broker failure: the sweepers recover
            logger.warning(
                "broker unreachable: %s waits for the sweeper", what, exc_info=True
            )

    transaction.on_commit(run)


def broker_lost_messages() -> bool:
    """Whether the broker's queues may have been emptied since this was last asked:
    a Redis broker restarted without persistence, flushed or failed over takes its
    queued messages with it, and with them the rows the pump had handed out.

    A marker kept beside the queues vanishes with them; finding it gone says so
    (also on the very first ask, when re-dispatching costs a duplicate message at
    most). Other brokers (RabbitMQ's durable queues) keep their messages: False.
    """
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return False
    client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
    try:
        return bool(client.set(BROKER_MARKER, "1", nx=True))
    finally:
        client.close()
