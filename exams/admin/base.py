"""What the portal's admins share: lists titled by what they hold, read-only
admins (one rule for every record no one may add, change or delete through the
admin, superusers included), the link to a result and the refusal of an action."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import capfirst

from .changelist import CappedCountPaginator


class TitledAdmin(admin.ModelAdmin):
    """A list titled by what it holds ("Exam results", not Django's "Select exam
    result to change"), that name the crumb back to it from its pages."""

    # What the list is called when the model's plural would mislead.
    list_title: Any = None

    def list_name(self) -> str:
        return str(capfirst(self.list_title or self.opts.verbose_name_plural))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> Any:
        names = {"title": self.list_name(), "list_name": self.list_name()}
        return super().changelist_view(request, {**names, **(extra_context or {})})

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        extra = {"list_name": self.list_name(), **(extra_context or {})}
        return super().changeform_view(request, object_id, form_url, extra)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> Any:
        extra = {"list_name": self.list_name(), **(extra_context or {})}
        return super().delete_view(request, object_id, extra)


class RefusalsShownAdmin(TitledAdmin):
    """An admin whose saves go through a service that may still refuse, after the
    form's checks, because the state changed meanwhile (a worker claimed the
    row, results were entered for the paper): nothing is written, and staff see
    why on the page they were on instead of an error page."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            self.message_refusal(request, error)
            return HttpResponseRedirect(request.get_full_path())

    def message_refusal(self, request: HttpRequest, error: ValidationError) -> None:
        for message in error.messages:
            self.message_user(request, message, messages.ERROR)


class ReadOnlyPermissions:
    """Seen, never added, changed or deleted through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyPermissions, TitledAdmin):
    """A read-only list, seen with the model's view permission."""

    actions = None
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}")


def staff_user(request: HttpRequest) -> User:
    """Who acts in an admin view or action, as the services record them.

    ``AdminSite.admin_view`` lets only logged-in staff in; an anonymous user here
    would mean a view escaped it, and is refused rather than recorded as nobody.
    """
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied
    return user


def local_time(value: dt.datetime | None) -> str:
    """A moment as the reader's locale writes it, to the second (the formats
    modules of hiring_portal/formats): audit reviewers compare calls by it."""
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def result_link(result_id: int, text: str) -> SafeString:
    """A link to a result's page, which checks its own permission."""
    url = reverse("admin:exams_examresult_change", args=[result_id])
    return format_html('<a href="{}">{}</a>', url, text)


class Refused(PermissionDenied):
    """A 403 that knows the permission which would have allowed it: the refused
    page (``refused``) names the roles that have it."""

    def __init__(self, permission: str) -> None:
        super().__init__(permission)
        self.permission = permission


def refuse_unavailable_action(model_admin: Any, request: HttpRequest) -> None:
    """403 for an action of ``model_admin`` the user may not run: not skipped with
    a notice, nor (for a role with no action at all) the list shown again."""
    names = request.POST.getlist("action")
    try:
        name = names[int(request.POST.get("index", 0))]
    except (IndexError, ValueError):
        name = ""
    declared = {
        getattr(action, "__name__", ""): action for action in model_admin.actions
    }
    if name in declared and name not in model_admin.get_actions(request):
        opts = model_admin.opts
        needs = getattr(declared[name], "allowed_permissions", ()) or ("change",)
        raise Refused(f"{opts.app_label}.{get_permission_codename(needs[0], opts)}")
