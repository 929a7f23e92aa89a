from django.db import migrations

# Partner Center's competencies; the cloud ones get unlimited Signature Cloud Support.
CLOUD = [
    "Security",
    "Cloud Business Applications",
    "Cloud Platform",
    "Cloud Productivity",
    "Enterprise Mobility Management",
    "Small and Midmarket Cloud Solutions",
]
OTHER = [
    "Application Development",
    "Application Integration",
    "Collaboration and Content",
    "Communications",
    "Data Analytics",
    "Data Platform",
    "Datacenter",
    "DevOps",
    "Enterprise Resource Planning",
    "Messaging",
    "Project and Portfolio Management",
    "Windows and Devices",
]


def add_competencies(apps, schema_editor):
    Competency = apps.get_model("entitlements", "Competency")
    for name in CLOUD + OTHER:
        Competency.objects.update_or_create(name=name, defaults={"is_cloud": name in CLOUD})


class Migration(migrations.Migration):
    dependencies = [("entitlements", "0001_initial")]

    operations = [migrations.RunPython(add_competencies, migrations.RunPython.noop)]
