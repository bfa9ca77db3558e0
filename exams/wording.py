"""Messages the portal stores and shows later, kept as a code with its facts and
put into words in the reader's language when read.

A sentence saved while a worker or a staff member ran in English would read in
English to everyone after. So what is stored is never the sentence but
``{"code": …, "params": {…}}`` — in a JSON column as it is, in a text column as
its JSON text (``Message.stored()``) — and ``render()`` words it for whoever
reads it. A parameter may itself be a message (a reason inside a sentence).
Feishu's own ``msg`` travels beside the explanation (``feishu_msg``) and is shown
as what Feishu said, never translated. Text stored before messages were codes is
shown as it was stored.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import ExamResult

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

# What a message says, by code; named parameters only, so that a translation may
# put them in any order.
TEMPLATES: dict[str, StrOrPromise] = {
    # --- Feishu's answers, as delivery stores them ---------------------------------
    "feishu.param_error": _(
        "Feishu refused the result as invalid (parameter error 1002002). Check the "
        "application ID, exam name, score and operator, then send again."
    ),
    "feishu.missing_scope": _(
        "The Feishu app lacks the permission %(scopes)s. Grant it in the Feishu "
        "developer console (Permissions & Scopes) and publish a new app version; "
        "delivery resumes by itself."
    ),
    "feishu.credentials": _(
        "Feishu refused the app's credentials: check FEISHU_APP_ID and "
        "FEISHU_APP_SECRET (and that the app is enabled). Delivery resumes by "
        "itself once they work."
    ),
    "feishu.rate_limited": _(
        "Feishu's rate limit was reached; the result is sent again later."
    ),
    "feishu.token": _(
        "Feishu did not issue a usable access token: check that the app is enabled "
        "and its credentials are right. Delivery resumes by itself."
    ),
    "feishu.maybe_recorded": _(
        "Feishu may or may not have recorded this result. The portal checks Feishu "
        "before sending it again, so it is never recorded twice."
    ),
    "feishu.failed_retry": _("Sending failed; it is sent again later."),
    "feishu.server_errors": _(
        "Feishu answered %(count)s times in a row with a server error; delivery "
        "resumes by itself once Feishu answers normally again."
    ),
    "feishu.applications_scope": _(
        "The Feishu app may not read applications: grant it the permission "
        "%(scopes)s in the Feishu developer console (Permissions & Scopes) and "
        "publish a new app version; delivery resumes by itself."
    ),
    # --- delivery ------------------------------------------------------------------
    "delivery.gave_up": _(
        "Gave up after %(n)s attempts. Fix the cause and send again."
    ),
    "delivery.not_sendable": _("The result cannot be sent as it is: %(detail)s"),
    "delivery.operator_other_app": _(
        "The operator's open_id belongs to the Feishu app %(old)s, but the portal "
        "now delivers with %(new)s: enter the operator again."
    ),
    "delivery.worker_stopped": _(
        "The worker sending this result stopped before Feishu answered. The portal "
        "checks Feishu before sending it again."
    ),
    "delivery.restored": _(
        "Restored from a backup: this result may have been delivered after the "
        "backup was taken. The portal checks Feishu before sending it again."
    ),
    "delivery.report_upload_failed": _("The report could not be uploaded."),
    "delivery.report_unreadable": _("The report file cannot be read: %(error)s"),
    "delivery.resent_by_staff": _(
        "Sent again by staff although the outcome was unknown."
    ),
    "delivery.marked_delivered": _(
        "Marked as delivered by staff, who found it in Feishu."
    ),
    # --- why a bulk send left a result out (kept in an import's report) -----------
    "send.operator_other_app": _(
        "operator belongs to another Feishu app; enter the operator again"
    ),
    "send.not_sendable": _("not a draft, failed or held result"),
    # --- reconciliation ------------------------------------------------------------
    "reconcile.found": _(
        "Found in Feishu by reconciliation: the result was recorded once."
    ),
    "reconcile.not_found": _("Feishu has no record of this result: it is sent again."),
    "reconcile.several": _("Feishu lists %(n)s matching records."),
    "reconcile.untrusted": _(
        "tests/search has not been shown to list exams this portal creates, so an "
        "empty answer proves nothing."
    ),
    "reconcile.undated": _("The matching record cannot be dated."),
    "reconcile.answered_not_listed": _(
        "Feishu answered that it recorded this result, but its test records do not "
        "list it yet."
    ),
    "reconcile.search_failed": _("Feishu's test records could not be searched."),
    "reconcile.gave_up": _(
        "Outcome still unknown after checking Feishu for %(hours)s hours: %(why)s "
        "Look the result up in Feishu, then use “Mark as delivered” or “Resend "
        "anyway”."
    ),
    "reconcile.later": _(
        "Outcome unknown: %(why)s The portal checks Feishu again later and never "
        "sends it again on its own."
    ),
    # --- what may be entered (exams.rules) -----------------------------------------
    "score.required": _("Enter a score."),
    "score.negative": _("The score cannot be negative (%(value)s)."),
    "score.invalid": _(
        "“%(value)s” is not a number. Enter the score in digits, e.g. 88.5."
    ),
    "score.too_large": _(
        "The score %(value)s is larger than %(max)s, the largest the portal keeps."
    ),
    "score.precision": _(
        "%(value)s has more than one decimal place. Feishu keeps one decimal place "
        "and the portal never rounds: enter the score as it should be recorded, "
        "e.g. %(example)s."
    ),
    "application_id.required": _("Enter the application ID."),
    "application_id.invalid": _(
        "“%(value)s” is not an application ID: it must be digits only, e.g. "
        "6891565253964859661."
    ),
    "application_id.too_long": _(
        "“%(value)s” has %(length)s digits; an application ID has at most 19."
    ),
    "application_id.leading_zero": _(
        "“%(value)s” is not an application ID: Feishu's IDs never begin with 0, e.g. "
        "6891565253964859661."
    ),
    "attachment_id.invalid": _(
        "“%(value)s” is not a Feishu attachment ID: it is the number Feishu gave the "
        "uploaded report, e.g. 6949805467799537964. Leave it empty to send no "
        "report, or attach the report file instead."
    ),
    "text.control_character": _(
        "%(what)s holds an invisible control character (U+%(code)s) at character "
        "%(position)s: type it again without it."
    ),
    "score.above_full_mark": _(
        "The score %(value)s is above the full mark of %(paper)s (%(full_mark)s)."
    ),
    "paper.unknown": _(
        "“%(name)s” is not in the catalogue of exam papers: add it there with its "
        "full mark, or fix the name."
    ),
    "exam_name.required": _("Enter the exam name."),
    "exam_name.too_long": _("The exam name is longer than 255 characters."),
    "label.exam_name": _("The exam name"),
    "label.operator_id": _("The operator ID"),
    "report.file_type": _(
        "The report must be a PDF, JPG or PNG file (got “%(name)s”)."
    ),
    "report.file_size": _("The report is larger than 100 MB, the most Feishu accepts."),
    # --- importing -----------------------------------------------------------------
    "import.email_invalid": _("“%(value)s” is not an email address."),
    "import.mobile_invalid": _("“%(value)s” is not a mobile number."),
    "import.no_identity": _(
        "Enter the application ID, or the candidate's email or mobile."
    ),
    "import.operator_too_long": _("The operator ID is longer than %(max)s characters."),
    "import.no_operator": _(
        "The row has no operator ID, and the import was not run as a staff member "
        "whose Feishu identity could fill it in (give --operator USERNAME)."
    ),
    "import.same_result_differs": _(
        "Rows %(rows)s are the same result (application %(application)s, exam "
        "“%(exam)s”) with different values (scores %(scores)s): none of them is "
        "imported. Keep the right one and import again."
    ),
    "import.id_number_cell": _(
        "The application ID is a number cell (%(value)s): the spreadsheet keeps "
        "only %(digits)s digits of a number, so its last digits are lost. "
        "Format the column as text and paste the IDs again."
    ),
    "import.id_long_number_cell": _(
        "The application ID %(value)s is a number cell: the spreadsheet "
        "keeps only %(digits)s digits of a number, so its last digits may "
        "have been lost. Format the column as text and paste the IDs again."
    ),
    "import.id_scientific": _(
        "“%(value)s” is an application ID that a spreadsheet turned into a "
        "number in scientific notation: its digits are lost. Format the column "
        "as text in the source and export again."
    ),
    "import.id_decimal": _(
        "“%(value)s” ends in a decimal part: a spreadsheet treated the "
        "application ID as a number, which keeps only %(digits)s digits, so "
        "its last digits may have changed. Format the column as text in the "
        "source and export again."
    ),
    "import.not_editable": _(
        "This result is %(status)s: Feishu offers no way to update an exam result, "
        "so the import does not change it."
    ),
    # --- a file refused as a whole (exams.importing; kept by a background import) ----
    "import_file.not_text": _(
        "The file is neither UTF-8 nor GBK/GB18030 text, nor an XLSX workbook. "
        "Save it from the spreadsheet as CSV UTF-8 or Excel Workbook (.xlsx)."
    ),
    "import_file.damaged_text": _(
        "The file says it is %(encoding)s text, but it is damaged at byte "
        "%(position)s (%(reason)s). Save it again from the spreadsheet as "
        "CSV UTF-8 or Excel Workbook (.xlsx)."
    ),
    "import_file.csv_cell_too_long": _(
        "Line %(line)s holds a cell of more than %(limit)s characters, far "
        'more than any column of an exam result. If a quote (") opens a cell '
        "and is never closed, the cell runs on to the end of the file: close "
        "it, or remove the quote."
    ),
    "import_file.csv": _("Line %(line)s cannot be read as CSV (%(error)s)."),
    "import_file.column_twice": _(
        "The column %(column)s appears twice in the header row."
    ),
    "import_file.unknown_columns": _(
        "Unknown column(s): %(columns)s. The columns are %(known)s (the Feishu "
        "field names or the Chinese labels of the Feishu page)."
    ),
    "import_file.and_more": _("and %(count)s more"),
    "import_file.identity_columns": _(
        "%(id)s, or the candidate's %(email)s or %(mobile)s"
    ),
    "import_file.missing_columns": _("Missing required column(s): %(columns)s."),
    "import_file.xls": _(
        "“%(name)s” is an old Excel 97–2003 (.xls) file. Save it as Excel "
        "Workbook (.xlsx) or CSV and import that."
    ),
    "import_file.empty": _("The file is empty."),
    "import_file.workbook_unreadable": _("The workbook cannot be read (%(error)s)."),
    "import_file.workbook_part_too_large": _(
        "The workbook's part %(part)s would unpack to %(size)s MB "
        "(%(ratio)s times its packed size); the portal reads at most "
        "%(limit)s MB a part, packed at most %(max_ratio)s to 1. A "
        "spreadsheet of results is far smaller: save the sheet again "
        "from the spreadsheet, or export it as CSV."
    ),
    "import_file.too_many_rows": _(
        "The file has more than %(max)s rows, more than the portal imports at "
        "once: split it into smaller files."
    ),
    "import_file.cell_too_long": _(
        "Row %(row)s holds a cell of more than %(max)s characters in the column "
        "%(column)s, more than a spreadsheet cell can hold: correct that cell."
    ),
    "import_file.too_large": _(
        "The file is larger than %(max)s MB; split it into smaller files."
    ),
    "import_file.quota": _(
        "Your imports waiting for confirmation already keep %(kept)s MB, and "
        "this file would take them past %(quota)s MB. Confirm or cancel "
        "them on the Imports page first."
    ),
    "import_file.lookup_scope": _(
        "The Feishu app may not look candidates up: grant it the "
        "permission %(scopes)s in the Feishu developer console "
        "(Permissions & Scopes) and publish a new app version."
    ),
    "import.interrupted": _(
        "The import stopped before it finished (its process ended); nothing was "
        "written. Upload the file again."
    ),
    "import.failed": _(
        "The import stopped on an error the portal did not expect; nothing was "
        "written. Technical detail: %(detail)s"
    ),
    "operator.missing": _(
        "Your login “%(user)s” has no Feishu %(type)s for the app %(app)s, so the "
        "portal cannot fill in the operator. Enter the operator ID, or ask an "
        "administrator to add your Feishu identity."
    ),
    # --- alerts (the subject an alert page shows) ------------------------------------
    "alert.paused": _("Delivery to Feishu is paused"),
    "alert.stale_pending": _(
        "Results have been waiting to be sent for more than %(minutes)d minutes"
    ),
    "alert.result_ended": _("Result #%(id)s: %(status)s"),
    # --- a result's status, as a parameter of another message -----------------------
    **{f"status.{value}": label for value, label in ExamResult.Status.choices},
    "status.claimed": _("claimed for delivery"),
}

# Messages worded by the package that knows their facts (a hold, a match: stage
# names and reasons in both of Feishu's languages), registered by ``renders``.
RENDERERS: dict[str, Callable[[Mapping[str, Any]], str]] = {}


def renders(
    code: str,
) -> Callable[[Callable[[Mapping[str, Any]], str]], Callable[[Mapping[str, Any]], str]]:
    """Register the function that words the stored message ``code``."""

    def register(
        function: Callable[[Mapping[str, Any]], str],
    ) -> Callable[[Mapping[str, Any]], str]:
        RENDERERS[code] = function
        return function

    return register


_CODE_OF: dict[int, str] = {id(template): code for code, template in TEMPLATES.items()}
_STORED_PREFIX = '{"code":'


@dataclass(frozen=True)
class Message:
    """A stored message: its code, its facts, and what Feishu said, if anything."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    feishu_msg: str = ""

    def data(self) -> dict[str, Any]:
        """The message for a JSON column."""
        data: dict[str, Any] = {"code": self.code, "params": dict(self.params)}
        if self.feishu_msg:
            data["feishu_msg"] = self.feishu_msg
        return data

    def stored(self) -> str:
        """The message for a text column."""
        return json.dumps(self.data(), ensure_ascii=False, separators=(",", ":"))

    def __str__(self) -> str:
        return render(self.data())


