"""The staff roles, as groups: viewer, editor, sender, auditor.

Permissions are created by post_migrate, after every migration has run; on a fresh
database they do not exist yet here, so they are created first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = [
    "view_examresult",
    "view_syncattempt",
    "view_examresultchange",
    "view_scorecorrection",
]
EDIT = [
    "add_examresult",
    "change_examresult",
    "view_feishuidentity",
    "add_feishuidentity",
    "change_feishuidentity",
]
ROLES = {
    # Read only: results, their history, attempts and corrections.
    "viewer": VIEW,
    # Enter and import results; cannot send.
    "editor": VIEW + EDIT,
    # Editor + send, resend, reconcile, record corrections made in Feishu.
    "sender": VIEW + EDIT + ["send_examresult"],
    # The audit page and its exports, the audit events; read only.
    "auditor": VIEW + ["view_auditevent", "review_audit"],
}


def create_roles(apps, schema_editor):
    alias = schema_editor.connection.alias
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, using=alias)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _created = Group.objects.using(alias).get_or_create(name=name)
        group.permissions.set(
            Permission.objects.using(alias).filter(
                content_type__app_label="exams", codename__in=codenames
            )
        )


def remove_roles(apps, schema_editor):
    alias = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Group.objects.using(alias).filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0006_audit_corrections_alerts"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
