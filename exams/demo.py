"""Demo data for `make run`: a handful of results in each state, so the dashboard,
the filters and the steering actions have something to show on a fresh machine."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import (
    ExamPaper,
    ExamResult,
    HistorySource,
    SyncAttempt,
    normalize_exam_name,
)
from .models.recording import bulk_create_recorded
from .wording import message, stored

Status = ExamResult.Status
PAPERS = (
    "后端工程师笔试（A卷）",
    "前端工程师笔试",
    "产品经理逻辑测评",
    "Java Backend Written Test",
)
# The catalogue's papers, (full mark, pass mark or None): the demo results' and
# those of the sample sheets (shared/samples), which then import under `make run`.
PAPER_MARKS = {
    "后端工程师笔试（A卷）": (Decimal(100), Decimal(60)),
    "前端工程师笔试": (Decimal(100), Decimal(60)),
    "产品经理逻辑测评": (Decimal(100), None),
    "Java Backend Written Test": (Decimal(100), Decimal(70)),
    "数据分析笔试": (Decimal(100), Decimal(60)),
    "数据分析笔试 2026 秋招": (Decimal(100), Decimal(60)),
    "算法笔试": (Decimal(100), None),
}


# In the sandbox's demo world (feishu/sandbox/demo.py): 黄丽's application,
# terminated; 彭嘉怡's, in a technical interview.
TERMINATED = "6912000000000000011"
INTERVIEWING = "6912000000000000100"


def _result(n: int, user: Any, operator_id: str, **fields: Any) -> ExamResult:
    fields.setdefault("application_id", str(6891565253964800100 + n))
    return ExamResult(
        exam_resource_name=PAPERS[n % len(PAPERS)],
        score=Decimal(str(60 + (n * 7) % 40)) + Decimal("0.5") * (n % 2),
        operator_id=operator_id,
        operator_app_id=settings.FEISHU_APP_ID,
        entered_by=user,
        **fields,
    )


def demo_papers_seed() -> None:
    """The demo's papers in the catalogue; a paper already there keeps its marks."""
    ExamPaper.objects.bulk_create(
        [
            ExamPaper(name=normalize_exam_name(name), full_mark=full, pass_mark=passing)
            for name, (full, passing) in PAPER_MARKS.items()
        ],
        ignore_conflicts=True,
    )


def demo_results_seed(*, user: Any, operator_id: str) -> int:
    """Add demo results (and their papers) when there are none yet; returns how
    many were added."""
    demo_papers_seed()
    if ExamResult.objects.exists():
        return 0
    now = timezone.now()
    rows = [
        *(_result(n, user, operator_id) for n in range(3)),
        *(
            _result(
                n,
                user,
                operator_id,
                status=Status.SYNCED,
                exam_id=str(7031822096580868000 + n),
                operate_time=now - dt.timedelta(hours=n),
                synced_at=now - dt.timedelta(hours=n),
            )
            for n in range(3, 6)
        ),
        *(
            _result(
                n,
                user,
                operator_id,
                status=Status.FAILED,
                attempts=1,
                last_error_code=1002002,
                last_error_message=stored(
                    "feishu.param_error", feishu_msg="application not exist"
                ),
            )
            for n in range(6, 8)
        ),
        *(
            _result(
                n,
                user,
                operator_id,
                status=Status.UNKNOWN,
                attempts=1,
                unknown_since=now - dt.timedelta(days=2),
                last_error_code=1002001,
                last_error_message=stored(
                    "reconcile.gave_up",
                    hours=24,
                    why=message("reconcile.untrusted"),
                ),
            )
            for n in range(8, 10)
        ),
        # Queued: the worker delivers these to the sandbox as soon as it starts.
        *(_result(n, user, operator_id, status=Status.PENDING) for n in range(10, 12)),
        # Queued for candidates the sandbox's demo world holds outside a written
        # exam: the check before sending holds them ("needs attention").
        _result(
            12, user, operator_id, status=Status.PENDING, application_id=TERMINATED
        ),
        _result(
            13, user, operator_id, status=Status.PENDING, application_id=INTERVIEWING
        ),
    ]
    with transaction.atomic():
        bulk_create_recorded(rows, actor=user, source=HistorySource.COMMAND)
        SyncAttempt.objects.bulk_create(
            [
                SyncAttempt(
                    result=row,
                    http_status=400 if row.status == Status.FAILED else 500,
                    feishu_code=row.last_error_code,
                    feishu_msg=(
                        "application not exist"
                        if row.status == Status.FAILED
                        else "system error"
                    ),
                    outcome=(
                        SyncAttempt.Outcome.PERMANENT
                        if row.status == Status.FAILED
                        else SyncAttempt.Outcome.UNKNOWN
                    ),
                    request_body="(demo data)",
                )
                for row in rows
                if row.status in (Status.FAILED, Status.UNKNOWN)
            ]
        )
    return len(rows)
