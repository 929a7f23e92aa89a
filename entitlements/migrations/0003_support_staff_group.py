from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Support staff"

# Support staff look after partners in Django admin: they see and change everything, create
# accounts and offers, and delete nothing (an account is deactivated, an offer ends).
GRANTS = {
    ("accounts", "user"): ("view", "change", "add"),
    ("entitlements", "partner"): ("view", "change", "add"),
    ("entitlements", "roleassignment"): ("view",),
    ("entitlements", "membershipoffer"): ("view", "change", "add"),
    ("entitlements", "competency"): ("view", "change"),
}


def add_support_staff_group(apps, schema_editor):
    # Permissions are normally made after all migrations; this one needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for (app_label, model), actions in GRANTS.items():
        for action in actions:
            group.permissions.add(
                Permission.objects.get(
                    content_type__app_label=app_label, codename=f"{action}_{model}"
                )
            )


def remove_support_staff_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("entitlements", "0002_competencies"),
        ("accounts", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(add_support_staff_group, remove_support_staff_group)]
