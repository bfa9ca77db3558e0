"""Searching results by candidate on PostgreSQL: a name of one or two characters
(张伟, 思远) gives the trigram index nothing to look up, so the change list matches
the beginning or the end of names (indexes that serve LIKE 'x%' whatever the
database's collation, the end through the reversed name); a whole email address
is looked up as one, case aside."""

from django.db import migrations

FORWARD = [
    "CREATE INDEX IF NOT EXISTS candidate_name_prefix ON exams_candidateapplication "
    "(candidate_name varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS candidate_name_suffix ON exams_candidateapplication "
    "(REVERSE(candidate_name) text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS candidate_email_upper ON exams_candidateapplication "
    "(UPPER(email::text))",
]
BACKWARD = [
    "DROP INDEX IF EXISTS candidate_name_prefix",
    "DROP INDEX IF EXISTS candidate_name_suffix",
    "DROP INDEX IF EXISTS candidate_email_upper",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("exams", "0014_worklist")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
