"""A Django-free client for the Feishu Open Platform (Hire exams), plus a sandbox.

The only code in the project that knows Feishu's URLs, headers, payloads and error
codes. See ``shared/feishu-api.md`` for the contract it follows.
"""

__version__ = "0.1.0"

from feishu.client import (
    Application,
    Attachment,
    CreatedExam,
    FeishuClient,
    TestRecord,
)
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
)
from feishu.payloads import exam_body
from feishu.tokens import MemoryTokenStore, RedisTokenStore, TokenStore

__all__ = [
    "Application",
    "Attachment",
    "CreatedExam",
    "CredentialsError",
    "FeishuClient",
    "FeishuError",
    "InvalidRequestError",
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
    "TestRecord",
    "TokenError",
    "TokenStore",
    "__version__",
    "exam_body",
]
