"""Length limits on text people type, held by the database as well as the forms.

PostgreSQL holds a CharField to its max_length (varchar), SQLite does not, and a TextField has
no limit anywhere: a check constraint on the length holds every one of them, everywhere.
"""

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual


def at_most(field, limit, name, message):
    """A CheckConstraint: `field` holds at most `limit` characters.

    Takes the field's name, the limit (the field's max_length), the constraint's name and the
    message model validation shows; returns the constraint for a model's Meta.constraints.
    """
    return models.CheckConstraint(
        condition=LessThanOrEqual(Length(field), limit),
        name=name,
        violation_error_message=message,
    )
