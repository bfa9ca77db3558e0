"""The admin's forms: entering a result, the steering actions' confirmations, a
correction made in Feishu, the identity lookup, the audit filters and the import."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from .. import rules
from ..audit.review import AuditFilters
from ..candidates.checks import hold_message, known_verdict
from ..entry.operators import OperatorMissingError, operator_for
from ..models import (
    ExamResult,
    HistorySource,
    SyncAttempt,
    UserIdType,
    normalize_exam_name,
)
from .paper_choices import PaperNameInput


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
        # Staff type the paper's name; the catalogue's papers are offered as they
        # type, with their full marks.
        widgets = {"exam_resource_name": PaperNameInput()}
        help_texts = {
            "exam_resource_name": _(
                "The exam paper's name (试卷名称), as in the catalogue of exam papers."
            )
        }

    def __init__(
        self, *args: Any, user: Any = None, send: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.send = send
        if "user_id_type" in self.fields and not self.instance.pk:
            self.initial.setdefault("user_id_type", settings.FEISHU_USER_ID_TYPE)

    def clean_application_id(self) -> str:
        return rules.clean_application_id(self.cleaned_data.get("application_id"))

    def clean_exam_resource_name(self) -> str:
        return rules.clean_exam_resource_name(
            self.cleaned_data.get("exam_resource_name")
        )

    def clean_score(self) -> Any:
        return rules.parse_score(self.cleaned_data.get("score"))

    def clean_uuid(self) -> str:
        return rules.clean_attachment_id(self.cleaned_data.get("uuid"))

    def clean_operator_id(self) -> str:
        return rules.refuse_control_characters(
            (self.cleaned_data.get("operator_id") or "").strip(), _("The operator ID")
        )

    def clean_report(self) -> Any:
        report = self.cleaned_data.get("report")
        if isinstance(report, UploadedFile):
            rules.validate_report_file(report.name or "", report.size or 0)
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
        if name and "score" in cleaned:
            self._check_paper(name, cleaned["score"])
        if cleaned.get("report") and cleaned.get("uuid"):
            self.add_error(
                "uuid",
                _("Give either a report file or an attachment ID, not both."),
            )
        user_id_type = cleaned.get("user_id_type") or UserIdType.OPEN_ID
        if not cleaned.get("operator_id") and self.user is not None:
            try:
                operator_for(user=self.user, user_id_type=user_id_type)
            except OperatorMissingError as error:
                self.add_error("operator_id", error)
        if self.send and application_id and "application_id" not in self.errors:
            self._check_application(application_id)
        return cleaned

    def _check_paper(self, name: str, score: Any) -> None:
        """The paper is in the catalogue and the score at most its full mark; an
        unknown paper's refusal links to adding it (in a new tab, so what was
        typed here stays)."""
        try:
            paper = rules.exam_paper(name)
        except ValidationError as error:
            if self.user is None or not self.user.has_perm("exams.add_exampaper"):
                self.add_error("exam_resource_name", error)
                return
            add = reverse("admin:exams_exampaper_add")
            key = normalize_exam_name(name)
            self.add_error(
                "exam_resource_name",
                ValidationError(
                    format_html(
                        '{} <a href="{}?{}" target="_blank" rel="noopener" '
                        'class="add-paper">{}</a>',
                        " ".join(error.messages),
                        add,
                        urlencode({"name": key}),
                        _("Add it to the catalogue"),
                    ),
                    code="paper.unknown",
                ),
            )
            return
        try:
            rules.check_full_mark(score, paper)
        except ValidationError as error:
            self.add_error("score", error)

    def _check_application(self, application_id: str) -> None:
        """Sending: refuse at once when Feishu was seen, recently, to hold what
        delivery would hold. Otherwise delivery checks it before sending."""
        if self.instance.check_override and (
            application_id == self.instance.application_id
        ):
            return
        verdict = known_verdict(application_id)
        if verdict is not None and verdict.hold:
            self.add_error(
                "application_id",
                hold_message(verdict.hold, verdict.params)
                + " "
                + str(
                    _(
                        "It was not sent: fix the application ID, or save it as a "
                        "draft; with the send permission, “Send anyway” sends it "
                        "with a reason."
                    )
                ),
            )


class MarkDeliveredForm(forms.Form):
    exam_id = forms.RegexField(
        label=_("Feishu exam ID"),
        regex=r"^[0-9A-Za-z_-]{1,64}$",
        help_text=_("The exam ID you found for this result in Feishu Hire."),
        error_messages={"invalid": _("Enter the exam ID exactly as Feishu shows it.")},
    )


class SendAnywayForm(forms.Form):
    why = forms.CharField(
        label=_("Why send anyway"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Kept in each result's history with your name, e.g. “the candidate "
            "took the exam before the application was moved”."
        ),
    )


class ScoreCorrectionForm(forms.Form):
    new_score = forms.CharField(
        label=_("Score now in Feishu"),
        help_text=_("The score as corrected by hand in Feishu, e.g. 88.5."),
    )
    reason = forms.CharField(
        label=_("Why"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the score was corrected, and who asked for it."),
    )

    def clean_new_score(self) -> Any:
        return rules.parse_score(self.cleaned_data["new_score"])


class IdentityLookupForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("Staff login"),
        queryset=get_user_model().objects.filter(is_staff=True).order_by("username"),
    )
    email = forms.EmailField(
        label=_("Email in Feishu"),
        help_text=_("The address the person signs in to Feishu with."),
    )

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not actor.is_superuser:
            # Staff link only themselves, by the address on their own login (the
            # service checks it again): the values come from the login, not the
            # request.
            user_field = cast(forms.ModelChoiceField, self.fields["user"])
            user_field.queryset = get_user_model().objects.filter(pk=actor.pk)
            user_field.disabled = True
            self.fields["email"].disabled = True
            self.fields["email"].help_text = _(
                "The address on your login. For another address, ask an administrator."
            )


VIEWS = (
    ("attempts", _("Calls to Feishu")),
    ("changes", _("Changes")),
    ("corrections", _("Score corrections")),
    ("events", _("Audit events")),
)


class AuditFilterForm(forms.Form):
    view = forms.ChoiceField(label=_("Show"), choices=VIEWS, required=False)
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    person = forms.CharField(
        label=_("Person"),
        required=False,
        help_text=_(
            "A login: who made the change, or who entered the result; “system” "
            "for the delivery engine."
        ),
    )
    outcome = forms.ChoiceField(
        label=_("Outcome of the call"),
        choices=[("", "—"), *SyncAttempt.Outcome.choices],
        required=False,
    )
    status = forms.ChoiceField(
        label=_("Status set by the change"),
        choices=[("", "—"), *ExamResult.Status.choices],
        required=False,
    )
    source = forms.ChoiceField(
        label=_("Through"),
        choices=[("", "—"), *HistorySource.choices],
        required=False,
    )
    code = forms.IntegerField(label=_("Feishu code"), required=False)
    exam = forms.CharField(label=_("Exam name"), required=False)
    application_id = forms.CharField(label=_("Application ID"), required=False)

    def filters(self) -> AuditFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return AuditFilters(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            person=(data.get("person") or "").strip(),
            outcome=data.get("outcome") or "",
            status=data.get("status") or "",
            source=data.get("source") or "",
            code=data.get("code"),
            exam=(data.get("exam") or "").strip(),
            application_id=(data.get("application_id") or "").strip(),
        )

    def chosen_view(self) -> str:
        view = self.cleaned_data.get("view") if self.is_valid() else ""
        return view or "attempts"


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Spreadsheet"),
        help_text=_(
            "CSV (UTF-8 or GBK/GB18030, as Excel saves it) or Excel workbook (.xlsx). "
            "Columns: application_id (投递 ID), exam_resource_name (试卷名称), score "
            "(笔试分数), and optionally uuid (报告附件 ID) and operator_id (添加人用户 "
            "id), in any order."
        ),
    )


class ImportConfirmForm(forms.Form):
    all_or_nothing = forms.BooleanField(
        label=_("All or nothing"),
        required=False,
        help_text=_(
            "Import nothing if any row is invalid or in conflict. Otherwise the valid "
            "rows are imported and the others are listed."
        ),
    )
    send = forms.BooleanField(
        label=_("Send to Feishu after import"),
        required=False,
        help_text=_("Queue the imported results for delivery at once."),
    )
