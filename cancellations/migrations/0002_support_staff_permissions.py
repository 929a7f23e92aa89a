from django.db import migrations

from entitlements.migrations._permissions import grant

# Support staff read and decide cancellation requests.
GRANTS = {("cancellations", "cancellationrequest"): ("view", "change")}


class Migration(migrations.Migration):
    dependencies = [
        ("cancellations", "0001_initial"),
        ("entitlements", "0003_support_staff_group"),
    ]

    operations = [migrations.RunPython(grant(GRANTS), migrations.RunPython.noop)]
