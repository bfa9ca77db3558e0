"""UPDATE and upsert statements compiled once per shape and run many times.

The delivery engine writes a claim and an outcome for every result it delivers.
Built as querysets, each statement was made anew every time: the filters, the
lookups and the compiler's walk over them took more of a worker's CPU than the
database's answer did. ``Rows`` names the rows the way a queryset filter on
plain equalities does; ``compiled_update`` compiles the statement for a shape
(which fields are compared or written, which values are NULL, which are
expressions) once, with each value left as a ``Hole``, and afterwards only fills
the holes, each value prepared for the database by its field as the ORM prepares
it (``Field.get_db_prep_save``). The SQL is Django's own, so each backend gets
what the ORM would run.

``upsert_one`` writes one row as ``bulk_create(update_conflicts=True)`` does
(``INSERT … ON CONFLICT (…) DO UPDATE SET … = EXCLUDED.…``, the same on
PostgreSQL and SQLite), its statement text made once per model and fields."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import connections
from django.db.models import Expression, Field, Model, Q
from django.db.models.sql import UpdateQuery

# Shapes kept per process: the engine's few, plus those of outcomes whose
# expressions carry a value (a backoff's delay), which come and go.
SHAPES = 128


class Hole(Expression):
    """A value left out of a compiled statement, filled in each time it runs."""

    def __init__(self, key: str, output_field: Field[Any, Any]) -> None:
        super().__init__(output_field=output_field)
        self.key = key

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return "%s", [self]


@dataclass(frozen=True)
class Rows:
    """The rows of ``model`` whose fields equal ``equal`` (None: IS NULL) and
    that match ``where`` (Q objects without values of their own, such as a
    comparison with the database's clock)."""

    model: type[Model]
    equal: Mapping[str, Any]
    where: tuple[Q, ...] = field(default=())
    using: str = "default"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]  # Holes, and the values the shape itself holds


_compiled: OrderedDict[tuple[Any, ...], _Compiled] = OrderedDict()
_lock = threading.Lock()  # a web process's threads share the shapes


def _shape(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Expression) or hasattr(value, "resolve_expression"):
        return value  # expressions compare and hash by what they are made of
    return Hole


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    found = model._meta.pk if name == "pk" else model._meta.get_field(name)
    return cast("Field[Any, Any]", found)


def compiled_rows_update(
    rows: Rows, values: Mapping[str, Any]
) -> tuple[str, tuple[Any, ...]]:
    """The UPDATE ``values`` of ``rows`` and its parameters (as
    ``QuerySet.update()`` compiles it), from the shape's compiled statement."""
    connection = connections[rows.using]
    key = (
        rows.model,
        rows.using,
        connection.vendor,
        tuple((name, _shape(value)) for name, value in rows.equal.items()),
        rows.where,
        tuple((name, _shape(value)) for name, value in values.items()),
    )
    with _lock:
        compiled = _compiled.get(key)
        if compiled is not None:
            _compiled.move_to_end(key)
    if compiled is None:
        compiled = _compile(rows, values)
        with _lock:
            _compiled[key] = compiled
            if len(_compiled) > SHAPES:
                _compiled.popitem(last=False)
    filled = []
    for param in compiled.params:
        if isinstance(param, Hole):
            side, name = param.key.split(":", 1)
            value = (rows.equal if side == "where" else values)[name]
            param = param.output_field.get_db_prep_save(value, connection)
        filled.append(param)
    return compiled.sql, tuple(filled)


def _compile(rows: Rows, values: Mapping[str, Any]) -> _Compiled:
    def holes(side: str, given: Mapping[str, Any]) -> dict[str, Any]:
        return {
            name: Hole(f"{side}:{name}", _field(rows.model, name))
            if _shape(value) is Hole
            else value
            for name, value in given.items()
        }

    queryset = (
        rows.model._default_manager.using(rows.using)
        .filter(*rows.where)
        .filter(**holes("where", rows.equal))
    )
    query = cast(UpdateQuery, queryset.query.chain(UpdateQuery))
    query.add_update_values(holes("set", values))
    query.annotations = {}
    sql, params = query.get_compiler(rows.using).as_sql()
    return _Compiled(sql, tuple(params))


_upserts: dict[tuple[Any, ...], str] = {}


def upsert_one(
    row: Model, *, unique: str, update: Sequence[str], using: str = "default"
) -> int:
    """Insert ``row`` (every concrete field but an automatic primary key), or
    update ``update`` of the row whose ``unique`` field has its value; returns
    the row's primary key. ``bulk_create([row], update_conflicts=True, …)`` in
    one statement, without building the insert query each time."""
    connection = connections[using]
    model = type(row)
    meta = model._meta
    fields = [f for f in meta.concrete_fields if f is not meta.auto_field]
    key = (model, using, unique, tuple(update))
    sql = _upserts.get(key)
    if sql is None:
        quote = connection.ops.quote_name

        def column(name: str) -> str:
            return quote(_field(model, name).column)

        updates = ", ".join(f"{column(n)} = EXCLUDED.{column(n)}" for n in update)
        # Identifiers from the model, quoted; every value is a parameter.
        sql = _upserts[key] = (
            f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608
            f"({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) "
            f"ON CONFLICT ({column(unique)}) "
            f"DO UPDATE SET {updates} RETURNING {column('pk')}"
        )
    params = [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (pk,) = cursor.fetchone()
    row.pk = pk
    row._state.adding = False
    row._state.db = using
    return int(pk)
