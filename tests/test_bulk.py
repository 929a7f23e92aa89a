"""bulk.insert, the drain's writer: rows as the ORM would write them, all or nothing."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from benefits_portal import bulk
from notices.models import Notice


def row(person, about, **fields):
    now = datetime.datetime(2026, 12, 1, 9, 30, tzinfo=datetime.UTC)
    return {
        "recipient_id": person.pk,
        "partner_id": person.partner_id,
        "kind": Notice.Kind.IDS_READY,
        "about": about,
        "context": {"starts_on": datetime.date(2026, 12, 1), "partner": "Contoso\t\\ 東京"},
        "url": "/dashboard",
        "created_at": now,
        "email_due_at": now,
        **fields,
    }


def test_rows_are_written_as_the_orm_writes_them_and_their_keys_returned(alice, mona):
    keys = bulk.insert(Notice, [row(alice, "a:1"), row(mona, "a:1")])
    written = Notice.objects.in_bulk(keys)
    assert [written[key].recipient for key in keys] == [alice, mona]
    notice = written[keys[0]]
    assert notice.kind == "ids_ready"  # the choice's value, not its name
    assert notice.context == {"starts_on": "2026-12-01", "partner": "Contoso\t\\ 東京"}
    assert notice.created_at == datetime.datetime(2026, 12, 1, 9, 30, tzinfo=datetime.UTC)
    assert (notice.attempts, notice.read_at, notice.last_error) == (0, None, "")  # defaults


def test_a_row_that_breaks_a_constraint_writes_nothing(alice, mona):
    bulk.insert(Notice, [row(alice, "a:1")])
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert(Notice, [row(mona, "a:2"), row(alice, "a:1")])
    assert Notice.objects.count() == 1
