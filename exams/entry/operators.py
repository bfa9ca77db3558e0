"""Who is recorded as the operator in Feishu: the staff member's own Feishu
identity for the portal's app, unless an operator ID is given."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from ..models import FeishuIdentity
from ..wording import TEMPLATES


class OperatorMissingError(ValidationError):
    pass


def operator_for(*, user: User, user_id_type: str) -> tuple[str, str]:
    """The operator id of ``user`` for the portal's Feishu app, and that app's id.

    Raises OperatorMissingError, saying what to do, when the user has none.
    """
    app_id = settings.FEISHU_APP_ID
    identity = FeishuIdentity.objects.filter(user=user, app_id=app_id).first()
    operator_id = identity.id_of_type(user_id_type) if identity else ""
    if not operator_id:
        raise OperatorMissingError(
            TEMPLATES["operator.missing"],
            code="operator.missing",
            params={"user": user.get_username(), "type": user_id_type, "app": app_id},
        )
    return operator_id, app_id
