"""The client card stays fast with 10,000 timeline entries on one client: the
card and each timeline page run a fixed, small number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from satu.parties.models import TimelineEntry
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

ENTRIES = 10_000
KINDS = ["test.call", "test.mail", "test.note", "test.visit"]
# Whatever sections other modules add to the card, its queries must not grow
# with the timeline: the busy client costs what a client with one entry costs.
MOST_QUERIES = 30


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def busy_client(manager):
    client = ClientFactory(owner=manager, name="Busy")
    start = timezone.now() - timedelta(days=400)
    TimelineEntry.objects.bulk_create(
        (
            TimelineEntry(
                client=client,
                at=start + timedelta(minutes=n),
                kind=KINDS[n % len(KINDS)],
                summary=f"Event {n}",
                actor=manager,
                data={"name": f"file-{n}.pdf", "user": "m", "role": ""},
            )
            for n in range(ENTRIES)
        ),
        batch_size=2000,
    )
    return client


def _queries(client, url, **kwargs) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, **kwargs).status_code == 200
    return len(captured.captured_queries)


def test_card_and_timeline_pages_run_fixed_queries(
    client, manager, busy_client, django_assert_num_queries
):
    assert TimelineEntry.objects.filter(client=busy_client).count() == ENTRIES
    quiet = ClientFactory(owner=manager, name="Quiet")
    TimelineEntry.objects.create(client=quiet, kind="client.created", summary="x")
    quiet_entry = TimelineEntry.objects.get(client=quiet)
    client.force_login(manager)
    client.get(f"/clients/{quiet.pk}/")  # session and permission caches
    htmx = {"headers": {"HX-Request": "true"}}
    CARD_QUERIES = _queries(client, f"/clients/{quiet.pk}/")
    PAGE_QUERIES = _queries(
        client, f"/clients/{quiet.pk}/timeline/?before={quiet_entry.pk}", **htmx
    )
    FILTER_QUERIES = _queries(
        client, f"/clients/{quiet.pk}/timeline/?kind=test.note", **htmx
    )
    assert CARD_QUERIES <= MOST_QUERIES and PAGE_QUERIES <= 10
    card_url = f"/clients/{busy_client.pk}/"

    with django_assert_num_queries(CARD_QUERIES):
        card = client.get(card_url)
    assert card.status_code == 200
    assert "Event 9999" in card.content.decode()

    newest = TimelineEntry.objects.filter(client=busy_client).order_by("-at", "-id")
    last_on_first_page = newest[49]
    page_url = f"/clients/{busy_client.pk}/timeline/?before={last_on_first_page.pk}"
    with django_assert_num_queries(PAGE_QUERIES):
        page = client.get(page_url, headers={"HX-Request": "true"})
    body = page.content.decode()
    assert f"Event {ENTRIES - 51}" in body and f"Event {ENTRIES - 50}" not in body

    # deep in the history: the same queries
    deep = newest[9000]
    with django_assert_num_queries(PAGE_QUERIES):
        client.get(
            f"/clients/{busy_client.pk}/timeline/?before={deep.pk}",
            headers={"HX-Request": "true"},
        )

    # filtered by kind: the same queries, only that kind
    with django_assert_num_queries(FILTER_QUERIES):
        filtered = client.get(
            f"/clients/{busy_client.pk}/timeline/?kind=test.note",
            headers={"HX-Request": "true"},
        )
    text = filtered.content.decode()
    assert "Event 9998" in text and "Event 9999" not in text