def message(code: str, /, *, feishu_msg: str = "", **params: Any) -> Message:
    """The message ``code`` with its facts; an unknown code fails where it is
    written, not where it is read."""
    if code not in TEMPLATES and code not in RENDERERS:
        raise KeyError(f"no message {code!r} in exams.wording.TEMPLATES")
    return Message(code, {k: _storable(v) for k, v in params.items()}, feishu_msg)


def stored(code: str, /, *, feishu_msg: str = "", **params: Any) -> str:
    """``message(...)`` as a text column keeps it."""
    return message(code, feishu_msg=feishu_msg, **params).stored()


def refusal(code: str, /, **params: Any) -> ValidationError:
    """A ValidationError saying ``code``: shown at once by a form, and kept as its
    code by whatever stores it (``from_error``)."""
    return ValidationError(TEMPLATES[code], code=code, params=params or None)


def from_error(error: ValidationError) -> dict[str, Any] | str:
    """A refusal as it is stored: its code and facts when its message is one of
    ours, else its text as it reads now."""
    parts: list[dict[str, Any] | str] = []
    for item in error.error_list:
        code = item.code if item.code in TEMPLATES else _CODE_OF.get(id(item.message))
        if code is not None and TEMPLATES[code] is item.message:
            parts.append(message(code, **(item.params or {})).data())
        else:
            parts.append(" ".join(str(m) for m in ValidationError([item]).messages))
    if len(parts) == 1:
        return parts[0]
    return {"code": "", "parts": parts}


