"""The roles created by the migration, page by page and action by action: allowed,
or refused with 403 by the server (not only a hidden button)."""

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from exams.audit.history import result_changes
from exams.models import ExamResult, SyncAttempt
from exams.roles import ROLES as DEFINED
from tests.delivery.conftest import sandbox, sandbox_server  # noqa: F401
from tests.factories import FeishuIdentityFactory, UserFactory, exam_result_form

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

ROLES = ("viewer", "editor", "sender", "auditor")
LIST_URL = reverse("admin:exams_examresult_changelist")


@pytest.fixture
def users(db):
    made = {}
    for role in ROLES:
        user = UserFactory(is_staff=True, username=role)
        user.groups.add(Group.objects.get(name=role))
        FeishuIdentityFactory(user=user)
        made[role] = user
    return made


def test_the_migration_creates_the_four_roles_with_their_permissions():
    perms = {
        g.name: set(g.permissions.values_list("codename", flat=True))
        for g in Group.objects.filter(name__in=ROLES)
    }
    assert perms["viewer"] == {
        "view_examresult",
        "view_syncattempt",
        "view_historicalexamresult",
        "view_scorecorrection",
        "view_exampaper",
    }
    assert {"add_examresult", "change_examresult"} <= perms["editor"]
    assert "send_examresult" not in perms["editor"]
    assert perms["sender"] == perms["editor"] | {"send_examresult"}
    assert {"review_audit", "view_auditevent"} <= perms["auditor"]
    assert not any(
        p.startswith(("add_", "change_", "delete_")) for p in perms["auditor"]
    )
    assert not any(
        p.startswith(("add_", "change_", "delete_")) for p in perms["viewer"]
    )


def test_the_migrations_add_up_to_the_roles_as_defined_in_code():
    # exams.roles is what the migrations must produce; tests that empty the
    # tables rebuild the groups from it.
    perms = {
        g.name: set(g.permissions.values_list("codename", flat=True))
        for g in Group.objects.filter(name__in=ROLES)
    }
    assert perms == {name: set(codenames) for name, codenames in DEFINED.items()}


