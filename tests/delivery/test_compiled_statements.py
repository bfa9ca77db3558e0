"""The engine's UPDATEs compiled once per shape (exams/models/statements.py): the
same SQL and parameters as the queryset they stand for, on either backend, with
each run's values filled in, NULLs compared as the ORM compares them, and an
expression's own value part of the shape; and the mirror's one-statement
upsert."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db.models import F, Q
from django.db.models.functions import Now

from exams.delivery.timing import seconds
from exams.models import CandidateApplication, ExamResult
from exams.models.recording import compiled_update
from exams.models.statements import Rows, upsert_one

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]
DUE = (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=Now()),)


def _plain(sql):
    """A value compared with an expression is parenthesised: ``= (%s)``."""
    return sql.replace("(%s)", "%s")


def _both(equal, values, where=()):
    cached = compiled_update(Rows(ExamResult, equal, where), values)
    queryset = ExamResult.objects.filter(*where).filter(**equal)
    return cached, compiled_update(queryset, values)


@pytest.mark.parametrize("run", range(3))
def test_a_cached_statement_is_the_querysets_with_this_runs_values(run):
    token = uuid.uuid4()
    equal = {
        "pk": 100 + run,
        "status": "pending",
        "score": Decimal(f"7{run}.5"),
        "uuid": "",
        "operator_app_id": f"cli_{run}",
    }
    values = {
        "status": "sending",
        "lease_token": token,
        "lease_expires_at": Now() + seconds(30),
        "attempts": F("attempts") + 1,
        "dispatched_at": None,
    }
    (sql, params), (orm_sql, orm_params) = _both(equal, values, DUE)
    assert (_plain(sql), params) == (_plain(orm_sql), orm_params)


def test_none_is_compared_with_is_null_and_written_as_null():
    (sql, params), (orm_sql, orm_params) = _both(
        {"pk": 1, "lease_token": None}, {"lease_token": None, "last_error_code": 5}
    )
    assert "IS NULL" in sql
    assert (_plain(sql), params) == (_plain(orm_sql), orm_params)
    # The same fields with a value: another shape, compared with "=".
    (sql, params), _ = _both(
        {"pk": 1, "lease_token": uuid.uuid4()}, {"lease_token": None}
    )
    assert "IS NULL" not in sql.split("WHERE", 1)[1]


def test_an_expressions_own_value_is_part_of_the_shape():
    first, _ = _both({"pk": 1}, {"next_attempt_at": Now() + seconds(10)})
    second, orm = _both({"pk": 1}, {"next_attempt_at": Now() + seconds(20)})
    assert first[1] != second[1]
    assert second[1] == orm[1]


def test_an_upsert_inserts_then_updates_only_the_fields_it_names():
    first = CandidateApplication(
        application_id="7000000000000000001", exists=True, candidate_name="王小明"
    )
    pk = upsert_one(first, unique="application_id", update=["exists"])
    assert first.pk == pk and not first._state.adding
    again = CandidateApplication(
        application_id="7000000000000000001", exists=False, candidate_name=""
    )
    assert upsert_one(again, unique="application_id", update=["exists"]) == pk
    row = CandidateApplication.objects.get()
    assert (row.pk, row.exists, row.candidate_name) == (pk, False, "王小明")
