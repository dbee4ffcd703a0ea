"""GET /healthz: public, database and worker status."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from satu.core.models import WorkerHeartbeat


def beat(seconds_ago: float, worker_id: str = "w1") -> WorkerHeartbeat:
    at = timezone.now() - timedelta(seconds=seconds_ago)
    return WorkerHeartbeat.objects.create(
        worker_id=worker_id, hostname="host", pid=42, started_at=at, last_seen=at
    )


@pytest.mark.django_db
def test_healthz_without_a_worker_is_degraded_but_up(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "status": "degraded",
        "database": {"ok": True, "vendor": connection.vendor},
        "worker": {"ok": False, "last_seen": None, "alive": 0},
    }


@pytest.mark.django_db
def test_healthz_with_a_fresh_heartbeat_is_ok(client):
    row = beat(5)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": {"ok": True, "vendor": connection.vendor},
        "worker": {"ok": True, "last_seen": row.last_seen.isoformat(), "alive": 1},
    }


@pytest.mark.django_db
def test_healthz_with_a_stale_heartbeat_reports_when_the_worker_was_last_seen(client):
    row = beat(61)

    body = client.get("/healthz").json()

    assert body["status"] == "degraded"
    assert body["worker"] == {
        "ok": False,
        "last_seen": row.last_seen.isoformat(),
        "alive": 0,
    }


@pytest.mark.django_db
def test_healthz_counts_only_fresh_workers(client):
    beat(120, "old")
    fresh = beat(1, "new")

    body = client.get("/healthz").json()

    assert body["worker"] == {
        "ok": True,
        "last_seen": fresh.last_seen.isoformat(),
        "alive": 1,
    }


@pytest.mark.django_db
def test_healthz_answers_any_host_and_needs_no_login(client):
    # Load balancers probe by IP address, which ALLOWED_HOSTS does not list.
    response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")

    assert response.status_code == 200
    assert response.json()["database"]["ok"] is True


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_does_not_answer(client):
    with mock.patch("satu.core.health.connection") as broken:
        broken.vendor = "postgresql"
        broken.cursor.side_effect = OperationalError("connection refused")
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "degraded",
        "database": {"ok": False, "vendor": "postgresql", "error": "OperationalError"},
        "worker": {"ok": False, "last_seen": None, "alive": 0},
    }


@pytest.mark.django_db
def test_healthz_refuses_writes(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_the_healthz_url_resolves_to_the_same_view(rf):
    from django.urls import resolve

    match = resolve("/healthz")
    response = match.func(rf.get("/healthz"))

    assert match.url_name == "healthz"
    assert response.status_code == 200
