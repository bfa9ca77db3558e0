"""A result's page in Chromium: the buttons for what can be done with this result
now (the list's actions, their permissions and confirmations), each call to
Feishu shown once, no empty tables or button bars, the operator's ID whole."""

from __future__ import annotations

import pytest
from django.utils import timezone

from exams.models import ExamResult, SyncAttempt
from tests.browser.conftest import PASSWORD, log_in, role
from tests.factories import ExamResultFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.embedded]

Status = ExamResult.Status


def buttons(page) -> list[str]:
    return page.locator("#result-actions [data-action]").evaluate_all(
        "buttons => buttons.map(b => b.dataset.action)"
    )


def csrf_token(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def test_a_result_page_offers_what_applies_to_it_and_shows_each_call_once(
    page, live_server, sender_login
):
    unknown = ExamResultFactory(status=Status.UNKNOWN, entered_by=sender_login)
    SyncAttempt.objects.create(
        result=unknown,
        call=SyncAttempt.Call.CREATE_EXAM,
        started_at=timezone.now(),
        outcome=SyncAttempt.Outcome.UNKNOWN,
        request_body={},
    )
    delivered = ExamResultFactory(
        status=Status.SYNCED, exam_id="7000000000000000001", synced_at=timezone.now()
    )
    log_in(page, live_server, sender_login.username)

    page.goto(f"{live_server.url}/admin/exams/examresult/{delivered.pk}/change/")
    assert buttons(page) == ["record_correction"]
    assert page.locator(".submit-row").count() == 0  # nothing to save
    assert page.locator("#score-corrections").count() == 0  # none recorded

    page.goto(f"{live_server.url}/admin/exams/examresult/{unknown.pk}/change/")
    assert buttons(page) == ["check_feishu", "resend_anyway", "mark_delivered"]
    # Each call to Feishu once: no second table of the same calls.
    assert page.get_by_text("Calls to Feishu", exact=True).count() == 1
    assert page.locator("#attempt-details tbody tr.attempt").count() == 1

    # "Resend anyway" warns first, and applies to this one result.
    page.click("#result-action-resend_anyway")
    assert "second record in Feishu" in page.locator(".errornote").inner_text()
    assert "1 result" in page.locator("#content-main").inner_text()
    page.click("#confirm-action")
    page.wait_for_url(f"**/examresult/{unknown.pk}/change/")
    assert "1 result queued to send again" in page.locator(".messagelist").inner_text()
    unknown.refresh_from_db()
    assert unknown.status == Status.PENDING
    assert buttons(page) == ["retry_now"]

    # The add form: no table of calls, the operator's ID readable whole.
    page.goto(f"{live_server.url}/admin/exams/examresult/add/")
    assert page.get_by_text("Calls to Feishu").count() == 0
    page.fill("#id_operator_id", "ou_f476cb099ac9227c9bae09ce46112579")
    fits = page.locator("#id_operator_id").evaluate(
        "input => input.scrollWidth <= input.clientWidth"
    )
    assert fits


def test_a_viewer_sees_no_buttons_and_no_empty_bar(page, live_server, transactional_db):
    viewer = UserFactory(username="viewer.wang", is_staff=True, password=PASSWORD)
    viewer.groups.add(role("viewer"))
    result = ExamResultFactory(status=Status.UNKNOWN)
    log_in(page, live_server, viewer.username)
    page.goto(f"{live_server.url}/admin/exams/examresult/{result.pk}/change/")
    assert page.locator("#result-actions").count() == 0
    assert page.locator(".submit-row").count() == 0
    # The action is refused as it is on the list, naming the role.
    response = page.request.post(
        f"{live_server.url}/admin/exams/examresult/{result.pk}/act/",
        form={"action": "resend_anyway"},
        headers={"X-CSRFToken": csrf_token(page)},
    )
    assert response.status == 403
