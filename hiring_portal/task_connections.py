"""Database connections in Celery tasks, kept as Django keeps them for requests.

Celery's Django fixup closes every database connection before and after each
task unless ``CELERY_DB_REUSE_MAX`` says otherwise (Celery 5.6 went back to that,
celery/celery#9824), so a worker opened a new PostgreSQL connection for every
task: most of the CPU of a task that runs one query (bench/task_overhead.py).

Tasks get Django's request lifecycle instead: ``close_old_connections()`` before
and after each task, which keeps a connection for ``CONN_MAX_AGE``, checks it
before its first use in a task (``CONN_HEALTH_CHECKS``: a database restarted
since is reconnected to, not failed on), and drops one that met an error or was
left inside a transaction. On SQLite (``CONN_MAX_AGE`` 0) every task still has a
connection of its own. A forked pool process still drops the connections it
inherited (the fixup does that whatever the setting)."""

from __future__ import annotations

from typing import Any

from celery import Celery, signals
from django.db import close_old_connections

# Tasks after which Celery's fixup closes the connections anyway: never, here.
NEVER = 10**12


def _close_old_connections(sender: Any = None, **kwargs: Any) -> None:
    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()


def install(app: Celery) -> None:
    app.conf.update({"CELERY_DB_REUSE_MAX": NEVER})
    signals.task_prerun.connect(_close_old_connections, weak=False)
    signals.task_postrun.connect(_close_old_connections, weak=False)
