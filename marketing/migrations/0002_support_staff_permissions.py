from django.db import migrations

from entitlements.migrations._permissions import grant

# Support staff see each company's marketing contact; the company sets it.
GRANTS = {("marketing", "marketingcontact"): ("view",)}


class Migration(migrations.Migration):
    dependencies = [
        ("marketing", "0001_initial"),
        ("entitlements", "0003_support_staff_group"),
    ]

    operations = [migrations.RunPython(grant(GRANTS), migrations.RunPython.noop)]
