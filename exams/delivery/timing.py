"""Durations and backoff, shared by the delivery engine's steps."""

from __future__ import annotations

import datetime as dt
import random


def seconds(value: float) -> dt.timedelta:
    return dt.timedelta(seconds=value)


def backoff(attempts: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter in its upper half, capped."""
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return delay * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security
