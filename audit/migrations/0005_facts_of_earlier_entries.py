"""Facts for the entries written before entries kept them, read back from their English
subjects where those follow the patterns the services wrote: role changes, activations
requested, retried, rejected or completed, and contracts added to or removed from accounts.
Others keep only their subject, shown as written."""

import re

from django.db import migrations

ROLES = {
    "Global admin": "global_admin",
    "User admin": "user_admin",
    "MPN partner admin": "mpn_partner_admin",
    "Admin agent": "admin_agent",
}
BENEFITS = {
    "Microsoft Product Support": "product_support",
    "Signature Cloud Support": "signature_cloud_support",
}
LEVELS = {"Gold": "gold", "Silver": "silver"}
BENEFIT = "(" + "|".join(map(re.escape, BENEFITS)) + ")"
ROLE_SUBJECT = re.compile("^(" + "|".join(map(re.escape, ROLES)) + r"): (\S+@\S+)$")
ACTIVATION_SUBJECT = re.compile(
    "^" + BENEFIT + r", (Microsoft Action Pack|(Gold|Silver) (.+?))(: (.*))?$", re.S
)
CONTRACT_SUBJECT = re.compile("^" + BENEFIT + r" (\d{9}): (\S+@\S+?)( \(.*\))?$")


def offer(title, level, competency):
    if title == "Microsoft Action Pack":
        return {"kind": "action_pack", "level": "", "competency": ""}
    return {"kind": "competency", "level": LEVELS[level], "competency": competency}


def facts_of(action, subject):
    if action in ("role_granted", "role_removed"):
        if match := ROLE_SUBJECT.match(subject):
            return {"role": ROLES[match[1]], "email": match[2]}
    elif action in ("activation_requested", "activation_retried", "ids_revealed"):
        if (match := ACTIVATION_SUBJECT.match(subject)) and not match[5]:
            return {"benefit": BENEFITS[match[1]], "offer": offer(match[2], match[3], match[4])}
    elif action == "activation_rejected":
        if (match := ACTIVATION_SUBJECT.match(subject)) and match[5]:
            facts = {"benefit": BENEFITS[match[1]], "offer": offer(match[2], match[3], match[4])}
            return {**facts, "reason": match[6]}
    elif action in ("contract_linked", "contract_unlinked"):
        if match := CONTRACT_SUBJECT.match(subject):
            return {"benefit": BENEFITS[match[1]], "contract_id": match[2], "email": match[3]}
    return None


def read_facts(apps, schema_editor):
    AuditEntry = apps.get_model("audit", "AuditEntry")
    # The keys first, then the rows in batches: no table is written while a cursor reads it.
    pks = list(AuditEntry.objects.filter(facts={}).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), 2000):
        batch = AuditEntry.objects.filter(pk__in=pks[start : start + 2000]).only(
            "pk", "action", "subject"
        )
        changed = []
        for entry in batch:
            facts = facts_of(entry.action, entry.subject)
            if facts:
                entry.facts = facts
                changed.append(entry)
        AuditEntry.objects.bulk_update(changed, ["facts"])


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_facts_and_more_events")]

    operations = [migrations.RunPython(read_facts, migrations.RunPython.noop)]
