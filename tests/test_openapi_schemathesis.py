"""Property-based check of the whole API against its own OpenAPI document:
for every operation, schemathesis generates valid and invalid requests and
no answer may be a 5xx.

In-process (WSGI, no server), authenticated as a superuser through a bearer
token, deterministic (fixed seed, no example database) and bounded (a few
examples per operation), so it runs in seconds; set
SATU_SCHEMATHESIS_COVERAGE=1 to add schemathesis' boundary-value phase.
"""

import json
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from ninja.responses import NinjaJSONEncoder
from schemathesis.checks import not_a_server_error

from satu.api.main import api
from satu.core.testing.helpers import make_user
from satu.core.tokens import api_token_create

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261126,
        "generation": {
            "mode": "all",  # valid and invalid input
            "max-examples": 5,
            "deterministic": True,
            "database": "none",
            "no-shrink": True,
        },
        "phases": {
            "examples": {"enabled": True},
            # Boundary values of every parameter: ~3,000 more requests (30 s on
            # SQLite, 60 s on PostgreSQL); on demand with SATU_SCHEMATHESIS_COVERAGE=1.
            "coverage": {
                "enabled": os.environ.get("SATU_SCHEMATHESIS_COVERAGE") == "1"
            },
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)


def _schema():
    # The document the app serves at /api/openapi.json, built in-process
    # (fetching it would need the database before pytest-django sets it up);
    # requests then go through the WSGI application, middleware and all.
    document = json.loads(
        json.dumps(api.get_openapi_schema(path_prefix="/api/"), cls=NinjaJSONEncoder)
    )
    loaded = schemathesis.openapi.from_dict(document, config=CONFIG)
    loaded.app = get_wsgi_application()
    # The file body is binary; its behaviour is covered by the attachment
    # tests, and generating arbitrary bytes for it only slows this run.
    return loaded.exclude(path_regex=r"/download$")


schema = _schema()


@pytest.fixture
def _keep_test_connection():
    # Django's WSGI handler closes the connection when a request ends (the
    # test client avoids that the same way); the test's transaction lives
    # on that connection.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def bearer(db, settings, _keep_test_connection):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    root = make_user("root", superuser=True)
    _token, raw = api_token_create(user=root, name="schemathesis")
    return {"Authorization": f"Bearer {raw}"}


@pytest.mark.django_db
@schema.parametrize()
@hypothesis_settings(
    # One user and token per operation is what we want: the examples of an
    # operation share them (and the data they create) within its transaction.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)
def test_no_server_errors(case, bearer):
    case.call_and_validate(headers=bearer, checks=[not_a_server_error])
