"""What the importer says about a file as a whole."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from ..wording import TEMPLATES


class ImportFileError(ValidationError):
    """The file as a whole cannot be read: wrong format, unknown or missing column."""


def file_refusal(template: str, /, *, code: str, **params: Any) -> ImportFileError:
    """The file refused with the message ``template`` of ``exams.wording``: shown
    at once on the upload form, and kept as its code by a background import
    (``wording.stored_refusal``), so it reads in whoever's language reads it."""
    return ImportFileError(TEMPLATES[template], code=code, params=params or None)
