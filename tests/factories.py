from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from exams.models import ExamResult, FeishuIdentity, HistorySource
from exams.models.recording import save_recorded


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


class ExamResultFactory(factory.django.DjangoModelFactory):
    """Results made through the history-recording path, as the services make them."""

    class Meta:
        model = ExamResult

    application_id = factory.Sequence(lambda n: str(6891565253964859661 + n))
    exam_resource_name = "后端工程师笔试（A卷）"
    score = Decimal("88.5")
    operator_id = "ou_f476cb099ac9227c9bae09ce46112579"
    operator_app_id = factory.LazyFunction(lambda: settings.FEISHU_APP_ID)
    entered_by = factory.SubFactory(UserFactory)

    @classmethod
    def _create(
        cls, model_class: type[ExamResult], *args: Any, **kwargs: Any
    ) -> ExamResult:
        result = model_class(*args, **kwargs)
        save_recorded(result, actor=result.entered_by, source=HistorySource.ADMIN)
        return result
