"""Feishu's throttle: a per-second and a per-minute cap per app and per API;
hitting either answers HTTP 429 with ``x-ogw-ratelimit-*`` headers."""

from __future__ import annotations

import time
from collections import deque


class SlidingWindows:
    """Sliding windows of 1 s and 60 s per key. Not thread-safe: the caller holds
    the sandbox's lock."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], deque[float]] = {}

    def clear(self) -> None:
        self._windows.clear()

    def admit(
        self, key: tuple[str, str], per_second: int, per_minute: int
    ) -> tuple[int, int] | None:
        """Count one request, or return ``(limit, reset_seconds)`` when it is
        refused. Refused requests do not count, so a client that waits out the
        reset header gets through."""
        now = time.monotonic()
        window = self._windows.setdefault(key, deque())
        while window and window[0] <= now - 60:
            window.popleft()
        in_last_second = 0
        oldest_in_second = now
        for stamp in reversed(window):
            if stamp <= now - 1:
                break
            in_last_second += 1
            oldest_in_second = stamp
        limit = reset = None
        if len(window) >= per_minute:
            limit, reset = per_minute, window[len(window) - per_minute] + 60 - now
        elif in_last_second >= per_second:
            limit, reset = per_second, oldest_in_second + 1 - now
        if limit is not None and reset is not None:
            return limit, max(1, int(reset + 0.999))
        window.append(now)
        return None
