"""Email alerts: delivery paused, pending results waiting too long, results that
ended failed or with an outcome unknown.

Each problem is told at most once: an ``AlertSent`` row is written before the
mail leaves (a crash after it loses one mail rather than sending it twice).
Episodes (a pause, a backlog) stay open until the condition clears, so a long
pause is one email, and the next pause another. The staff member who entered a
failed result and the senders (users with the send permission) are told, with a
link to the filtered change list.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..delivery.reconcile import ReconcileReport, exam_results_reconcile
from ..gateway.breaker import pause_status
from ..models import AlertSent, ExamResult
from ..wording import Message, message, render

logger = logging.getLogger(__name__)
Status = ExamResult.Status
Kind = AlertSent.Kind
LOCK = "hp:alerts:check"
LISTED = 20


def senders() -> list[Any]:
    """Active users who may send results: by permission, group or superuser."""
    User = get_user_model()
    perm = Permission.objects.filter(
        content_type__app_label="exams", codename="send_examresult"
    ).first()
    q = Q(is_superuser=True)
    if perm is not None:
        q |= Q(user_permissions=perm) | Q(groups__permissions=perm)
    return list(
        User.objects.filter(is_active=True).filter(q).exclude(email="").distinct()
    )


def changelist_url(status: str) -> str:
    path = reverse("admin:exams_examresult_changelist")
    return f"{settings.HIRING_PORTAL_BASE_URL}{path}?status__exact={status}"


def _stored_subject(subject: Message) -> str:
    """The subject as the alert pages word it for their reader (the email itself
    goes out in ``LANGUAGE_CODE``)."""
    text = subject.stored()
    return text if len(text) <= 255 else str(subject)[:255]


def _open_episode(kind: str, key: str, subject: Message, recipients: list[str]) -> bool:
    """Record a new episode; False when one of this kind is already open."""
    if AlertSent.objects.filter(kind=kind, resolved_at__isnull=True).exists():
        return False
    try:
        with transaction.atomic():
            AlertSent.objects.create(
                kind=kind,
                key=key,
                subject=_stored_subject(subject),
                recipients=", ".join(recipients),
            )
    except IntegrityError:
        return False
    return True


def _close_episodes(kind: str) -> int:
    return AlertSent.objects.filter(kind=kind, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )


def _send(subject: str, body: str, recipients: Iterable[str]) -> int:
    to = sorted(set(recipients))
    if not to:
        return 0
    connection = get_connection(fail_silently=False)
    messages = [
        EmailMessage(
            f"[hiring_portal] {subject}",
            body,
            settings.DEFAULT_FROM_EMAIL,
            [address],
            connection=connection,
        )
        for address in to
    ]
    try:
        return connection.send_messages(messages) or 0
    except Exception:
        logger.exception("alert email could not be sent", extra={"subject": subject})
        return 0


def alert_problem(alert: AlertSent) -> str:
    """The problem an alert told of, in words: its key (``result_unknown:10:4``)
    is how the portal tells it once, not something staff should decode."""
    kind, _sep, rest = alert.key.partition(":")
    first, _sep, _last_call = rest.partition(":")
    if kind == Kind.PAUSED:
        return _("Delivery to Feishu paused (Feishu app %(app)s).") % {"app": first}
    if kind == Kind.STALE_PENDING:
        return _("Result #%(id)s waited too long to be sent.") % {"id": first}
    # The key's last part is the id of the result's last call to Feishu (a new
    # call that ends the same way is a new problem), not a count: not shown.
    if kind == Kind.RESULT_FAILED:
        return _("Result #%(id)s failed.") % {"id": first}
    if kind == Kind.RESULT_UNKNOWN:
        return _("Result #%(id)s: outcome unknown.") % {"id": first}
    return alert.key


def check_paused() -> int:
    state = pause_status()
    if state is None or state.paused_since is None:
        _close_episodes(Kind.PAUSED)
        return 0
    to = [u.email for u in senders()]
    subject = message("alert.paused")
    key = f"paused:{state.app_id}:{state.paused_since.isoformat()}"
    if not _open_episode(Kind.PAUSED, key, subject, to):
        return 0
    body = _(
        "Delivery of exam results to Feishu is paused for every result: %(reason)s\n\n"
        "Results stay pending and are sent once delivery resumes. Pending "
        "results: %(url)s"
    ) % {"reason": render(state.pause_reason), "url": changelist_url(Status.PENDING)}
    return _send(str(subject), body, to)


def check_stale_pending(now: dt.datetime) -> int:
    limit = dt.timedelta(minutes=settings.EXAMS_ALERT_PENDING_MINUTES)
    oldest = (
        ExamResult.objects.filter(status=Status.PENDING)
        .order_by("updated_at")
        .values_list("pk", "updated_at")
        .first()
    )
    if oldest is None or now - oldest[1] <= limit:
        _close_episodes(Kind.STALE_PENDING)
        return 0
    to = [u.email for u in senders()]
    subject = message(
        "alert.stale_pending", minutes=settings.EXAMS_ALERT_PENDING_MINUTES
    )
    key = f"stale_pending:{oldest[0]}:{oldest[1].isoformat()}"
    if not _open_episode(Kind.STALE_PENDING, key, subject, to):
        return 0
    body = _(
        "The oldest pending result has waited since %(since)s. Delivery may be "
        "paused, the workers may be stopped, or Feishu may be slow.\n\n"
        "Pending results: %(url)s"
    ) % {
        "since": timezone.localtime(oldest[1]).strftime("%Y-%m-%d %H:%M"),
        "url": changelist_url(Status.PENDING),
    }
    return _send(str(subject), body, to)


def _ended(now: dt.datetime) -> list[tuple[ExamResult, str, str]]:
    """Results that ended failed, or unknown once reconciliation gave up (no next
    check planned), within the lookback, not yet told; with their alert kind and
    key. The key names the last call, so a resend that fails again is a new
    problem."""
    since = now - dt.timedelta(hours=settings.EXAMS_ALERT_LOOKBACK_HOURS)
    rows = (
        ExamResult.objects.filter(updated_at__gte=since)
        .filter(
            Q(status=Status.FAILED)
            | Q(status=Status.UNKNOWN, next_attempt_at__isnull=True)
        )
        .select_related("entered_by")
        .annotate(last_attempt=Max("sync_attempts__id"))
        .order_by("updated_at")
    )
    found = []
    for row in rows:
        kind = (
            Kind.RESULT_FAILED if row.status == Status.FAILED else Kind.RESULT_UNKNOWN
        )
        found.append((row, kind, f"{kind}:{row.pk}:{row.last_attempt or 0}"))
    if not found:
        return []
    told = set(
        AlertSent.objects.filter(key__in=[key for _r, _k, key in found]).values_list(
            "key", flat=True
        )
    )
    return [item for item in found if item[2] not in told]


def check_ended_results(now: dt.datetime) -> int:
    ended = _ended(now)
    if not ended:
        return 0
    sender_emails = sorted({u.email for u in senders()})
    per_person: dict[str, list[ExamResult]] = defaultdict(list)
    for row, kind, key in ended:
        recipients = list(sender_emails)
        owner = row.entered_by.email if row.entered_by is not None else ""
        if owner and owner not in recipients:
            recipients.append(owner)
        try:
            with transaction.atomic():
                AlertSent.objects.create(
                    kind=kind,
                    key=key,
                    subject=_stored_subject(
                        message(
                            "alert.result_ended",
                            id=row.pk,
                            status=message(f"status.{row.status}"),
                        )
                    ),
                    recipients=", ".join(recipients),
                    resolved_at=now,
                )
        except IntegrityError:
            continue  # another check told it meanwhile
        for address in recipients:
            per_person[address].append(row)
    sent = 0
    for address, rows in per_person.items():
        sent += _send(*_ended_mail(rows), [address])
    return sent


def _ended_mail(rows: list[ExamResult]) -> tuple[str, str]:
    failed = sum(1 for r in rows if r.status == Status.FAILED)
    unknown = len(rows) - failed
    parts = []
    if failed:
        parts.append(
            ngettext(
                "%(count)d result could not be delivered to Feishu",
                "%(count)d results could not be delivered to Feishu",
                failed,
            )
            % {"count": failed}
        )
    if unknown:
        parts.append(
            ngettext(
                "%(count)d result has an outcome the portal could not find out",
                "%(count)d results have an outcome the portal could not find out",
                unknown,
            )
            % {"count": unknown}
        )
    subject = "; ".join(parts)
    lines = [subject + ".", ""]
    for row in rows[:LISTED]:
        lines.append(
            f"- {row.application_id} · {row.exam_resource_name} · {row.score}: "
            f"{row.get_status_display()}. {render(row.last_error_message)}"
        )
    if len(rows) > LISTED:
        lines.append(_("… and %(count)d more.") % {"count": len(rows) - LISTED})
    lines.append("")
    if failed:
        lines.append(
            _("Failed results (fix and send again): %(url)s")
            % {"url": changelist_url(Status.FAILED)}
        )
    if unknown:
        lines.append(
            _(
                "Results whose outcome is unknown (look them up in Feishu, then mark "
                "as delivered or resend): %(url)s"
            )
            % {"url": changelist_url(Status.UNKNOWN)}
        )
    return subject, "\n".join(lines)


def alerts_check(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Tell the people concerned about new problems; one check at a time."""
    if not cache.add(
        LOCK, "1", timeout=max(5, int(settings.EXAMS_ALERT_INTERVAL_SECONDS))
    ):
        return {"skipped": 1}
    try:
        now = now or timezone.now()
        with translation.override(settings.LANGUAGE_CODE):
            return {
                "paused": check_paused(),
                "stale_pending": check_stale_pending(now),
                "ended": check_ended_results(now),
            }
    finally:
        cache.delete(LOCK)


