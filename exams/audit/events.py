"""Audit events in words: what an identity change, an export or a purge did, in
the reader's language. The event keeps its facts as data (``details``), which the
CSV export carries as they are; the pages show them through ``event_words``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field, Model
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from ..models import AuditEvent, CandidateApplication, ExamResult, FeishuIdentity

Kind = AuditEvent.Kind
IDENTITY_FIELDS = ("open_id", "union_id", "feishu_user_id", "email")
# Query parameters of a list that say nothing about which rows were taken.
NOT_FILTERS = ("o", "p", "_facets", "all")


def event_words(event: AuditEvent) -> str:
    """What ``event`` did, in words; its facts as JSON when it is of a kind this
    does not know."""
    details = event.details if isinstance(event.details, dict) else {}
    if event.kind == Kind.IDENTITY:
        return _identity(details)
    if event.kind == Kind.EXPORT:
        return _export(details)
    if event.kind == Kind.PURGE:
        return _purge(details)
    return json.dumps(event.details, ensure_ascii=False, sort_keys=True)


def _identity(details: dict[str, Any]) -> str:
    before = details.get("before") or {}
    after = details.get("after") or {}
    changes = [
        f"{_field_label(FeishuIdentity, name)}: {before.get(name) or '—'} → "
        f"{after.get(name) or '—'}"
        for name in IDENTITY_FIELDS
        if (before.get(name) or "") != (after.get(name) or "")
    ]
    if details.get("deleted"):
        how = _("removed by an administrator")
    elif details.get("how") == "lookup":
        how = _("looked up by email")
    else:
        how = _("set by an administrator")
    return _("%(user)s, Feishu app %(app)s (%(how)s): %(changes)s") % {
        "user": details.get("user", ""),
        "app": details.get("app_id", ""),
        "how": how,
        "changes": "; ".join(changes) or _("no ID changed"),
    }


def _export(details: dict[str, Any]) -> str:
    what = details.get("what", "")
    names = {
        "results": _("the results list"),
        "selected results": _("selected results"),
        "fill-in sheet": _("the worklist's fill-in sheet"),
    }
    text = _("%(what)s, %(rows)s rows, as %(format)s") % {
        "what": names.get(what, what),
        "rows": details.get("rows", ""),
        "format": str(details.get("format", "")).upper(),
    }
    model = CandidateApplication if what == "fill-in sheet" else ExamResult
    filters = _filters(model, details.get("filters") or {})
    if filters:
        text += " · " + _("filtered by %(filters)s") % {"filters": filters}
    return text


def _filters(model: type[Model], filters: dict[str, Any]) -> str:
    """A list's query parameters as staff chose them: the field's name and the
    value's label (``status__exact=failed`` reads "status: failed")."""
    shown = []
    for key, values in filters.items():
        if key in NOT_FILTERS:
            continue
        values = values if isinstance(values, list) else [values]
        if key == "q":
            label = _("search")
            choices: dict[Any, Any] = {}
        else:
            name = key.split("__", 1)[0]
            label = _field_label(model, name)
            choices = _field_choices(model, name)
        words = ", ".join(str(choices.get(value, value)) for value in values)
        shown.append(f"{label}: {words}")
    return "; ".join(shown)


def _purge(details: dict[str, Any]) -> str:
    return _(
        "Removed what was older than %(days)s days (before %(cutoff)s): "
        "%(results)s results, %(attempts)s calls to Feishu, %(changes)s history "
        "entries, %(corrections)s score corrections, %(orphans)s history entries "
        "of results deleted earlier, %(imports)s imports, %(files)s report files, "
        "%(candidates)s candidates read from Feishu. Kept %(kept)s results still "
        "in flight."
    ) % {
        "days": details.get("older_than_days", ""),
        "cutoff": _time(details.get("cutoff")),
        "results": details.get("results", 0),
        "attempts": details.get("attempts", 0),
        "changes": details.get("changes", 0),
        "corrections": details.get("corrections", 0),
        "orphans": details.get("orphan_changes", 0),
        "imports": details.get("imports", 0),
        "files": details.get("report_files", 0),
        "candidates": details.get("candidates", 0),
        "kept": details.get("kept_in_flight", 0),
    }


def _time(value: Any) -> str:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value or "")
    if timezone.is_naive(moment):
        return formats.date_format(moment, "DATETIME_FORMAT")
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _field(model: type[Model], name: str) -> Field[Any, Any] | None:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, Field) else None


def _field_label(model: type[Model], name: str) -> str:
    field = _field(model, name)
    return str(field.verbose_name) if field is not None else name


def _field_choices(model: type[Model], name: str) -> dict[Any, Any]:
    field = _field(model, name)
    return dict(field.flatchoices) if field is not None else {}
