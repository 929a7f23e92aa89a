"""Activation notices not sent yet when the outbox arrived: one Notice each, as the outbox
would have written them, for the people the old machinery had not emailed yet."""

from django.db import migrations
from django.db.models import Q
from django.utils import timezone

# Who was told that IDs are ready (permissions.RECEIVE_ACTIVATION_NOTICES; VIEW_BENEFITS for
# the requester), as of this migration.
RECEIVE_ACTIVATION_NOTICES = ["global_admin"]
VIEW_BENEFITS = ["global_admin", "mpn_partner_admin", "admin_agent"]


def move_unsent_notices(apps, schema_editor):
    ActivationRequest = apps.get_model("activation", "ActivationRequest")
    User = apps.get_model("accounts", "User")
    Notice = apps.get_model("notices", "Notice")
    now = timezone.now()
    held = Q(role_assignments__expires_at__isnull=True) | Q(role_assignments__expires_at__gt=now)
    waiting = ActivationRequest.objects.filter(state="active", notified_at__isnull=True)
    for request in waiting.select_related("offer__partner", "offer__competency", "requested_by"):
        contract = request.contract
        offer = request.offer
        people = set(
            User.objects.filter(
                held,
                partner=offer.partner,
                is_active=True,
                role_assignments__role__in=RECEIVE_ACTIVATION_NOTICES,
            ).values_list("pk", flat=True)
        )
        requester = request.requested_by
        if (
            requester
            and requester.partner_id == offer.partner_id
            and User.objects.filter(
                held, pk=requester.pk, role_assignments__role__in=VIEW_BENEFITS
            ).exists()
        ):
            people.add(requester.pk)
        people -= set(request.notice_sent_to.values_list("pk", flat=True))
        context = {
            "benefit": request.benefit,
            "offer": {
                "kind": offer.kind,
                "level": offer.level,
                "competency": offer.competency.name if offer.competency else "",
            },
            "partner": offer.partner.name,
            "requested_by": (
                f"{requester.first_name} {requester.last_name}".strip() or requester.email
                if requester
                else ""
            ),
            "requested_on": timezone.localdate(request.requested_at).isoformat(),
            "access_id": contract.access_id,
            "contract_id": contract.contract_id,
            "incidents": contract.incidents_total,
            "starts_on": contract.starts_on.isoformat(),
            "ends_on": contract.ends_on.isoformat(),
        }
        url = (
            f"/dashboard/mpn/membership/benefits/technical/{request.offer_id}/{request.benefit}"
        )
        Notice.objects.bulk_create(
            [
                Notice(
                    recipient_id=pk,
                    partner_id=offer.partner_id,
                    kind="ids_ready",
                    about=f"activation:{request.pk}",
                    context=context,
                    url=url,
                    created_at=request.completed_at or now,
                    email_due_at=now,
                )
                for pk in sorted(people)
            ],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("notices", "0001_outbox"),
        ("activation", "0008_who_was_told_ids_are_ready"),
        ("support", "0005_incident_support_type_and_phone"),
        ("entitlements", "0006_time_boxed_roles"),
        ("accounts", "0006_access_request_days"),
    ]

    operations = [migrations.RunPython(move_unsent_notices, migrations.RunPython.noop)]
