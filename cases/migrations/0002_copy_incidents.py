"""Every incident becomes a case with the same pk, so its number (SR + pk) stays the one the
partner was given. The sequence then starts after the highest copied pk (PostgreSQL; SQLite's
AUTOINCREMENT follows the table's highest id by itself)."""

import datetime

from django.core.management.color import no_style
from django.db import migrations
from django.db.models import Q

FIRST_RESPONSE_HOURS = {"A": 2, "B": 4, "C": 8}  # cases.rules, as of this migration


def copy_incidents(apps, schema_editor):
    Incident = apps.get_model("support", "Incident")
    Case = apps.get_model("cases", "Case")
    incidents = Incident.objects.select_related(
        "contract", "opened_by", "product_version"
    ).order_by("pk")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    batch = []
    for incident in incidents.iterator(chunk_size=1000):
        partner_id = (
            incident.contract.partner_id if incident.contract_id else incident.opened_by.partner_id
        )
        if partner_id is None:
            # A Cloud Solution Provider incident whose opener has since left their company:
            # the company's log names the company they were removed from, or acted for.
            opener = incident.opened_by
            trace = AuditEntry.objects.filter(
                Q(action="account_removed", facts__email=opener.email) | Q(actor=opener)
            ).order_by("-at")
            partner_id = trace.values_list("partner_id", flat=True).first()
        if partner_id is None:
            raise RuntimeError(
                f"Incident {incident.pk} (opened by {incident.opened_by.email}, on no contract) "
                "belongs to no company this migration can find: set the opener's company in "
                "admin, then migrate again."
            )
        finished = incident.state in ("resolved", "closed")
        batch.append(
            Case(
                pk=incident.pk,
                kind="incident",
                partner_id=partner_id,
                opened_by_id=incident.opened_by_id,
                contract_id=incident.contract_id,
                product_id=incident.product_version.product_id,
                product_version_id=incident.product_version_id,
                title=incident.title,
                description=incident.description,
                severity=incident.severity,
                support_type=incident.support_type,
                contact_name=incident.contact_name,
                contact_email=incident.contact_email,
                contact_phone=incident.contact_phone,
                state=incident.state,
                # Nobody recorded why an incident was closed before cases had a resolution.
                resolution="solved" if finished else "",
                opened_at=incident.opened_at,
                first_response_due=incident.opened_at
                + datetime.timedelta(hours=FIRST_RESPONSE_HOURS[incident.severity]),
            )
        )
        if len(batch) == 1000:
            _save(Case, batch)
            batch = []
    _save(Case, batch)
    _reset_sequence(schema_editor, Case)


def _save(Case, batch):
    if batch:
        Case.objects.bulk_create(batch)


def _reset_sequence(schema_editor, model):
    connection = schema_editor.connection
    statements = connection.ops.sequence_reset_sql(no_style(), [model])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def copy_cases_back(apps, schema_editor):
    Incident = apps.get_model("support", "Incident")
    Case = apps.get_model("cases", "Case")
    CaseEntry = apps.get_model("cases", "CaseEntry")
    if Case.objects.exclude(kind="incident").exists() or CaseEntry.objects.exists():
        # Incidents had no conversation, and advisory requests were no incidents.
        raise RuntimeError(
            "Going back would lose advisory requests or case conversations: not done."
        )
    for case in Case.objects.filter(kind="incident").order_by("pk").iterator():
        Incident.objects.create(
            pk=case.pk,
            opened_by_id=case.opened_by_id,
            contract_id=case.contract_id,
            product_version_id=case.product_version_id,
            title=case.title,
            description=case.description,
            severity=case.severity,
            support_type=case.support_type or "technical",
            contact_name=case.contact_name,
            contact_email=case.contact_email,
            contact_phone=case.contact_phone,
            state="in_progress" if case.state == "waiting_on_you" else case.state,
        )
        Incident.objects.filter(pk=case.pk).update(opened_at=case.opened_at)
    _reset_sequence(schema_editor, Incident)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_cases"),
        ("support", "0005_incident_support_type_and_phone"),
        ("audit", "0006_people_and_access_actions"),
    ]

    operations = [migrations.RunPython(copy_incidents, copy_cases_back)]
