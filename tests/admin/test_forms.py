"""Every bad input gets a message that says what to fix; nothing is rounded."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from exams.admin.forms import ExamResultForm
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

VALID = {
    "application_id": "6891565253964859661",
    "exam_resource_name": "后端工程师笔试（A卷）",
    "score": "88.5",
    "uuid": "",
    "operator_id": "ou_f476cb099ac9227c9bae09ce46112579",
    "user_id_type": "open_id",
}


def form_errors(user=None, files=None, **changes):
    form = ExamResultForm(data={**VALID, **changes}, files=files, user=user)
    form.is_valid()
    return {field: " ".join(messages) for field, messages in form.errors.items()}


@pytest.mark.parametrize("score", ["70", "88.50", "0", "100.0", "99999.9"])
def test_valid_scores_are_accepted(score):
    assert form_errors(score=score) == {}


@pytest.mark.parametrize(
    ("score", "says"),
    [
        ("95.55", "more than one decimal place"),
        ("ninety", "is not a number"),
        ("NaN", "is not a number"),
        ("-3", "cannot be negative"),
        ("100000", "larger than"),
        ("", "required"),
    ],
)
def test_bad_scores_are_refused_with_the_reason(score, says):
    assert says in form_errors(score=score)["score"]


def test_a_two_decimal_score_is_never_rounded():
    message = form_errors(score="95.55")["score"]
    assert "never rounds" in message


@pytest.mark.parametrize(
    ("application_id", "says"),
    [
        ("", "required"),
        ("68915652539648600x7", "digits only"),
        ("6.89157E+18", "digits only"),
        ("1" * 20, "at most 19"),
    ],
)
def test_bad_application_ids_are_refused(application_id, says):
    assert says in form_errors(application_id=application_id)["application_id"]


def test_a_blank_exam_name_is_refused():
    assert "required" in form_errors(exam_resource_name="   ")["exam_resource_name"]


def test_a_second_result_for_the_same_application_and_exam_is_refused(
    exam_result_factory,
):
    exam_result_factory(
        application_id=VALID["application_id"],
        exam_resource_name=VALID["exam_resource_name"],
    )
    errors = form_errors(exam_resource_name=" " + VALID["exam_resource_name"])
    assert "already exists" in errors["__all__"]


def test_a_report_that_is_not_pdf_jpg_or_png_is_refused():
    report = SimpleUploadedFile("report.exe", b"MZ...", "application/octet-stream")
    errors = form_errors(files={"report": report})
    assert "PDF, JPG or PNG" in errors["report"]


def test_a_report_file_and_an_attachment_id_together_are_refused():
    report = SimpleUploadedFile("report.pdf", b"%PDF-1.4", "application/pdf")
    errors = form_errors(files={"report": report}, uuid="6949805467799537964")
    assert "not both" in errors["uuid"]


def test_the_operator_is_required_from_staff_without_a_feishu_identity():
    user = UserFactory(is_staff=True)
    errors = form_errors(user=user, operator_id="")
    assert "no Feishu open_id" in errors["operator_id"]


def test_the_operator_may_be_left_empty_by_staff_with_a_feishu_identity(staff):
    assert form_errors(user=staff, operator_id="") == {}
