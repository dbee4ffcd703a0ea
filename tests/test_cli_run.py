"""The real `satu` processes on a fresh SQLite file: migrate, demo, token, run."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="process handling does not depend on the database; runs once, on SQLite",
)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A migrated database with a small demo, used by the processes below."""
    var = tmp_path_factory.mktemp("satu-var")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{var / 'satu.sqlite3'}",
        "SATU_VAR_DIR": str(var),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("SATU_TASKS_BACKEND", None)  # the real database backend
    satu(env, "migrate", "-v0")
    satu(env, "demo", "--if-empty", "--clients", "5", "-v0")
    return var, env


def satu(env, *args, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "satu.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
        return response.status, json.loads(response.read())


def test_migrate_creates_the_cache_table(home):
    var, _env = home

    tables = {
        row[0]
        for row in sqlite3.connect(var / "satu.sqlite3").execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
    }

    assert {"satu_cache", "django_session", "core_user", "parties_client"} <= tables


def test_token_create_prints_one_token_line(home):
    _var, env = home

    out = satu(env, "token", "create", "admin", "--name", "cli test").stdout

    assert len(out.splitlines()) == 1 and out.startswith("satu_")


def test_run_serves_with_a_worker_and_stops_cleanly_on_sigterm(home):
    var, env = home
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "satu.cli", "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Read stdout as it comes: the supervisor announces itself only after it
    # has seen the port listening, which may be after /healthz first answers.
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True
    )
    reader.start()
    try:
        health = None
        for _ in range(150):
            try:
                status, health = get_json(f"http://127.0.0.1:{port}/healthz")
                if health["worker"]["ok"]:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert status == 200
        assert health["status"] == "ok"
        assert health["database"] == {"ok": True, "vendor": "sqlite"}
        login = f"http://127.0.0.1:{port}/login/"
        with urllib.request.urlopen(login, timeout=5) as page:  # noqa: S310
            assert page.status == 200
        for _ in range(150):
            if any("Satu is running at" in line for line in lines):
                break
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        reader.join(timeout=10)
        err = process.stderr.read()
    out = "".join(lines)

    assert process.returncode == 0, err
    assert f"Satu is running at http://127.0.0.1:{port}/" in out
    assert "admin      / admin — superuser" in out
    assert "Satu stopped." in out
    heartbeats = (
        sqlite3.connect(var / "satu.sqlite3")
        .execute("SELECT COUNT(*) FROM core_workerheartbeat")
        .fetchone()[0]
    )
    assert heartbeats == 0
