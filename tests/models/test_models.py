"""The database itself refuses what must never be stored, whatever the code above."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from exams.models import ExamResult, SyncAttempt
from exams.models.history import recorded_as

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def raw_insert(**fields):
    """Insert straight into the table, past forms, services and history."""
    defaults = {
        "application_id": "6891565253964859661",
        "exam_resource_name": "后端工程师笔试（A卷）",
        "score": Decimal("88.5"),
        "operator_id": "ou_x",
        "operator_app_id": "cli_sandbox",
    }
    defaults.update(fields)
    with transaction.atomic(), recorded_as(actor=None, source="other"):
        return ExamResult.objects.bulk_create([ExamResult(**defaults)])[0]


def test_the_same_result_twice_is_refused_after_trimming_and_nfc():
    raw_insert(exam_resource_name="Caf\u00e9 written test")
    with pytest.raises(IntegrityError):
        raw_insert(exam_resource_name="  Cafe\u0301 written test ")
    assert ExamResult.objects.count() == 1


def test_the_exam_name_is_stored_as_typed_but_compared_normalised():
    result = raw_insert(exam_resource_name="  Cafe\u0301 test ")
    result.refresh_from_db()
    assert result.exam_resource_name == "  Cafe\u0301 test "
    assert result.exam_key == "Caf\u00e9 test"


@pytest.mark.parametrize("score", ["95.55", "0.01", "88.123"])
def test_a_score_with_more_than_one_decimal_is_refused_not_rounded(score):
    with pytest.raises(IntegrityError):
        raw_insert(score=Decimal(score))
    assert not ExamResult.objects.exists()


@pytest.mark.parametrize("score", ["70", "88.50", "0", "99999.9", "0.5"])
def test_valid_scores_are_stored_with_their_value(score):
    result = raw_insert(score=Decimal(score))
    result.refresh_from_db()
    assert result.score == Decimal(score)


@pytest.mark.parametrize("score", ["-3", "-0.1", "100000"])
def test_negative_or_huge_scores_are_refused(score):
    with pytest.raises(IntegrityError):
        raw_insert(score=Decimal(score))


@pytest.mark.parametrize("application_id", ["68915652539648600x7", "", "6.89157E+18"])
def test_a_non_numeric_application_id_is_refused(application_id):
    with pytest.raises(IntegrityError):
        raw_insert(application_id=application_id)


def test_an_application_id_longer_than_19_digits_is_refused():
    from django.db import DataError

    with pytest.raises((IntegrityError, DataError)):
        raw_insert(application_id="1" * 20)


def test_a_synced_result_must_have_an_exam_id():
    with pytest.raises(IntegrityError):
        raw_insert(status="synced", exam_id="")


def test_an_unknown_status_is_refused():
    with pytest.raises(IntegrityError):
        raw_insert(status="lost")


def test_attempts_protect_their_result_from_deletion(exam_result_factory):
    result = exam_result_factory(status=ExamResult.Status.FAILED)
    SyncAttempt.objects.create(result=result, outcome=SyncAttempt.Outcome.PERMANENT)
    with pytest.raises(ProtectedError):
        result.delete()
    assert SyncAttempt.objects.filter(result=result).count() == 1
