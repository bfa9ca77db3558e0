"""One rate limit for the whole deployment, per Feishu API and app.

Feishu allows 50 calls a second and 1,000 a minute per API and app. Every worker
process on every machine takes a permit here before it calls Feishu:

- with ``REDIS_URL``: sliding windows in Redis, checked and taken in one Lua script
  on Redis's own clock (``TIME``), so machines with different clocks agree;
- on the embedded default: the same windows in a file under ``var/``, guarded by an
  exclusive ``flock``, which holds across the processes of one machine.

``acquire()`` never waits: it grants a permit (0.0) or says how many seconds until
one frees, and the caller defers its work. A 429 from Feishu ``block()``s the API
for every worker until Feishu's reset time.

Redis may lose the windows (restarted without persistence, flushed, failed over to
a replica that had not caught up). The windows then look empty, and a portal that
believed them would send a minute's worth of calls at once: Feishu's 429s. So the
windows live beside a marker written when they were first made; a limiter that
finds the marker gone rebuilds them before granting anything (``_restore``): the
exam APIs from the attempts the database recorded in the last minute (every call
to them is recorded before it leaves), the application reads from the candidate
mirror's times, each plus a full last second for calls granted and not yet
recorded; the other APIs (matching, the worklist, identities), whose calls leave
no record, as if their last minute had been full: a minute's pause for them.

Each window is slightly longer than Feishu's (``FEISHU_RATE_WINDOW_MARGIN`` for the
second, ``FEISHU_RATE_MINUTE_WINDOW_MARGIN`` for the minute): two calls a window apart
here may arrive closer together there, by as much as a busy worker takes between its
permit and its request. A second of margin costs the minute window 1.6%; the second's
window is kept tight, since its margin costs a larger share.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Protocol

import redis
from django.conf import settings
from django.db.models import F
from django.db.models.functions import Now

from ..models import CandidateApplication, SyncAttempt

logger = logging.getLogger(__name__)

# Feishu's quotas are per API and app; each API here has its own windows. The
# hire exam APIs take FEISHU_RATE_PER_SECOND / FEISHU_RATE_PER_MINUTE; the others
# their documented limits (shared/feishu-candidates.md), (per second, per minute).
# FEISHU_RATE_LIMITS overrides any of them.
EXAM_APIS = ("exams", "attachments", "tests_search")
DOCUMENTED: dict[str, tuple[int, int]] = {
    "contact": (50, 1000),
    "application_get": (50, 1000),
    "application_detail": (10, 600),  # get_detail: 10/s (no minute limit given)
    "application_list": (50, 1000),
    "talent_batch_get_id": (50, 1000),
    "job_processes": (20, 1000),
}
APIS = (*EXAM_APIS, *DOCUMENTED)
# The candidate reads: a 429 on one costs a retry and nothing else, so their
# second window keeps a smaller margin (FEISHU_RATE_LOOKUP_WINDOW_MARGIN), which
# get_detail's 10 a second needs to stay near its limit.
LOOKUP_APIS = frozenset(DOCUMENTED) - {"contact"}
# The application reads whose calls the candidate mirror's times show.
MIRRORED = {"application_get": "checked_at", "application_detail": "detail_fetched_at"}


@dataclass(frozen=True)
class Limits:
    per_second: int
    per_minute: int
    margin: float  # seconds added to the 1 s window
    minute_margin: float = 1.0  # seconds added to the 60 s window

    @property
    def second_ms(self) -> int:
        return int((1 + self.margin) * 1000)

    @property
    def minute_ms(self) -> int:
        return int((60 + self.minute_margin) * 1000)


@dataclass(frozen=True)
class LimitTable:
    """Every API's limits (hashable, so one limiter serves a configuration)."""

    by_api: tuple[tuple[str, Limits], ...]

    def for_api(self, api: str) -> Limits:
        for name, limits in self.by_api:
            if name == api:
                return limits
        raise KeyError(f"no rate limit is known for the Feishu API {api!r}")

    @classmethod
    def from_settings(cls) -> LimitTable:
        headroom = settings.FEISHU_RATE_HEADROOM
        exam = (settings.FEISHU_RATE_PER_SECOND, settings.FEISHU_RATE_PER_MINUTE)
        raw = {
            **dict.fromkeys(EXAM_APIS, exam),
            **DOCUMENTED,
            **settings.FEISHU_RATE_LIMITS,
        }
        return cls(
            tuple(
                (
                    api,
                    Limits(
                        per_second=max(1, int(second * (1 - headroom))),
                        per_minute=max(1, int(minute * (1 - headroom))),
                        margin=settings.FEISHU_RATE_LOOKUP_WINDOW_MARGIN
                        if api in LOOKUP_APIS
                        else settings.FEISHU_RATE_WINDOW_MARGIN,
                        minute_margin=settings.FEISHU_RATE_MINUTE_WINDOW_MARGIN,
                    ),
                )
                for api, (second, minute) in sorted(raw.items())
            )
        )


