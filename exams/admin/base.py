"""What the portal's admins share: read-only admins (one rule for every record no
one may add, change or delete through the admin, superusers included) and the
link to a result."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from .changelist import CappedCountPaginator


class ReadOnlyPermissions:
    """Seen, never added, changed or deleted through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyPermissions, admin.ModelAdmin):
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


def result_link(result_id: int, text: str) -> SafeString:
    """A link to a result's page, which checks its own permission."""
    url = reverse("admin:exams_examresult_change", args=[result_id])
    return format_html('<a href="{}">{}</a>', url, text)


def refuse_unavailable_action(model_admin: Any, request: HttpRequest) -> None:
    """403 for an action of ``model_admin`` the user may not run: not skipped with
    a notice, nor (for a role with no action at all) the list shown again."""
    names = request.POST.getlist("action")
    try:
        name = names[int(request.POST.get("index", 0))]
    except (IndexError, ValueError):
        name = ""
    declared = {getattr(action, "__name__", "") for action in model_admin.actions}
    if name in declared and name not in model_admin.get_actions(request):
        raise PermissionDenied
