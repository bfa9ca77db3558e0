"""For bench/task_overhead.py's baseline: database connections in tasks as
Celery's Django fixup leaves them (closed before and after every task), undoing
hiring_portal/task_connections.py in each pool process. Installed by
bench/bench_settings.py only when ``BENCH_CELERY_FIXUP_AS_SHIPPED`` is set."""

from __future__ import annotations

from typing import Any

from celery import signals
from celery.fixups.django import DjangoFixup

from hiring_portal import task_connections


@signals.worker_process_init.connect(weak=False)
def _as_shipped(**kwargs: Any) -> None:
    from hiring_portal.celery import app

    for fixup in getattr(app, "_fixups", ()):  # Celery keeps its fixups there
        if isinstance(fixup, DjangoFixup):
            fixup.worker_fixup.db_reuse_max = None
    signals.task_prerun.disconnect(task_connections._close_old_connections)
    signals.task_postrun.disconnect(task_connections._close_old_connections)
