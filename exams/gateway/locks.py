"""Short locks shared by every process of the deployment (the pump, the sweeper).

A lock expires on its own, so a process killed while holding it cannot stall
delivery; releasing compares the holder's token first, so a holder that outlived
its lock never releases the next holder's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .client import shared_store

PREFIX = "delivery-lock:"


def lock_acquire(name: str, ttl_seconds: float) -> str | None:
    """The holder's token, or None when someone else holds the lock."""
    return shared_store().acquire_lock(PREFIX + name, ttl_seconds)


def lock_release(name: str, token: str) -> None:
    shared_store().release_lock(PREFIX + name, token)


@contextmanager
def lock_held(name: str, ttl_seconds: float) -> Iterator[bool]:
    """``with lock_held(...) as held:`` runs the body either way; ``held`` says
    whether this caller got the lock."""
    token = lock_acquire(name, ttl_seconds)
    try:
        yield token is not None
    finally:
        if token is not None:
            lock_release(name, token)
