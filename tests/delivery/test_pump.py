"""The pump hands out as many rows as there are permits for, counting the rows it
handed out moments ago and no worker has claimed yet: each of those will take a
permit, and a row handed out beyond them would only be deferred by its worker (a
task run for nothing, 1.34 tasks a result before)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from exams.delivery.claims import claim_with_permit
from exams.delivery.pump import exam_results_dispatch_due, exam_results_handed_out
from exams.entry import services
from exams.gateway.limiter import get_limiter
from exams.models import CandidateApplication, ExamResult
from tests.delivery.conftest import _clear_shared_state
from tests.delivery.test_resilience import make_pending

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.embedded]
Status = ExamResult.Status
PER_SECOND = 20


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.FEISHU_RATE_PER_SECOND = PER_SECOND
    settings.FEISHU_RATE_PER_MINUTE = 1000
    settings.DELIVERY_REDISPATCH_AFTER_SECONDS = 300
    _clear_shared_state()
    yield
    _clear_shared_state()


def _send(count, staff):
    ids = make_pending(count, staff)
    services.exam_results_send(
        queryset=ExamResult.objects.filter(pk__in=ids), actor=None
    )
    return ids


def test_rows_are_handed_out_only_for_the_free_permits(staff):
    _send(50, staff)
    assert exam_results_dispatch_due() == PER_SECOND
    # Nobody claimed them yet: their permits are spoken for.
    assert exam_results_dispatch_due() == 0
    assert exam_results_handed_out().count() == PER_SECOND
    assert ExamResult.objects.filter(dispatched_at__isnull=True).count() == 30


def test_a_claimed_row_stops_holding_back_the_next(staff):
    _send(50, staff)
    assert exam_results_dispatch_due() == PER_SECOND
    first = (
        ExamResult.objects.filter(dispatched_at__isnull=False).order_by("pk").first()
    )
    # A worker claims one: it took its permit, and the window is still full.
    claim = claim_with_permit(first.pk, api="exams", lease_seconds=30)
    assert not isinstance(claim, str)
    assert exam_results_handed_out().count() == PER_SECOND - 1
    assert exam_results_dispatch_due() == 0


def test_a_row_handed_out_long_ago_no_longer_holds_a_permit(staff):
    ids = _send(30, staff)
    assert exam_results_dispatch_due() == PER_SECOND
    # Its message was lost (or sits behind slow work): after a while its permit
    # is offered to the next row; the row itself waits for the redispatch.
    ExamResult.objects.filter(pk__in=ids, dispatched_at__isnull=False).update(
        dispatched_at=timezone.now() - timezone.timedelta(seconds=60)
    )
    assert exam_results_handed_out().count() == 0
    assert exam_results_dispatch_due() == 10


def test_with_every_lookup_permit_taken_only_rows_needing_no_lookup_go(staff, settings):
    """The check before sending reads an application (its own budget) unless its
    mirror is fresh. With that budget spent, a row that needs a lookup would only
    be deferred at the check, and one checked already, behind the rows never
    tried, missed the exam permit it needed (999 of Feishu's 1,000 a minute)."""
    settings.CANDIDATE_CHECK_BEFORE_SEND = True
    settings.FEISHU_RATE_LIMITS = {"application_get": (2, 2)}
    ids = _send(5, staff)
    checked = ExamResult.objects.get(pk=ids[-1])  # last in the pump's order
    CandidateApplication.objects.create(
        application_id=checked.application_id,
        exists=True,
        active=True,
        checked_at=timezone.now(),
    )
    limiter = get_limiter()
    while not limiter.acquire("application_get"):
        pass  # the minute's lookups, all taken

    assert exam_results_dispatch_due() == 1
    handed_out = list(exam_results_handed_out().values_list("pk", flat=True))
    assert handed_out == [checked.pk]
