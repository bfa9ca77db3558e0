"""Importing against the catalogue of exam papers: a row's score above its
paper's full mark is refused with the reason; papers the file names that are not
in the catalogue are listed apart in the preview, their rows not imported while
the others are; once staff add them, the file is checked again."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation

from exams.importing import service
from exams.models import ExamResult, ImportBatch
from exams.wording import render
from tests.conftest import staff_member
from tests.factories import OPERATOR, ExamPaperFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

HEADER = "application_id,exam_resource_name,score,operator_id\n"
IMPORT_URL = reverse("admin:exams_examresult_import")
PAPER_ADD_URL = reverse("admin:exams_exampaper_add")
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def csv_bytes(*rows: str) -> bytes:
    return (HEADER + "".join(f"{row},{OPERATOR}\n" for row in rows)).encode()


# Row 2 fits, 3 is above the full mark, 4 and 6 name a paper the catalogue lacks,
# 5 names another one it lacks, 7 fits at the full mark exactly.
FILE = csv_bytes(
    "6891565253964859661,笔试A,88.5",
    "6891565253964859662,笔试A,1000",
    "6891565253964859663,笔试新卷,70",
    "6891565253964859664,笔试另一卷,70",
    "6891565253964859665, 笔试新卷 ,71",
    "6891565253964859666,笔试A ,100",
)


@pytest.fixture
def paper_a(db):
    return ExamPaperFactory(name="笔试A", full_mark=Decimal(100))


@pytest.fixture
def editor(db):
    user = staff_member()
    user.groups.add(Group.objects.get(name="editor"))
    return user


def errors_by_row(batch: ImportBatch) -> dict[int, tuple[str, str]]:
    with translation.override("en"):
        return {
            number: (field, render(message))
            for number, field, message in batch.report["errors"]
        }


def test_the_preview_lists_unknown_papers_apart_and_refuses_scores_above_full_mark(
    paper_a, editor
):
    batch = service.import_batch_create(
        content=FILE, file_name="results.csv", actor=editor
    )

    assert batch.report["counts"]["new"] == 2
    assert batch.report["counts"]["invalid"] == 4
    assert batch.report["unknown_papers"] == [
        ["笔试新卷", 2, [4, 6]],
        ["笔试另一卷", 1, [5]],
    ]
    errors = errors_by_row(batch)
    assert errors[3] == (
        "score",
        "The score 1000 is above the full mark of 笔试A (100).",
    )
    assert errors[4] == (
        "exam_resource_name",
        "“笔试新卷” is not in the catalogue of exam papers: add it there with its "
        "full mark, or fix the name.",
    )
    assert set(errors) == {3, 4, 5, 6}


def test_confirming_imports_the_rows_that_fit_and_nothing_of_the_others(
    paper_a, editor
):
    batch = service.import_batch_create(
        content=FILE, file_name="results.csv", actor=editor
    )

    done = service.import_batch_confirm(batch=batch, actor=editor)

    assert (done.status, done.created_count, done.invalid_count) == ("done", 2, 4)
    assert set(ExamResult.objects.values_list("application_id", "score")) == {
        ("6891565253964859661", Decimal("88.5")),
        ("6891565253964859666", Decimal(100)),
    }
    assert [name for name, *_ in done.report["unknown_papers"]] == [
        "笔试新卷",
        "笔试另一卷",
    ]


def test_once_the_papers_are_added_the_file_is_checked_again(paper_a, editor):
    batch = service.import_batch_create(
        content=FILE, file_name="results.csv", actor=editor
    )
    ExamPaperFactory(name="笔试新卷", full_mark=Decimal(70))
    ExamPaperFactory(name="笔试另一卷", full_mark=Decimal(100))

    assert service.import_batch_check_again(batch=batch, actor=editor)

    batch.refresh_from_db()
    assert batch.status == "previewed"
    assert batch.report["unknown_papers"] == []
    assert batch.report["counts"]["new"] == 4
    errors = errors_by_row(batch)
    assert errors[6] == (
        "score",
        "The score 71 is above the full mark of 笔试新卷 (70).",
    )
    assert set(errors) == {3, 6}


def test_a_large_file_is_checked_again_by_a_worker(paper_a, editor, settings):
    batch = service.import_batch_create(
        content=FILE, file_name="results.csv", actor=editor
    )
    ExamPaperFactory(name="笔试新卷", full_mark=Decimal(100))
    settings.EXAMS_IMPORT_PREVIEW_INLINE_BYTES = len(FILE) // 2

    assert service.import_batch_check_again(batch=batch, actor=editor)
    batch.refresh_from_db()
    assert (batch.status, batch.phase) == ("matching", "reading")
    service.import_batch_match(batch_id=batch.pk)  # what the worker runs

    batch.refresh_from_db()
    assert batch.status == "previewed"
    assert batch.report["unknown_papers"] == [["笔试另一卷", 1, [5]]]
    assert batch.report["counts"]["new"] == 4


def test_the_preview_page_lists_the_papers_to_add_in_chinese(client, paper_a, editor):
    client.force_login(editor)
    client.post(IMPORT_URL, {"file": SimpleUploadedFile("results.csv", FILE)})
    batch = ImportBatch.objects.get()
    url = reverse("admin:exams_examresult_import_batch", args=[batch.pk])

    page = client.get(url, **ZH).content.decode()

    assert "不在试卷目录中的试卷" in page
    assert '<td class="unknown-paper-name">笔试新卷</td>' in page
    assert "2 行：第 4, 6 行" in page
    assert f'href="{PAPER_ADD_URL}?name=%E7%AC%94%E8%AF%95%E6%96%B0%E5%8D%B7"' in page
    assert "分数 1000 超过了试卷“笔试A”的满分（100）。" in page
    assert 'name="_check_again"' in page

    ExamPaperFactory(name="笔试新卷", full_mark=Decimal(100))
    client.post(url, {"_check_again": "1"})
    page = client.get(url, **ZH).content.decode()
    assert '<td class="unknown-paper-name">笔试新卷</td>' not in page
    assert '<td class="unknown-paper-name">笔试另一卷</td>' in page


def test_the_command_line_names_the_papers_to_add_and_exits_non_zero(
    tmp_path, paper_a, editor
):
    path = tmp_path / "results.csv"
    path.write_bytes(FILE)
    out = io.StringIO()

    with pytest.raises(CommandError) as refused, translation.override("en"):
        call_command(
            "import_exam_results",
            str(path),
            "--operator",
            editor.username,
            stdout=out,
            stderr=io.StringIO(),
        )

    assert refused.value.returncode == 1
    output = out.getvalue()
    assert "paper “笔试新卷” is not in the catalogue (2 row(s))" in output
    assert "row 3, Score: The score 1000 is above the full mark of 笔试A (100)." in (
        output
    )
    assert ExamResult.objects.count() == 2


def test_a_vendors_sheet_row_for_an_unknown_paper_is_refused_before_matching(
    editor,
):
    sheet = (
        "姓名,邮箱,试卷名称,笔试分数\n陈思远,chen@example.com,笔试未登记,80\n".encode()
    )

    batch = service.import_batch_create(
        content=sheet, file_name="vendor.csv", actor=editor
    )

    assert batch.report["unknown_papers"] == [["笔试未登记", 1, [2]]]
    assert batch.report["matches"] == {}
