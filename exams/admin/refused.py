"""The refused page (403): in the admin's own look, saying which role would have
allowed what was refused, instead of a bare "403 Forbidden".

The permission comes from the refusal (``base.Refused``) or, for the admin's own
pages, from the page's URL name (``exams_examresult_add`` needs
``exams.add_examresult``); the roles are the groups that hold it.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from ..roles import role_label
from .base import Refused

# What each of a model's admin pages needs, by the end of its URL name.
PAGE_PERMISSIONS = {
    "changelist": "view",
    "change": "view",
    "history": "view",
    "add": "add",
    "delete": "delete",
    "import": "add",
    "import_batch": "add",
    "import_progress": "add",
    "import_template": "add",
    "export": "export",
    "correction": "send",
    "lookup": "add",
}
NAMED_PAGES = {"exams_audit:review": "exams.review_audit"}


def needed_permission(request: HttpRequest, exception: Exception) -> str:
    """The permission that would have let this request through, or "" when the
    refusal does not say and the page does not tell."""
    if isinstance(exception, Refused):
        return exception.permission
    match = request.resolver_match
    if match is None or not match.url_name:
        return ""
    if match.view_name in NAMED_PAGES:
        return NAMED_PAGES[match.view_name]
    app_label, _sep, rest = match.url_name.partition("_")
    try:
        models = apps.get_app_config(app_label).get_models()
    except LookupError:
        return ""
    for model in models:
        prefix = f"{model._meta.model_name}_"
        if rest.startswith(prefix) and admin.site.is_registered(model):
            verb = PAGE_PERMISSIONS.get(rest.removeprefix(prefix))
            return f"{app_label}.{verb}_{model._meta.model_name}" if verb else ""
    return ""


def roles_with(permission: str) -> list[str]:
    """The roles (groups) that hold ``permission``, in the reader's language."""
    app_label, _sep, codename = permission.partition(".")
    names = Group.objects.filter(
        permissions__content_type__app_label=app_label,
        permissions__codename=codename,
    ).values_list("name", flat=True)
    return [role_label(name) for name in sorted(set(names))]


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler403``."""
    permission = needed_permission(request, exception)
    said = "" if isinstance(exception, Refused) else str(exception)
    context = {
        **admin.site.each_context(request),
        "title": _("Not allowed for your login"),
        "reason": said,
        "roles": roles_with(permission) if permission else [],
        "known": bool(permission),
    }
    return render(request, "admin/exams/refused.html", context, status=403)
