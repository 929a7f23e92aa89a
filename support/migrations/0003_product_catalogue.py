import datetime

from django.db import migrations

from entitlements.migrations._permissions import grant

# The starting catalogue; support staff keep it up to date in admin. On-premises support
# covers the two newest versions of each product.
ON_PREMISES = {
    "Windows Server": [("2025", "2024-11-01"), ("2022", "2021-08-18"), ("2019", "2018-10-02")],
    "SQL Server": [("2022", "2022-11-16"), ("2019", "2019-11-04"), ("2017", "2017-10-02")],
    "SharePoint Server": [
        ("Subscription Edition", "2021-11-02"),
        ("2019", "2018-10-22"),
        ("2016", "2016-05-01"),
    ],
    "Exchange Server": [
        ("Subscription Edition", "2025-07-01"),
        ("2019", "2018-10-22"),
        ("2016", "2015-10-01"),
    ],
}
CLOUD = {"Azure": True, "Microsoft 365": False, "Dynamics 365": False}  # name: CSP plan

# Support staff keep the catalogue, give incidents back (a change of the contract) and follow
# incidents; links and the record of given-back incidents are read-only to them.
GRANTS = {
    ("support", "product"): ("view", "change", "add"),
    ("support", "productversion"): ("view", "change", "add"),
    ("support", "supportcontract"): ("view", "change"),
    ("support", "contractlink"): ("view",),
    ("support", "incident"): ("view", "change"),
    ("support", "incidentcredit"): ("view",),
}


def add_catalogue(apps, schema_editor):
    Product = apps.get_model("support", "Product")
    ProductVersion = apps.get_model("support", "ProductVersion")
    for name, versions in ON_PREMISES.items():
        product, _ = Product.objects.get_or_create(name=name, defaults={"kind": "on_premises"})
        for version, released in versions:
            ProductVersion.objects.get_or_create(
                product=product,
                name=version,
                defaults={"released_on": datetime.date.fromisoformat(released)},
            )
    for name, csp_plan in CLOUD.items():
        product, _ = Product.objects.get_or_create(
            name=name, defaults={"kind": "cloud", "csp_plan": csp_plan}
        )
        ProductVersion.objects.get_or_create(
            product=product, name="", defaults={"released_on": datetime.date(2010, 1, 1)}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0002_catalogue_links_incidents"),
        ("activation", "0002_support_staff_permissions"),
    ]

    operations = [
        migrations.RunPython(add_catalogue, migrations.RunPython.noop),
        migrations.RunPython(grant(GRANTS), migrations.RunPython.noop),
    ]
