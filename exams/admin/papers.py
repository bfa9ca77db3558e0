"""The catalogue of exam papers in the admin: the list (with how many results
name each paper), the paper's form, and the results list's pass-mark filter.
Writes go through exams.entry.papers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from .. import rules
from ..entry import papers as services
from ..models import MAX_SCORE, ExamPaper, ExamResult, normalize_exam_name
from .base import RefusalsShownAdmin


class ExamPaperForm(forms.ModelForm):
    full_mark = forms.DecimalField(
        label=_("full mark"),
        max_digits=6,
        decimal_places=1,
        min_value=Decimal("0.1"),
        max_value=MAX_SCORE,
        help_text=_("The highest score the paper can give, e.g. 100."),
    )
    pass_mark = forms.DecimalField(
        label=_("pass mark"),
        max_digits=6,
        decimal_places=1,
        min_value=Decimal(0),
        max_value=MAX_SCORE,
        required=False,
        help_text=_(
            "Optional. Results above it can be picked out in the results list."
        ),
    )

    class Meta:
        model = ExamPaper
        fields = ("name", "full_mark", "pass_mark")

    def clean_name(self) -> str:
        # The name as results are compared by it, so "笔试A " is "笔试A".
        return normalize_exam_name(
            rules.clean_exam_resource_name(self.cleaned_data.get("name"))
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        full, passing = cleaned.get("full_mark"), cleaned.get("pass_mark")
        if full is not None and passing is not None and passing > full:
            self.add_error(
                "pass_mark", _("The pass mark cannot be above the full mark.")
            )
        name = cleaned.get("name") or self.instance.name
        if name and full is not None:
            problem = services.full_mark_problem(name, full)
            if problem:
                self.add_error("full_mark", problem)
        return cleaned


def _result_count() -> Subquery:
    """How many results name the paper: counted on the results' exam_key index."""
    return Subquery(
        ExamResult.objects.filter(exam_key=OuterRef("name"))
        .order_by()
        .values("exam_key")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


@admin.register(ExamPaper)
class ExamPaperAdmin(RefusalsShownAdmin):
    form = ExamPaperForm
    list_title = _("Exam papers")
    list_display = ("name", "full", "passing", "results")
    search_fields = ("name",)
    search_help_text = _("Search by the paper's name.")
    ordering = ("name",)
    fields = ("name", "full_mark", "pass_mark")
    list_per_page = 100
    # A paper is deleted from its own page, which says whether results name it.
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExamPaper]:
        return (
            super()
            .get_queryset(request)
            .annotate(result_count=Coalesce(_result_count(), 0))
        )

    @admin.display(description=_("full mark"), ordering="full_mark")
    def full(self, obj: ExamPaper) -> str:
        return rules.mark_text(obj.full_mark)

    @admin.display(description=_("pass mark"), ordering="pass_mark")
    def passing(self, obj: ExamPaper) -> str:
        return "—" if obj.pass_mark is None else rules.mark_text(obj.pass_mark)

    @admin.display(description=_("results entered"), ordering="result_count")
    def results(self, obj: ExamPaper) -> SafeString | int:
        count: int = getattr(obj, "result_count", 0)
        if not count:
            return 0
        url = reverse("admin:exams_examresult_changelist")
        return format_html(
            '<a href="{}?{}">{}</a>', url, urlencode({"exam": obj.name}), count
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Results name a paper by its name: renaming it would leave them naming
        # none.
        if obj is not None and getattr(obj, "result_count", None):
            return ("name",)
        return ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and getattr(obj, "result_count", None):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: ExamPaper, form: Any, change: bool
    ) -> None:
        services.exam_paper_save(paper=obj)

    def delete_model(self, request: HttpRequest, obj: ExamPaper) -> None:
        services.exam_paper_delete(paper=obj)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> Any:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as error:
            self.message_refusal(request, error)
            return HttpResponseRedirect(
                reverse("admin:exams_exampaper_change", args=[object_id])
            )


class PassMarkFilter(admin.SimpleListFilter):
    """Results above (or not above) their paper's pass mark; results of a paper
    without one are in neither."""

    title = _("pass mark")
    parameter_name = "pass"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("above", _("Above the pass mark")),
            ("not_above", _("At or below the pass mark")),
        ]

    def queryset(
        self, request: Any, queryset: QuerySet[ExamResult]
    ) -> QuerySet[ExamResult]:
        # One probe of the papers' unique name per result: no join that could
        # repeat a row, and the list keeps its own order and index.
        papers = ExamPaper.objects.filter(
            name=OuterRef("exam_key"), pass_mark__isnull=False
        )
        if self.value() == "above":
            return queryset.filter(
                Exists(papers.filter(pass_mark__lt=OuterRef("score")))
            )
        if self.value() == "not_above":
            return queryset.filter(
                Exists(papers.filter(pass_mark__gte=OuterRef("score")))
            )
        return queryset
