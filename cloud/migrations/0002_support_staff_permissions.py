from django.db import migrations

from entitlements.migrations._permissions import grant

# Support staff see who holds each Azure credit and the subscriptions activations made.
GRANTS = {("cloud", "creditassignment"): ("view",), ("cloud", "cloudsubscription"): ("view",)}


class Migration(migrations.Migration):
    dependencies = [
        ("cloud", "0001_initial"),
        ("entitlements", "0003_support_staff_group"),
    ]

    operations = [migrations.RunPython(grant(GRANTS), migrations.RunPython.noop)]
