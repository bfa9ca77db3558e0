"""The sandbox's settings: their defaults, and the help for its control endpoint."""

from __future__ import annotations

from typing import Any

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"  # noqa: S105
EXAMS_PATH = "/open-apis/hire/v1/exams"
ATTACHMENTS_PATH = "/open-apis/hire/v1/attachments"
TESTS_SEARCH_PATH = "/open-apis/hire/v1/tests/search"
APPLICATION_PREFIX = "/open-apis/hire/v1/applications/"
BATCH_GET_ID_PATH = "/open-apis/contact/v3/users/batch_get_id"

USER_ID_TYPES = ("open_id", "union_id", "user_id", "people_admin_id")

DEFAULTS: dict[str, Any] = {
    # tokens
    "token_lifetime": 7200,  # seconds a new token lives
    "token_reuse_threshold": 1800,  # same token while more than this is left
    "token_latency": 0.0,  # seconds before the token endpoint answers
    # rate limits, per app and per API
    "rate_limit": True,
    "rate_per_second": 50,
    "rate_per_minute": 1000,
    # POST /exams faults
    "fail_ratio": 0.0,  # share answered 500 / 1002001
    "fail_mode": "before",  # "before" or "after" the exam is recorded
    "drop_ratio": 0.0,  # share recorded, then the connection closed unanswered
    "latency": 0.0,  # seconds before a POST /exams is handled
    "missing_scope": False,  # hire APIs answer 99991672
    # tests/search behaviours (UNCONFIRMED on the real service)
    "search_lag": 0.0,  # seconds before a created exam is listed
    "search_lists_api_exams": True,
    "search_ids_differ": False,  # test_id != exam_id
    "search_score_as_string": False,
    "search_fail_status": None,  # e.g. 500 / 503: search answers that
    # applications: any numeric id exists unless listed here, or unless
    # known_applications is a list and it is not in it
    "missing_applications": [],
    "known_applications": None,
    # contact: emails the app cannot see; explicit email -> {id type: id}
    "hidden_emails": [],
    "users": {},
}

CONTROL_HELP = {
    "GET /_sandbox/config": "current settings",
    "POST /_sandbox/config": "merge settings: " + ", ".join(sorted(DEFAULTS)),
    "POST /_sandbox/reset": "forget exams, tokens, tests, counters; settings back "
    "to startup values",
    "POST /_sandbox/revoke_tokens": "every issued token becomes invalid (99991663)",
    "POST /_sandbox/tests": "add a hand-entered test record: application_id, "
    "test_paper_name, score",
    "GET /_sandbox/exams": "recorded exams and counts per (application_id, "
    "exam_resource_name)",
    "GET /_sandbox/stats": "tokens issued, token requests, API connections, "
    "requests per path, rate-limited answers",
}
