"""Staff's Feishu identities: the list, and "Look up by email", which asks Feishu
for the open_id it has for the portal's app instead of a pasted one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _

from ..entry.identities import (
    feishu_identity_link_by_email,
    feishu_identity_record,
)
from ..models import FeishuIdentity
from .base import TitledAdmin, staff_user
from .forms import IdentityLookupForm

if TYPE_CHECKING:
    # What the mixin is mixed into, for mypy; at run time it stays a plain class.
    _IdentityAdminBase = admin.ModelAdmin[FeishuIdentity]
else:
    _IdentityAdminBase = object


class IdentityLookupMixin(_IdentityAdminBase):
    """For FeishuIdentityAdmin: "Look up by email"."""

    def has_lookup_permission(self, request: HttpRequest) -> bool:
        # Editors and senders link themselves; administrators anyone.
        return request.user.has_perm("exams.add_feishuidentity")

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "lookup/",
                wrap(self.lookup_view),
                name="exams_feishuidentity_lookup",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        extra = {"show_lookup": self.has_lookup_permission(request)}
        extra.update(extra_context or {})
        return super().changelist_view(request, extra)

    def lookup_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_lookup_permission(request):
            raise PermissionDenied
        staff = staff_user(request)
        initial = {"user": staff.pk, "email": staff.email}
        form = IdentityLookupForm(request.POST or None, initial=initial, actor=staff)
        found = None
        if request.method == "POST" and form.is_valid():
            try:
                found = feishu_identity_link_by_email(
                    user=form.cleaned_data["user"],
                    email=form.cleaned_data["email"],
                    actor=staff,
                )
            except ValidationError as error:
                form.add_error("email", error)
            else:
                self.message_user(
                    request,
                    _(
                        "%(user)s is %(open_id)s in the Feishu app %(app)s; saved as "
                        "their identity for that app."
                    )
                    % {
                        "user": found.user.get_username(),
                        "open_id": found.open_id,
                        "app": found.app_id,
                    },
                    messages.SUCCESS,
                )
        user = (
            form.cleaned_data.get("user") if form.is_bound and form.is_valid() else None
        )
        user = user or staff
        rows = FeishuIdentity.objects.filter(user=user).order_by("app_id")
        return TemplateResponse(
            request,
            "admin/exams/feishuidentity/lookup.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Look up a Feishu identity by email"),
                "form": form,
                "found": found,
                "identities": rows,
                "shown_user": user,
                "portal_app_id": settings.FEISHU_APP_ID,
            },
        )


@admin.register(FeishuIdentity)
class FeishuIdentityAdmin(IdentityLookupMixin, TitledAdmin):
    """The identities, read by those who may see them; typed in or removed only by
    an administrator (staff link themselves through the lookup), each change in
    the audit trail."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def save_model(
        self, request: HttpRequest, obj: FeishuIdentity, form: Any, change: bool
    ) -> None:
        previous = FeishuIdentity.objects.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        feishu_identity_record(
            actor=staff_user(request), identity=obj, previous=previous, how="admin"
        )

    def delete_model(self, request: HttpRequest, obj: FeishuIdentity) -> None:
        feishu_identity_record(
            actor=staff_user(request),
            identity=obj,
            previous=obj,
            how="admin",
            deleted=True,
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for identity in queryset.select_related("user"):
            self.delete_model(request, identity)

    list_display = (
        "user",
        "app_id",
        "open_id",
        "union_id",
        "feishu_user_id",
        "email",
        "updated_at",
    )
    list_filter = ("app_id",)
    list_select_related = ("user",)
    search_fields = ("user__username", "email", "open_id", "union_id", "feishu_user_id")
    autocomplete_fields = ("user",)
    ordering = ("user__username", "app_id")
