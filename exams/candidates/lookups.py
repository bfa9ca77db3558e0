"""Background lookups of the candidates behind results, so pages never wait on
Feishu: a page asks for what it lacks (``applications_request_lookup``) and fills
in when a worker has read it (``candidate_applications_lookup``, at get_detail's
10 a second)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ..gateway import enqueue
from ..models import CandidateApplication, FeishuAppState
from .mirror import application_fetch_detail

logger = logging.getLogger(__name__)
ASK_AGAIN_AFTER = dt.timedelta(seconds=30)  # a lookup asked for and not yet done
BATCH = 100


def _valid(ids: Iterable[str]) -> list[str]:
    return sorted(
        {i for i in ids if i and i.isascii() and i.isdigit() and len(i) <= 19}
    )


def needs_lookup(
    mirror: CandidateApplication | None, *, now: dt.datetime, force: bool = False
) -> bool:
    """Whether a page showing this application should ask for it to be read."""
    if mirror is None:
        return True
    if (
        mirror.lookup_requested_at
        and mirror.lookup_requested_at > now - ASK_AGAIN_AFTER
    ):
        return False  # asked for a moment ago: the worker has it
    if force:
        return True
    max_age = dt.timedelta(seconds=settings.CANDIDATE_DETAIL_MAX_AGE_SECONDS)
    return mirror.detail_fetched_at is None or mirror.detail_fetched_at < now - max_age


def applications_request_lookup(
    application_ids: Iterable[str],
    *,
    known: dict[str, CandidateApplication] | None = None,
    force: bool = False,
) -> int:
    """Ask a worker to read these applications' candidates, unless they were read
    recently (or are being read). ``known``: the mirror rows the caller has
    already loaded, to spare a query. Returns how many were asked for."""
    ids = _valid(application_ids)
    if not ids:
        return 0
    now = timezone.now()
    if known is None:
        known = CandidateApplication.objects.in_bulk(ids, field_name="application_id")
    wanted = [i for i in ids if needs_lookup(known.get(i), now=now, force=force)]
    if not wanted:
        return 0
    missing = [i for i in wanted if i not in known]
    CandidateApplication.objects.bulk_create(
        [CandidateApplication(application_id=i) for i in missing],
        ignore_conflicts=True,
    )
    CandidateApplication.objects.filter(application_id__in=wanted).update(
        lookup_requested_at=now
    )
    try:
        for start in range(0, len(wanted), BATCH):
            enqueue.candidate_lookup(wanted[start : start + BATCH])
    except Exception:  # the broker is down: the next page view asks again
        logger.warning("broker unreachable: candidate lookups wait", exc_info=True)
        CandidateApplication.objects.filter(application_id__in=wanted).update(
            lookup_requested_at=None
        )
        return 0
    return len(wanted)


def candidate_applications_lookup(application_ids: list[str]) -> dict[str, int]:
    """Read each application with its candidate and job, as permits allow; what
    has no permit now is handed back to the queue for when one frees."""
    done = {"read": 0, "missing": 0, "failed": 0, "later": 0}
    ids = _valid(application_ids)
    for index, application_id in enumerate(ids):
        lookup = application_fetch_detail(application_id)
        if lookup.wait_seconds:
            rest = ids[index:]
            enqueue.candidate_lookup(rest, countdown=lookup.wait_seconds)
            done["later"] = len(rest)
            break
        if lookup.missing_scope:
            _remember_problem(lookup.missing_scope)
            done["failed"] += len(ids) - index
            break
        if lookup.mirror is None:
            done["failed"] += 1
            continue
        if lookup.mirror.exists is False:
            done["missing"] += 1
            continue
        done["read"] += 1
        if lookup.hidden_scopes:
            # Delivery does not need the talent or the job, but staff see no
            # names: the dashboard says which scope to grant.
            _remember_problem(lookup.hidden_scopes)
        else:
            lookup_problem_clear()
    return done


def _remember_problem(scopes: str) -> None:
    FeishuAppState.objects.update_or_create(
        app_id=settings.FEISHU_APP_ID,
        defaults={"lookup_problem": scopes, "lookup_problem_at": timezone.now()},
    )


def lookup_problem_clear() -> None:
    FeishuAppState.objects.filter(
        Q(app_id=settings.FEISHU_APP_ID) & ~Q(lookup_problem="")
    ).update(lookup_problem="", lookup_problem_at=None)
