"""The portal's admin site: its name in the staff's language, exam results first,
and the tools of the people who run the portal (logins, groups, lockouts) kept to
superusers.

``PortalAdminConfig`` makes it ``django.contrib.admin``'s default site, so every
``admin.site.register`` and ``@admin.register`` lands here. This module imports
no admin of the portal: the site is made while the apps' admins are discovered.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.db.models import Model
from django.db.models.base import ModelBase
from django.http import HttpRequest
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy

# Managed by the people who run the portal, not by recruiting staff.
SUPERUSER_APPS = ("auth", "axes")
# The exams app's pages in the order staff reach for them; the rest follow by name.
EXAMS_ORDER = (
    "examresult",
    "awaitingresult",
    "importbatch",
    "exampaper",
    "feishuidentity",
    "historicalexamresult",
    "syncattempt",
    "scorecorrection",
    "auditevent",
    "alertsent",
)


def site_name() -> str:
    """``PORTAL_SITE_NAME`` as set, else the product's name in the reader's
    language."""
    return settings.PORTAL_SITE_NAME or gettext("Exam results to Feishu")


class SuperusersOnly:
    """An admin that only superusers see or use."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_view_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser and super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_change_permission(  # type: ignore[misc]
            request, obj
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(  # type: ignore[misc]
            request, obj
        )


class PortalAdminSite(admin.AdminSite):
    site_header = lazy(site_name, str)()
    site_title = lazy(site_name, str)()
    index_title = gettext_lazy("Overview")
    # The dashboard is on the index (exams.dashboard). The app's own template
    # name: django.contrib.admin comes first in INSTALLED_APPS, so an
    # exams/templates/admin/index.html would never be found.
    index_template = "admin/exams/index.html"

    def register(
        self, model_or_iterable: Any, admin_class: Any = None, **options: Any
    ) -> None:
        models: list[type[Model]] = (
            [model_or_iterable]  # type: ignore[list-item]  # a model class
            if isinstance(model_or_iterable, ModelBase)
            else list(model_or_iterable)
        )
        for model in models:
            model_admin = admin_class or admin.ModelAdmin
            if model._meta.app_label in SUPERUSER_APPS:
                model_admin = type(
                    model_admin.__name__, (SuperusersOnly, model_admin), {}
                )
            super().register(model, model_admin, **options)

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[dict[str, Any]]:
        apps = super().get_app_list(request, app_label)
        apps.sort(key=lambda app: app["app_label"] != "exams")
        for app in apps:
            if app["app_label"] != "exams":
                continue
            app["models"].sort(key=_exams_rank)
            for entry in app["models"]:
                # A list the portal names otherwise than its model's plural.
                name = getattr(self.get_model_admin(entry["model"]), "list_title", None)
                if name:
                    entry["name"] = name
        return apps


def _exams_rank(entry: dict[str, Any]) -> tuple[int, str]:
    name = entry["object_name"].lower()
    rank = EXAMS_ORDER.index(name) if name in EXAMS_ORDER else len(EXAMS_ORDER)
    return rank, str(entry["name"])


class PortalAdminConfig(AdminConfig):
    default_site = "hiring_portal.admin_site.PortalAdminSite"
