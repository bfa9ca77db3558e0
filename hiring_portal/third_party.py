"""What the admin shows of Django's and django-axes' own words, in the staff's
language.

Django 5.2's Simplified Chinese catalog lacks the admin's newest strings (the app
tables' headers, which screen readers read out and ``innerText`` includes), and
django-axes ships no Chinese at all. Their strings are marked here so that
``makemessages`` keeps them in the portal's catalog, which ``LOCALE_PATHS``
puts before every app's own. ``AxesConfig`` gives axes' app a name that is
translated: axes leaves it to Django, which spells the label ("Axes").
"""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy, gettext_noop


class AxesConfig(AxesAppConfig):
    verbose_name = gettext_lazy("Login lockouts")


THEIR_WORDS = (
    # django/contrib/admin/templates/admin/app_list.html (visually hidden headers)
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    # axes/models.py
    gettext_noop("User Agent"),
    gettext_noop("IP Address"),
    gettext_noop("Username"),
    gettext_noop("HTTP Accept"),
    gettext_noop("Path"),
    gettext_noop("Attempt Time"),
    gettext_noop("Access lock out"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("GET Data"),
    gettext_noop("POST Data"),
    gettext_noop("Failed Logins"),
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("Access Attempt"),
    gettext_noop("Expires At"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("Logout Time"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    # axes/admin.py
    gettext_noop("Locked Out"),
    gettext_noop("Form Data"),
    gettext_noop("Meta Data"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Not set"),
    gettext_noop("Attempt Remaining"),
)
