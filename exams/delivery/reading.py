"""What a worker reads before it claims a result, in one query: the row's status
and what decides whether it may go now, the breaker (``FeishuAppState``) and the
application's mirror (``CandidateApplication``) for the check before sending.

Read one by one they were three round trips on every result delivered; joined,
one. Each model comes back as its own instance, converted as the ORM converts it,
or None when it has no row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections, router
from django.db.models import Model

from ..models import CandidateApplication, ExamResult, FeishuAppState

_M = TypeVar("_M", bound=Model)

# What the request to add an exam result is made from (sending.py's call and
# exam_body), besides the id; ``report``: a report still to upload goes first.
SENT_FIELDS = (
    "application_id",
    "exam_resource_name",
    "score",
    "operator_id",
    "operator_app_id",
    "user_id_type",
    "uuid",
    "report",
)
# The result's fields delivery decides on before the claim, and makes the
# request from (the claim returns the whole row).
RESULT_FIELDS = ("id", "status", "check_override", *SENT_FIELDS)


@dataclass(frozen=True)
class Reading:
    result: ExamResult | None
    breaker_state: FeishuAppState | None
    mirror: CandidateApplication | None


def delivery_reading(result_id: int) -> Reading:
    """The result (its deciding fields only), the breaker and the mirror of the
    result's application, as they stand (one query)."""
    db = router.db_for_read(ExamResult)
    connection = connections[db]
    quote = connection.ops.quote_name
    result_fields = [  # in the model's order, as Model.from_db() takes them
        f for f in ExamResult._meta.concrete_fields if f.name in RESULT_FIELDS
    ]
    state_fields = FeishuAppState._meta.concrete_fields
    mirror_fields = CandidateApplication._meta.concrete_fields

    def columns(alias: str, fields: Any) -> list[str]:
        return [f"{quote(alias)}.{quote(f.column)}" for f in fields]

    # Identifiers from the models, quoted; every value is a parameter.
    sql = (
        "SELECT "  # noqa: S608
        + ", ".join(
            columns("r", result_fields)
            + columns("s", state_fields)
            + columns("m", mirror_fields)
        )
        + f" FROM {quote(ExamResult._meta.db_table)} {quote('r')}"
        f" LEFT JOIN {quote(FeishuAppState._meta.db_table)} {quote('s')}"
        f" ON {quote('s')}.{quote('app_id')} = %s"
        f" LEFT JOIN {quote(CandidateApplication._meta.db_table)} {quote('m')}"
        f" ON {quote('m')}.{quote('application_id')} ="
        f" {quote('r')}.{quote('application_id')}"
        f" WHERE {quote('r')}.{quote('id')} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [settings.FEISHU_APP_ID, result_id])
        row = cursor.fetchone()
    if row is None:
        return Reading(None, None, None)
    values = list(row)
    parts = []
    for model, fields in (
        (ExamResult, result_fields),
        (FeishuAppState, state_fields),
        (CandidateApplication, mirror_fields),
    ):
        taken, values = values[: len(fields)], values[len(fields) :]
        parts.append(_instance(model, fields, taken, db))
    result, state, mirror = parts
    return Reading(result, state, mirror)  # type: ignore[arg-type]


def _instance(model: type[_M], fields: Any, values: list[Any], db: str) -> _M | None:
    """``values`` of ``fields`` as the ORM would load them, or None for the
    NULLs of an outer join that found no row."""
    if values[0] is None:  # the primary key, first of the concrete fields
        return None
    compiler = model._default_manager.none().query.get_compiler(db)
    table = model._meta.db_table
    converters = compiler.get_converters([f.get_col(table) for f in fields])
    (converted,) = compiler.apply_converters([values], converters)
    return model.from_db(db, [f.attname for f in fields], list(converted))
