"""The pieces that keep the exam-result change list fast at a million rows."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .models import ExamResult


class CappedCountPaginator(Paginator):
    """Counts at most ``EXAMS_CHANGELIST_COUNT_LIMIT`` rows.

    A ``COUNT(*)`` over a million rows (or a broad filter) costs more than the page
    itself; past the cap the admin says "more than N" and staff narrow the filter.
    """

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        limit = settings.EXAMS_CHANGELIST_COUNT_LIMIT
        counted = self.object_list.order_by()[: limit + 1].count()
        self.is_capped = counted > limit
        return min(counted, limit)

    is_capped = False


def search_exam_results(
    queryset: QuerySet[ExamResult], term: str
) -> QuerySet[ExamResult]:
    """Digits look up ids (application id by prefix, exam_id exactly) through their
    indexes; anything else searches exam names (a trigram index on PostgreSQL)."""
    term = term.strip()
    if not term:
        return queryset
    if term.isdigit():
        return queryset.filter(Q(application_id__startswith=term) | Q(exam_id=term))
    return queryset.filter(exam_resource_name__icontains=term)


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


def distinct_exam_keys(limit: int = MAX_EXAM_NAMES_LISTED) -> list[str]:
    with connection.cursor() as cursor:
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
