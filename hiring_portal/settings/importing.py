"""Spreadsheet imports and the results list at scale."""

from .environment import env

# Above this many rows the admin shows "more than N" instead of counting them all.
EXAMS_CHANGELIST_COUNT_LIMIT = env.int("EXAMS_CHANGELIST_COUNT_LIMIT", 10_000)
# Larger files are written by a worker, previews expire, and uploads above the
# size are refused.
EXAMS_IMPORT_BACKGROUND_ROWS = env.int("EXAMS_IMPORT_BACKGROUND_ROWS", 5000)
EXAMS_IMPORT_PREVIEW_TTL_HOURS = env.int("EXAMS_IMPORT_PREVIEW_TTL_HOURS", 24)
EXAMS_IMPORT_MAX_BYTES = env.int("EXAMS_IMPORT_MAX_BYTES", 50 * 1024 * 1024)
# A file with more rows is refused as it is read (an XLSX can claim a row two
# billion down in a few bytes).
EXAMS_IMPORT_MAX_ROWS = env.int("EXAMS_IMPORT_MAX_ROWS", 1_000_000)
# Larger uploads are read for their preview by a worker, with progress (the web
# checks only their header).
EXAMS_IMPORT_PREVIEW_INLINE_BYTES = env.int(
    "EXAMS_IMPORT_PREVIEW_INLINE_BYTES", 2 * 1024 * 1024
)
# Uploads kept until they are confirmed, cancelled or expire, per staff member.
EXAMS_IMPORT_USER_QUOTA_BYTES = env.int(
    "EXAMS_IMPORT_USER_QUOTA_BYTES", 100 * 1024 * 1024
)
# A confirmed import still waiting for a worker after this long is sent again (its
# message was lost, e.g. the broker was down).
EXAMS_IMPORT_REQUEUE_SECONDS = env.int("EXAMS_IMPORT_REQUEUE_SECONDS", 120)
