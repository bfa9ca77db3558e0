"""The history of exam results moves to django-simple-history (snapshots); the
hand-written ExamResultChange rows are carried over by 0009 and dropped by 0010.
Imports remember when they were confirmed, for the import sweep."""

import django.db.models.deletion
import exams.models.results
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('exams', '0007_roles'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='importbatch',
            name='queued_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='confirmed at'),
        ),
        migrations.AlterField(
            model_name='importbatch',
            name='source',
            field=models.CharField(choices=[('admin', 'Admin form'), ('bulk_action', 'Bulk action'), ('import', 'Import'), ('command', 'Command line'), ('engine', 'Delivery engine'), ('feishu_lookup', 'Feishu lookup'), ('other', 'Other')], default='import', max_length=16, verbose_name='through'),
        ),
        migrations.CreateModel(
            name='HistoricalExamResult',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('source', models.CharField(choices=[('admin', 'Admin form'), ('bulk_action', 'Bulk action'), ('import', 'Import'), ('command', 'Command line'), ('engine', 'Delivery engine'), ('feishu_lookup', 'Feishu lookup'), ('other', 'Other')], default='other', max_length=16, verbose_name='through')),
                ('application_id', models.CharField(help_text='Feishu Hire application (投递) ID: digits only, at most 19.', max_length=19, verbose_name='application ID')),
                ('exam_resource_name', models.CharField(help_text="The exam paper's name (试卷名称).", max_length=255, verbose_name='exam name')),
                ('score', exams.models.results.ExactDecimalField(decimal_places=1, help_text='Non-negative, at most one decimal place (e.g. 88.5).', max_digits=6, verbose_name='score')),
                ('report', models.TextField(blank=True, help_text='Optional report (PDF, JPG or PNG), uploaded to Feishu on send.', max_length=100, verbose_name='report file')),
                ('uuid', models.CharField(blank=True, help_text='Feishu attachment ID of the report, if it is already uploaded.', max_length=64, verbose_name='attachment ID')),
                ('operator_id', models.CharField(max_length=64, verbose_name='operator ID')),
                ('user_id_type', models.CharField(choices=[('open_id', 'open_id'), ('union_id', 'union_id'), ('user_id', 'user_id'), ('people_admin_id', 'people_admin_id')], default='open_id', max_length=16, verbose_name='operator ID type')),
                ('operator_app_id', models.CharField(max_length=64, verbose_name="operator's Feishu app")),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('pending', 'Pending'), ('sending', 'Sending'), ('synced', 'Delivered'), ('failed', 'Failed'), ('unknown', 'Outcome unknown')], default='draft', max_length=16, verbose_name='status')),
                ('exam_id', models.CharField(blank=True, max_length=64, verbose_name='Feishu exam ID')),
                ('operate_time', models.DateTimeField(blank=True, null=True, verbose_name='operate time')),
                ('last_error_code', models.IntegerField(blank=True, null=True, verbose_name='last error code')),
                ('last_error_message', models.TextField(blank=True, verbose_name='last error')),
                ('created_at', models.DateTimeField(blank=True, editable=False, verbose_name='created')),
                ('history_id', models.BigAutoField(editable=False, primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField()),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('entered_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='entered by')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('import_batch', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='exams.importbatch', verbose_name='import')),
            ],
            options={
                'verbose_name': 'exam result change',
                'verbose_name_plural': 'exam result changes',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.AddIndex(
            model_name='historicalexamresult',
            index=models.Index(fields=['history_date', 'id'], name='exams_histo_history_f92090_idx'),
        ),
    ]
