"""Staff's Feishu identities, found by email through Feishu's contact lookup
instead of pasted open_ids."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from feishu import FeishuError, MissingScopeError

from ..gateway.client import get_client
from ..gateway.messages import staff_message
from ..models import AuditEvent, FeishuIdentity

# What contact/v3/users/batch_get_id needs.
# https://open.feishu.cn/document/server-docs/contact-v3/user/batch_get_id
CONTACT_SCOPE = "contact:user.id:readonly"


def identity_may_set(*, actor: User, user: User) -> bool:
    """Who may say who ``user`` is in Feishu: an administrator, or the login itself.
    Results a login enters go to Feishu under that identity, so nobody else may
    choose it."""
    return actor.is_superuser or actor.pk == user.pk


def feishu_identity_link_by_email(
    *, user: User, email: str, actor: User
) -> FeishuIdentity:
    """Look ``email`` up in Feishu and record the open_id it has for the portal's
    app as ``user``'s identity (an open_id is only valid for the app that issued
    it), in the audit trail. Staff may only link themselves, by the address on
    their own login; an administrator may link anyone by any address. Raises
    ValidationError, saying what to do, when Feishu cannot tell."""
    email = email.strip()
    app_id = settings.FEISHU_APP_ID
    if not identity_may_set(actor=actor, user=user):
        raise PermissionDenied
    if not actor.is_superuser and email.casefold() != (user.email or "").casefold():
        raise ValidationError(
            _(
                "You may look up only the address on your own login (%(email)s): "
                "it proves the Feishu account is yours. For another address, ask "
                "an administrator."
            )
            % {"email": user.email or _("none set")},
            code="not_own_email",
        )
    try:
        found = get_client().find_user_ids([email], user_id_type="open_id")
    except MissingScopeError as error:
        raise ValidationError(
            _(
                "The Feishu app %(app)s may not look people up by email: grant it "
                "the permission %(scopes)s in the Feishu developer console "
                "(Permissions & Scopes) and publish a new app version. Feishu said: "
                "“%(msg)s”"
            )
            % {
                "app": app_id,
                "scopes": ", ".join(error.scopes) or CONTACT_SCOPE,
                "msg": error.msg,
            },
            code="scope",
        ) from error
    except FeishuError as error:
        raise ValidationError(staff_message(error), code="feishu") from error
    open_id = found.get(email)
    if not open_id:
        raise ValidationError(
            _(
                "Feishu cannot see “%(email)s” for the app %(app)s: check that it is "
                "the address the person uses in Feishu, that they have not left, and "
                "that the app's contact range (通讯录权限范围) includes them."
            )
            % {"email": email, "app": app_id},
            code="not_found",
        )
    previous = FeishuIdentity.objects.filter(user=user, app_id=app_id).first()
    identity, _created = FeishuIdentity.objects.update_or_create(
        user=user, app_id=app_id, defaults={"open_id": open_id, "email": email}
    )
    feishu_identity_record(
        actor=actor, identity=identity, previous=previous, how="lookup"
    )
    return identity


def feishu_identity_record(
    *,
    actor: User,
    identity: FeishuIdentity,
    previous: FeishuIdentity | None,
    how: str,
    deleted: bool = False,
) -> None:
    """Put a set, changed or removed identity in the audit trail: whose, by whom,
    how, and each ID before and after."""
    fields = ("open_id", "union_id", "feishu_user_id", "email")
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.IDENTITY,
        actor=actor,
        details={
            "user": identity.user.get_username(),
            "app_id": identity.app_id,
            "how": how,
            "deleted": deleted,
            "before": {f: getattr(previous, f) for f in fields} if previous else None,
            "after": None if deleted else {f: getattr(identity, f) for f in fields},
        },
    )
