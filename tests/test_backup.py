"""`satu backup FILE` / `satu restore FILE`: round trip on SQLite and PostgreSQL."""

import os
import sqlite3
import subprocess
import sys
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from satu.core.testing.helpers import make_user
from satu.parties import services
from satu.parties.models import Client

ROOT = Path(__file__).resolve().parent.parent
COMPARED = {
    "core_user": "username, email, password",
    "parties_client": "id, name, phone, email, status, search_text",
    "parties_counterparty": "id, legal_name, tax_id",
    "parties_contact": "id, first_name, last_name",
    "parties_timelineentry": "client_id, kind, summary",
    "core_auditentry": "action, object_id, object_repr",
}


def given_some_business_data():
    admin = make_user("boss", superuser=True)
    client = services.client_create(
        actor=admin,
        name="Toko Sumber Makmur",
        phone="+62 21 5550 1234",
        email="info@sumbermakmur.co.id",
        status="client",
        allow_duplicate=True,
    )
    services.counterparty_create(
        actor=admin,
        legal_name="PT Sumber Makmur Jaya",
        tax_id="01.312.166.0-091.000",
        client_id=client.pk,
    )
    services.contact_create(
        actor=admin,
        first_name="Dewi",
        last_name="Lestari",
        phones=["+62 812 1234 5678"],
        client_roles=[{"client_id": client.pk, "role": "Purchasing"}],
    )
    return client


def rows(cursor, table: str) -> list[tuple]:
    cursor.execute(f"SELECT {COMPARED[table]} FROM {table} ORDER BY {COMPARED[table]}")
    return [tuple(row) for row in cursor.fetchall()]


def satu(*args, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real `satu` command in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "satu.cli", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=240,
        check=check,
    )


def child_env(tmp_path, database_url: str) -> dict:
    return {
        "DATABASE_URL": database_url,
        "SATU_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


@pytest.mark.django_db(transaction=True)
def test_sqlite_round_trip_restores_every_row(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite round trip")
    # given a database with clients, counterparties, contacts and their history
    given_some_business_data()
    backup = tmp_path / "satu.backup"

    # when it is backed up and restored into a new database
    out = StringIO()
    call_command("backup", str(backup), stdout=out)
    target = tmp_path / "restored.sqlite3"
    done = satu("restore", str(backup), env=child_env(tmp_path, f"sqlite:///{target}"))

    # then the backup is an SQLite file and the new database holds the same rows
    assert backup.read_bytes()[:16] == b"SQLite format 3\x00"
    assert out.getvalue().startswith(f"Backup written to {backup} (sqlite, ")
    assert f"Restored {backup} into the sqlite database." in done.stdout
    restored = sqlite3.connect(target)
    with connection.cursor() as source:
        for table in COMPARED:
            assert rows(restored.cursor(), table) == rows(source, table), table
    assert rows(restored.cursor(), "parties_client")[0][1] == "Toko Sumber Makmur"
    restored.close()


@pytest.mark.django_db(transaction=True)
def test_postgresql_round_trip_restores_every_row(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL round trip")
    import psycopg

    given_some_business_data()
    backup = tmp_path / "satu.backup"
    call_command("backup", str(backup), stdout=StringIO())
    assert backup.read_bytes()[:5] == b"PGDMP"

    params = connection.settings_dict
    server = {
        "host": params["HOST"] or None,
        "port": params["PORT"] or None,
        "user": params["USER"] or None,
        "password": params["PASSWORD"] or None,
    }
    name = f"satu_ops_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = (
            f"postgres://{params['USER']}:{params['PASSWORD'] or ''}@"
            f"{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{name}"
        )
        done = satu("restore", str(backup), env=child_env(tmp_path, url))
        assert f"Restored {backup} into the postgresql database." in done.stdout
        with psycopg.connect(dbname=name, **server) as restored:
            with connection.cursor() as source:
                for table in COMPARED:
                    assert rows(restored.cursor(), table) == rows(source, table), table
        # A second restore into the now used database is refused.
        again = satu("restore", str(backup), env=child_env(tmp_path, url), check=False)
        assert again.returncode == 1
        assert "already holds data" in again.stderr
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def a_backup_file(path: Path) -> Path:
    """A file that passes for a backup of the database under test."""
    if connection.vendor == "sqlite":
        sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    else:
        path.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)
    return path


@pytest.mark.django_db
def test_restore_refuses_a_database_with_data_and_changes_nothing(tmp_path):
    given_some_business_data()
    backup = a_backup_file(tmp_path / "satu.backup")

    with pytest.raises(CommandError, match="already holds data"):
        call_command("restore", str(backup))

    assert list(Client.objects.values_list("name", flat=True)) == ["Toko Sumber Makmur"]


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")

    with pytest.raises(CommandError, match="is not a Satu backup"):
        call_command("restore", str(junk))


def test_restore_names_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="There is no file"):
        call_command("restore", str(tmp_path / "missing.backup"))


@pytest.mark.django_db
def test_restore_refuses_a_backup_of_the_other_database_kind(tmp_path):
    other = tmp_path / "other.backup"
    if connection.vendor == "sqlite":
        other.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)
        expected = "is a postgresql backup but DATABASE_URL points to sqlite"
    else:
        sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
        expected = "is a sqlite backup but DATABASE_URL points to postgresql"

    with pytest.raises(CommandError, match=expected):
        call_command("restore", str(other))


@pytest.mark.django_db(transaction=True)
def test_backup_does_not_overwrite_a_file_unless_forced(tmp_path):
    existing = tmp_path / "satu.backup"
    existing.write_text("keep me")

    with pytest.raises(CommandError, match="exists"):
        call_command("backup", str(existing))
    assert existing.read_text() == "keep me"

    call_command("backup", str(existing), force=True, stdout=StringIO())
    assert existing.read_bytes()[:5] in {b"SQLit", b"PGDMP"}
