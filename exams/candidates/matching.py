"""Matching an exam vendor's score sheet (name, email, mobile, score; no
application ID) to the right Feishu applications.

For the rows of a sheet (shared/feishu-candidates.md, "Sequences" (b)):

1. ``talents/batch_get_id`` by email, 100 addresses a call; then, for the rows
   still unmatched, by mobile, 100 numbers a call and one country code per call.
   Never emails and mobiles in one call: Feishu ANDs them.
2. each talent's applications (``GET /applications?talent_id=…``, all of them, so
   a terminated one can be named as the reason);
3. each application read into the mirror (get_detail: name, job, stage, active),
   unless the mirror read it recently.

The match is the one active application in a written-exam stage. Zero or
several, or a sheet name that differs from Feishu's, is for staff to decide. Each
call takes a permit of its API from the shared limiter and waits for one when
there is none; a 429 is waited out as Feishu says.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from feishu import FeishuError, MissingScopeError, RateLimitedError

from ..gateway.client import get_client
from ..gateway.limiter import get_limiter
from ..models import CandidateApplication
from ..wording import Message, message, renders
from .mirror import mirror_store_detail, mirror_store_missing

logger = logging.getLogger(__name__)
T = TypeVar("T")
TALENTS_PER_CALL = 100
# Country calling codes a "+" mobile may start with, longest first where they
# share digits (852 before 85…); without a 区号 column, +86 is assumed.
COUNTRY_CODES = ("852", "853", "886", "86", "1", "44", "65", "81", "82", "60", "61")

Progress = Callable[[int, int], None]


class MatchingError(Exception):
    """Feishu cannot be asked (the app lacks a scope): nothing can be matched.
    ``scopes`` names what the app lacks; ``str()`` says so in the reader's
    language."""

    def __init__(self, scopes: str) -> None:
        self.scopes = scopes
        super().__init__(scopes)

    def __str__(self) -> str:
        return str(message("import_file.lookup_scope", scopes=self.scopes))


def normalise_mobile(raw: str, code: str = "") -> tuple[str, str]:
    """(country code, number) of a mobile as staff write it: ``+86 139-0013-9002``,
    ``139 0013 9003``, ``008613800138001``. A 区号 column's ``code`` wins."""
    text = "".join(ch for ch in unicodedata.normalize("NFKC", raw) if ch not in " -()")
    code = code.strip().lstrip("+")
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("+"):
        digits = text[1:]
        prefix = code or next((c for c in COUNTRY_CODES if digits.startswith(c)), "")
        if prefix and digits.startswith(prefix):
            return prefix, digits[len(prefix) :]
        return code or "86", digits
    return code or "86", text


def same_name(sheet: str, feishu: str) -> bool:
    def key(name: str) -> str:
        return "".join(unicodedata.normalize("NFKC", name).split()).casefold()

    return key(sheet) == key(feishu)


@dataclass
class SheetRow:
    number: int
    name: str = ""
    email: str = ""
    mobile_code: str = ""
    mobile: str = ""


@dataclass
class Match:
    """What Feishu holds for one row: the application it is matched to, or why it
    is not (a code and what the message needs), with the candidates found."""

    status: str  # "matched", "pick" (staff decide) or "refused"
    application_id: str = ""
    by: str = ""  # "email" or "mobile"
    reason: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    candidates: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class Stats:
    calls: dict[str, int] = field(default_factory=dict)
    waited_429: int = 0

    def count(self, api: str) -> None:
        self.calls[api] = self.calls.get(api, 0) + 1


