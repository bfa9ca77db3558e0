"""The admin site's frame: its title, and the dashboard on the index."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("hiring_portal")
admin.site.site_title = _("hiring_portal")
admin.site.index_title = _("Exam results to Feishu Hire")
# The dashboard is on the admin index (exams.dashboard). The app's own template
# name: django.contrib.admin comes first in INSTALLED_APPS, so an
# exams/templates/admin/index.html would never be found.
admin.site.index_template = "admin/exams/index.html"