PAGES = {
    # page: roles allowed (the others get 403)
    "result list": (LIST_URL, set(ROLES)),
    "result add": (reverse("admin:exams_examresult_add"), {"editor", "sender"}),
    "import": (reverse("admin:exams_examresult_import"), {"editor", "sender"}),
    "export": (
        reverse("admin:exams_examresult_export") + "?format=csv",
        {"editor", "sender"},
    ),
    "history list": (
        reverse("admin:exams_historicalexamresult_changelist"),
        set(ROLES),
    ),
    "attempt list": (reverse("admin:exams_syncattempt_changelist"), set(ROLES)),
    "audit events": (reverse("admin:exams_auditevent_changelist"), {"auditor"}),
    "audit page": (reverse("exams_audit:review"), {"auditor"}),
    "audit export": (reverse("exams_audit:export") + "?view=changes", {"auditor"}),
    "identity lookup": (
        reverse("admin:exams_feishuidentity_lookup"),
        {"editor", "sender"},
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_pages_are_allowed_or_refused_with_403(client, users, role, page):
    url, allowed = PAGES[page]
    client.force_login(users[role])
    response = client.get(url)
    assert response.status_code == (200 if role in allowed else 403), page


@pytest.mark.parametrize("role", ROLES)
def test_the_result_page_and_correction_form_follow_the_roles(
    client, users, role, exam_result_factory
):
    result = exam_result_factory(status="synced", exam_id="70001")
    client.force_login(users[role])
    page = client.get(reverse("admin:exams_examresult_change", args=[result.pk]))
    assert page.status_code == 200
    correction = reverse("admin:exams_examresult_correction", args=[result.pk])
    assert (correction in page.content.decode()) == (role == "sender")
    response = client.post(correction, {"new_score": "90", "reason": "typo"})
    assert response.status_code == (302 if role == "sender" else 403)


@pytest.mark.parametrize("role", ROLES)
def test_editing_a_result_is_refused_with_403_to_read_only_roles(
    client, users, role, exam_result_factory
):
    result = exam_result_factory()
    client.force_login(users[role])
    response = client.post(
        reverse("admin:exams_examresult_change", args=[result.pk]),
        exam_result_form(
            result, exam_resource_name="前端工程师笔试", score="1", _save="1"
        ),
    )
    allowed = role in ("editor", "sender")
    assert response.status_code == (302 if allowed else 403)
    result.refresh_from_db()
    assert (result.exam_resource_name == "前端工程师笔试") == allowed


ACTIONS = {
    # action: (status of the selected result, roles allowed)
    "send_to_feishu": ("draft", {"sender"}),
    "record_correction": ("synced", {"sender"}),
    "retry_now": ("pending", {"sender"}),
    "check_feishu": ("unknown", {"sender"}),
    "resend_anyway": ("unknown", {"sender"}),
    "mark_delivered": ("unknown", {"sender"}),
    "send_anyway": ("held", {"sender"}),
    "export_selected_csv": ("draft", {"editor", "sender"}),
}


def test_every_action_of_the_exam_result_admin_is_covered_here():
    declared = {action.__name__ for action in admin.site._registry[ExamResult].actions}
    assert declared - {"export_selected_xlsx"} == set(ACTIONS)


def _run(client, action, result, **extra):
    return client.post(
        LIST_URL, {"action": action, "_selected_action": [result.pk], **extra}
    )


def _allowed_outcome(client, user, action, result):
    """Run ``action`` as an allowed role and check what it did."""
    if action == "send_to_feishu":
        assert _run(client, action, result).status_code == 302
        result.refresh_from_db()
        assert result.status == "pending"
    elif action == "record_correction":
        response = _run(client, action, result)
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "admin:exams_examresult_correction", args=[result.pk]
        )
    elif action == "retry_now":
        assert _run(client, action, result).status_code == 302
        result.refresh_from_db()
        assert result.next_attempt_at is None
        [change, _created] = result_changes(result.pk)
        assert (change.actor, change.reason_display) == (user, "Retry now")
    elif action == "check_feishu":
        assert _run(client, action, result).status_code == 302
        assert SyncAttempt.objects.filter(
            result=result, call=SyncAttempt.Call.SEARCH_TESTS
        ).exists()
    elif action == "resend_anyway":
        confirm = _run(client, action, result)
        assert confirm.status_code == 200
        assert "Yes, send them again" in confirm.content.decode()
        assert _run(client, action, result, confirm="yes").status_code == 302
        result.refresh_from_db()
        assert result.status == "pending"
    elif action == "mark_delivered":
        form = _run(client, action, result)
        assert form.status_code == 200
        assert 'name="exam_id"' in form.content.decode()
        assert _run(client, action, result, exam_id="70009").status_code == 302
        result.refresh_from_db()
        assert (result.status, result.exam_id) == ("synced", "70009")
    elif action == "send_anyway":
        form = _run(client, action, result)
        assert form.status_code == 200
        assert 'name="why"' in form.content.decode()
        why = "Took the exam before the move"
        assert _run(client, action, result, confirm="yes", why=why).status_code == 302
        result.refresh_from_db()
        assert (result.status, result.check_override) == ("pending", why)
        change = result_changes(result.pk)[0]
        assert (change.actor, change.reason_display) == (
            user,
            "Sent although the check failed",
        )
    elif action == "export_selected_csv":
        response = _run(client, action, result)
        assert response.status_code == 200
        assert result.application_id in b"".join(response.streaming_content).decode()
    else:  # pragma: no cover - the coverage test above lists every action
        raise AssertionError(action)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_actions_are_allowed_with_their_outcome_or_refused_with_403(
    sandbox,  # noqa: F811
    client,
    users,
    role,
    action,
    exam_result_factory,
):
    status, allowed = ACTIONS[action]
    extra = {"exam_id": "70001"} if status == "synced" else {}
    if status == "pending":
        extra["next_attempt_at"] = timezone.now() + dt.timedelta(hours=1)
    if status == "held":
        extra["hold_code"] = "terminated"
    result = exam_result_factory(status=status, **extra)
    client.force_login(users[role])
    if role in allowed:
        _allowed_outcome(client, users[role], action, result)
    else:
        assert _run(client, action, result).status_code == 403
        result.refresh_from_db()
        assert result.status == status


@pytest.mark.parametrize("role", ROLES)
def test_the_dashboard_is_shown_to_roles_that_may_view_results(client, users, role):
    client.force_login(users[role])
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    assert b'id="exams-dashboard"' in page.content
    assert (b'href="/admin/exams/audit/"' in page.content) == (role == "auditor")


def test_staff_without_a_role_see_no_dashboard_and_no_audit(client):
    user = UserFactory(is_staff=True)
    client.force_login(user)
    assert b"exams-dashboard" not in client.get(reverse("admin:index")).content
    assert client.get(reverse("exams_audit:review")).status_code == 403
