"""Mapping a staff login to its Feishu identity by email, through the sandbox's
contact lookup over real HTTP."""

import pytest
from django.conf import settings
from django.urls import reverse

from exams.models import FeishuIdentity
from tests.delivery.conftest import sandbox, sandbox_server  # noqa: F401
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

URL = reverse("admin:exams_feishuidentity_lookup")


def test_looking_up_an_email_fills_the_open_id_for_the_portals_app(
    client,
    superuser,
    sandbox,  # noqa: F811
):
    staff = UserFactory(is_staff=True, email="li.lei@example.com")
    sandbox.configure(users={"li.lei@example.com": {"open_id": "ou_lilei"}})
    FeishuIdentity.objects.create(user=staff, app_id="cli_old_app", open_id="ou_old")
    client.force_login(superuser)

    response = client.post(URL, {"user": staff.pk, "email": "li.lei@example.com"})

    assert response.status_code == 200
    identity = FeishuIdentity.objects.get(user=staff, app_id=settings.FEISHU_APP_ID)
    assert identity.open_id == "ou_lilei"
    assert identity.email == "li.lei@example.com"
    page = response.content.decode()
    assert "cli_old_app" in page
    assert "this portal&#x27;s app" in page or "this portal's app" in page


def test_an_address_feishu_cannot_see_gets_a_clear_error(
    client,
    superuser,
    sandbox,  # noqa: F811
):
    staff = UserFactory(is_staff=True)
    sandbox.configure(hidden_emails=["gone@example.com"])
    client.force_login(superuser)
    response = client.post(URL, {"user": staff.pk, "email": "gone@example.com"})
    page = response.content.decode()
    assert "Feishu cannot see" in page
    assert "contact range" in page
    assert not FeishuIdentity.objects.filter(user=staff).exists()
