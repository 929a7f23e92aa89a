from django.db import migrations

from entitlements.migrations._permissions import grant

# Support staff read a company's webhook endpoints and their deliveries, to help with one that
# fails (the secret is not shown in admin).
GRANTS = {
    ("notices", "webhookendpoint"): ("view",),
    ("notices", "webhookdelivery"): ("view",),
    ("notices", "webhookattempt"): ("view",),
}


class Migration(migrations.Migration):
    dependencies = [
        ("notices", "0009_webhooks"),
        ("entitlements", "0003_support_staff_group"),
    ]

    operations = [migrations.RunPython(grant(GRANTS), migrations.RunPython.noop)]
