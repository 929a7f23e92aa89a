from django.db import migrations

from entitlements.migrations._permissions import grant

# Support staff keep CSP partners' customers and the service health feed.
GRANTS = {
    ("customers", "customer"): ("view", "add", "change"),
    ("customers", "subscription"): ("view", "add", "change"),
    ("customers", "service"): ("view", "add", "change"),
    ("customers", "serviceincident"): ("view", "add", "change"),
}


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("entitlements", "0003_support_staff_group"),
    ]

    operations = [migrations.RunPython(grant(GRANTS), migrations.RunPython.noop)]
