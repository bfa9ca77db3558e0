"""The mirror of Feishu's applications (candidate, job, stage), and what a result
needs for the check before sending: a "needs attention" status with its reason,
the override, and how a score sheet's row was matched. On PostgreSQL, trigram
indexes let staff search results by a candidate's name, email or mobile."""

from django.conf import settings
from django.db import migrations, models

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS candidate_name_trgm ON exams_candidateapplication "
    "USING gin (UPPER(candidate_name::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS candidate_email_trgm ON exams_candidateapplication "
    "USING gin (UPPER(email::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS candidate_mobile_trgm ON exams_candidateapplication "
    "USING gin (UPPER(mobile_number::text) gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS candidate_name_trgm",
    "DROP INDEX IF EXISTS candidate_email_trgm",
    "DROP INDEX IF EXISTS candidate_mobile_trgm",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('exams', '0010_remove_examresultchange'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CandidateApplication',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('application_id', models.CharField(max_length=19, unique=True, verbose_name='application ID')),
                ('exists', models.BooleanField(null=True, verbose_name='exists in Feishu')),
                ('talent_id', models.CharField(blank=True, max_length=32, verbose_name='talent ID')),
                ('candidate_name', models.CharField(blank=True, max_length=255, verbose_name='candidate')),
                ('email', models.CharField(blank=True, max_length=255, verbose_name='email')),
                ('mobile_code', models.CharField(blank=True, max_length=8, verbose_name='country code')),
                ('mobile_number', models.CharField(blank=True, max_length=32, verbose_name='mobile')),
                ('job_id', models.CharField(blank=True, max_length=32, verbose_name='job ID')),
                ('job_name', models.CharField(blank=True, max_length=255, verbose_name='job')),
                ('stage_id', models.CharField(blank=True, max_length=32, verbose_name='stage ID')),
                ('stage_name_zh', models.CharField(blank=True, max_length=255, verbose_name='stage (Chinese)')),
                ('stage_name_en', models.CharField(blank=True, max_length=255, verbose_name='stage (English)')),
                ('stage_type', models.PositiveSmallIntegerField(null=True, verbose_name='stage type')),
                ('active', models.BooleanField(null=True, verbose_name='active')),
                ('termination_reason_zh', models.TextField(blank=True, verbose_name='why terminated (Chinese)')),
                ('termination_reason_en', models.TextField(blank=True, verbose_name='why terminated (English)')),
                ('entered_stage_at', models.DateTimeField(null=True, verbose_name='entered the stage at')),
                ('checked_at', models.DateTimeField(null=True, verbose_name='checked at')),
                ('detail_fetched_at', models.DateTimeField(null=True, verbose_name='details fetched at')),
                ('lookup_requested_at', models.DateTimeField(editable=False, null=True)),
            ],
            options={
                'verbose_name': 'candidate application',
                'verbose_name_plural': 'candidate applications',
            },
        ),
        migrations.RemoveConstraint(
            model_name='examresult',
            name='exam_result_status_valid',
        ),
        migrations.AddField(
            model_name='examresult',
            name='check_override',
            field=models.TextField(blank=True, verbose_name='sent anyway because'),
        ),
        migrations.AddField(
            model_name='examresult',
            name='hold_code',
            field=models.CharField(blank=True, choices=[('not_found', 'Application not found in Feishu'), ('terminated', 'Application terminated'), ('wrong_stage', 'Not in a written-exam stage')], max_length=16, verbose_name='needs attention because'),
        ),
        migrations.AddField(
            model_name='examresult',
            name='hold_params',
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.AddField(
            model_name='examresult',
            name='matched_by',
            field=models.CharField(blank=True, choices=[('id', 'Application ID'), ('email', 'Email'), ('mobile', 'Mobile')], max_length=8, verbose_name='matched by'),
        ),
        migrations.AddField(
            model_name='feishuappstate',
            name='lookup_problem',
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name='feishuappstate',
            name='lookup_problem_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='historicalexamresult',
            name='check_override',
            field=models.TextField(blank=True, verbose_name='sent anyway because'),
        ),
        migrations.AddField(
            model_name='historicalexamresult',
            name='hold_code',
            field=models.CharField(blank=True, choices=[('not_found', 'Application not found in Feishu'), ('terminated', 'Application terminated'), ('wrong_stage', 'Not in a written-exam stage')], max_length=16, verbose_name='needs attention because'),
        ),
        migrations.AddField(
            model_name='historicalexamresult',
            name='hold_params',
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.AddField(
            model_name='historicalexamresult',
            name='matched_by',
            field=models.CharField(blank=True, choices=[('id', 'Application ID'), ('email', 'Email'), ('mobile', 'Mobile')], max_length=8, verbose_name='matched by'),
        ),
        migrations.AlterField(
            model_name='examresult',
            name='status',
            field=models.CharField(choices=[('draft', 'Draft'), ('pending', 'Pending'), ('sending', 'Sending'), ('synced', 'Delivered'), ('failed', 'Failed'), ('unknown', 'Outcome unknown'), ('held', 'Needs attention')], default='draft', max_length=16, verbose_name='status'),
        ),
        migrations.AlterField(
            model_name='historicalexamresult',
            name='status',
            field=models.CharField(choices=[('draft', 'Draft'), ('pending', 'Pending'), ('sending', 'Sending'), ('synced', 'Delivered'), ('failed', 'Failed'), ('unknown', 'Outcome unknown'), ('held', 'Needs attention')], default='draft', max_length=16, verbose_name='status'),
        ),
        migrations.AddConstraint(
            model_name='examresult',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['draft', 'pending', 'sending', 'synced', 'failed', 'unknown', 'held'])), name='exam_result_status_valid'),
        ),
        migrations.AddIndex(
            model_name='candidateapplication',
            index=models.Index(fields=['candidate_name'], name='candidate_name'),
        ),
        migrations.AddIndex(
            model_name='candidateapplication',
            index=models.Index(fields=['email'], name='candidate_email'),
        ),
        migrations.AddIndex(
            model_name='candidateapplication',
            index=models.Index(fields=['mobile_number'], name='candidate_mobile'),
        ),
        migrations.AddIndex(
            model_name='candidateapplication',
            index=models.Index(fields=['talent_id'], name='candidate_talent'),
        ),
        migrations.AddIndex(
            model_name='candidateapplication',
            index=models.Index(fields=['stage_type', 'active', 'entered_stage_at'], name='candidate_stage'),
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
