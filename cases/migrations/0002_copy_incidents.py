"""Every incident becomes a case with the same pk, so its number (SR + pk) stays the one the
partner was given. The sequence then starts after the highest copied pk (PostgreSQL; SQLite's
AUTOINCREMENT follows the table's highest id by itself)."""

import datetime

from django.core.management.color import no_style
from django.db import migrations

FIRST_RESPONSE_HOURS = {"A": 2, "B": 4, "C": 8}  # cases.rules, as of this migration


def copy_incidents(apps, schema_editor):
    Incident = apps.get_model("support", "Incident")
    Case = apps.get_model("cases", "Case")
    incidents = Incident.objects.select_related(
        "contract", "opened_by", "product_version"
    ).order_by("pk")
    batch = []
    for incident in incidents.iterator(chunk_size=1000):
        partner_id = (
            incident.contract.partner_id if incident.contract_id else incident.opened_by.partner_id
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
                first_response_due=incident.opened_at
                + datetime.timedelta(hours=FIRST_RESPONSE_HOURS[incident.severity]),
            )
        )
        if len(batch) == 1000:
            _save(Case, batch)
            batch = []
    _save(Case, batch)
    # auto_now_add stamped the copies now: give them back when they were opened.
    for pk, opened_at in Incident.objects.values_list("pk", "opened_at").iterator():
        Case.objects.filter(pk=pk).update(opened_at=opened_at)
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
    ]

    operations = [migrations.RunPython(copy_incidents, copy_cases_back)]
