"""The exam-result change list does a bounded amount of work whatever the table's size:
a constant number of queries per page, every count capped, every read LIMITed, no
DISTINCT over the table, and searches that go through the indexes meant for them.

bench/admin_changelist.py measures the same pages at a million rows."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from exams.admin import changelist
from exams.models import ExamResult

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

LIST_URL = reverse("admin:exams_examresult_changelist")
MAX_QUERIES = 10
PER_PAGE = 1  # fewer than any page kind finds below, so each of them paginates

NAMES = (
    "后端工程师笔试（A卷）",
    "前端工程师笔试",
    "量子计算研究员笔试",
    "Java Backend",
)

PAGES = {
    "plain": {},
    "status": {"status__exact": "failed"},
    "exam filter": {"exam": NAMES[0]},
    "date filter": {
        "created_at__gte": "2000-01-01 00:00:00+08:00",
        "created_at__lt": "2100-01-01 00:00:00+08:00",
    },
    "application id search": {"q": "68915652"},
    "exam id search": {"q": "7031822096580868398"},
    "name search": {"q": "量子计算"},
    "short name search": {"q": "笔试"},
    "page 2": {"p": "2"},
}

_BOUNDED_COUNT = re.compile(
    r"\bCOUNT\(\*\)\s+FROM\s+\(SELECT\b.*\bLIMIT\s+\d+\)\s*subquery", re.I | re.S
)


def unbounded_counts(queries: list[dict[str, str]]) -> list[str]:
    """Every COUNT that is not over a LIMITed subquery."""
    return [
        q["sql"]
        for q in queries
        if re.search(r"\bCOUNT\(", q["sql"], re.I)
        and not _BOUNDED_COUNT.search(q["sql"])
    ]


def unlimited_reads(queries: list[dict[str, str]]) -> list[str]:
    """Every query reading exam results that has no LIMIT of its own."""
    return [
        q["sql"]
        for q in queries
        if "exams_examresult" in q["sql"]
        and q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
        and not re.search(r"\bLIMIT\s+\d+(\s+OFFSET\s+\d+)?\s*$", q["sql"], re.I)
        and not _BOUNDED_COUNT.search(q["sql"])
    ]


def where_clause(sql: str) -> str:
    """The WHERE clause of the change list's page query (its select list names
    every column, so a search's lookups are told apart by the WHERE clause alone)."""
    return sql.split(" WHERE ", 1)[1] if " WHERE " in sql else ""


@pytest.fixture
def results(exam_result_factory, superuser):
    made = []
    for n, name in enumerate(NAMES * 2):
        made.append(
            exam_result_factory(
                application_id=str(6891565253964859661 + n),
                exam_resource_name=name,
                status=("failed", "draft", "synced")[n % 3],
                exam_id=str(7031822096580868396 + n) if n % 3 == 2 else "",
                entered_by=superuser,
            )
        )
    return made


@pytest.fixture
def small_pages(monkeypatch):
    model_admin = admin.site._registry[ExamResult]
    monkeypatch.setattr(model_admin, "list_per_page", PER_PAGE)
    monkeypatch.setattr(model_admin, "list_max_show_all", PER_PAGE + 1)


def page_queries(client, params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST_URL, params)
    assert response.status_code == 200, response
    return response, list(captured.captured_queries)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", ["superuser", "staff"])
def test_every_page_does_a_bounded_amount_of_work(
    client, request, results, small_pages, page, who
):
    client.force_login(request.getfixturevalue(who))
    response, queries = page_queries(client, PAGES[page])
    sql = "\n\n".join(q["sql"] for q in queries)
    cl = response.context["cl"]
    assert cl.result_list, f"{page} shows no result"
    assert len(queries) <= MAX_QUERIES, sql
    assert not unbounded_counts(queries), sql
    if cl.multi_page:
        # (A list that fits on one page is read whole: its count, exact below the
        # cap, bounds it.)
        assert not unlimited_reads(queries), sql
    else:
        assert page == "exam id search"
    assert "DISTINCT" not in sql.upper(), sql


def test_the_checks_catch_what_they_are_meant_to(results):
    """Django's own paginator counts the whole table; the checks must say so."""
    with CaptureQueriesContext(connection) as captured:
        assert Paginator(ExamResult.objects.all(), PER_PAGE).count == len(results)
        list(ExamResult.objects.all())
    assert len(unbounded_counts(captured.captured_queries)) == 1
    assert len(unlimited_reads(captured.captured_queries)) == 2


def test_past_the_count_limit_the_page_says_more_than_the_limit(
    client, superuser, results, small_pages, settings
):
    settings.EXAMS_CHANGELIST_COUNT_LIMIT = 3
    client.force_login(superuser)
    response, queries = page_queries(client, {})
    text = response.content.decode()
    assert "More than 3 results" in text
    assert response.context["cl"].paginator.is_capped
    assert any(re.search(r"LIMIT 4\)\s*subquery", q["sql"]) for q in queries)
    # Within the limit the exact number is shown.
    response, _ = page_queries(client, {"exam": NAMES[0]})
    assert not response.context["cl"].paginator.is_capped
    assert "2 exam results" in response.content.decode()


