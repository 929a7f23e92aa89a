"""A failed request keeps the facts its reason states (the offer's end date, the company's
name, the attempts) as they were when it failed.

Requests that failed before read them back from the reason written then, in English: the
date in English's DATE_FORMAT ("Nov. 28, 2027"). What the reason doesn't state is taken as it
is now.
"""

import datetime
import re

from django.db import migrations, models

# Failure's English messages as they were written, each fact a named group.
STATED = {
    "offer_ended": r"^.* ended on (?P<ended>.+), before the activation completed\.$",
    "left_mpn": r"^(?P<partner>.+) is no longer associated with the Microsoft Partner Network\.$",
    "too_many_attempts": r"^Processing stopped after (?P<attempts>\d+) attempts\.",
}
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("Jan.", "January"),
            ("Feb.", "February"),
            ("March",),
            ("April",),
            ("May",),
            ("June",),
            ("July",),
            ("Aug.", "August"),
            ("Sept.", "September"),
            ("Oct.", "October"),
            ("Nov.", "November"),
            ("Dec.", "December"),
        ],
        start=1,
    )
    for name in names
}


def english_date(text):
    """A date written in English's DATE_FORMAT ("N j, Y"), or None."""
    match = re.fullmatch(r"(\S+) (\d{1,2}), (\d{4})", text.strip())
    if not match or match.group(1) not in MONTHS:
        return None
    return datetime.date(int(match.group(3)), MONTHS[match.group(1)], int(match.group(2)))


def keep_facts(apps, schema_editor):
    ActivationRequest = apps.get_model("activation", "ActivationRequest")
    failed = ActivationRequest.objects.filter(state="failed").exclude(failure_code="")
    for request in failed.select_related("offer__partner").iterator():
        facts = {
            "ended": request.offer.ends_on.isoformat(),
            "partner": request.offer.partner.name,
            "attempts": request.attempts,
        }
        pattern = STATED.get(request.failure_code)
        match = re.match(pattern, request.failure_reason) if pattern else None
        if match:
            stated = match.groupdict()
            if "ended" in stated and english_date(stated["ended"]):
                facts["ended"] = english_date(stated["ended"]).isoformat()
            if "partner" in stated:
                facts["partner"] = stated["partner"]
            if "attempts" in stated:
                facts["attempts"] = int(stated["attempts"])
        request.failure_facts = facts
        request.save(update_fields=["failure_facts"])


class Migration(migrations.Migration):
    dependencies = [
        ("activation", "0006_sweeper_run"),
    ]

    operations = [
        migrations.AddField(
            model_name="activationrequest",
            name="failure_facts",
            field=models.JSONField(
                blank=True,
                default=dict,
                editable=False,
                help_text="What the reason says, as it was when the request failed.",
            ),
        ),
        migrations.RunPython(keep_facts, migrations.RunPython.noop),
    ]
