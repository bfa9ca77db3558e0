from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from exams.models import (
    MAX_SCORE,
    ExamPaper,
    ExamResult,
    FeishuIdentity,
    HistorySource,
    normalize_exam_name,
)
from exams.models.recording import save_recorded

OPERATOR = "ou_f476cb099ac9227c9bae09ce46112579"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def perms(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.user_permissions.add(
                *Permission.objects.filter(
                    content_type__app_label="exams", codename__in=extracted
                )
            )


class FeishuIdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeishuIdentity

    user = factory.SubFactory(UserFactory)
    app_id = factory.LazyFunction(lambda: settings.FEISHU_APP_ID)
    open_id = factory.Sequence(lambda n: f"ou_{n:032x}")


class ExamPaperFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExamPaper
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"笔试卷 {n}")
    full_mark = Decimal(100)
    pass_mark = None


# The papers the suite's results, forms and files name (and the shared sample
# sheets'), in the catalogue for every test that has a database
# (tests/conftest.py), as a deployment's are after migration 0020. Their full mark
# is the largest score the portal keeps, so a test about something else is not
# refused for its score; tests of the catalogue make papers of their own.
SUITE_PAPERS = (
    "后端工程师笔试（A卷）",
    "前端工程师笔试",
    "产品经理逻辑测评",
    "Java Backend Written Test",
    "数据分析笔试",
    "数据分析笔试 2026 秋招",
    "算法笔试",
    "大型综合能力测评",
    '=HYPERLINK("http://x")',
    "笔试",
    "后端笔试",
    "Go 笔试",
    "Java 笔试",
    "Java Backend",
    "Paper",
    "笔试试卷",
    "2024 校招笔试",
    "量子计算笔试",
    "Café written test",
)


def suite_papers_create() -> None:
    ExamPaper.objects.bulk_create(
        [
            ExamPaper(name=normalize_exam_name(name), full_mark=MAX_SCORE)
            for name in SUITE_PAPERS
        ],
        ignore_conflicts=True,
    )


class ExamResultFactory(factory.django.DjangoModelFactory):
    """Results made through the history-recording path, as the services make them."""

    class Meta:
        model = ExamResult

    application_id = factory.Sequence(lambda n: str(6891565253964859661 + n))
    exam_resource_name = "后端工程师笔试（A卷）"
    score = Decimal("88.5")
    operator_id = OPERATOR
    operator_app_id = factory.LazyFunction(lambda: settings.FEISHU_APP_ID)
    entered_by = factory.SubFactory(UserFactory)

    @classmethod
    def _create(
        cls, model_class: type[ExamResult], *args: Any, **kwargs: Any
    ) -> ExamResult:
        result = model_class(*args, **kwargs)
        # Every result names a paper of the catalogue (migration 0020 made them
        # for the results entered before it): a test's own paper keeps its marks.
        ExamPaper.objects.get_or_create(
            name=normalize_exam_name(result.exam_resource_name),
            defaults={"full_mark": MAX_SCORE},
        )
        save_recorded(result, actor=result.entered_by, source=HistorySource.ADMIN)
        return result


def exam_result_form(result: ExamResult | None = None, **fields: str) -> dict[str, str]:
    """What the admin's exam-result form posts: a valid new result, or ``result``'s
    values as its change page shows them; ``fields`` change or add to them
    (``score="91.0"``, ``_save="1"``, ``_send="1"``). No attempt rows go with it."""
    values = {
        "application_id": "6891565253964859661",
        "exam_resource_name": "后端工程师笔试（A卷）",
        "score": "88.5",
        "uuid": "",
        "operator_id": "",
        "user_id_type": "open_id",
    }
    if result is not None:
        values = {name: str(getattr(result, name)) for name in values}
    return {
        **values,
        "sync_attempts-TOTAL_FORMS": "0",
        "sync_attempts-INITIAL_FORMS": "0",
        **fields,
    }


def generated_csv(count: int, *, bad_every: int = 0) -> bytes:
    """An import file of ``count`` new results; with ``bad_every``, every so many
    rows has a score that is not a number."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["application_id", "exam_resource_name", "score", "operator_id"])
    for n in range(count):
        score = "ninety" if bad_every and n % bad_every == 0 else f"{n % 100}.5"
        writer.writerow(
            [str(7000000000000000000 + n), "大型综合能力测评", score, OPERATOR]
        )
    return out.getvalue().encode()
