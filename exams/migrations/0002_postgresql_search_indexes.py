"""Indexes that only PostgreSQL has: trigram search on exam names and prefix search
on application ids. Other databases skip this migration's SQL."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # Matches what Django emits for exam_resource_name__icontains. pg_trgm takes
    # trigrams from words of three or more letters or digits: a shorter term gives it
    # none (exams.changelist searches those another way), and Chinese counts as
    # letters only under a UTF-8 LC_CTYPE (C.UTF-8, en_US.UTF-8...), not plain "C".
    "CREATE INDEX IF NOT EXISTS exam_result_name_trgm ON exams_examresult "
    "USING gin (UPPER(exam_resource_name::text) gin_trgm_ops)",
    # LIKE 'prefix%' on application_id, whatever the database's collation.
    "CREATE INDEX IF NOT EXISTS exam_result_application_prefix ON exams_examresult "
    "(application_id varchar_pattern_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS exam_result_application_prefix",
    "DROP INDEX IF EXISTS exam_result_name_trgm",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("exams", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
