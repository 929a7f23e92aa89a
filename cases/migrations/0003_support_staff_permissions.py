from django.db import migrations

from entitlements.migrations._permissions import grant

# Support staff answer cases and move them; the conversation is written through the case.
GRANTS = {("cases", "case"): ("view", "change"), ("cases", "caseentry"): ("view",)}


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_copy_incidents"),
        ("entitlements", "0003_support_staff_group"),
    ]

    operations = [migrations.RunPython(grant(GRANTS), migrations.RunPython.noop)]
