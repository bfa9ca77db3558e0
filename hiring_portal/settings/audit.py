"""The audit trail's neighbours: the history, alert emails, retention and the
dashboard."""

from .environment import env

# Reverting a result from its history would bypass the services' state checks.
SIMPLE_HISTORY_REVERT_DISABLED = True
# Lists of changes are read newest first, per result or across all.
SIMPLE_HISTORY_DATE_INDEX = "composite"

# Links in emails point here.
HIRING_PORTAL_BASE_URL = env.str(
    "HIRING_PORTAL_BASE_URL", default="http://127.0.0.1:8000"
).rstrip("/")
# Senders are told when the oldest pending result has waited longer than this.
EXAMS_ALERT_PENDING_MINUTES = env.int("EXAMS_ALERT_PENDING_MINUTES", 30)
# Failed or unknown results older than this are not alerted about any more.
EXAMS_ALERT_LOOKBACK_HOURS = env.int("EXAMS_ALERT_LOOKBACK_HOURS", 48)
EXAMS_ALERT_INTERVAL_SECONDS = env.float("EXAMS_ALERT_INTERVAL_SECONDS", 60.0)
# purge_candidate_data removes candidates' data older than this (PIPL).
EXAMS_RETENTION_DAYS = env.int("EXAMS_RETENTION_DAYS", 365)
# The dashboard counts each status up to this many results, then shows "N+".
EXAMS_DASHBOARD_COUNT_LIMIT = env.int("EXAMS_DASHBOARD_COUNT_LIMIT", 10_000)
# How long the admin dashboard's figures may be reused (at most 60 seconds).
EXAMS_DASHBOARD_CACHE_SECONDS = env.int("EXAMS_DASHBOARD_CACHE_SECONDS", 60)
