"""The history of exam results on django-simple-history: every write path records
who, when, through what and each field's old → new value."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from exams.audit.history import result_changes
from exams.models import ExamResult, HistoricalExamResult, HistoryBypassError
from exams.models import HistorySource as Source
from exams.models.recording import (
    bulk_create_recorded,
    delete_recorded,
    save_recorded,
    update_recorded,
)

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _new(staff, n=0, **fields):
    return ExamResult(
        application_id=str(1000 + n),
        exam_resource_name="数据分析笔试",
        score=Decimal("70"),
        operator_id="ou_x",
        operator_app_id="cli_sandbox",
        entered_by=staff,
        **fields,
    )


def test_creating_a_result_records_who_entered_what(exam_result_factory):
    result = exam_result_factory(score=Decimal("88.50"))
    [change] = result_changes(result.pk)
    assert change.kind == "created"
    assert change.actor == result.entered_by
    assert change.source == Source.ADMIN
    assert change.changes["score"] == [None, "88.5"]
    assert change.changes["status"] == [None, "draft"]


def test_changing_a_field_records_old_and_new_values(exam_result_factory, staff):
    result = exam_result_factory(score=Decimal("60.0"))
    result = ExamResult.objects.get(pk=result.pk)
    result.score = Decimal("61.5")
    save_recorded(result, actor=staff, source=Source.ADMIN)
    change = result_changes(result.pk)[0]
    assert change.kind == "changed"
    assert change.actor == staff
    assert change.changes == {"score": ["60.0", "61.5"]}


def test_saving_without_a_change_records_nothing(exam_result_factory, staff):
    result = ExamResult.objects.get(pk=exam_result_factory().pk)
    save_recorded(result, actor=staff, source=Source.ADMIN)
    assert len(result_changes(result.pk)) == 1


def test_plain_save_and_create_work_and_are_recorded():
    # As every Django developer expects: no special path needed to write a result.
    result = ExamResult.objects.create(
        application_id="123",
        exam_resource_name="  笔试 ",
        score=Decimal("1.5"),
        operator_id="ou_x",
        operator_app_id="cli_sandbox",
    )
    assert result.exam_key == "笔试"
    result.score = Decimal("2")
    result.save()
    changes = result_changes(result.pk)
    assert [c.kind for c in changes] == ["changed", "created"]
    assert changes[0].changes == {"score": ["1.5", "2.0"]}
    assert {c.source for c in changes} == {Source.OTHER}


def test_a_bulk_update_records_every_row_in_a_constant_number_of_queries(
    exam_result_factory, django_assert_max_num_queries
):
    results = exam_result_factory.create_batch(40)
    queryset = ExamResult.objects.filter(pk__in=[r.pk for r in results])
    with django_assert_max_num_queries(6):
        ids = update_recorded(
            queryset, actor=None, source=Source.ENGINE, status="pending"
        )
    assert len(ids) == 40
    records = HistoricalExamResult.objects.filter(source=Source.ENGINE)
    assert records.count() == 40
    assert all(r.history_user_id is None for r in records)
    for result in results:
        assert result_changes(result.pk)[0].changes == {"status": ["draft", "pending"]}


def test_bulk_create_records_a_created_entry_per_row(staff):
    bulk_create_recorded(
        [_new(staff, n) for n in range(25)], actor=staff, source=Source.IMPORT
    )
    assert ExamResult.objects.count() == 25
    assert (
        HistoricalExamResult.objects.filter(
            history_type="+", source=Source.IMPORT, history_user=staff
        ).count()
        == 25
    )


def test_writes_that_would_escape_the_history_are_refused(exam_result_factory, staff):
    result = exam_result_factory()
    with pytest.raises(HistoryBypassError):
        ExamResult.objects.filter(pk=result.pk).update(score=Decimal("1"))
    with pytest.raises(HistoryBypassError):
        ExamResult.objects.bulk_create([_new(staff, 99)])
    # Bookkeeping is not history.
    assert ExamResult.objects.filter(pk=result.pk).update(attempts=3) == 1


def test_a_deleted_drafts_history_remains_with_what_it_held(exam_result_factory, staff):
    result = exam_result_factory(score=Decimal("77.0"))
    pk = result.pk
    delete_recorded(result, actor=staff, source=Source.ADMIN)
    assert not ExamResult.objects.filter(pk=pk).exists()
    deleted, created = result_changes(pk)
    assert deleted.kind == "deleted"
    assert deleted.actor == staff
    assert deleted.changes["score"] == ["77.0", None]
    assert created.kind == "created"


def test_the_migration_carries_the_old_history_over(transactional_db):
    # Given the schema before simple-history, with hand-written change rows
    executor = MigrationExecutor(connection)
    executor.migrate([("exams", "0007_roles")])
    old = executor.loader.project_state([("exams", "0007_roles")]).apps
    User = old.get_model("auth", "User")
    Result = old.get_model("exams", "ExamResult")
    Change = old.get_model("exams", "ExamResultChange")
    user = User.objects.create(username="carrie")
    result = Result.objects.create(
        application_id="6891565253964859661",
        exam_resource_name="笔试",
        exam_key="笔试",
        score=Decimal("60.0"),
        operator_id="ou_x",
        operator_app_id="cli_sandbox",
        entered_by=user,
        status="synced",
        exam_id="7031",
    )
    Change.objects.create(
        result_id=result.pk,
        actor=user,
        source="admin",
        kind="created",
        changes={
            "application_id": [None, "6891565253964859661"],
            "exam_resource_name": [None, "笔试"],
            "score": [None, "60.0"],
            "status": [None, "draft"],
            "operator_id": [None, "ou_x"],
            "operator_app_id": [None, "cli_sandbox"],
            "user_id_type": [None, "open_id"],
        },
    )
    Change.objects.create(
        result_id=result.pk,
        source="engine",
        kind="changed",
        changes={
            "status": ["draft", "synced"],
            "exam_id": ["", "7031"],
            "operate_time": [None, "2026-11-01T10:00:00+08:00"],
        },
    )
    Change.objects.create(
        result_id=424242,  # a draft deleted long ago
        actor=user,
        source="admin",
        kind="deleted",
        changes={
            "application_id": ["1", None],
            "exam_resource_name": ["旧", None],
            "score": ["5.5", None],
            "status": ["draft", None],
        },
    )
    # When the migrations run
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    # Then each change is a snapshot, with the same actor and source
    changes = result_changes(result.pk)
    assert [c.kind for c in changes] == ["changed", "created"]
    assert changes[0].source == "engine" and changes[0].actor is None
    assert changes[0].changes["status"] == ["draft", "synced"]
    assert changes[0].changes["exam_id"] == ["", "7031"]
    assert changes[1].actor.username == "carrie"
    assert changes[1].changes["score"] == [None, "60.0"]
    [gone] = result_changes(424242)
    assert gone.kind == "deleted"
    assert gone.record.exam_resource_name == "旧"
    assert gone.changes["score"] == ["5.5", None]
