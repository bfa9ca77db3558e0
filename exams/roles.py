"""The staff roles as they stand: groups and their permissions.

The migrations create and change the groups (0007, 0009 …); this is the
definition they must add up to, which the tests check against a migrated
database, and which tests that empty the tables use to make the groups again.
"""

from __future__ import annotations

VIEW = (
    "view_examresult",
    "view_syncattempt",
    "view_historicalexamresult",
    "view_scorecorrection",
)
EDIT = (
    "add_examresult",
    "change_examresult",
    "view_feishuidentity",
    "add_feishuidentity",
    "change_feishuidentity",
)
ROLES: dict[str, tuple[str, ...]] = {
    # Read only: results, their history, attempts and corrections.
    "viewer": VIEW,
    # Enter and import results; cannot send.
    "editor": (*VIEW, *EDIT),
    # Editor + send, resend, reconcile, record corrections made in Feishu.
    "sender": (*VIEW, *EDIT, "send_examresult"),
    # The audit page and its exports, the audit events; read only.
    "auditor": (*VIEW, "view_auditevent", "review_audit"),
}
