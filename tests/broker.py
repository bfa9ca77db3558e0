"""A broker that is down, for tests: the Celery app pointed at a closed port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from celery import current_app


@contextmanager
def broker_down() -> Iterator[None]:
    app = current_app._get_current_object()
    saved = (app.conf.broker_url, app.conf.broker_transport_options)

    def reset() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app.conf.broker_transport_options = {}
    reset()
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = saved
        reset()
