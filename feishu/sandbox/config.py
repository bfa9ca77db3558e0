"""The sandbox's settings: their defaults, and the help for its control endpoint."""

from __future__ import annotations

from typing import Any

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"  # noqa: S105
EXAMS_PATH = "/open-apis/hire/v1/exams"
ATTACHMENTS_PATH = "/open-apis/hire/v1/attachments"
TESTS_SEARCH_PATH = "/open-apis/hire/v1/tests/search"
APPLICATION_PREFIX = "/open-apis/hire/v1/applications/"
APPLICATIONS_PATH = "/open-apis/hire/v1/applications"
TALENT_BATCH_GET_ID_PATH = "/open-apis/hire/v1/talents/batch_get_id"
JOB_PROCESSES_PATH = "/open-apis/hire/v1/job_processes"
BATCH_GET_ID_PATH = "/open-apis/contact/v3/users/batch_get_id"

# [per second, per minute] per app for the candidate APIs (feishu-candidates.md).
# The exam APIs (exams, attachments, tests, contact) use rate_per_second and
# rate_per_minute unless rate_limits names them.
API_RATE_LIMITS: dict[str, tuple[int, int]] = {
    "application_detail": (10, 600),
    "application_get": (50, 1000),
    "application_list": (50, 1000),
    "talent_batch_get_id": (50, 1000),
    "job_processes": (20, 1000),
}

# The scope each API needs (its read-only variant where one exists). Withholding
# hire:talent:readonly or hire:job:readonly also hides the talent / job object of
# get_detail (field scopes).
API_SCOPES = {
    "exams": "hire:exam",
    "tests": "hire:exam:readonly",
    "attachments": "hire:attachment",
    "application_get": "hire:application:readonly",
    "application_detail": "hire:application:readonly",
    "application_list": "hire:application:readonly",
    "talent_batch_get_id": "hire:talent:readonly",
    "job_processes": "hire:job_process:readonly",
    "contact": "contact:user.id:readonly",
}
TALENT_FIELD_SCOPE = "hire:talent:readonly"
JOB_FIELD_SCOPE = "hire:job:readonly"

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
    "rate_limits": {},  # api -> [per second, per minute]; see API_RATE_LIMITS
    # POST /exams faults
    "fail_ratio": 0.0,  # share answered 500 / 1002001
    "fail_mode": "before",  # "before" or "after" the exam is recorded
    "drop_ratio": 0.0,  # share recorded, then the connection closed unanswered
    "latency": 0.0,  # seconds before a POST /exams is handled
    "missing_scope": False,  # every API answers 99991672
    "withheld_scopes": [],  # scopes the app lacks, e.g. "hire:talent:readonly"
    # tests/search behaviours (UNCONFIRMED on the real service)
    "search_lag": 0.0,  # seconds before a created exam is listed
    "search_lists_api_exams": True,
    "search_ids_differ": False,  # test_id != exam_id
    "search_score_as_string": False,
    "search_fail_status": None,  # e.g. 500 / 503: search answers that
    # applications: any numeric id exists (a made-up candidate when it is not in
    # the world) unless listed here, or unless known_applications is a list and
    # it is not in it, or strict_world is on and it is not in the world
    "missing_applications": [],
    "known_applications": None,
    "strict_world": False,
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
    "requests per path and per API, rate-limited answers (also per API)",
    "GET /_sandbox/world": "the candidate world: processes, jobs, talents, "
    "applications (made-up candidates are not listed)",
    "POST /_sandbox/world": "merge processes / jobs / talents / applications "
    "(same JSON as GET); ids already there are replaced",
    "POST /_sandbox/world/load": '{"name": "demo" | "empty"}: replace the world '
    "(reset goes back to the start-up world)",
    "POST /_sandbox/applications/<id>/move": '{"stage_id"}: stage change; pushes '
    "hire.application.stage_changed_v1",
    "POST /_sandbox/applications/<id>/terminate": '{"reason_zh", "reason_en", '
    '"type", "children": [{"reason_zh", "reason_en"}]}: terminate; pushes '
    "stage_changed_v1 when events push_on_terminate",
    "POST /_sandbox/applications/delete": '{"application_ids": [...]}: delete; '
    "pushes hire.application.deleted_v1",
    "POST /_sandbox/events/config": '{"callback_url", "verification_token", '
    '"encrypt_key", "retry_delays", "app_id", "tenant_key", "push_on_terminate"}',
    "GET /_sandbox/events": "every push: event_id, type, application ids, "
    "attempts (status, time, error), delivered",
    "POST /_sandbox/events/verify_url": "send the url_verification challenge; "
    "report whether the answer echoed it",
    "POST /_sandbox/events/push": '{"event_id"}: send that event again (a '
    "duplicate, as Feishu's at-least-once delivery does)",
}
