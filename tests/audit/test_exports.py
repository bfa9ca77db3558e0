"""Exports carry candidates' personal data out of the portal: a permission of its
own (editors and senders have it, viewers and auditors do not), and every export in
the audit trail with who, what, how many rows and which filters."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from exams.models import AuditEvent, CandidateApplication
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

LIST_URL = reverse("admin:exams_examresult_changelist")
EXPORT_URL = reverse("admin:exams_examresult_export")
WORKLIST = reverse("admin:exams_awaitingresult_changelist")


def member(role: str):
    user = UserFactory(is_staff=True, username=role)
    user.groups.add(Group.objects.get(name=role))
    return user


def body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_roles_without_the_permission_export_nothing(client, role, exam_result_factory):
    result = exam_result_factory()
    CandidateApplication.objects.create(
        application_id=result.application_id, candidate_name="陈思远", stage_type=3
    )
    client.force_login(member(role))
    page = client.get(LIST_URL).content.decode()
    assert "Export CSV" not in page and EXPORT_URL not in page
    assert client.get(EXPORT_URL, {"format": "csv"}).status_code == 403
    selected = {"action": "export_selected_xlsx", "_selected_action": [result.pk]}
    assert client.post(LIST_URL, selected).status_code == 403
    mirror = CandidateApplication.objects.get()
    sheet = {"action": "fill_in_csv", "_selected_action": [mirror.pk]}
    assert client.post(WORKLIST, sheet).status_code == 403
    assert not AuditEvent.objects.exists()


def test_every_export_is_in_the_audit_trail(client, exam_result_factory):
    results = [exam_result_factory(status="failed") for _ in range(3)]
    exam_result_factory(status="draft")
    editor = member("editor")
    client.force_login(editor)
    response = client.get(EXPORT_URL, {"format": "csv", "status__exact": "failed"})
    assert response.status_code == 200 and body(response)
    selected = {"action": "export_selected_xlsx", "_selected_action": [results[0].pk]}
    assert client.post(LIST_URL, selected).status_code == 200
    listed, picked = AuditEvent.objects.order_by("id")
    assert listed.kind == AuditEvent.Kind.EXPORT and listed.actor == editor
    assert listed.details == {
        "what": "results",
        "format": "csv",
        "rows": 3,
        "filters": {"status__exact": ["failed"]},
    }
    assert (picked.details["what"], picked.details["format"]) == (
        "selected results",
        "xlsx",
    )
    assert picked.details["rows"] == 1
