from decimal import Decimal

import pytest

from exams import history
from exams.models import ExamResult, ExamResultChange

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]
Source = ExamResultChange.Source


def test_creating_a_result_records_who_entered_what(exam_result_factory):
    result = exam_result_factory(score=Decimal("88.50"))
    change = ExamResultChange.objects.get(result_id=result.pk)
    assert change.kind == "created"
    assert change.actor == result.entered_by
    assert change.changes["score"] == [None, "88.50"]
    assert change.changes["status"] == [None, "draft"]


def test_changing_a_field_records_old_and_new_values(exam_result_factory, staff):
    result = exam_result_factory(score=Decimal("60.0"))
    result = ExamResult.objects.get(pk=result.pk)
    result.score = Decimal("61.5")
    history.save_recorded(result, actor=staff, source=Source.ADMIN)
    change = ExamResultChange.objects.filter(result_id=result.pk).first()
    assert change.kind == "changed"
    assert change.actor == staff
    assert change.changes == {"score": ["60.0", "61.5"]}


def test_saving_without_a_change_records_nothing(exam_result_factory, staff):
    result = ExamResult.objects.get(pk=exam_result_factory().pk)
    assert history.save_recorded(result, actor=staff, source=Source.ADMIN) is None
    assert ExamResultChange.objects.filter(result_id=result.pk).count() == 1


def test_a_bulk_update_records_every_row_in_a_constant_number_of_queries(
    exam_result_factory, django_assert_max_num_queries
):
    results = exam_result_factory.create_batch(40)
    queryset = ExamResult.objects.filter(pk__in=[r.pk for r in results])
    with django_assert_max_num_queries(6):
        ids = history.update_recorded(
            queryset, actor=None, source=Source.ENGINE, status="pending"
        )
    assert len(ids) == 40
    changes = ExamResultChange.objects.filter(kind="changed", source=Source.ENGINE)
    assert changes.count() == 40
    assert all(c.changes == {"status": ["draft", "pending"]} for c in changes)
    assert all(c.actor_id is None for c in changes)


def test_bulk_create_records_a_created_change_per_row(staff):
    rows = [
        ExamResult(
            application_id=str(1000 + n),
            exam_resource_name="数据分析笔试",
            score=Decimal("70"),
            operator_id="ou_x",
            operator_app_id="cli_sandbox",
            entered_by=staff,
        )
        for n in range(25)
    ]
    history.bulk_create_recorded(rows, actor=staff, source=Source.IMPORT)
    assert ExamResult.objects.count() == 25
    assert (
        ExamResultChange.objects.filter(
            kind="created", source=Source.IMPORT, actor=staff
        ).count()
        == 25
    )
