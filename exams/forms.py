from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from . import services, validation
from .models import ExamResult, UserIdType, normalize_exam_name


class ExamResultForm(forms.ModelForm):
    """Entry of one exam result. Scores are parsed as typed, never rounded."""

    # A text field, so the exact digits staff typed reach parse_score().
    score = forms.CharField(
        label=_("score"),
        max_length=32,
        help_text=_("Non-negative, at most one decimal place (e.g. 88.5)."),
    )
    operator_id = forms.CharField(
        label=_("operator ID"),
        max_length=64,
        required=False,
        help_text=_(
            "Who is recorded as the operator in Feishu. Leave empty to use your own "
            "Feishu identity."
        ),
    )

    class Meta:
        model = ExamResult
        fields = (
            "application_id",
            "exam_resource_name",
            "score",
            "report",
            "uuid",
            "operator_id",
            "user_id_type",
        )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if "user_id_type" in self.fields and not self.instance.pk:
            self.initial.setdefault("user_id_type", settings.FEISHU_USER_ID_TYPE)

    def clean_application_id(self) -> str:
        return validation.clean_application_id(self.cleaned_data.get("application_id"))

    def clean_exam_resource_name(self) -> str:
        return validation.clean_exam_resource_name(
            self.cleaned_data.get("exam_resource_name")
        )

    def clean_score(self) -> Any:
        return validation.parse_score(self.cleaned_data.get("score"))

    def clean_report(self) -> Any:
        report = self.cleaned_data.get("report")
        if isinstance(report, UploadedFile):
            validation.validate_report_file(report.name, report.size)
        return report

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        application_id = cleaned.get("application_id")
        name = cleaned.get("exam_resource_name")
        if application_id and name:
            clash = ExamResult.objects.filter(
                application_id=application_id, exam_key=normalize_exam_name(name)
            ).exclude(pk=self.instance.pk)
            if clash.exists():
                raise ValidationError(
                    _(
                        "A result for application %(application)s and exam “%(exam)s” "
                        "already exists. Change that result instead of adding another."
                    ),
                    code="duplicate",
                    params={"application": application_id, "exam": name},
                )
        if cleaned.get("report") and cleaned.get("uuid"):
            self.add_error(
                "uuid",
                _("Give either a report file or an attachment ID, not both."),
            )
        user_id_type = cleaned.get("user_id_type") or UserIdType.OPEN_ID
        if not cleaned.get("operator_id") and self.user is not None:
            try:
                services.operator_for(user=self.user, user_id_type=user_id_type)
            except services.OperatorMissingError as error:
                self.add_error("operator_id", error)
        return cleaned