def test_a_count_limit_within_a_page_is_refused_at_startup(settings):
    settings.EXAMS_CHANGELIST_COUNT_LIMIT = 200
    assert [e.id for e in changelist.check_count_limit()] == ["exams.E101"]
    settings.EXAMS_CHANGELIST_COUNT_LIMIT = 10_000
    assert changelist.check_count_limit() == []


def _page_query(queries):
    (query,) = [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith("SELECT")
        and "exams_examresult" in q["sql"]
        and "COUNT(" not in q["sql"].upper()
        and '"exams_examresult"."application_id"' in q["sql"]
    ]
    return query


def test_a_digits_search_looks_up_ids_and_never_names(
    client, superuser, exam_result_factory
):
    by_prefix = exam_result_factory(application_id="2024000000000000001")
    by_exam_id = exam_result_factory(
        application_id="1000", status="synced", exam_id="2024"
    )
    exam_result_factory(application_id="1001", exam_resource_name="2024 校招笔试")
    exam_result_factory(application_id="1002", exam_id="12024")
    client.force_login(superuser)
    response, queries = page_queries(client, {"q": "2024"})
    assert {r.pk for r in response.context["cl"].result_list} == {
        by_prefix.pk,
        by_exam_id.pk,
    }
    where = where_clause(_page_query(queries))
    assert "application_id" in where
    assert "exam_id" in where
    assert "exam_resource_name" not in where
    # The ids by prefix, never a contains over the results; only candidates'
    # mobiles (in their own table, by its trigram index) are searched within.
    contains = [m.start() for m in re.finditer("%2024%", where)]
    assert contains
    assert all("mobile_number" in where[max(0, i - 120) : i] for i in contains)


def test_a_name_search_matches_part_of_a_name_whatever_the_case(
    client, superuser, exam_result_factory
):
    java = exam_result_factory(application_id="1", exam_resource_name="Java Backend")
    exam_result_factory(application_id="2", exam_resource_name="前端工程师笔试")
    client.force_login(superuser)
    response, queries = page_queries(client, {"q": "BACKEND"})
    assert [r.pk for r in response.context["cl"].result_list] == [java.pk]
    where = where_clause(_page_query(queries))
    # What the trigram index on PostgreSQL is built for.
    assert "exam_resource_name" in where


def test_a_term_too_short_for_trigrams_is_matched_against_the_exam_names(
    client, superuser, exam_result_factory
):
    quantum = exam_result_factory(application_id="1", exam_resource_name="量子计算笔试")
    go = exam_result_factory(application_id="2", exam_resource_name=" Go 笔试 ")
    exam_result_factory(application_id="3", exam_resource_name="Java Backend")
    client.force_login(superuser)

    def found(term):
        response, queries = page_queries(client, {"q": term})
        where = where_clause(_page_query(queries))
        assert "exam_key" in where
        assert "exam_resource_name" not in where
        return {r.pk for r in response.context["cl"].result_list}

    assert found("量子") == {quantum.pk}
    assert found("笔试") == {quantum.pk, go.pk}
    assert found("go") == {go.pk}
    assert found("Go 笔") == {go.pk}


def test_a_short_term_searches_names_directly_when_there_are_too_many_names(
    client, superuser, exam_result_factory, monkeypatch
):
    monkeypatch.setattr(changelist, "MAX_EXAM_NAMES_LISTED", 1)
    quantum = exam_result_factory(application_id="1", exam_resource_name="量子计算笔试")
    exam_result_factory(application_id="2", exam_resource_name="Java Backend")
    client.force_login(superuser)
    response, queries = page_queries(client, {"q": "量子"})
    assert [r.pk for r in response.context["cl"].result_list] == [quantum.pk]
    assert "exam_resource_name" in where_clause(_page_query(queries))


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("量子计算", True),
        ("abc", True),
        ("a-bcd", True),
        ("量子", False),
        ("Go 笔试", False),
        ("A卷", False),
        ("（）", False),
    ],
)
def test_which_terms_the_trigram_index_can_serve(term, expected):
    assert changelist._has_trigram(term) is expected


def test_the_exam_names_are_read_once_per_page(client, superuser, results):
    client.force_login(superuser)
    _, plain = page_queries(client, {})
    _, short_search = page_queries(client, {"q": "笔试"})
    walks = [q for q in short_search if "WITH RECURSIVE" in q["sql"].upper()]
    assert len(walks) == 1
    assert len(short_search) == len(plain)


def test_a_search_past_the_count_limit_says_more_than_the_limit(
    client, superuser, results, small_pages, settings
):
    settings.EXAMS_CHANGELIST_COUNT_LIMIT = 3
    client.force_login(superuser)
    response, _ = page_queries(client, {"q": "68915652"})
    text = response.content.decode()
    assert "More than 3 results (" in text  # beside the search box
    assert "3 results (" not in text.replace("More than 3 results (", "")
    response, _ = page_queries(client, {"q": "量子"})
    assert "2 results (" in response.content.decode()
