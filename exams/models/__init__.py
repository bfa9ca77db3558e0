"""The portal's data, one module per domain, re-exported here so that
``from exams.models import ExamResult`` works wherever it is needed."""

from .attempts import SyncAttempt
from .audit import AlertSent, AuditEvent, ScoreCorrection
from .candidates import (
    WRITTEN_EXAM_STAGE,
    AwaitingResult,
    CandidateApplication,
    FeishuEvent,
)
from .feishu_app import FeishuAppState, FeishuIdentity
from .history import HistoryBypassError, HistorySource
from .imports import ImportBatch
from .papers import ExamPaper, ExamPaperQuerySet
from .results import (
    APPLICATION_ID_REGEX,
    MAX_SCORE,
    ExactDecimalField,
    ExamResult,
    ExamResultQuerySet,
    UserIdType,
    normalize_exam_name,
    score_is_valid,
)

HistoricalExamResult = ExamResult.history.model

__all__ = [
    "APPLICATION_ID_REGEX",
    "MAX_SCORE",
    "WRITTEN_EXAM_STAGE",
    "AlertSent",
    "AuditEvent",
    "AwaitingResult",
    "CandidateApplication",
    "ExactDecimalField",
    "ExamPaper",
    "ExamPaperQuerySet",
    "ExamResult",
    "ExamResultQuerySet",
    "FeishuAppState",
    "FeishuEvent",
    "FeishuIdentity",
    "HistoricalExamResult",
    "HistoryBypassError",
    "HistorySource",
    "ImportBatch",
    "ScoreCorrection",
    "SyncAttempt",
    "UserIdType",
    "normalize_exam_name",
    "score_is_valid",
]
