"""Simplified Chinese date and time formats for staff: Django's own
(``django/conf/locale/zh_Hans/formats.py``: 2026年11月28日 22:35), with a moment
written to the second, as in English (hiring_portal/formats/en): the audit pages
list calls to Feishu made within the same minute. Every format not set here is
Django's."""

DATETIME_FORMAT = "Y年n月j日 H:i:s"
