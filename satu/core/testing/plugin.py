"""Shared pytest fixtures for every app (loaded with `-p satu.core.testing.plugin`)."""

import os

# Jobs and tasks run on commit inside tests; one test drives the real worker.
os.environ.setdefault(
    "SATU_TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"
)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402


def make_user(*args, **kwargs):
    from satu.core.testing.helpers import make_user as make

    return make(*args, **kwargs)


@pytest.fixture(autouse=True)
def _plain_static_and_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    # Real hashing costs ~0.3 s a user; tests check behaviour, not key stretching.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)


@pytest.fixture
def manager(db):
    """A sales manager: sees and edits own clients only."""
    return make_user("manager", role="sales_manager")


@pytest.fixture
def other_manager(db):
    return make_user("other", role="sales_manager")


@pytest.fixture
def head_of_sales(db):
    return make_user("head", role="head_of_sales")


@pytest.fixture
def director(db):
    return make_user("director", role="director")


@pytest.fixture
def user(manager):
    return manager


@pytest.fixture
def captured_events():
    """Events published during the test, in order (after commit)."""
    from satu.core import events

    seen = []
    original = events.publish

    def capture(event):
        seen.append(event)
        original(event)

    events.publish = capture
    yield seen
    events.publish = original


@pytest.fixture
def api_client(db):
    """A Django test client authenticating with a bearer token.

    `api_client.as_user(user)` switches to that user's token.
    """
    from django.test import Client

    from satu.core.tokens import api_token_create

    class ApiClient(Client):
        def as_user(self, user):
            _token, raw = api_token_create(user=user, name="test")
            self.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
            return self

    return ApiClient()
