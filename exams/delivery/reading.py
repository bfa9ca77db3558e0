"""What a worker reads before it claims a result, in one query: the row's status
and what decides whether it may go now, the breaker (``FeishuAppState``) and the
application's mirror (``CandidateApplication``) for the check before sending.

Read one by one they were three round trips on every result delivered; joined,
one. Each model comes back as its own instance, converted as the ORM converts it,
or None when it has no row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections, router

from ..models import CandidateApplication, ExamResult, FeishuAppState
from ..models.loading import instance_from_row

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


NOTHING = Reading(None, None, None)  # no such result


def delivery_reading(result_id: int) -> Reading:
    """The result (its deciding fields only), the breaker and the mirror of the
    result's application, as they stand (one query)."""
    return delivery_readings([result_id]).get(result_id, NOTHING)


def delivery_readings(result_ids: Sequence[int]) -> dict[int, Reading]:
    """``delivery_reading`` of several results in one query, by result id; a
    result that does not exist has no entry."""
    if not result_ids:
        return {}
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
        f" WHERE {quote('r')}.{quote('id')} IN ("
        + ", ".join(["%s"] * len(result_ids))
        + ")"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [settings.FEISHU_APP_ID, *result_ids])
        rows = cursor.fetchall()
    readings = {}
    for row in rows:
        values = list(row)
        parts = []
        for model, fields in (
            (ExamResult, result_fields),
            (FeishuAppState, state_fields),
            (CandidateApplication, mirror_fields),
        ):
            taken, values = values[: len(fields)], values[len(fields) :]
            parts.append(instance_from_row(model, fields, taken, db))
        result, state, mirror = parts
        readings[result.pk] = Reading(result, state, mirror)  # type: ignore[arg-type,union-attr]
    return readings
