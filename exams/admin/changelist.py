"""The pieces that keep the exam-result change list fast at a million rows."""

from __future__ import annotations

import re
from typing import Any

from asgiref.local import Local
from django.conf import settings
from django.contrib import admin
from django.contrib.postgres.expressions import ArraySubquery
from django.core import checks
from django.core.paginator import Paginator
from django.core.signals import request_finished, request_started
from django.db import connections, router
from django.db.models import BooleanField, F, Func, Q, QuerySet
from django.db.models.functions import Reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from ..models import CandidateApplication, ExamResult, normalize_exam_name


class CappedCountPaginator(Paginator):
    """Counts at most ``EXAMS_CHANGELIST_COUNT_LIMIT`` rows.

    A ``COUNT(*)`` over a million rows (or a broad filter) costs more than the page
    itself; past the cap the admin says "more than N" and staff narrow the filter.
    """

    # The limit must stay above the admin's list_per_page and list_max_show_all
    # (check_count_limit says so at startup): a capped count at or below them would
    # look like a short list, and the admin would read every matching row at once.

    # Only ever handed the change list's queryset.
    object_list: QuerySet[Any]

    @cached_property
    def count(self) -> int:
        limit = settings.EXAMS_CHANGELIST_COUNT_LIMIT
        counted = self.object_list.order_by()[: limit + 1].count()
        self.is_capped = counted > limit
        return min(counted, limit)

    is_capped = False


FULL_MOBILE_DIGITS = 11  # a mainland mobile, without +86
FULL_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class _EqualsAny(Func):
    """``column = ANY(ARRAY(SELECT ...))`` on PostgreSQL.

    ORed with the other branches of a search, ``IN (SELECT ...)`` becomes a hashed
    subplan that PostgreSQL can only test row by row: a scan of every result (2 s
    at a million). ``= ANY`` of an array the planner computes once is an index
    condition, so each branch keeps its index and a BitmapOr joins them.
    """

    arg_joiner = " = ANY("
    template = "%(expressions)s)"
    output_field = BooleanField()


def _candidates(db: str, condition: Q) -> Q:
    """Results whose application's candidate meets ``condition`` (found through
    the mirror's own indexes: trigram ones on PostgreSQL)."""
    matching = (
        CandidateApplication.objects.alias(reversed_name=Reverse("candidate_name"))
        .filter(condition)
        .values("application_id")
    )
    if connections[db].vendor == "postgresql":
        return Q(_EqualsAny(F("application_id"), ArraySubquery(matching)))
    return Q(application_id__in=matching)


def search_exam_results(
    queryset: QuerySet[ExamResult], term: str
) -> QuerySet[ExamResult]:
    """Digits look up ids (application id by prefix, exam_id exactly) through their
    indexes, and candidates' mobiles; an address searches candidates' emails;
    anything else searches exam names (a trigram index on PostgreSQL) and
    candidates' names (names of one or two characters by their beginning or end).

    A term with no run of three letters or digits ("笔试", "Go", "A卷") gives the
    trigram index nothing to look up: PostgreSQL would read every entry of it (2 s at
    a million rows). Such a term is matched against the few distinct exam names
    instead, and the rows are found through the exam_key index.
    """
    term = term.strip()
    if not term:
        return queryset
    db = queryset.db
    mobile = term.replace(" ", "").replace("-", "").removeprefix("+86")
    if mobile.isdigit():
        by_id = Q(application_id__startswith=mobile) | Q(exam_id=mobile)
        if len(mobile) >= FULL_MOBILE_DIGITS:
            by_id |= _candidates(db, Q(mobile_number=mobile))
        elif len(mobile) >= 4:  # a part, e.g. the last four of 138****5678
            by_id |= _candidates(db, Q(mobile_number__icontains=mobile))
        return queryset.filter(by_id)
    if "@" in term:
        # A whole address is looked up as one (an index), a part by trigrams:
        # every address shares "@example.com"'s, which match everyone.
        whole = FULL_EMAIL.fullmatch(term)
        return queryset.filter(
            _candidates(db, Q(email__iexact=term))
            if whole
            else _candidates(db, Q(email__icontains=term))
        )
    # A name of one or two characters (张伟, 思远) gives no trigram: it matches
    # names that begin or end with it (indexes on PostgreSQL: the surname with a
    # given name, or the given name alone), not every name holding it.
    by_name = _candidates(
        db,
        Q(candidate_name__icontains=term)
        if _has_trigram(term)
        else Q(candidate_name__startswith=term)
        | Q(reversed_name__startswith=term[::-1]),
    )
    if not _has_trigram(term):
        keys = distinct_exam_keys(MAX_EXAM_NAMES_LISTED + 1)
        if len(keys) <= MAX_EXAM_NAMES_LISTED:
            needle = normalize_exam_name(term).upper()
            return queryset.filter(
                Q(exam_key__in=[k for k in keys if needle in k.upper()]) | by_name
            )
    return queryset.filter(Q(exam_resource_name__icontains=term) | by_name)


