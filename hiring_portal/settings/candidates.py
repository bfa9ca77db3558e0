"""The candidates behind the results: the check before sending, the lookups."""

from .environment import env

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