def listing(items: Iterable[Any]) -> Message:
    """Several facts as one parameter (column names, some of them messages),
    worded item by item and joined when read."""
    return message("list", items=list(items))


@renders("list")
def _list_words(params: Mapping[str, Any]) -> str:
    return ", ".join(_shown_text(item) for item in params.get("items") or [])


def stored_refusal(error: ValidationError) -> str:
    """A refusal as a text column keeps it (``from_error``)."""
    data = from_error(error)
    if isinstance(data, str):
        return data
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def render(value: Any) -> str:
    """A stored message in the reader's language; stored text as it was stored."""
    if value is None:
        return ""
    if isinstance(value, Message):
        value = value.data()
    if isinstance(value, str):
        if not value.startswith(_STORED_PREFIX):
            return value
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, Promise):
        return str(value)
    if not isinstance(value, dict):
        return str(value)
    if value.get("parts"):
        return " ".join(render(part) for part in value["parts"])
    code = str(value.get("code"))
    template = TEMPLATES.get(code)
    if template is None:
        renderer = RENDERERS.get(code)
        return renderer(value.get("params") or {}) if renderer else code
    params = {name: _shown(item) for name, item in (value.get("params") or {}).items()}
    text = str(template)
    # A stored fact the template no longer names leaves the sentence as it is.
    with contextlib.suppress(KeyError, TypeError, ValueError):
        text = text % params if params else text
    feishu_msg = value.get("feishu_msg")
    if feishu_msg:
        text = gettext("%(explanation)s Feishu said: “%(msg)s”") % {
            "explanation": text,
            "msg": feishu_msg,
        }
    return text


def _shown(item: Any) -> Any:
    if isinstance(item, dict) and "code" in item:
        return render(item)
    return item


def _shown_text(item: Any) -> str:
    return str(_shown(item))


def _storable(value: Any) -> Any:
    """A fact as JSON keeps it: a translated label as its code, a message as its
    data, a number or text as it is."""
    if isinstance(value, Message):
        return value.data()
    if isinstance(value, Promise):
        code = _CODE_OF.get(id(value))
        return {"code": code, "params": {}} if code else str(value)
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return str(value)
