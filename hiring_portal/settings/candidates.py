"""The candidates behind the results: the check before sending, the lookups."""

from django.core.exceptions import ImproperlyConfigured

from .environment import DEBUG, env

# A result goes to Feishu only when its application exists, is active and is in a
# written-exam stage, as of a lookup at most this old. Off: no check (the
# dashboard says so, all the time).
CANDIDATE_CHECK_BEFORE_SEND = env.bool("CANDIDATE_CHECK_BEFORE_SEND", default=True)
CANDIDATE_MAX_AGE_SECONDS = env.int("CANDIDATE_MAX_AGE_SECONDS", 600)
# Names, jobs and stages shown to staff are read again after this long.
CANDIDATE_DETAIL_MAX_AGE_SECONDS = env.int("CANDIDATE_DETAIL_MAX_AGE_SECONDS", 3600)
# Matching a score sheet by email or mobile runs in the background beyond this
# many rows to match (the preview shows its progress).
CANDIDATE_MATCH_INLINE_ROWS = env.int("CANDIDATE_MATCH_INLINE_ROWS", 20)
# The worklist of candidates awaiting a result is polled from Feishu this often
# (events keep it current in between; the poll repairs what they missed).
CANDIDATE_WORKLIST_POLL_SECONDS = env.int("CANDIDATE_WORKLIST_POLL_SECONDS", 600)
# Feishu's events: off, at an HTTP callback (/feishu/events/), or over the long
# connection (the `events` process; self-built apps only).
FEISHU_EVENT_MODE = env.str("FEISHU_EVENT_MODE", default="callback" if DEBUG else "off")
FEISHU_VERIFICATION_TOKEN = env.str(
    "FEISHU_VERIFICATION_TOKEN", default="sandbox-verification-token" if DEBUG else ""
)
FEISHU_ENCRYPT_KEY = env.str(
    "FEISHU_ENCRYPT_KEY", default="sandbox-encrypt-key" if DEBUG else ""
)
if FEISHU_EVENT_MODE not in ("off", "callback", "long_connection"):
    raise ImproperlyConfigured(
        "FEISHU_EVENT_MODE must be off, callback or long_connection."
    )
if FEISHU_EVENT_MODE == "callback" and not FEISHU_VERIFICATION_TOKEN:
    raise ImproperlyConfigured(
        "FEISHU_EVENT_MODE=callback needs FEISHU_VERIFICATION_TOKEN: the "
        "Verification Token of the app's Events & Callbacks page in the Feishu "
        "developer console."
    )
