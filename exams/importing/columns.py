"""The columns of a results spreadsheet, shared by the import and the export, and
the neutralising of cells a spreadsheet would evaluate as formulas."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

# The importable columns, by Feishu field name, with the labels staff see on the
# Feishu page (and in its own exports).
FIELDS: dict[str, tuple[str, ...]] = {
    "application_id": ("投递ID", "投递编号"),
    "exam_resource_name": ("试卷名称",),
    "score": ("笔试分数", "分数"),
    "uuid": ("报告附件ID", "附件ID"),
    "operator_id": ("添加人用户id", "添加人ID"),
}
# An exam vendor's score sheet names the candidate instead of the application:
# the import matches these to the application in Feishu (exams.candidates).
CANDIDATE_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "候选人", "候选人姓名"),
    "email": ("邮箱", "电子邮箱", "e-mail"),
    "mobile": ("手机号", "手机", "手机号码", "phone"),
    "mobile_code": ("区号", "国家区号", "country_code"),
}
REQUIRED = ("exam_resource_name", "score")
# A row names its application, or a candidate by email or mobile.
IDENTIFYING = ("application_id", "email", "mobile")
# Columns the portal's export adds for staff to read: accepted and ignored, so an
# export imports back as it is.
EXPORT_ONLY: tuple[str, ...] = (
    "status",
    "status_label",
    "exam_id",
    "operate_time",
    "attempts",
    "last_error",
    "entered_by",
)
LABELS = {
    "name": "name (姓名)",
    "email": "email (邮箱)",
    "mobile": "mobile (手机号)",
    "mobile_code": "mobile_code (区号)",
    "application_id": "application_id (投递 ID)",
    "exam_resource_name": "exam_resource_name (试卷名称)",
    "score": "score (笔试分数)",
    "uuid": "uuid (报告附件 ID)",
    "operator_id": "operator_id (添加人用户 id)",
}
# What staff call each column, in their language: an import's errors name the
# column by this, never by its Feishu field name.
COLUMN_LABELS = {
    "application_id": _("Application ID"),
    "exam_resource_name": _("Exam name"),
    "score": _("Score"),
    "uuid": _("Report attachment ID"),
    "operator_id": _("Operator's Feishu ID"),
    "name": _("Name"),
    "email": _("Email"),
    "mobile": _("Mobile"),
    "mobile_code": _("Country calling code"),
}


def column_label(name: str, header: str = "") -> str:
    """A column as staff know it: its label, with the file's own header beside it
    when the file called it something else."""
    label = str(COLUMN_LABELS.get(name, name))
    if header and header not in (name, label):
        return f"{label} ({header})"
    return label


# A cell starting with one of these is a formula (or DDE payload) to a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NEUTRALISED = re.compile(r"^'+[=+\-@\t\r]")
_NEEDS_QUOTE = re.compile(r"^'*[=+\-@\t\r]")

# The export: every importable column, then the ones for staff to read; what each
# is read from.
EXPORT_COLUMNS: tuple[str, ...] = (*FIELDS, *EXPORT_ONLY)
EXPORT_VALUES: dict[str, str] = {
    **{name: name for name in FIELDS},
    "status": "status",
    "status_label": "status",
    "exam_id": "exam_id",
    "operate_time": "operate_time",
    "attempts": "attempts",
    "last_error": "last_error_message",
    "entered_by": "entered_by__username",
}


def neutralise(text: str) -> str:
    """Prefix a quote to a cell that a spreadsheet would evaluate.

    Cells already starting with quotes before a trigger get one more, so
    ``unneutralise`` can remove exactly one and give back what was written.
    """
    return "'" + text if _NEEDS_QUOTE.match(text) else text


def unneutralise(text: str) -> str:
    """Undo ``neutralise``: remove the one quote before a formula trigger."""
    return text[1:] if _NEUTRALISED.match(text) else text