class Limiter(Protocol):
    def acquire(self, api: str) -> float: ...

    def available(self, api: str) -> tuple[int, float]:
        """How many permits are free now, or (0, seconds until one frees)."""
        ...

    def block(self, api: str, seconds: float) -> None: ...


# The windows' state was lost (no marker): nothing is granted until it is rebuilt.
STATE_LOST = -1

_ACQUIRE = """
if redis.call('EXISTS', KEYS[5]) == 0 then return {-1, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per_second, per_minute = tonumber(ARGV[1]), tonumber(ARGV[2])
local second_ms, minute_ms = tonumber(ARGV[3]), tonumber(ARGV[4])
local take = ARGV[5] == '1'
local blocked = tonumber(redis.call('GET', KEYS[3]) or '0')
if blocked > now then return {0, blocked - now} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - second_ms)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - minute_ms)
local in_second = redis.call('ZCARD', KEYS[1])
local in_minute = redis.call('ZCARD', KEYS[2])
local free = math.min(per_second - in_second, per_minute - in_minute)
if not take and free > 0 then return {free, 0} end
if in_minute >= per_minute then
  local oldest = redis.call('ZRANGE', KEYS[2], in_minute - per_minute, in_minute - per_minute, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + minute_ms - now}
end
if in_second >= per_second then
  local oldest = redis.call('ZRANGE', KEYS[1], in_second - per_second, in_second - per_second, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + second_ms - now}
end
if not take then return {0, 1} end
local member = now .. ':' .. redis.call('INCR', KEYS[4])
redis.call('ZADD', KEYS[1], now, member)
redis.call('ZADD', KEYS[2], now, member)
redis.call('PEXPIRE', KEYS[1], second_ms * 2)
redis.call('PEXPIRE', KEYS[2], minute_ms * 2)
redis.call('PEXPIRE', KEYS[4], minute_ms * 2)
return {1, 0}
"""

_BLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 1000)
end
return until_ms
"""


# Rebuilds every API's windows at once, unless another process already did (the
# marker is set in the same script, so no permit is granted from half a state).
# ARGV[1]: the marker's value; ARGV[2]: a JSON list, in KEYS' order, of
# {"ages": [ms ago a call was made], "second_ms", "minute_ms", "block_ms"}.
_RESTORE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX') == false then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local plans = cjson.decode(ARGV[2])
for i, plan in ipairs(plans) do
  local base = 1 + (i - 1) * 4
  for j, age in ipairs(plan.ages) do
    local at = now - age
    local member = at .. ':restored:' .. j
    redis.call('ZADD', KEYS[base + 2], at, member)
    if age < plan.second_ms then redis.call('ZADD', KEYS[base + 1], at, member) end
  end
  redis.call('PEXPIRE', KEYS[base + 1], plan.second_ms * 2)
  redis.call('PEXPIRE', KEYS[base + 2], plan.minute_ms * 2)
  if plan.block_ms > 0 then
    redis.call('SET', KEYS[base + 3], now + plan.block_ms, 'PX', plan.block_ms + 1000)
  end
end
return 1
"""

# Seconds ago (on the database's clock) of each call to an API in the last
# ``within`` seconds, for the APIs whose every call the database records.
RecentCalls = Callable[[float], Mapping[str, Sequence[float]]]


def state_marker(app_id: str) -> str:
    """The key whose absence says an app's windows were lost."""
    return f"hp:limiter:{app_id}:state"


