"""Writing exam results with their history, in bulk as cheaply as one at a time.

- ``save_recorded`` / ``delete_recorded``: ``save()`` / ``delete()`` as
  simple-history records them, with who and through what.
- ``update_one_recorded``: the delivery engine's conditional update of one row
  (a claim, an outcome), returning the row as written, its snapshot and any
  statement that goes with it (the call's record) in one round trip on
  PostgreSQL: a worker pays it on every result it delivers.
- ``bulk_create_recorded`` and ``update_recorded``: the bulk paths (imports, bulk
  actions), a few statements per 2,000 rows whatever their number. Their
  snapshots are copied from the rows by the database itself (``INSERT … SELECT``
  into simple-history's table, the same columns simple-history writes), so no
  Python object is built per snapshot: with simple-history's own bulk helpers the
  history of a bulk send cost more than writing the rows (bench/audit_cost.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.contrib.auth.models import User
from django.db import connection, connections, transaction
from django.db.models import Expression, Model, QuerySet
from django.db.models.functions import Now
from django.db.models.sql import InsertQuery, UpdateQuery
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from .history import recorded_as
from .loading import instance_from_row
from .results import ExamResult
from .statements import Rows, compiled_rows_update

CHUNK = 2000


def save_recorded(
    result: ExamResult,
    *,
    actor: User | None,
    source: str,
    update_fields: Sequence[str] | None = None,
) -> None:
    """Save ``result``; its history says who and through what. A save that changes
    no tracked field records nothing."""
    with recorded_as(actor=actor, source=source):
        result.save(update_fields=update_fields)


def delete_recorded(result: ExamResult, *, actor: User | None, source: str) -> None:
    """Delete a result; its history (and what it held) remains."""
    with recorded_as(actor=actor, source=source):
        result.delete()


def bulk_create_recorded(
    results: Sequence[ExamResult],
    *,
    actor: User | None,
    source: str,
    batch_size: int = CHUNK,
) -> list[ExamResult]:
    """Insert many new results, each with its "created" entry.

    Needs a backend that returns primary keys from a bulk insert (PostgreSQL, and
    SQLite 3.35+), so the history can point at the rows.
    """
    # One time for the batch: Django then inserts it in one statement's fast path.
    now = timezone.now()
    rows = list(results)
    with recorded_as(actor=actor, source=source), transaction.atomic():
        for start in range(0, len(rows), batch_size):
            chunk = ExamResult.objects.bulk_create(rows[start : start + batch_size])
            _copy_snapshots(
                [row.pk for row in chunk],
                kind="+",
                actor=actor,
                source=source,
                reason="",
                when=now,
            )
    return rows


def update_recorded(
    queryset: QuerySet[ExamResult],
    *,
    actor: User | None,
    source: str,
    reason: str = "",
    **values: Any,
) -> list[int]:
    """UPDATE the rows of ``queryset`` with ``values`` and record a snapshot of each
    row whose tracked fields changed (of every row, when a ``reason`` says why staff
    acted). Returns the ids of the rows updated.

    Rows are locked while read (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
    IMMEDIATE transactions hold the write lock throughout), so a concurrent change
    cannot slip between the read and the write.
    """
    tracked = [name for name in values if name in ExamResult.TRACKED_FIELDS]
    for name in tracked:
        if isinstance(values[name], Expression):
            raise ValueError(
                f"{name}: a tracked field needs a value, not an expression"
            )
    columns = {f.name: f for f in ExamResult._meta.concrete_fields}
    attnames = [columns[name].attname for name in tracked]
    new = [
        columns[name].to_python(values[name])
        if not hasattr(values[name], "pk")
        else values[name].pk
        for name in tracked
    ]
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            queryset.order_by().select_for_update().values_list("pk", *attnames)
        )
        ids = [row[0] for row in rows]
        changed = [row[0] for row in rows if reason or list(row[1:]) != new]
        for start in range(0, len(ids), CHUNK):
            ExamResult.objects.filter(
                pk__in=ids[start : start + CHUNK]
            )._update_unrecorded(**values)
        for start in range(0, len(changed), CHUNK):
            _copy_snapshots(
                changed[start : start + CHUNK],
                kind="~",
                actor=actor,
                source=source,
                reason=reason,
                when=now,
            )
    return ids


def _snapshot_statement() -> str:
    """``INSERT INTO <history> (<tracked columns>, <history columns>) SELECT
    <tracked columns>, %s… FROM``, without the rows' relation."""
    quote = connection.ops.quote_name
    history = ExamResult.history.model
    copied = [
        field.column
        for field in history._meta.concrete_fields
        if field.attname in {"id", *ExamResult.TRACKED_ATTNAMES}
    ]
    own = [
        "history_date",
        "history_type",
        "history_user_id",
        "history_change_reason",
        "source",
    ]
    # Identifiers from the models, quoted; every value is a parameter.
    return (
        f"INSERT INTO {quote(history._meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(c) for c in copied + own)}) "
        f"SELECT {', '.join(quote(c) for c in copied)}, %s, %s, %s, %s, %s FROM "
    )


_SNAPSHOT = SimpleLazyObject(_snapshot_statement)


def _snapshot_params(
    *, kind: str, actor: User | None, source: str, reason: str, when: Any
) -> list[Any]:
    return [
        connection.ops.adapt_datetimefield_value(when),
        kind,
        actor.pk if actor is not None else None,
        reason,
        source,
    ]


