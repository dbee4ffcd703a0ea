"""`satu backup FILE`: a consistent snapshot of the database, server running."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from satu.core.management.commands import _backup


class Command(BaseCommand):
    help = (
        "Write a consistent snapshot of the database to FILE while Satu runs "
        "(SQLite: online backup API; PostgreSQL: pg_dump -Fc)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--force", action="store_true", help="Overwrite FILE if it exists."
        )
        parser.add_argument("--database", default="default")

    def handle(self, *, file, force, database, **_options):
        path = Path(file).expanduser().resolve()
        if path.exists() and not force:
            raise CommandError(f"{path} exists; choose another name or pass --force.")
        if not path.parent.is_dir():
            raise CommandError(f"There is no directory {path.parent}.")
        kind = _backup.vendor(database)
        if kind == _backup.SQLITE:
            _backup.backup_sqlite(path, database)
        else:
            _backup.backup_postgresql(path, database)
        size = path.stat().st_size
        self.stdout.write(f"Backup written to {path} ({kind}, {size:,} bytes).")
