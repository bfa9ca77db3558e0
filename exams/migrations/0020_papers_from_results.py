"""The catalogue starts with a paper for every exam name among the results
already entered, so nothing entered before it becomes invalid: its full mark is
100, or the highest score entered for it when one is higher; no pass mark.

One aggregate over the results (a read, no rewrite of their table); the papers
are written in batches."""

from decimal import Decimal

from django.db import migrations
from django.db.models import Max

DEFAULT_FULL_MARK = Decimal(100)
BATCH = 1000


def papers_from_results(apps, schema_editor):
    alias = schema_editor.connection.alias
    Result = apps.get_model("exams", "ExamResult")
    Paper = apps.get_model("exams", "ExamPaper")
    highest = (
        Result.objects.using(alias).order_by()
        .exclude(exam_key="")
        .values_list("exam_key")
        .annotate(top=Max("score"))
    )
    papers = [
        Paper(name=name, full_mark=max(DEFAULT_FULL_MARK, Decimal(top)))
        for name, top in highest.iterator()
    ]
    # A paper someone already added (the migration run again after a reverse that
    # kept the table) keeps its own marks.
    Paper.objects.using(alias).bulk_create(papers, batch_size=BATCH, ignore_conflicts=True)


def forget_papers(apps, schema_editor):
    alias = schema_editor.connection.alias
    apps.get_model("exams", "ExamPaper").objects.using(alias).all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0019_exam_papers"),
    ]

    operations = [migrations.RunPython(papers_from_results, forget_papers)]
