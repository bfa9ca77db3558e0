"""The staff roles as they stand: groups and their permissions.

The migrations create and change the groups (0007, 0009 …); this is the
definition they must add up to, which the tests check against a migrated
database, and which tests that empty the tables use to make the groups again.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

VIEW = (
    "view_examresult",
    "view_syncattempt",
    "view_historicalexamresult",
    "view_scorecorrection",
    "view_exampaper",
)
EDIT = (
    "add_examresult",
    "change_examresult",
    "view_feishuidentity",
    "add_feishuidentity",
    "change_feishuidentity",
    # Results are entered only for papers in the catalogue (0021).
    "add_exampaper",
    "change_exampaper",
    "delete_exampaper",
)
# Exports carry candidates' personal data out of the portal: a permission of its
# own, for the roles whose work needs spreadsheets (each export is an audit event).
EXPORT = ("export_examresult",)
ROLES: dict[str, tuple[str, ...]] = {
    # Read only: results, their history, attempts, corrections and the exam
    # papers; no exports.
    "viewer": VIEW,
    # Enter, import and export results, keep the catalogue of papers; cannot send.
    "editor": (*VIEW, *EDIT, *EXPORT),
    # Editor + send, resend, reconcile, record corrections made in Feishu.
    "sender": (*VIEW, *EDIT, *EXPORT, "send_examresult"),
    # The audit page and its exports, the audit events; read only.
    "auditor": (*VIEW, "view_auditevent", "review_audit"),
}

# The roles' names as staff read them (a group's name is its key).
ROLE_LABELS = {
    "viewer": _("viewer"),
    "editor": _("editor"),
    "sender": _("sender"),
    "auditor": _("auditor"),
}


def role_label(name: str) -> str:
    """A role's name in the reader's language; a group the portal did not make
    keeps its own name."""
    return str(ROLE_LABELS.get(name, name))
