"""The pump's two questions stay cheap however long the backlog: which due rows
come next (in the pump's own order, fresh rows first, read off one partial index
and stopped at the batch's size instead of sorting every pending row), and how
many rows were handed out and not claimed yet (a handful, whatever the backlog).

Built CONCURRENTLY on PostgreSQL, so a large table keeps taking writes meanwhile
(hence a migration outside a transaction). SQLite sorts NULLs first in an
ascending index already and knows no NULLS FIRST in one.
"""

from django.db import migrations

PUMP_ORDER = {
    "postgresql": "CREATE INDEX CONCURRENTLY IF NOT EXISTS exam_result_pump_order "
    "ON exams_examresult (next_attempt_at ASC NULLS FIRST, id) "
    "WHERE status = 'pending'",
    "sqlite": "CREATE INDEX IF NOT EXISTS exam_result_pump_order "
    "ON exams_examresult (next_attempt_at, id) WHERE status = 'pending'",
}
HANDED_OUT = (
    "CREATE INDEX {concurrently} IF NOT EXISTS exam_result_handed_out "
    "ON exams_examresult (dispatched_at) "
    "WHERE status = 'pending' AND dispatched_at IS NOT NULL"
)
NAMES = ("exam_result_pump_order", "exam_result_handed_out")


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in PUMP_ORDER:
        return
    concurrently = "CONCURRENTLY" if vendor == "postgresql" else ""
    schema_editor.execute(PUMP_ORDER[vendor])
    schema_editor.execute(HANDED_OUT.format(concurrently=concurrently))


def backward(apps, schema_editor):
    if schema_editor.connection.vendor not in PUMP_ORDER:
        return
    for name in NAMES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("exams", "0021_paper_permissions")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
