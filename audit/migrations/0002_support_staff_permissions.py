from django.db import migrations

from entitlements.migrations._permissions import grant

# Support staff read every company's audit log; nobody changes it.
GRANTS = {("audit", "auditentry"): ("view",)}


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("entitlements", "0003_support_staff_group"),
    ]

    operations = [migrations.RunPython(grant(GRANTS), migrations.RunPython.noop)]
