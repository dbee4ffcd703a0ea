"""CRM lists cut by a segment (`?segment=<id>`) and the CRM segment fields."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from satu.crm.models import Claim, Interaction
from satu.crm.tests.factories import (
    ClaimCategoryFactory,
    DealFactory,
    InteractionFactory,
    TaskFactory,
)
from satu.parties import services as parties_services
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def claim(client, responsible, n):
    return Claim.objects.create(
        number=f"CL-{n}",
        client=client,
        category=ClaimCategoryFactory(),
        description=f"Broken {client.name}",
        responsible=responsible,
        deadline=date.today() + timedelta(days=5),
    )


@pytest.fixture
def world(head_of_sales):
    inside = ClientFactory(name="Inside Co", owner=head_of_sales, status="client")
    outside = ClientFactory(name="Outside Co", owner=head_of_sales, status="lead")
    for n, client in enumerate((inside, outside)):
        DealFactory(client=client, title=f"Deal of {client.name}")
        InteractionFactory(client=client, title=f"Call with {client.name}")
        TaskFactory(
            client=client, responsible=head_of_sales, title=f"Task for {client.name}"
        )
        claim(client, head_of_sales, n)
    segment = parties_services.segment_create(
        actor=head_of_sales,
        name="Clients",
        kind="rule",
        rules={"groups": [[{"field": "status", "operator": "eq", "value": "client"}]]},
    )
    return segment


@pytest.mark.parametrize(
    "url", ["/deals/list/", "/interactions/", "/claims/", "/tasks/"]
)
def test_lists_show_only_the_segment(client, head_of_sales, world, url):
    client.force_login(head_of_sales)
    body = client.get(f"{url}?segment={world.pk}").content.decode()
    assert "Inside Co" in body
    assert "Outside Co" not in body
    assert 'data-segment="' in body
    everything = client.get(url).content.decode()
    assert "Outside Co" in everything


@pytest.mark.parametrize("url", ["/deals/list/", "/interactions/", "/claims/"])
def test_segment_filter_costs_no_query_per_row(client, head_of_sales, world, url):
    client.force_login(head_of_sales)
    target = f"{url}?segment={world.pk}"
    client.get(target)
    with CaptureQueriesContext(connection) as few:
        client.get(target)
    for _ in range(5):
        inside = ClientFactory(owner=head_of_sales, status="client")
        DealFactory(client=inside)
        InteractionFactory(client=inside)
        claim(inside, head_of_sales, inside.pk + 100)
    parties_services.segment_recompute(actor=head_of_sales, segment_id=world.pk)
    client.get(target)
    with CaptureQueriesContext(connection) as many:
        client.get(target)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_unknown_segment_is_404(client, head_of_sales):
    client.force_login(head_of_sales)
    assert client.get("/deals/list/?segment=999999").status_code == 404
    assert client.get("/interactions/?segment=abc").status_code == 404


def test_last_interaction_field_uses_done_interactions(head_of_sales):
    talked = ClientFactory(name="Talked")
    ClientFactory(name="Planned only")
    InteractionFactory(client=talked, state=Interaction.State.DONE)
    segment = parties_services.segment_create(
        actor=head_of_sales,
        name="Recent",
        kind="rule",
        rules={
            "groups": [
                [{"field": "crm.last_interaction", "operator": "last_days", "value": 7}]
            ]
        },
    )
    assert list(segment.clients.values_list("name", flat=True)) == ["Talked"]


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("/api/v1/deals", "title"),
        ("/api/v1/interactions", "title"),
        ("/api/v1/claims", "description"),
        ("/api/v1/tasks", "title"),
    ],
)
def test_api_lists_take_segment_id(api_client, head_of_sales, world, url, key):
    http = api_client.as_user(head_of_sales)
    items = http.get(f"{url}?segment_id={world.pk}").json()["items"]
    assert items and all("Inside Co" in item[key] for item in items)
    assert len(http.get(url).json()["items"]) > len(items)
