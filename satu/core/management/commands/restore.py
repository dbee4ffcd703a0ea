"""`satu restore FILE`: load a backup into an empty database."""

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from satu.core.management.commands import _backup


class Command(BaseCommand):
    help = (
        "Load a backup made by `satu backup` into an EMPTY database (new, or "
        "only migrated), then apply any newer migrations."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--database", default="default")

    def handle(self, *, file, database, verbosity, **_options):
        path = Path(file).expanduser().resolve()
        kind = _backup.detect_format(path)
        target = _backup.vendor(database)
        if kind != target:
            raise CommandError(
                f"{path} is a {kind} backup but DATABASE_URL points to {target}; "
                f"restore it into a {kind} database."
            )
        used = _backup.tables_with_rows(database)
        if used:
            shown = ", ".join(used[:5]) + (" ..." if len(used) > 5 else "")
            raise CommandError(
                "The target database already holds data (tables: "
                f"{shown}); restore only into an empty database. Nothing was changed."
            )
        if kind == _backup.SQLITE:
            _backup.restore_sqlite(path, database)
        else:
            _backup.restore_postgresql(path, database)
        call_command("migrate", database=database, verbosity=0, interactive=False)
        call_command("createcachetable", database=database, verbosity=0)
        self.stdout.write(f"Restored {path} into the {target} database.")
