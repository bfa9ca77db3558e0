from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from exams.demo import demo_results_seed
from exams.models import FeishuIdentity

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105 - a published demo login, DEBUG only
DEMO_OPEN_ID = "ou_f476cb099ac9227c9bae09ce46112579"


class Command(BaseCommand):
    help = "Create (or reset) the demo staff login for the embedded default."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "The demo login is for development only (DJANGO_DEBUG=true); "
                "use createsuperuser in production."
            )
        user, _created = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME,
            defaults={"email": "demo@example.com", "is_staff": True},
        )
        user.is_staff = True
        user.is_superuser = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        FeishuIdentity.objects.update_or_create(
            user=user,
            app_id=settings.FEISHU_APP_ID,
            defaults={"open_id": DEMO_OPEN_ID, "email": user.email},
        )
        added = demo_results_seed(user=user, operator_id=DEMO_OPEN_ID)
        if added:
            self.stdout.write(f"Added {added} demo results in every state.")
        self.stdout.write(f"Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}")