class _Feishu:
    """One call at a time through the shared limiter, waiting for permits."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats

    def call(self, api: str, send: Callable[[], T]) -> T:
        limiter = get_limiter()
        while True:
            wait = limiter.acquire(api)
            if wait:
                time.sleep(wait)
                continue
            self.stats.count(api)
            try:
                return send()
            except RateLimitedError as error:
                self.stats.waited_429 += 1
                limiter.block(api, error.reset_seconds)
                time.sleep(error.reset_seconds)
            except MissingScopeError as error:
                raise MatchingError(
                    ", ".join(error.scopes) or "hire:talent:readonly"
                ) from error


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _talents_by_email(feishu: _Feishu, emails: set[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for chunk in _chunks(sorted(emails), TALENTS_PER_CALL):
        for talent in feishu.call(
            "talent_batch_get_id",
            partial(get_client().find_talents, emails=chunk),
        ):
            if talent.email:
                found.setdefault(talent.email.lower(), []).append(talent.talent_id)
    return found


def _talents_by_mobile(
    feishu: _Feishu, mobiles: set[tuple[str, str]]
) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for code in sorted({c for c, _n in mobiles}):
        numbers = sorted(n for c, n in mobiles if c == code)
        for chunk in _chunks(numbers, TALENTS_PER_CALL):
            for talent in feishu.call(
                "talent_batch_get_id",
                partial(get_client().find_talents, mobiles=chunk, mobile_code=code),
            ):
                if talent.mobile_number:
                    number = normalise_mobile(talent.mobile_number, code)[1]
                    found.setdefault((code, number), []).append(talent.talent_id)
    return found


def _applications_of(feishu: _Feishu, talent_id: str) -> list[str]:
    ids: list[str] = []
    token: str | None = None
    while True:
        page = feishu.call(
            "application_list",
            partial(
                get_client().list_applications,
                talent_id=talent_id,
                active_status="3",
                page_token=token,
            ),
        )
        ids.extend(page.items)
        if not page.has_more:
            return ids
        token = page.page_token


def _mirror(
    feishu: _Feishu, application_id: str, now: dt.datetime
) -> CandidateApplication | None:
    max_age = dt.timedelta(seconds=settings.CANDIDATE_MAX_AGE_SECONDS)
    mirror = CandidateApplication.objects.filter(application_id=application_id).first()
    if (
        mirror
        and mirror.detail_fetched_at
        and mirror.detail_fetched_at >= now - max_age
    ):
        return mirror
    try:
        detail = feishu.call(
            "application_detail",
            lambda: get_client().get_application_detail(application_id),
        )
    except FeishuError as error:
        logger.warning(
            "application detail failed while matching",
            extra={"feishu_code": error.code, "log_id": error.log_id},
        )
        return mirror
    if detail is None:
        mirror_store_missing(application_id)
        return None
    return mirror_store_detail(detail)


def _candidate(mirror: CandidateApplication) -> dict[str, str]:
    return {
        "application_id": mirror.application_id,
        "name": mirror.candidate_name,
        "job": mirror.job_name,
        "stage_zh": mirror.stage_name_zh,
        "stage_en": mirror.stage_name_en,
    }


def _decide(row: SheetRow, by: str, mirrors: list[CandidateApplication]) -> Match:
    value = row.email if by == "email" else f"+{row.mobile_code} {row.mobile}"
    if not mirrors:
        return Match("refused", by=by, reason="not_found", params={"value": value})
    active = [m for m in mirrors if m.active]
    in_exam = [m for m in active if m.in_written_exam]
    name = mirrors[0].candidate_name
    if not in_exam:
        if active:
            return Match(
                "refused",
                by=by,
                reason="not_in_stage",
                params={"name": name, **_candidate(active[0])},
                candidates=[_candidate(m) for m in active],
            )
        ended = mirrors[0]
        return Match(
            "refused",
            by=by,
            reason="terminated",
            params={
                "name": name,
                "reason_zh": ended.termination_reason_zh,
                "reason_en": ended.termination_reason_en,
            },
        )
    candidates = [_candidate(m) for m in in_exam]
    if len(in_exam) > 1:
        return Match(
            "pick",
            by=by,
            reason="several",
            params={"name": name, "count": len(in_exam)},
            candidates=candidates,
        )
    if row.name and name and not same_name(row.name, name):
        return Match(
            "pick",
            by=by,
            reason="name_differs",
            params={"sheet": row.name, "feishu": name, "value": value},
            candidates=candidates,
        )
    return Match("matched", application_id=in_exam[0].application_id, by=by)


def sheet_rows_match(
    rows: list[SheetRow], *, progress: Progress | None = None
) -> tuple[dict[int, Match], Stats]:
    """Match each row to its application; one :class:`Match` per row number."""
    stats = Stats()
    feishu = _Feishu(stats)
    now = timezone.now()
    by_email = _talents_by_email(feishu, {r.email.lower() for r in rows if r.email})
    talents: dict[int, tuple[str, list[str]]] = {}
    unmatched: list[SheetRow] = []
    for row in rows:
        found = by_email.get(row.email.lower()) if row.email else None
        if found:
            talents[row.number] = ("email", found)
        else:
            unmatched.append(row)
    by_mobile = _talents_by_mobile(
        feishu, {(r.mobile_code, r.mobile) for r in unmatched if r.mobile}
    )
    for row in unmatched:
        found = by_mobile.get((row.mobile_code, row.mobile)) if row.mobile else None
        talents[row.number] = ("mobile" if row.mobile else "email", found or [])
    applications: dict[str, list[CandidateApplication]] = {}
    total = len(rows)
    matches: dict[int, Match] = {}
    for done, row in enumerate(rows, start=1):
        by, talent_ids = talents[row.number]
        mirrors: list[CandidateApplication] = []
        for talent_id in talent_ids:
            if talent_id not in applications:
                applications[talent_id] = [
                    m
                    for m in (
                        _mirror(feishu, application_id, now)
                        for application_id in _applications_of(feishu, talent_id)
                    )
                    if m is not None and m.exists is not False
                ]
            mirrors.extend(applications[talent_id])
        matches[row.number] = _decide(row, by, mirrors)
        if progress is not None:
            progress(done, total)
    return matches, stats


def match_refusal(match: dict[str, Any], *, unpicked: bool = False) -> Message:
    """Why a row was not matched (or was left unpicked), as a stored message."""
    return message(
        "candidates.match",
        reason=match.get("reason") or "",
        facts=match.get("params") or {},
        unpicked=unpicked,
    )


@renders("candidates.match")
def _match_words(params: Mapping[str, Any]) -> str:
    language = translation.get_language() or settings.LANGUAGE_CODE
    said = match_message(
        {"reason": params.get("reason"), "params": params.get("facts") or {}},
        language,
    )
    if not said:
        return _("The candidate was not looked up in Feishu.")
    if params.get("unpicked"):
        said += " " + _("No candidate was picked: the row is not imported.")
    return said


def match_message(match: dict[str, Any], language: str) -> str:
    """Why a row was not matched, or what staff must decide, in their language."""
    params = match.get("params") or {}
    reason = match.get("reason")
    zh = language.startswith("zh")
    if reason == "not_found":
        return _("No candidate in Feishu has %(value)s.") % {
            "value": params.get("value")
        }
    if reason == "terminated":
        why = (
            (params.get("reason_zh") if zh else params.get("reason_en"))
            or params.get("reason_zh")
            or params.get("reason_en")
            or _("no reason given")
        )
        return _("%(name)s's application was terminated: %(reason)s") % {
            "name": params.get("name") or _("The candidate"),
            "reason": why,
        }
    if reason == "not_in_stage":
        stage = (
            (params.get("stage_zh") if zh else params.get("stage_en"))
            or params.get("stage_zh")
            or params.get("stage_en")
        )
        return _("%(name)s is in stage %(stage)s, not a written exam.") % {
            "name": params.get("name") or _("The candidate"),
            "stage": stage,
        }
    if reason == "several":
        return _(
            "%(name)s has %(count)d applications in a written-exam stage: pick the "
            "one this score is for."
        ) % {"name": params.get("name"), "count": params.get("count", 0)}
    if reason == "name_differs":
        return (
            _(
                "The sheet says %(sheet)s, but Feishu has %(feishu)s for %(value)s: "
                "confirm it is the same person."
            )
            % params
        )
    return ""
