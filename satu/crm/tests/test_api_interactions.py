import json

import pytest

from satu.crm.models import Interaction
from satu.parties.models import TimelineEntry
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def post(api, url, body):
    return api.post(url, json.dumps(body), content_type="application/json")


def test_create_thread_and_complete(api_client, manager, kind_and_stages):
    kind, _stages = kind_and_stages
    client = ClientFactory(owner=manager)
    api = api_client.as_user(manager)
    deal_id = post(
        api, "/api/v1/deals", {"client_id": client.pk, "kind_id": kind.pk, "title": "X"}
    ).json()["id"]

    planned = post(
        api,
        "/api/v1/interactions",
        {
            "kind": "meeting",
            "title": "Visit",
            "from_type": "crm.deal",
            "from_id": deal_id,
            "state": "planned",
            "planned_at": "2030-01-02T09:00:00Z",
        },
    )
    assert planned.status_code == 201, planned.content
    body = planned.json()
    assert (body["client"]["id"], body["subject_type"], body["subject_id"]) == (
        client.pk,
        "crm.deal",
        deal_id,
    )
    done = post(
        api, f"/api/v1/interactions/{body['id']}/complete", {"result": "Signed"}
    )
    assert done.status_code == 200
    assert (done.json()["state"], done.json()["result"]) == ("done", "Signed")
    again = post(api, f"/api/v1/interactions/{body['id']}/complete", {})
    assert again.status_code == 409
    assert again.json()["code"] == "crm.interaction_state_invalid"

    thread = api.get(
        f"/api/v1/interactions?subject_type=crm.deal&subject_id={deal_id}"
    ).json()
    assert [i["id"] for i in thread["items"]] == [body["id"]]
    changed = api.patch(
        f"/api/v1/interactions/{body['id']}",
        json.dumps({"notes": "Bring samples", "version": 2}),
        content_type="application/json",
    )
    assert changed.json()["notes"] == "Bring samples"


def test_client_not_visible_is_404_and_nothing_written(
    api_client, manager, other_manager
):
    theirs = ClientFactory(owner=other_manager)
    api = api_client.as_user(manager)
    response = post(
        api,
        "/api/v1/interactions",
        {"kind": "sms", "title": "Hi", "client_id": theirs.pk},
    )
    assert response.status_code == 404
    assert not Interaction.objects.exists()
    assert not TimelineEntry.objects.exists()


def test_call_without_direction_is_422(api_client, manager):
    client = ClientFactory(owner=manager)
    response = post(
        api_client.as_user(manager),
        "/api/v1/interactions",
        {"kind": "call", "title": "Hi", "client_id": client.pk},
    )
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["direction"]


def test_list_query_count_is_constant(
    api_client, manager, django_assert_max_num_queries
):
    client = ClientFactory(owner=manager)
    api = api_client.as_user(manager)
    for i in range(10):
        post(
            api,
            "/api/v1/interactions",
            {"kind": "email", "title": f"Mail {i}", "client_id": client.pk},
        )
    with django_assert_max_num_queries(12):
        response = api.get(f"/api/v1/interactions?client_id={client.pk}")
    assert response.json()["count"] == 10
