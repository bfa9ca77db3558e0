"""A correction made in Feishu is bounded by the paper's full mark too."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from exams.audit.corrections import score_correction_record
from exams.models import ScoreCorrection
from tests.factories import ExamPaperFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


@pytest.fixture
def delivered(exam_result_factory):
    ExamPaperFactory(name="笔试A", full_mark=Decimal(100))
    return exam_result_factory(
        exam_resource_name="笔试A", score=Decimal(80), status="synced", exam_id="7001"
    )


def test_a_correction_above_the_full_mark_is_refused_with_the_reason(delivered, sender):
    with pytest.raises(ValidationError) as refused, translation.override("en"):
        score_correction_record(
            result=delivered, new_score="1000", reason="typed in Feishu", actor=sender
        )

    with translation.override("en"):
        assert refused.value.messages == [
            "The score 1000 is above the full mark of 笔试A (100)."
        ]
    assert not ScoreCorrection.objects.exists()
    score_correction_record(
        result=delivered, new_score="100", reason="re-marked", actor=sender
    )
    assert ScoreCorrection.objects.get().new_score == Decimal(100)


def test_the_correction_page_says_why_in_chinese(client, delivered, sender):
    client.force_login(sender)

    page = client.post(
        reverse("admin:exams_examresult_correction", args=[delivered.pk]),
        {"new_score": "100.5", "reason": "typo"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert page.status_code == 200
    assert "分数 100.5 超过了试卷“笔试A”的满分（100）。" in page.content.decode()
    assert not ScoreCorrection.objects.exists()
