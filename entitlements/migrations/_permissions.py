"""Granting model permissions to the Support staff group from a data migration."""

from django.contrib.auth.management import create_permissions

GROUP = "Support staff"


def grant(grants):
    """A RunPython function giving the group {(app_label, model): (action, ...)}."""

    def forwards(apps, schema_editor):
        # Permissions are normally made after all migrations; these ones need them now.
        for app_config in apps.get_app_configs():
            app_config.models_module = True
            create_permissions(app_config, apps=apps, verbosity=0)
            app_config.models_module = None

        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
        group, _ = Group.objects.get_or_create(name=GROUP)
        for (app_label, model), actions in grants.items():
            for action in actions:
                group.permissions.add(
                    Permission.objects.get(
                        content_type__app_label=app_label, codename=f"{action}_{model}"
                    )
                )

    return forwards
