from django.db import migrations

from entitlements.migrations._permissions import grant

# Support staff read the outbox: who was told what, and whether the email went.
GRANTS = {("notices", "notice"): ("view",)}


class Migration(migrations.Migration):
    dependencies = [
        ("notices", "0002_activation_notices_not_sent_yet"),
        ("entitlements", "0003_support_staff_group"),
    ]

    operations = [migrations.RunPython(grant(GRANTS), migrations.RunPython.noop)]
