"""The catalogue of exam papers: each paper's full mark, and its pass mark when
it has one.

A result names its paper by the name staff typed; the two meet on the result's
``exam_key`` (trimmed, NFC), which is what a paper's ``name`` holds. No foreign
key: the result is sent with its name as typed, and the catalogue was added
beside a table of results that must not be rewritten for it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .results import ExactDecimalField, normalize_exam_name, score_is_valid

# The full mark a paper gets when the catalogue is made from the results already
# entered (migration 0020), unless one of them scored higher.
DEFAULT_FULL_MARK = Decimal(100)


class ExamPaperQuerySet(models.QuerySet["ExamPaper"]):
    def by_name(self) -> dict[str, ExamPaper]:
        """The papers by name (the key results are compared by): one query for a
        whole import's rows."""
        return {paper.name: paper for paper in self}

    def named(self, exam_name: str) -> ExamPaper | None:
        """The paper a result of ``exam_name`` (as typed) is for, or None."""
        return self.filter(name=normalize_exam_name(exam_name)).first()


class ExamPaper(models.Model):
    name = models.CharField(
        _("paper name"),
        max_length=255,
        unique=True,
        help_text=_(
            "As staff type it on results (试卷名称); spaces at either end do not count."
        ),
    )
    full_mark = ExactDecimalField(
        _("full mark"),
        max_digits=6,
        decimal_places=1,
        help_text=_("The highest score the paper can give, e.g. 100."),
    )
    pass_mark = ExactDecimalField(
        _("pass mark"),
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_(
            "Optional. Results above it can be picked out in the results list."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ExamPaperQuerySet.as_manager()

    class Meta:
        verbose_name = _("exam paper")
        verbose_name_plural = _("exam papers")
        ordering = ("name",)
        constraints = (
            models.CheckConstraint(
                condition=Q(full_mark__gt=0) & score_is_valid("full_mark"),
                name="exam_paper_full_mark_valid",
                violation_error_message=_(
                    "The full mark must be above 0, at most 99999.9, with at most "
                    "one decimal place."
                ),
            ),
            models.CheckConstraint(
                condition=Q(pass_mark__isnull=True)
                | (score_is_valid("pass_mark") & Q(pass_mark__lte=F("full_mark"))),
                name="exam_paper_pass_mark_valid",
                violation_error_message=_(
                    "The pass mark cannot be above the full mark."
                ),
            ),
        )

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name = normalize_exam_name(self.name)
        super().save(*args, **kwargs)
