from django.db import migrations

from entitlements.migrations._permissions import GROUP, grant

# Support staff look after partners in Django admin: they see and change everything, create
# accounts and offers, and delete nothing (an account is deactivated, an offer ends). Roles
# are changed on the account's page, as a change of the account.
GRANTS = {
    ("accounts", "user"): ("view", "change", "add"),
    ("entitlements", "partner"): ("view", "change", "add"),
    ("entitlements", "roleassignment"): ("view",),
    ("entitlements", "membershipoffer"): ("view", "change", "add"),
    ("entitlements", "competency"): ("view", "change"),
}


def remove_support_staff_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("entitlements", "0002_competencies"),
        ("accounts", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant(GRANTS), remove_support_staff_group)]
