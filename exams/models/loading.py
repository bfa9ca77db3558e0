"""Model instances from rows the portal's own SQL returned, converted as the ORM
converts them, at a fraction of ``QuerySet.raw()``'s cost.

``raw()`` works out, for every statement it runs, which column is which field
and which database converters each field needs. The delivery engine's
statements (a worker runs several on every result it delivers) select the
columns it names, in an order it knows, so that work is done once per model,
columns and connection here (``instance_from_row``)."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Field, Model

_M = TypeVar("_M", bound=Model)

# Per connection (the converters are bound to its operations): per model and
# columns, the attnames and the compiler's converters.
_Plan = tuple[list[str], Any, Any]
_plans: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], _Plan]] = (
    weakref.WeakKeyDictionary()
)


def _plan(model: type[Model], fields: Sequence[Field[Any, Any]], db: str) -> _Plan:
    connection = connections[db]
    by_key = _plans.setdefault(connection, {})
    key = (model, tuple(f.attname for f in fields))
    plan = by_key.get(key)
    if plan is None:
        compiler = model._default_manager.none().query.get_compiler(db)
        table = model._meta.db_table
        converters = compiler.get_converters([f.get_col(table) for f in fields])
        plan = by_key[key] = ([f.attname for f in fields], compiler, converters)
    return plan


def instance_from_row(
    model: type[_M], fields: Sequence[Field[Any, Any]], values: Sequence[Any], db: str
) -> _M | None:
    """``values`` of ``fields`` (the primary key first) as the ORM would load
    them, or None for the NULLs of an outer join that found no row."""
    if values[0] is None:
        return None
    attnames, compiler, converters = _plan(model, fields, db)
    if converters:
        (converted,) = compiler.apply_converters([list(values)], converters)
        values = list(converted)
    return model.from_db(db, attnames, list(values))
