"""A worker that loses its Redis broker while tasks run reconnects instead of dying.

With kombu 5.7's Redis transport, when the broker connection drops while messages
are unacknowledged (every task running, since tasks are acknowledged late), Celery
closes the connection to start again; closing the channel tries to put those
messages back on the broker it has just lost, after the connection's details were
already dropped: ``AttributeError: 'NoneType' object has no attribute 'hostname'``
(the message of kombu#582). That is not one of the connection errors Celery ignores
while reconnecting, so the worker stopped for good: "Unrecoverable error". The
chaos test (tests/delivery/test_chaos.py) shows it on every Redis restart under load.

Here the channel says what happened instead: the broker cannot be reached (a Redis
``ConnectionError``), which kombu ignores while closing, and Celery reconnects. The
messages not put back lose no work: each result's row is the record, and the
sweeper hands out again whatever a lost message held (exams.delivery.sweep).
"""

from __future__ import annotations

from typing import Any

import redis
from kombu.transport import redis as kombu_redis

# kombu's stubs (celery-types) leave out this private method.
Channel: Any = kombu_redis.Channel
_connparams = Channel._connparams


def _connparams_or_unreachable(self: Any, asynchronous: bool = False) -> Any:
    if self.connection is None or self.connection.client is None:
        raise redis.ConnectionError("the broker connection is already closed")
    return _connparams(self, asynchronous=asynchronous)


def install() -> None:
    """Once, in every process that loads the Celery app."""
    Channel._connparams = _connparams_or_unreachable
