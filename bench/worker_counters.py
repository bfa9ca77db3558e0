"""What a bench's workers count about themselves: the SQL queries each pool
process runs, added up in Redis after every task (``BENCH_QUERY_COUNTER``: the
key; the broker's Redis). Counted: every statement Django runs, and the
``SELECT 1`` of Django's connection health check (``CONN_HEALTH_CHECKS``), which
bypasses Django's cursor and would otherwise go unseen. Installed by bench/bench_settings.py only when asked,
so the portal's own processes never carry it."""

from __future__ import annotations

import os
from typing import Any

import redis
from celery.signals import task_postrun
from django.db.backends.signals import connection_created

_KEY = os.environ.get("BENCH_QUERY_COUNTER", "")
_counted = 0
_store: redis.Redis | None = None


def _count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    global _counted
    _counted += 1
    return execute(sql, params, many, context)


def _install(sender: Any, connection: Any, **kwargs: Any) -> None:
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)
    if not getattr(connection.is_usable, "counted", False):
        is_usable = connection.is_usable

        def counted_is_usable() -> bool:
            global _counted
            _counted += 1
            return bool(is_usable())

        counted_is_usable.counted = True  # type: ignore[attr-defined]
        connection.is_usable = counted_is_usable


def _flush(**kwargs: Any) -> None:
    global _counted, _store
    if _counted:
        if _store is None:
            _store = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
        _store.incrby(_KEY, _counted)
        _counted = 0


if _KEY:
    connection_created.connect(_install, weak=False)
    task_postrun.connect(_flush, weak=False)
