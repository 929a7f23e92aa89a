"""Writing many rows in one statement, for the work that moves thousands of rows a second
(the activation drain, issue 20).

Django's `bulk_create` spends about 30 µs a row in Python (model instances, each value
prepared through the SQL compiler); COPY spends about 4 (measured on 5,000 activation events
on the benchmark machine: 0.15-0.20 s against 0.02 s).
"""

import functools

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

# Fields whose values go to COPY as the model holds them (psycopg adapts them); any other
# field's value is prepared by the field, as Django would (JSON, decimals, UUIDs...).
AS_THEY_ARE = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "DateField",
    "DateTimeField",
    "EmailField",
    "ForeignKey",
    "IntegerField",
    "OneToOneField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
}


def insert(model, rows):
    """Insert `rows` into `model`'s table and return their primary keys, in the rows' order.

    Takes a model whose key is an auto field, and a list of dicts of the same keys, the
    fields' attnames ("request_id" for a foreign key) with plain values as the model takes them
    (JSON fields as Python values; not lazy translations). A field left out takes its default,
    the same for every row: it must not be one to draw anew per row. An auto_now or
    auto_now_add field left out takes the time now. Raises IntegrityError, as an INSERT would,
    when a row breaks a constraint: nothing is written then. Raises ValueError for a key that
    is not an auto field, or a left-out field whose default is a callable.

    On PostgreSQL the keys are drawn from the table's sequence in one query, then the rows go
    in one COPY, which Django's query log and execute wrappers don't see; elsewhere (SQLite,
    for `make run`) through `bulk_create`, one row at a time where the database can't return
    the keys of a bulk insert.
    """
    if not rows:
        return []
    connection = connections[DEFAULT_DB_ALIAS]  # the connection itself, not its proxy
    meta = model._meta
    if not isinstance(meta.pk, AutoFieldMixin):
        raise ValueError(f"{meta.label}'s key is not drawn from a sequence.")
    given = list(rows[0])
    now = timezone.now()
    left_out = [
        field
        for field in meta.concrete_fields
        if not field.primary_key and field.attname not in given
    ]
    drawn_anew = [
        field
        for field in left_out
        if field.has_default() and callable(field.default) and field.default not in (dict, list)
    ]
    if drawn_anew:
        raise ValueError(f"A field of {meta.label} left out is drawn anew for each row.")
    defaults = {
        field.attname: (
            now
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            else field.get_default()
        )
        for field in left_out
    }
    if connection.vendor != "postgresql":
        made = [model(**row, **defaults) for row in rows]
        if connection.features.can_return_rows_from_bulk_insert:
            model._default_manager.bulk_create(made)
        else:
            for each in made:
                each.save(force_insert=True)
        return [each.pk for each in made]
    fields = [meta.get_field(name) for name in given]
    prepare = [
        None
        if field.get_internal_type() in AS_THEY_ARE
        else functools.partial(field.get_db_prep_save, connection=connection)
        for field in fields
    ]
    defaulted = [meta.get_field(name) for name in defaults]
    constant = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(defaulted, defaults.values(), strict=True)
    ]
    columns = ", ".join(
        connection.ops.quote_name(field.column) for field in [meta.pk, *fields, *defaulted]
    )
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        keys = [key for (key,) in cursor.fetchall()]
        table = connection.ops.quote_name(meta.db_table)
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for key, row in zip(keys, rows, strict=True):
                values = [
                    row[name] if prep is None else prep(row[name])
                    for name, prep in zip(given, prepare, strict=True)
                ]
                copy.write_row([key, *values, *constant])
    return keys