def exam_results_check_feishu(
    *, result_ids: list[int], user_id: int | None
) -> ReconcileReport:
    """Staff's "Check Feishu" on many results, in the background: reconcile them
    100 applications to a search, then tell the person who asked what was found."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    total = ReconcileReport()
    for start in range(0, len(result_ids), 100):
        part = exam_results_reconcile(
            result_ids=result_ids[start : start + 100], actor=user, force=True
        )
        for name, value in part.as_dict().items():
            setattr(total, name, getattr(total, name) + value)
    check_finished(user=user, checked=len(result_ids), report=total)
    return total


def check_finished(*, user: Any, checked: int, report: ReconcileReport) -> int:
    """Tell the staff member who asked for a background "Check Feishu" what it
    found, with a link to what is still unknown."""
    if user is None or not user.email:
        return 0
    subject = _("Check Feishu finished: %(n)d results checked") % {"n": checked}
    body = _(
        "The check you started has finished.\n\n"
        "Found in Feishu (now delivered): %(adopted)d\n"
        "Not in Feishu (sent again): %(resend)d\n"
        "Still unknown: %(unknown)d\n\n"
        "Results still unknown: %(url)s\n"
    ) % {
        "adopted": report.adopted,
        "resend": report.resend,
        "unknown": report.still_unknown + report.waiting,
        "url": changelist_url(Status.UNKNOWN),
    }
    return _send(subject, body, [user.email])