def _has_trigram(term: str) -> bool:
    """Whether pg_trgm can take a trigram from ``%term%``: a word (letters and
    digits, CJK included) of at least three characters."""
    run = 0
    for char in term:
        run = run + 1 if char.isalnum() else 0
        if run >= 3:
            return True
    return False


# The distinct exam names, found by walking the exam_key index one name at a time
# (a "loose index scan"): as many index probes as there are names, whatever the
# number of rows, where SELECT DISTINCT would read the whole table.
_DISTINCT_EXAM_KEYS_SQL = """
WITH RECURSIVE names(k) AS (
    SELECT MIN(exam_key) FROM exams_examresult
    UNION ALL
    SELECT (SELECT MIN(e.exam_key) FROM exams_examresult e WHERE e.exam_key > names.k)
    FROM names WHERE names.k IS NOT NULL
)
SELECT k FROM names WHERE k IS NOT NULL LIMIT %s
"""
MAX_EXAM_NAMES_LISTED = 200


# Within a request the names are read once: the exam filter lists them and a short
# search matches them, one query for both.
_request = Local()


def _request_started(**kwargs: Any) -> None:
    _request.exam_keys = (0, [])
    _request.active = True


def _request_finished(**kwargs: Any) -> None:
    _request.exam_keys = (0, [])
    _request.active = False


request_started.connect(_request_started, dispatch_uid="exams_changelist_started")
request_finished.connect(_request_finished, dispatch_uid="exams_changelist_finished")


def distinct_exam_keys(limit: int = MAX_EXAM_NAMES_LISTED) -> list[str]:
    if not getattr(_request, "active", False):
        return _walk_exam_keys(limit)
    read_up_to, keys = _request.exam_keys
    if read_up_to < limit:
        read_up_to = max(limit, MAX_EXAM_NAMES_LISTED + 1)
        keys = _walk_exam_keys(read_up_to)
        _request.exam_keys = (read_up_to, keys)
    return keys[:limit]


def _walk_exam_keys(limit: int) -> list[str]:
    with connections[router.db_for_read(ExamResult)].cursor() as cursor:
        cursor.execute(_DISTINCT_EXAM_KEYS_SQL, [limit])
        return [row[0] for row in cursor.fetchall()]


class ExamNameFilter(admin.SimpleListFilter):
    title = _("exam")
    parameter_name = "exam"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [(key, key) for key in distinct_exam_keys()]

    def queryset(self, request: Any, queryset: QuerySet[ExamResult]) -> Any:
        if self.value():
            return queryset.filter(exam_key=self.value())
        return queryset


@checks.register(checks.Tags.admin)
def check_count_limit(app_configs: Any = None, **kwargs: Any) -> list[checks.Error]:
    model_admin = admin.site._registry.get(ExamResult)
    if model_admin is None:
        return []
    limit = settings.EXAMS_CHANGELIST_COUNT_LIMIT
    floor = max(model_admin.list_per_page, model_admin.list_max_show_all)
    if limit > floor:
        return []
    return [
        checks.Error(
            f"EXAMS_CHANGELIST_COUNT_LIMIT is {limit}: it must be greater than {floor}, "
            "the exam-result admin's list_per_page / list_max_show_all.",
            hint="At or below them a capped count looks like a short list and the "
            "change list reads every matching row at once.",
            id="exams.E101",
        )
    ]
