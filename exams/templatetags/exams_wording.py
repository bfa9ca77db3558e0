"""``{{ value|words }}``: a stored message (``exams.wording``) in the reader's
language, for pages that show stored rows or cached figures."""

from __future__ import annotations

from typing import Any

from django import template

from ..wording import render

register = template.Library()


@register.filter
def words(value: Any) -> str:
    return render(value)
