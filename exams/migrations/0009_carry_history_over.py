"""Carry the hand-written history (ExamResultChange, one row of {field: [old, new]}
per change) over to simple-history's snapshots: each result's changes are replayed
in order, and every step is written as the snapshot it led to, with the same
time, actor and source. A deleted draft's history is carried over like any other.

The roles that could read the old history read the new one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.models import Q
from django.utils.dateparse import parse_datetime

KINDS = {"created": "+", "changed": "~", "deleted": "-"}
TEXT = (
    "application_id",
    "exam_resource_name",
    "report",
    "uuid",
    "operator_id",
    "operator_app_id",
    "exam_id",
    "last_error_message",
)
CHUNK = 2000
ROLES = ("viewer", "editor", "sender", "auditor")


def _value(name: str, value):
    if value is None:
        return None
    if name == "score":
        return Decimal(str(value))
    if name == "operate_time":
        return value if isinstance(value, dt.datetime) else parse_datetime(str(value))
    if name == "last_error_code":
        return int(value)
    return value


def _initial(current) -> dict:
    state = {name: "" for name in TEXT}
    state.update(
        score=Decimal("0"),
        user_id_type="open_id",
        status="draft",
        operate_time=None,
        last_error_code=None,
        entered_by_id=current.entered_by_id if current else None,
        import_batch_id=current.import_batch_id if current else None,
        created_at=current.created_at if current else None,
    )
    return state


def carry_over(apps, schema_editor):
    alias = schema_editor.connection.alias
    Change = apps.get_model("exams", "ExamResultChange")
    Result = apps.get_model("exams", "ExamResult")
    Historical = apps.get_model("exams", "HistoricalExamResult")
    batch = []
    result_id = None
    state: dict = {}
    for change in Change.objects.using(alias).order_by("result_id", "changed_at", "id").iterator(
        chunk_size=CHUNK
    ):
        if change.result_id != result_id:
            result_id = change.result_id
            state = _initial(Result.objects.using(alias).filter(pk=result_id).first())
        for name, pair in (change.changes or {}).items():
            if name in state and isinstance(pair, list) and len(pair) == 2:
                new = pair[0] if change.kind == "deleted" else pair[1]
                state[name] = _value(name, new)
        if state["created_at"] is None:
            state["created_at"] = change.changed_at
        batch.append(
            Historical(
                id=result_id,
                history_date=change.changed_at,
                history_type=KINDS.get(change.kind, "~"),
                history_user_id=change.actor_id,
                source=change.source,
                **{k: ("" if v is None and k in TEXT else v) for k, v in state.items()},
            )
        )
        if len(batch) >= CHUNK:
            Historical.objects.using(alias).bulk_create(batch)
            batch = []
    if batch:
        Historical.objects.using(alias).bulk_create(batch)


def grant_history_view(apps, schema_editor):
    alias = schema_editor.connection.alias
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, using=alias)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    new = Permission.objects.using(alias).filter(
        content_type__app_label="exams", codename="view_historicalexamresult"
    ).first()
    if new is None:
        return
    # The roles of 0007, and any group someone gave the old history's permission.
    # (On a fresh database 0007 never created that permission: its model is gone
    # from the code 0007's create_permissions reads.)
    groups = Group.objects.using(alias).filter(
        Q(name__in=ROLES)
        | Q(
            permissions__content_type__app_label="exams",
            permissions__codename="view_examresultchange",
        )
    ).distinct()
    for group in groups:
        group.permissions.add(new)


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0008_history_on_simple_history"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.RunPython(grant_history_view, migrations.RunPython.noop),
    ]
