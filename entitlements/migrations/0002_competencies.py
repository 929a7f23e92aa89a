from django.db import migrations

from entitlements.rules import CLOUD_COMPETENCIES, OTHER_COMPETENCIES


def add_competencies(apps, schema_editor):
    Competency = apps.get_model("entitlements", "Competency")
    for name in CLOUD_COMPETENCIES + OTHER_COMPETENCIES:
        Competency.objects.update_or_create(
            name=name, defaults={"is_cloud": name in CLOUD_COMPETENCIES}
        )


class Migration(migrations.Migration):
    dependencies = [("entitlements", "0001_initial")]

    operations = [migrations.RunPython(add_competencies, migrations.RunPython.noop)]
