"""The Feishu Open Platform client: one object per app, over a ``requests.Session``.

Calls follow the contracts in ``shared/feishu-api.md`` and
``shared/feishu-candidates.md``. The client retries nothing except one token
refresh after Feishu refuses a token; every other failure is raised as a
:class:`~feishu.errors.FeishuError` saying whether a retry is safe, and the caller
decides.

Where things live: :mod:`feishu.http` (transport, error mapping, redaction),
:mod:`feishu.auth` (tenant token), :mod:`feishu.base` (the authenticated call),
:mod:`feishu.models` (what calls return), and one mixin per API group.
"""

from __future__ import annotations

from feishu.candidates import CandidateCalls
from feishu.contact import ContactCalls
from feishu.exams import ExamCalls
from feishu.models import (
    Application,
    ApplicationDetail,
    Attachment,
    CreatedExam,
    IdPage,
    JobProcess,
    JobProcessPage,
    Stage,
    StageTime,
    TalentMatch,
    TestRecord,
    ms_to_datetime,
    to_decimal,
)

# Kept importable from here for existing callers; new code imports from feishu.
__all__ = [
    "Application",
    "ApplicationDetail",
    "Attachment",
    "CreatedExam",
    "FeishuClient",
    "IdPage",
    "JobProcess",
    "JobProcessPage",
    "Stage",
    "StageTime",
    "TalentMatch",
    "TestRecord",
    "ms_to_datetime",
    "to_decimal",
]


class FeishuClient(ExamCalls, CandidateCalls, ContactCalls):
    """One client per Feishu app: exams, candidates and contact lookups.

    ``token_store`` holds the tenant token (shared between workers when the store
    is). See :class:`feishu.base.BaseClient` for the connection settings.
    """

    def __enter__(self) -> FeishuClient:
        return self
