"""Mapping a staff login to its Feishu identity by email, through the sandbox's
contact lookup over real HTTP."""

import pytest
from django.conf import settings
from django.urls import reverse

from exams.models import AuditEvent, FeishuIdentity
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


# --- nobody chooses who someone else is in Feishu ----------------------------------


@pytest.fixture
def editor(db):
    from django.contrib.auth.models import Group

    user = UserFactory(
        is_staff=True, username="wang.fang", email="wang.fang@example.com"
    )
    user.groups.add(Group.objects.get(name="editor"))
    return user


@pytest.fixture
def admins_identity(superuser):
    identity, _ = FeishuIdentity.objects.update_or_create(
        user=superuser, app_id=settings.FEISHU_APP_ID, defaults={"open_id": "ou_admin"}
    )
    return identity


@pytest.mark.parametrize("role", ["editor", "sender"])
def test_staff_cannot_rebind_anyone_elses_identity(
    client, superuser, admins_identity, role
):
    from django.contrib.auth.models import Group

    attacker = UserFactory(is_staff=True, email="mallory@example.com")
    attacker.groups.add(Group.objects.get(name=role))
    client.force_login(attacker)
    change = reverse("admin:exams_feishuidentity_change", args=[admins_identity.pk])
    posted = {"user": superuser.pk, "app_id": settings.FEISHU_APP_ID, "open_id": "ou_x"}
    assert client.post(change, posted).status_code == 403
    add = reverse("admin:exams_feishuidentity_add")
    assert client.post(add, posted).status_code == 403
    delete = reverse("admin:exams_feishuidentity_delete", args=[admins_identity.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    admins_identity.refresh_from_db()
    assert admins_identity.open_id == "ou_admin"
    assert not AuditEvent.objects.exists()


def test_the_lookup_links_staff_only_to_themselves_by_their_own_address(
    client,
    superuser,
    admins_identity,
    editor,
    sandbox,  # noqa: F811
):
    sandbox.configure(
        users={
            "wang.fang@example.com": {"open_id": "ou_wangfang"},
            "boss@example.com": {"open_id": "ou_boss"},
        }
    )
    client.force_login(editor)
    page = client.get(URL).content.decode()
    assert "wang.fang@example.com" in page
    # A forged form naming the administrator and another address: the login's own
    # values are used, not the request's.
    response = client.post(URL, {"user": superuser.pk, "email": "boss@example.com"})
    assert response.status_code == 200
    admins_identity.refresh_from_db()
    assert admins_identity.open_id == "ou_admin"
    mine = FeishuIdentity.objects.get(user=editor, app_id=settings.FEISHU_APP_ID)
    assert mine.open_id == "ou_wangfang"
    (event,) = AuditEvent.objects.all()
    assert event.kind == AuditEvent.Kind.IDENTITY
    assert event.actor == editor
    assert event.details["user"] == "wang.fang"
    assert event.details["after"]["open_id"] == "ou_wangfang"
    assert event.details["before"] is None


def test_the_service_refuses_another_address_or_another_login(
    superuser,
    editor,
    sandbox,  # noqa: F811
):
    from django.core.exceptions import PermissionDenied, ValidationError

    from exams.entry.identities import feishu_identity_link_by_email

    with pytest.raises(PermissionDenied):
        feishu_identity_link_by_email(
            user=superuser, email="boss@example.com", actor=editor
        )
    with pytest.raises(ValidationError, match="only the address on your own login"):
        feishu_identity_link_by_email(
            user=editor, email="boss@example.com", actor=editor
        )
    assert not FeishuIdentity.objects.filter(user=editor).exists()


def test_an_administrators_changes_are_in_the_audit_trail(
    client, superuser, admins_identity
):
    client.force_login(superuser)
    change = reverse("admin:exams_feishuidentity_change", args=[admins_identity.pk])
    response = client.post(
        change,
        {
            "user": superuser.pk,
            "app_id": settings.FEISHU_APP_ID,
            "open_id": "ou_admin_2",
            "union_id": "",
            "feishu_user_id": "",
            "email": "",
        },
    )
    assert response.status_code == 302
    (event,) = AuditEvent.objects.all()
    assert event.actor == superuser and event.details["how"] == "admin"
    assert event.details["before"]["open_id"] == "ou_admin"
    assert event.details["after"]["open_id"] == "ou_admin_2"
