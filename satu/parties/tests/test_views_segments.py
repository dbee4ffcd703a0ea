"""Segment screens: list, builder, segment page, lists cut by segment."""

import pytest

from satu.parties import services
from satu.parties.models import ClientGroup
from satu.parties.tests.factories import ClientFactory, ContactRoleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def rule_segment(actor, status="client", name="Clients"):
    return services.segment_create(
        actor=actor,
        name=name,
        kind="rule",
        rules={"groups": [[{"field": "status", "operator": "eq", "value": status}]]},
    )


def test_create_segment_from_the_builder(client, head_of_sales):
    ClientFactory(name="Bali", status="client", region="Bali")
    ClientFactory(name="Java", status="client", region="Jawa")
    client.force_login(head_of_sales)

    response = client.post(
        "/segments/new/",
        {
            "name": "Bali clients",
            "kind": "rule",
            "rows": "2",
            "c0_group": "1",
            "c0_field": "status",
            "c0_operator": "eq",
            "c0_value": "client",
            "c1_group": "1",
            "c1_field": "region",
            "c1_operator": "contains",
            "c1_value": "bali",
        },
    )

    segment = ClientGroup.objects.get(name="Bali clients")
    assert response.status_code == 302
    assert response.url == f"/segments/{segment.pk}/"
    assert list(segment.clients.values_list("name", flat=True)) == ["Bali"]
    page = client.get(response.url).content.decode()
    assert "Bali" in page and "Java" not in page
    assert f"/clients/export.csv?segment={segment.pk}" in page


def test_builder_shows_the_api_message_and_stores_nothing(client, head_of_sales):
    client.force_login(head_of_sales)
    response = client.post(
        "/segments/new/",
        {
            "name": "Odd",
            "kind": "rule",
            "rows": "1",
            "c0_group": "1",
            "c0_field": "created",
            "c0_operator": "last_days",
            "c0_value": "soon",
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "The segment rules are not valid" in body
    assert "Enter a whole number of days." in body
    assert ClientGroup.objects.count() == 0


def test_builder_adds_removes_rows_and_previews_the_count(client, head_of_sales):
    ClientFactory(status="client")
    ClientFactory(status="client")
    ClientFactory(status="lead")
    client.force_login(head_of_sales)
    base = {
        "rows": "1",
        "c0_group": "1",
        "c0_field": "status",
        "c0_operator": "eq",
        "c0_value": "client",
    }

    added = client.post("/segments/builder/", {**base, "builder": "or"})
    body = added.content.decode()
    assert added.status_code == 200
    assert 'name="c1_field"' in body and 'name="rows" value="2"' in body
    assert "or group" in body

    # the new row (status, first operator, no value) is not valid yet
    assert "Choose a value from the list" in body

    preview = client.post("/segments/builder/", base).content.decode()
    assert "2 clients match now" in preview

    removed = client.post(
        "/segments/builder/", {**base, "builder": "remove:0"}
    ).content.decode()
    assert 'name="c0_field"' not in removed
    assert 'name="rows" value="0"' in removed


def test_builder_changes_operators_with_the_field(client, head_of_sales):
    client.force_login(head_of_sales)
    body = client.post(
        "/segments/builder/",
        {"rows": "1", "c0_group": "1", "c0_field": "created", "c0_operator": "eq"},
    ).content.decode()
    assert 'value="last_days"' in body and 'value="eq"' not in body


def test_edit_segment_and_recompute(client, head_of_sales):
    segment = rule_segment(head_of_sales)
    ClientFactory(name="Late", status="client")
    client.force_login(head_of_sales)
    form = client.get(f"/segments/{segment.pk}/edit/").content.decode()
    assert 'name="c0_field"' in form and 'value="client" selected' in form

    response = client.post(f"/segments/{segment.pk}/recompute/")
    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.member_count == 1


def test_segment_list_and_detail_queries(client, head_of_sales):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(head_of_sales)
    ClientFactory(status="client", name="C0")
    segment = rule_segment(head_of_sales, name="S0")

    def count(url):
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries.captured_queries)

    few = (count("/segments/"), count(f"/segments/{segment.pk}/"))
    for i in range(1, 8):
        ClientFactory(status="client", name=f"C{i}")
        rule_segment(head_of_sales, name=f"S{i}")
    services.segment_recompute(actor=head_of_sales, segment_id=segment.pk)
    many = (count("/segments/"), count(f"/segments/{segment.pk}/"))
    assert few == many
    assert many[0] <= 7 and many[1] <= 10


def test_sales_manager_sees_only_own_members_and_cannot_create(
    client, manager, head_of_sales
):
    ClientFactory(name="Mine", owner=manager, status="client")
    ClientFactory(name="Theirs", status="client")
    segment = rule_segment(head_of_sales)
    client.force_login(manager)
    body = client.get(f"/segments/{segment.pk}/").content.decode()
    assert "Mine" in body and "Theirs" not in body
    assert client.get("/segments/new/").status_code == 403


def test_client_and_contact_lists_and_card_show_segments(client, head_of_sales):
    inside = ClientFactory(name="Inside", status="client")
    ClientFactory(name="Outside", status="lead")
    ContactRoleFactory(client=inside, contact__first_name="Ina")
    segment = rule_segment(head_of_sales, name="Good clients")
    client.force_login(head_of_sales)

    clients = client.get(f"/clients/?segment={segment.pk}").content.decode()
    contacts = client.get(f"/contacts/?segment={segment.pk}").content.decode()
    card = client.get(f"/clients/{inside.pk}/").content.decode()

    assert "Inside" in clients and "Outside" not in clients
    assert "Ina" in contacts
    assert f'href="/segments/{segment.pk}/"' in card and "Good clients" in card
    assert client.get("/contacts/?segment=999999").status_code == 404


def test_export_of_members_reuses_the_client_export(client, head_of_sales):
    ClientFactory(name="Inside", status="client")
    ClientFactory(name="Outside", status="lead")
    segment = rule_segment(head_of_sales)
    client.force_login(head_of_sales)
    response = client.get(f"/clients/export.csv?segment={segment.pk}")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Inside" in text and "Outside" not in text
