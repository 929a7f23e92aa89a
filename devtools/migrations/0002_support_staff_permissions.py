from django.db import migrations

from entitlements.migrations._permissions import grant

# Support staff see who holds each Visual Studio subscription; the company assigns them.
GRANTS = {("devtools", "subscriptionassignment"): ("view",)}


class Migration(migrations.Migration):
    dependencies = [
        ("devtools", "0001_initial"),
        ("entitlements", "0003_support_staff_group"),
    ]

    operations = [migrations.RunPython(grant(GRANTS), migrations.RunPython.noop)]
