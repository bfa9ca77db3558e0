"""Staff's Feishu identities, found by email through Feishu's contact lookup
instead of pasted open_ids."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from feishu import FeishuError, MissingScopeError

from ..gateway.client import get_client
from ..gateway.messages import staff_message
from ..models import FeishuIdentity

# What contact/v3/users/batch_get_id needs.
# https://open.feishu.cn/document/server-docs/contact-v3/user/batch_get_id
CONTACT_SCOPE = "contact:user.id:readonly"


def feishu_identity_link_by_email(*, user: User, email: str) -> FeishuIdentity:
    """Look ``email`` up in Feishu and record the open_id it has for the portal's
    app as ``user``'s identity (an open_id is only valid for the app that issued
    it). Raises ValidationError, saying what to do, when Feishu cannot tell."""
    email = email.strip()
    app_id = settings.FEISHU_APP_ID
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
    identity, _created = FeishuIdentity.objects.update_or_create(
        user=user, app_id=app_id, defaults={"open_id": open_id, "email": email}
    )
    return identity
