"""The catalogue of exam papers in the roles: everyone who sees results sees the
papers; the roles that enter results (editor, sender) also add, change and
delete them, since a result can only be entered for a paper in the catalogue."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "viewer": ["view_exampaper"],
    "editor": ["view_exampaper", "add_exampaper", "change_exampaper", "delete_exampaper"],
    "sender": ["view_exampaper", "add_exampaper", "change_exampaper", "delete_exampaper"],
    "auditor": ["view_exampaper"],
}


def grant(apps, schema_editor):
    alias = schema_editor.connection.alias
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, using=alias)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.using(alias).filter(name__in=GRANTS):
        group.permissions.add(
            *Permission.objects.using(alias).filter(
                content_type__app_label="exams", codename__in=GRANTS[group.name]
            )
        )


def revoke(apps, schema_editor):
    alias = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    papers = Permission.objects.using(alias).filter(
        content_type__app_label="exams", codename__endswith="_exampaper"
    )
    for group in Group.objects.using(alias).filter(name__in=GRANTS):
        group.permissions.remove(*papers)


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0020_papers_from_results"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