class RedisLimiter:
    def __init__(
        self,
        redis_url: str,
        app_id: str,
        limits: LimitTable,
        recent_calls: RecentCalls,
    ) -> None:
        self._redis = redis.Redis.from_url(redis_url)
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._block = self._redis.register_script(_BLOCK)
        self._restore_script = self._redis.register_script(_RESTORE)
        self._app_id = app_id
        self._limits = limits
        self._recent_calls = recent_calls
        self._marker = state_marker(app_id)

    def _keys(self, api: str) -> list[str]:
        base = f"hp:limiter:{self._app_id}:{api}"
        return [f"{base}:s", f"{base}:m", f"{base}:blocked", f"{base}:seq"]

    def _run(self, api: str, take: bool) -> tuple[int, int]:
        limits = self._limits.for_api(api)
        for _ in range(3):
            granted, wait_ms = self._acquire(
                keys=[*self._keys(api), self._marker],
                args=[
                    limits.per_second,
                    limits.per_minute,
                    limits.second_ms,
                    limits.minute_ms,
                    "1" if take else "0",
                ],
            )
            if int(granted) != STATE_LOST:
                return int(granted), int(wait_ms)
            self._restore()
        raise redis.RedisError("the limiter's windows could not be rebuilt")

    def _restore(self) -> None:
        """The windows were lost: rebuild them as the last minute may have been."""
        minute_ms = max(limits.minute_ms for _, limits in self._limits.by_api)
        recent = self._recent_calls(minute_ms / 1000)
        plans, keys = [], [self._marker]
        for api, limits in self._limits.by_api:
            if api in recent:
                # The calls recorded, and a full last second for any granted
                # but not recorded yet.
                ages = [int(age * 1000) for age in recent[api]]
                ages += [0] * limits.per_second
                block_ms = 0
            else:
                ages, block_ms = [], limits.minute_ms
            plans.append(
                {
                    "ages": ages,
                    "second_ms": limits.second_ms,
                    "minute_ms": limits.minute_ms,
                    "block_ms": block_ms,
                }
            )
            keys += self._keys(api)
        restored = self._restore_script(
            keys=keys, args=[uuid.uuid4().hex, json.dumps(plans)]
        )
        if restored:
            logger.warning(
                "the rate limiter's windows were missing (a new Redis, or one "
                "restarted, flushed or failed over); rebuilt from the calls the "
                "database recorded in the last minute",
                extra={"app_id": self._app_id},
            )

    def start_fresh(self) -> None:
        """Empty windows, known to be empty: for a Redis that never served this app
        (tests, a new deployment's first start by hand)."""
        keys = [k for api, _ in self._limits.by_api for k in self._keys(api)]
        self._redis.delete(*keys)
        self._redis.set(self._marker, uuid.uuid4().hex)

    def acquire(self, api: str) -> float:
        granted, wait_ms = self._run(api, take=True)
        return 0.0 if granted else max(wait_ms, 1) / 1000

    def available(self, api: str) -> tuple[int, float]:
        free, wait_ms = self._run(api, take=False)
        return (free, 0.0) if free > 0 and not wait_ms else (0, max(wait_ms, 1) / 1000)

    def block(self, api: str, seconds: float) -> None:
        self._block(keys=[self._keys(api)[2]], args=[int(seconds * 1000)])


