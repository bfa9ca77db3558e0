"""A Django-free client for the Feishu Open Platform (Hire exams), plus a sandbox.

The only code in the project that knows Feishu's URLs, headers, payloads and error
codes. See ``shared/feishu-api.md`` and ``shared/feishu-candidates.md`` for the
contracts it follows. The event callback is :mod:`feishu.events`.
"""

__version__ = "0.1.0"

from feishu.client import FeishuClient
from feishu.errors import (
    CredentialsError,
    FeishuError,
    InvalidRequestError,
    MissingScopeError,
    OutcomeUnknownError,
    ParameterError,
    PermanentError,
    RateLimitedError,
    RequestNotSentError,
    Retry,
    RetrySafeError,
    TokenError,
    WrongMobileError,
)
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
)
from feishu.payloads import exam_body
from feishu.tokens import MemoryTokenStore, RedisTokenStore, TokenStore

__all__ = [
    "Application",
    "ApplicationDetail",
    "Attachment",
    "CreatedExam",
    "CredentialsError",
    "FeishuClient",
    "FeishuError",
    "IdPage",
    "InvalidRequestError",
    "JobProcess",
    "JobProcessPage",
    "MemoryTokenStore",
    "MissingScopeError",
    "OutcomeUnknownError",
    "ParameterError",
    "PermanentError",
    "RateLimitedError",
    "RedisTokenStore",
    "RequestNotSentError",
    "Retry",
    "RetrySafeError",
    "Stage",
    "StageTime",
    "TalentMatch",
    "TestRecord",
    "TokenError",
    "TokenStore",
    "WrongMobileError",
    "__version__",
    "exam_body",
]
