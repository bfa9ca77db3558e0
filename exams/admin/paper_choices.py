"""The catalogue's papers offered where staff type a paper's name (the result
form, the worklist's rows): a ``<datalist>``, so typing still works and the
browser suggests the papers, each with its full mark."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from ..models import ExamPaper
from ..rules import mark_text

DATALIST_ID = "exam-papers"
# A catalogue is tens of papers; past this many the browser's list is no help.
MAX_OFFERED = 500


def paper_label(paper: ExamPaper) -> str:
    """What the suggestion says beside the paper's name."""
    if paper.pass_mark is None:
        return _("full mark %(full)s") % {"full": mark_text(paper.full_mark)}
    return _("full mark %(full)s · pass mark %(pass)s") % {
        "full": mark_text(paper.full_mark),
        "pass": mark_text(paper.pass_mark),
    }


def paper_datalist(datalist_id: str = DATALIST_ID) -> SafeString:
    papers = ExamPaper.objects.order_by("name")[:MAX_OFFERED]
    return format_html(
        '<datalist id="{}">{}</datalist>',
        datalist_id,
        format_html_join(
            "",
            '<option value="{}" label="{}"></option>',
            ((paper.name, paper_label(paper)) for paper in papers),
        ),
    )


class PaperNameInput(forms.TextInput):
    """A text input for the paper's name that suggests the catalogue's papers."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(
            {
                "class": "vTextField",
                "list": DATALIST_ID,
                "autocomplete": "off",
                "maxlength": "255",
                **(attrs or {}),
            }
        )

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        return format_html(
            "{}{}", super().render(name, value, attrs, renderer), paper_datalist()
        )
