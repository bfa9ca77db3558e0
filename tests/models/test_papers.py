"""The catalogue of exam papers: what the database refuses, and the migration
that makes a paper for every exam name among the results already entered."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from exams.models import ExamPaper
from tests.factories import ExamPaperFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def refused(**fields) -> bool:
    try:
        with transaction.atomic():
            ExamPaper.objects.create(name="笔试A", **fields)
    except IntegrityError:
        return True
    return False


@pytest.mark.parametrize(
    ("fields", "is_refused"),
    [
        ({"full_mark": Decimal(100)}, False),
        ({"full_mark": Decimal("150.5"), "pass_mark": Decimal("90.5")}, False),
        ({"full_mark": Decimal(100), "pass_mark": Decimal(100)}, False),
        ({"full_mark": Decimal(0)}, True),
        ({"full_mark": Decimal(-1)}, True),
        ({"full_mark": Decimal("100000")}, True),
        ({"full_mark": Decimal("99.95")}, True),
        ({"full_mark": Decimal(100), "pass_mark": Decimal("100.5")}, True),
        ({"full_mark": Decimal(100), "pass_mark": Decimal(-1)}, True),
        ({"full_mark": Decimal(100), "pass_mark": Decimal("59.95")}, True),
    ],
)
def test_the_database_refuses_marks_no_paper_can_have(fields, is_refused):
    assert refused(**fields) == is_refused
    assert ExamPaper.objects.filter(name="笔试A").exists() != is_refused


def test_a_paper_is_named_as_results_compare_names_and_only_once():
    paper = ExamPaperFactory(name="  Cafe\u0301 笔试 ", full_mark=Decimal(100))
    paper.refresh_from_db()

    assert paper.name == "Caf\u00e9 笔试"
    assert ExamPaper.objects.named(" Café 笔试") == paper
    with pytest.raises(IntegrityError), transaction.atomic():
        ExamPaper.objects.create(name="Café 笔试 ", full_mark=Decimal(50))


BEFORE = [("exams", "0019_exam_papers")]
AFTER = [("exams", "0020_papers_from_results")]


def test_the_migration_makes_a_paper_for_every_exam_name_entered(transactional_db):
    # Given results entered before the catalogue existed
    executor = MigrationExecutor(connection)
    executor.migrate([("exams", "0018_import_preparing_status")])
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Result = old.get_model("exams", "ExamResult")
    assert not old.get_model("exams", "ExamPaper").objects.exists()
    for n, (name, key, score) in enumerate(
        [
            ("迁移笔试甲", "迁移笔试甲", "88.5"),
            (" 迁移笔试甲", "迁移笔试甲", "60"),
            ("迁移笔试乙", "迁移笔试乙", "1000"),
            ("迁移笔试乙 ", "迁移笔试乙", "150.5"),
            ("Migration Test", "Migration Test", "100"),
        ]
    ):
        Result.objects.create(
            application_id=str(6891565253964859661 + n),
            exam_resource_name=name,
            exam_key=key,
            score=Decimal(score),
            operator_id="ou_x",
            operator_app_id="cli_sandbox",
        )

    # When the data migration runs
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    Paper = executor.loader.project_state(AFTER).apps.get_model("exams", "ExamPaper")

    # Then each exam name has a paper, marked out of 100 or its highest score
    papers = {
        p.name: (p.full_mark, p.pass_mark)
        for p in Paper.objects.filter(
            name__in=["迁移笔试甲", "迁移笔试乙", "Migration Test"]
        )
    }
    assert papers == {
        "迁移笔试甲": (Decimal(100), None),
        "迁移笔试乙": (Decimal(1000), None),
        "Migration Test": (Decimal(100), None),
    }

    # And it reverses, leaving the catalogue as it was before
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    Paper = executor.loader.project_state(BEFORE).apps.get_model("exams", "ExamPaper")
    assert not Paper.objects.exists()

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
