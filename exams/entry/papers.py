"""Writes to the catalogue of exam papers.

The catalogue guards the results already entered: a paper's full mark never
falls below a score entered for it, a paper that results name keeps its name and
is not deleted (they would be left naming no paper).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils.translation import gettext as _

from ..models import ExamPaper, ExamResult, normalize_exam_name
from ..rules import mark_text


def paper_results(name: str) -> QuerySet[ExamResult]:
    """The results that name the paper ``name`` (compared as results are)."""
    return ExamResult.objects.filter(exam_key=normalize_exam_name(name))


def paper_highest_score(name: str) -> Decimal | None:
    """The highest score entered for the paper ``name``, or None."""
    top = paper_results(name).order_by().aggregate(top=Max("score"))["top"]
    return None if top is None else Decimal(top)


def full_mark_problem(name: str, full_mark: Decimal) -> str | None:
    """Why ``full_mark`` cannot be the paper's full mark, or None."""
    highest = paper_highest_score(name)
    if highest is not None and full_mark < highest:
        return _(
            "Results of this paper already have scores up to %(highest)s: the full "
            "mark cannot be lower."
        ) % {"highest": mark_text(highest)}
    return None


def exam_paper_save(*, paper: ExamPaper) -> ExamPaper:
    """Add a paper to the catalogue or change it. Raises ValidationError (by
    field) when results already entered would no longer fit it."""
    with transaction.atomic():
        if paper.pk is not None:
            current = ExamPaper.objects.select_for_update().get(pk=paper.pk)
            renamed = normalize_exam_name(paper.name) != current.name
            if renamed and paper_results(current.name).exists():
                raise ValidationError(
                    {
                        "name": _(
                            "Results name this paper: its name cannot change. Add "
                            "a paper with the new name instead."
                        )
                    },
                    code="renamed",
                )
        problem = full_mark_problem(paper.name, paper.full_mark)
        if problem:
            raise ValidationError({"full_mark": problem}, code="below_scores")
        paper.save()
    return paper


def exam_paper_delete(*, paper: ExamPaper) -> None:
    """Take a paper no result names out of the catalogue."""
    with transaction.atomic():
        locked = ExamPaper.objects.select_for_update().get(pk=paper.pk)
        if paper_results(locked.name).exists():
            raise ValidationError(
                _("Results name this paper: it cannot be deleted."), code="in_use"
            )
        locked.delete()
