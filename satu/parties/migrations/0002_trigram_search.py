"""Substring search on PostgreSQL: trigram GIN indexes on the search columns.

SQLite has no trigram index; there the same LIKE query scans, which is fine
for the embedded sizes it serves.
"""

from django.db import migrations

INDEXES = [
    ("parties_client", "search_text", "parties_client_search_trgm"),
    ("parties_contact", "search_text", "parties_contact_search_trgm"),
    ("parties_counterparty", "legal_name", "parties_counterparty_name_trgm"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column, name in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, _column, name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("parties", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
