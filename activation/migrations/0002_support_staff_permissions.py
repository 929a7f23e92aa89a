from django.db import migrations

from entitlements.migrations._permissions import grant

# Support staff follow activations and act on them (complete now, retry, reject); the audit
# trail and the contracts are read-only to them.
GRANTS = {
    ("activation", "activationrequest"): ("view", "change"),
    ("activation", "activationevent"): ("view",),
    ("support", "supportcontract"): ("view",),
}


class Migration(migrations.Migration):
    dependencies = [
        ("activation", "0001_initial"),
        ("support", "0001_initial"),
        ("entitlements", "0003_support_staff_group"),
    ]

    operations = [migrations.RunPython(grant(GRANTS), migrations.RunPython.noop)]