def _copy_snapshots(
    ids: list[int],
    *,
    kind: str,
    actor: User | None,
    source: str,
    reason: str,
    when: Any,
) -> None:
    if not ids:
        return
    quote = connection.ops.quote_name
    params = _snapshot_params(
        kind=kind, actor=actor, source=source, reason=reason, when=when
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"{_SNAPSHOT}{quote(ExamResult._meta.db_table)} WHERE {quote('id')} IN "
            "(" + ", ".join(["%s"] * len(ids)) + ")",
            [*params, *ids],
        )


def compiled_update(
    queryset: QuerySet[Any] | Rows, values: dict[str, Any]
) -> tuple[str, tuple[Any, ...]]:
    """The UPDATE statement ``queryset.update(**values)`` runs, and its
    parameters, without running it (as ``QuerySet.update()`` compiles it). For
    ``Rows``, compiled once per shape (``statements.py``)."""
    if isinstance(queryset, Rows):
        return compiled_rows_update(queryset, values)
    query = cast(UpdateQuery, queryset.query.chain(UpdateQuery))
    query.add_update_values(values)
    query.annotations = {}
    sql, params = query.get_compiler(queryset.db).as_sql()
    return sql, tuple(params)


def update_one_recorded(
    queryset: QuerySet[ExamResult] | Rows,
    *,
    source: str,
    record: bool = True,
    also: Sequence[tuple[str, Sequence[Any]]] = (),
    insert: Model | None = None,
    **values: Any,
) -> ExamResult | None:
    """UPDATE the one row ``queryset`` selects with ``values`` and return it as
    written, or None when no row matched; its snapshot is recorded (when
    ``record``) as a change by the delivery engine. ``also``: statements (SQL,
    parameters) that go with the update whether it matched or not, such as the
    record of a call to Feishu. ``insert``: an unsaved row inserted only when the
    update matched (its primary key is set then); its values must be values or
    expressions, not database defaults.

    PostgreSQL runs it all as one statement (``WITH row AS (UPDATE … RETURNING
    …), snapshot AS (INSERT … SELECT … FROM row) …``): one round trip and no
    transaction to open and commit. Elsewhere: ``UPDATE … RETURNING`` and the
    snapshot (SQLite 3.35+), in one transaction.
    """
    values.setdefault("updated_at", Now())
    update, params = compiled_update(queryset, values)
    db = queryset.using if isinstance(queryset, Rows) else queryset.db
    quote = connections[db].ops.quote_name
    fields = ExamResult._meta.concrete_fields  # the primary key first
    columns = ", ".join(quote(f.column) for f in fields)
    snapshot = _snapshot_params(
        kind="~", actor=None, source=source, reason="", when=timezone.now()
    )
    if connections[db].vendor == "postgresql":
        parts = [f"WITH {quote('row')} AS ({update} RETURNING {columns})"]
        sql_params: list[Any] = [*params]
        if record:
            parts.append(f"{quote('snapshot')} AS ({_SNAPSHOT}{quote('row')})")
            sql_params += snapshot
        for number, (statement, statement_params) in enumerate(also):
            parts.append(f"{quote(f'also_{number}')} AS ({statement})")
            sql_params += statement_params
        selected = columns
        if insert is not None:
            statement, statement_params = _insert_from(insert, quote("row"), db)
            pk = quote(insert._meta.pk.column)
            parts.append(f"{quote('inserted')} AS ({statement} RETURNING {pk})")
            sql_params += statement_params
            selected += f", (SELECT {pk} FROM {quote('inserted')}) AS inserted_pk"  # noqa: S608
        # Identifiers from the models, quoted; every value is a parameter.
        sql = ", ".join(parts) + f" SELECT {selected} FROM {quote('row')}"  # noqa: S608
        with connections[db].cursor() as cursor:
            cursor.execute(sql, sql_params)
            written = cursor.fetchone()
        if written is None:
            return None
        row = instance_from_row(ExamResult, fields, written[: len(fields)], db)
        if insert is not None:
            insert.pk = written[len(fields)]
            insert._state.adding = False
            insert._state.db = db
        return row
    with transaction.atomic(using=db):
        with connections[db].cursor() as cursor:
            for statement, statement_params in also:
                cursor.execute(statement, statement_params)
        with connections[db].cursor() as cursor:
            cursor.execute(f"{update} RETURNING {columns}", params)
            written = cursor.fetchone()
        row = (
            instance_from_row(ExamResult, fields, written, db)
            if written is not None
            else None
        )
        if row is not None and record:
            with connections[db].cursor() as cursor:
                cursor.execute(
                    f"{_SNAPSHOT}{quote(ExamResult._meta.db_table)} "
                    f"WHERE {quote('id')} = %s",
                    [*snapshot, row.pk],
                )
        if row is not None and insert is not None:
            insert.save(force_insert=True, using=db)
    return row


def _insert_from(
    instance: Model, relation: str, db: str
) -> tuple[str, tuple[Any, ...]]:
    """``INSERT INTO <table> (<columns>) SELECT <values> FROM <relation>``: the
    row's insert, made once for each row of ``relation`` (none when it is empty)."""
    query = InsertQuery(instance.__class__)
    fields = [f for f in instance._meta.local_concrete_fields if not f.primary_key]
    query.insert_values(fields, [instance])
    ((sql, params),) = query.get_compiler(db).as_sql()
    head, values = sql.split(" VALUES (", 1)
    if not values.endswith(")") or "DEFAULT" in values:
        raise ValueError(f"not one row of values: {sql}")
    # The compiler's own SQL, its values still parameters.
    return f"{head} SELECT {values[:-1]} FROM {relation}", tuple(params)  # noqa: S608
