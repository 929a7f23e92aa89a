from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations, models


def create_cache_table(apps, schema_editor):
    # The shared cache of the embedded default (settings.CACHES without Redis). Made in every
    # database, so any process may fall back to it; createcachetable's own SQL, run once.
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, "portal_cache", dry_run=False)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(
        f"DROP TABLE IF EXISTS {schema_editor.connection.ops.quote_name('portal_cache')}"
    )


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="LimitCounter",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=200)),
                ("window_start", models.DateTimeField()),
                ("hits", models.PositiveIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("key", "window_start"),
                        name="limit_counter_once_per_window",
                        violation_error_message="This key is already counted in that window.",
                    )
                ],
            },
        ),
        migrations.RunPython(create_cache_table, drop_cache_table),
    ]
