"""Each offer records the technical support terms it started with.

Existing offers take them from what they have already given out: an activated benefit's
contract holds the incidents the offer granted when it was activated, whatever the catalogue
says now. Without a contract, from the catalogue as it is today. Figures as rules.py has them
on this day (frozen here: a migration must not follow later edits of the rules).
"""

from django.db import migrations, models

PRODUCT_SUPPORT_INCIDENTS = {"": 10, "silver": 15, "gold": 20}
SIGNATURE_PACK_INCIDENTS = {"silver": 5, "gold": 10}


def record_terms(apps, schema_editor):
    MembershipOffer = apps.get_model("entitlements", "MembershipOffer")
    SupportContract = apps.get_model("support", "SupportContract")
    issued = {}  # (offer id, benefit): incidents of the first contract issued
    for offer_id, benefit, incidents in SupportContract.objects.order_by("-pk").values_list(
        "activation__offer_id", "benefit", "incidents_total"
    ):
        issued[offer_id, benefit] = incidents
    for offer in MembershipOffer.objects.select_related("competency").iterator():
        level = offer.level if offer.kind == "competency" else ""
        product = issued.get((offer.pk, "product_support"), PRODUCT_SUPPORT_INCIDENTS[level])
        if level == "":
            includes_cloud, cloud = False, None
        elif (offer.pk, "signature_cloud_support") in issued:
            includes_cloud, cloud = True, issued[offer.pk, "signature_cloud_support"]
        else:
            includes_cloud = True
            cloud = None if offer.competency.is_cloud else SIGNATURE_PACK_INCIDENTS[level]
        offer.product_support_incidents = product
        offer.includes_cloud_support = includes_cloud
        offer.cloud_support_incidents = cloud
        offer.save(
            update_fields=[
                "product_support_incidents",
                "includes_cloud_support",
                "cloud_support_incidents",
            ]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("entitlements", "0004_offer_periods_and_constraint_messages"),
        ("support", "0004_text_limits_and_constraint_messages"),
        ("activation", "0006_sweeper_run"),
    ]

    operations = [
        migrations.AlterField(
            model_name="competency",
            name="is_cloud",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "Cloud competencies get unlimited Signature Cloud Support. A change applies "
                    "to offers that start afterwards; offers already started keep their terms."
                ),
                verbose_name="cloud competency",
            ),
        ),
        migrations.AddField(
            model_name="membershipoffer",
            name="product_support_incidents",
            field=models.PositiveSmallIntegerField(
                editable=False, null=True, verbose_name="Microsoft Product Support incidents"
            ),
        ),
        migrations.AddField(
            model_name="membershipoffer",
            name="includes_cloud_support",
            field=models.BooleanField(
                editable=False, null=True, verbose_name="includes Signature Cloud Support"
            ),
        ),
        migrations.AddField(
            model_name="membershipoffer",
            name="cloud_support_incidents",
            field=models.PositiveSmallIntegerField(
                blank=True,
                editable=False,
                help_text="Empty for unlimited.",
                null=True,
                verbose_name="Signature Cloud Support incidents",
            ),
        ),
        migrations.RunPython(record_terms, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="membershipoffer",
            name="product_support_incidents",
            field=models.PositiveSmallIntegerField(
                editable=False, verbose_name="Microsoft Product Support incidents"
            ),
        ),
        migrations.AlterField(
            model_name="membershipoffer",
            name="includes_cloud_support",
            field=models.BooleanField(
                editable=False, verbose_name="includes Signature Cloud Support"
            ),
        ),
        migrations.AddConstraint(
            model_name="membershipoffer",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("includes_cloud_support", True),
                    ("cloud_support_incidents__isnull", True),
                    _connector="OR",
                ),
                name="offer_cloud_incidents_only_with_cloud_support",
                violation_error_message=(
                    "An offer without Signature Cloud Support has no cloud support incidents."
                ),
            ),
        ),
    ]