class FileLimiter:
    """The same windows in a JSON file, for the processes of one machine."""

    def __init__(self, path: Path, limits: LimitTable) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._limits = limits

    def _with_state(
        self, api: str, take: bool, block: float = 0.0
    ) -> tuple[int, float]:
        limits = self._limits.for_api(api)
        second, minute = 1 + limits.margin, 60 + limits.minute_margin
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.read(fd, 1 << 20)
            state = json.loads(raw) if raw else {}
            now = time.time()
            entry = state.setdefault(api, {"stamps": [], "blocked": 0.0})
            stamps = [s for s in entry["stamps"] if s > now - minute]
            entry["stamps"] = stamps
            if block:
                entry["blocked"] = max(entry["blocked"], now + block)
            result: tuple[int, float]
            in_second = sum(1 for s in stamps if s > now - second)
            if entry["blocked"] > now:
                result = (0, entry["blocked"] - now)
            elif (
                not take
                and (
                    free := min(
                        limits.per_second - in_second, limits.per_minute - len(stamps)
                    )
                )
                > 0
            ):
                result = (free, 0.0)
            elif len(stamps) >= limits.per_minute:
                result = (0, stamps[len(stamps) - limits.per_minute] + minute - now)
            elif in_second >= limits.per_second:
                recent = [s for s in stamps if s > now - second]
                result = (0, recent[len(recent) - limits.per_second] + second - now)
            elif take:
                stamps.append(now)
                result = (1, 0.0)
            else:
                result = (0, 0.0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps(state).encode())
            return result
        finally:
            os.close(fd)  # closing releases the lock

    def acquire(self, api: str) -> float:
        granted, wait = self._with_state(api, take=True)
        return 0.0 if granted else max(wait, 0.001)

    def available(self, api: str) -> tuple[int, float]:
        free, wait = self._with_state(api, take=False)
        return (free, 0.0) if free > 0 and not wait else (0, max(wait, 0.001))

    def block(self, api: str, seconds: float) -> None:
        self._with_state(api, take=False, block=seconds)


def recorded_calls(within: float) -> dict[str, list[float]]:
    """Seconds ago (the database's clock) of the calls the database shows were made
    in the last ``within`` seconds: every exam API call, recorded as an attempt
    before it left; the application reads, by when the mirror says each
    application was last checked (``checked_at``) or read whole
    (``detail_fetched_at``). A read that failed, or a second read of one
    application within the minute, leaves no trace: the full last second the
    limiter adds covers a few."""
    since = Now() - timedelta(seconds=within)
    api_of: dict[str, str] = {
        SyncAttempt.Call.CREATE_EXAM: "exams",
        SyncAttempt.Call.UPLOAD_ATTACHMENT: "attachments",
        SyncAttempt.Call.SEARCH_TESTS: "tests_search",
    }
    calls: dict[str, list[float]] = {api: [] for api in (*EXAM_APIS, *MIRRORED)}
    attempts = (
        SyncAttempt.objects.filter(started_at__gt=since)
        .annotate(age=Now() - F("started_at"))
        .values_list("call", "age")
    )
    for call, age in attempts:
        calls[api_of[call]].append(max(0.0, age.total_seconds()))
    for api, field in MIRRORED.items():
        ages = (
            CandidateApplication.objects.filter(**{f"{field}__gt": since})
            .annotate(age=Now() - F(field))
            .values_list("age", flat=True)
        )
        calls[api] = [max(0.0, age.total_seconds()) for age in ages]
    return calls


@cache
def _limiter(redis_url: str, app_id: str, limits: LimitTable, var_dir: str) -> Limiter:
    if redis_url:
        return RedisLimiter(redis_url, app_id, limits, recorded_calls)
    return FileLimiter(Path(var_dir) / f"limiter-{app_id}.json", limits)


def limiter_start_fresh() -> None:
    """Tell the shared limiter its windows are empty, not lost: for a Redis that
    has just been emptied on purpose (tests, benchmarks), never after a fault."""
    limiter = get_limiter()
    if isinstance(limiter, RedisLimiter):
        limiter.start_fresh()


def get_limiter() -> Limiter:
    return _limiter(
        settings.REDIS_URL,
        settings.FEISHU_APP_ID,
        _limit_table(
            settings.FEISHU_RATE_HEADROOM,
            settings.FEISHU_RATE_PER_SECOND,
            settings.FEISHU_RATE_PER_MINUTE,
            tuple(sorted(settings.FEISHU_RATE_LIMITS.items())),
            settings.FEISHU_RATE_WINDOW_MARGIN,
            settings.FEISHU_RATE_LOOKUP_WINDOW_MARGIN,
            settings.FEISHU_RATE_MINUTE_WINDOW_MARGIN,
        ),
        str(settings.VAR_DIR),
    )


@cache
def _limit_table(*settings_it_reads: object) -> LimitTable:
    """``LimitTable.from_settings()``, made once for the settings it reads (the
    arguments) rather than on every permit taken."""
    return LimitTable.from_settings()
