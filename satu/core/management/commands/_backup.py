"""Backup and restore of the whole database (used by `satu backup/restore`).

SQLite: the online backup API copies a consistent snapshot while the server
writes; the file is a plain SQLite database. PostgreSQL: `pg_dump -Fc` (one
repeatable-read snapshot) and `pg_restore --no-owner`. The first bytes tell
the two formats apart: "SQLite format 3\\0" or "PGDMP".
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import CommandError
from django.db import connections

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
SQLITE = "sqlite"
POSTGRESQL = "postgresql"

# Tables that `migrate` itself fills; rows there do not make a database "used".
MIGRATE_TABLES = {
    "django_migrations",
    "django_content_type",
    "auth_permission",
    "auth_group",
    "auth_group_permissions",
    "satu_cache",
    "core_workerheartbeat",
}


def detect_format(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise CommandError(f"There is no file {path}.") from None
    if head.startswith(SQLITE_MAGIC):
        return SQLITE
    if head.startswith(PGDUMP_MAGIC):
        return POSTGRESQL
    raise CommandError(
        f"{path} is not a Satu backup (neither an SQLite database nor a pg_dump "
        "custom-format archive)."
    )


def vendor(alias: str = "default") -> str:
    engine = connections[alias].vendor
    if engine not in {SQLITE, POSTGRESQL}:
        raise CommandError(f"Backups are not supported on {engine}.")
    return engine


def tables_with_rows(alias: str = "default") -> list[str]:
    """The tables that hold data beyond what `migrate` writes."""
    connection = connections[alias]
    found = []
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
        for name in sorted(set(names) - MIGRATE_TABLES):
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(name)} LIMIT 1")
            if cursor.fetchone():
                found.append(name)
    return found


# ---------------------------------------------------------------- SQLite


def backup_sqlite(path: Path, alias: str = "default") -> None:
    connection = connections[alias]
    if connection.in_atomic_block:
        # Our own open write transaction would make the backup wait forever.
        raise CommandError("A backup cannot run inside a transaction.")
    connection.ensure_connection()
    part = path.with_name(path.name + ".part")
    part.unlink(missing_ok=True)
    target = sqlite3.connect(part)
    try:
        # One step (pages=-1) holds a read snapshot: consistent while others write.
        connection.connection.backup(target)
        # A self-contained file: no -wal/-shm companions needed to read it.
        target.execute("PRAGMA journal_mode=DELETE")
        (result,) = target.execute("PRAGMA quick_check").fetchone()
        if result != "ok":
            raise CommandError(f"The backup failed its integrity check: {result}")
    finally:
        target.close()
    os.replace(part, path)


def restore_sqlite(path: Path, alias: str = "default") -> None:
    connection = connections[alias]
    connection.ensure_connection()
    source = sqlite3.connect(path)
    try:
        (result,) = source.execute("PRAGMA quick_check").fetchone()
        if result != "ok":
            raise CommandError(f"{path} is damaged: {result}")
        source.backup(connection.connection)
    finally:
        source.close()
    connection.close()


# ---------------------------------------------------------------- PostgreSQL


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise CommandError(
            f"{name} is not installed (Debian: apt-get install postgresql-client)."
        )
    return found


def _pg_connection(alias: str) -> tuple[list[str], dict]:
    settings = connections[alias].settings_dict
    args = []
    if settings.get("HOST"):
        args += ["--host", str(settings["HOST"])]
    if settings.get("PORT"):
        args += ["--port", str(settings["PORT"])]
    if settings.get("USER"):
        args += ["--username", str(settings["USER"])]
    env = {**os.environ, "PGDATABASE": str(settings["NAME"])}
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings["PASSWORD"])
    options = settings.get("OPTIONS") or {}
    for key, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
    ):
        if options.get(key):
            env[variable] = str(options[key])
    return args, env


def _run(command: list[str], env: dict) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise CommandError(
            f"{Path(command[0]).name} failed (exit {done.returncode}):\n"
            f"{done.stderr.strip()}"
        )


def backup_postgresql(path: Path, alias: str = "default") -> None:
    args, env = _pg_connection(alias)
    part = path.with_name(path.name + ".part")
    part.unlink(missing_ok=True)
    _run(
        [
            _pg_tool("pg_dump"),
            "--format=custom",
            "--no-password",
            *args,
            "--file",
            str(part),
            "--dbname",
            env["PGDATABASE"],
        ],
        env,
    )
    os.replace(part, path)


def restore_postgresql(path: Path, alias: str = "default") -> None:
    connection = connections[alias]
    # An empty but migrated database: its tables would clash with the dump's.
    with connection.cursor() as cursor:
        for name in connection.introspection.table_names(cursor):
            quoted = connection.ops.quote_name(name)
            cursor.execute(f"DROP TABLE IF EXISTS {quoted} CASCADE")
    connection.close()
    args, env = _pg_connection(alias)
    _run(
        [
            _pg_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--no-password",
            *args,
            "--dbname",
            env["PGDATABASE"],
            str(path),
        ],
        env,
    )
