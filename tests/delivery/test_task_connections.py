"""A worker keeps its database connection from task to task, as Django keeps one
from request to request (hiring_portal/task_connections.py): Celery's Django
fixup alone closes it before and after every task, and every task connected to
PostgreSQL anew."""

from __future__ import annotations

import pytest
from django.db import connection

from exams.gateway import enqueue
from tests.delivery.conftest import wait_until

TASKS = 30


def _sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        )
        return int(cursor.fetchone()[0])


def test_a_worker_connects_to_postgresql_once_not_once_a_task(start_worker):
    if connection.vendor != "postgresql":
        pytest.skip("sessions are counted by PostgreSQL")
    worker = start_worker(concurrency=1, beat=False)
    worker.wait_ready()
    before = _sessions()

    for _ in range(TASKS):
        enqueue.deliver([0])  # no such result: one read, then "not pending"

    wait_until(
        lambda: worker.output(tail=10**7).count("'not pending'") >= TASKS,
        what=f"{TASKS} tasks run",
    )
    # The pool process's one connection (made by its first task), and this
    # test's own reads; never one a task.
    assert _sessions() - before <= 3
