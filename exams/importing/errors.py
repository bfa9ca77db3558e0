"""What the importer says about a file as a whole."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ImportFileError(ValidationError):
    """The file as a whole cannot be read: wrong format, unknown or missing column."""
