"""What the portal knows of Feishu: staff identities per app, and the app's
shared state (circuit breaker, what tests/search can be trusted to tell)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .results import UserIdType


class FeishuIdentity(models.Model):
    """A staff login's identity in Feishu, per Feishu app (an open_id is only valid
    for the app that issued it)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="feishu_identities",
        verbose_name=_("staff user"),
    )
    app_id = models.CharField(
        _("Feishu app"),
        max_length=64,
        help_text=_("The Feishu app these IDs were issued for (cli_…)."),
    )
    open_id = models.CharField(_("open_id"), max_length=64, blank=True)
    union_id = models.CharField(_("union_id"), max_length=64, blank=True)
    # "user_id" in Feishu's terms; named so it does not clash with ``user``'s column.
    feishu_user_id = models.CharField(_("user_id"), max_length=64, blank=True)
    email = models.EmailField(_("email in Feishu"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("Feishu identity")
        verbose_name_plural = _("Feishu identities")
        constraints = (
            models.UniqueConstraint(
                fields=("user", "app_id"), name="feishu_identity_one_per_user_and_app"
            ),
            models.CheckConstraint(
                condition=~Q(open_id="") | ~Q(union_id="") | ~Q(feishu_user_id=""),
                name="feishu_identity_has_an_id",
            ),
        )

    def __str__(self) -> str:
        return f"{self.user} @ {self.app_id}"

    def id_of_type(self, user_id_type: str) -> str:
        """The id of the given type, or "" when this identity has none."""
        ids: dict[str, str] = {
            UserIdType.OPEN_ID: self.open_id,
            UserIdType.UNION_ID: self.union_id,
            UserIdType.USER_ID: self.feishu_user_id,
        }
        return ids.get(user_id_type, "")


class FeishuAppState(models.Model):
    """What the portal has learnt about one Feishu app, shared by every worker:
    whether delivery is paused (the circuit breaker) and what tests/search can be
    trusted to tell when a delivery's outcome is unknown."""

    app_id = models.CharField(_("Feishu app"), max_length=64, unique=True)
    # None until established: True once tests/search was seen listing an exam this
    # portal created; False when it was seen not listing one.
    search_lists_created = models.BooleanField(null=True)
    search_checked_at = models.DateTimeField(null=True, blank=True)
    observed_search_lag_seconds = models.FloatField(default=0)
    paused_until = models.DateTimeField(_("paused until"), null=True, blank=True)
    pause_reason = models.TextField(_("why delivery is paused"), blank=True)
    pause_code = models.IntegerField(null=True, blank=True)
    paused_since = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_answer_at = models.DateTimeField(null=True, blank=True)
    # The scopes the candidate lookups found missing (names and jobs not shown):
    # shown on the dashboard until a lookup succeeds in full.
    lookup_problem = models.CharField(max_length=255, blank=True)
    lookup_problem_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Feishu app state")
        verbose_name_plural = _("Feishu app states")

    def __str__(self) -> str:
        return self.app_id
