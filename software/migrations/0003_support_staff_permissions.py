from django.db import migrations

from entitlements.migrations._permissions import grant

# Support staff keep the catalogue (products, what offers include them, downloads), load keys
# into the pool, and see which companies found it empty; they delete nothing.
GRANTS = {
    ("software", "product"): ("view", "add", "change"),
    ("software", "inclusion"): ("view", "add", "change"),
    ("software", "download"): ("view", "add", "change"),
    ("software", "licensekey"): ("view", "add"),
    ("software", "keyshortage"): ("view",),
}


class Migration(migrations.Migration):
    dependencies = [
        ("software", "0002_downloads_key_grants_and_shortages"),
        ("entitlements", "0003_support_staff_group"),
    ]

    operations = [migrations.RunPython(grant(GRANTS), migrations.RunPython.noop)]
