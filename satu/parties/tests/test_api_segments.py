"""/api/v1/segments through real requests."""

import json

import pytest

from satu.crm.models import Deal, Interaction
from satu.crm.tests.factories import DealFactory, InteractionFactory
from satu.parties.models import ClientGroup
from satu.parties.tests.factories import ClientFactory, ContactRoleFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/segments"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def post_json(http, url, data):
    return http.post(url, json.dumps(data), content_type="application/json")


def clients_rule(value="client"):
    return {"groups": [[{"field": "status", "operator": "eq", "value": value}]]}


def test_create_rule_segment_and_read_members(api_client, head_of_sales):
    ClientFactory(name="B client", status="client")
    ClientFactory(name="A client", status="client")
    ClientFactory(name="A lead", status="lead")
    http = api_client.as_user(head_of_sales)

    response = post_json(
        http, URL, {"name": "Clients", "kind": "rule", "rules": clients_rule()}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["member_count"], body["version"]) == ("rule", 2, 1)
    members = http.get(f"{URL}/{body['id']}/members").json()
    assert members["count"] == 2
    assert [m["name"] for m in members["items"]] == ["A client", "B client"]


def test_bad_rule_answers_422_and_stores_nothing(api_client, head_of_sales):
    http = api_client.as_user(head_of_sales)
    rules = {"groups": [[{"field": "shoe_size", "operator": "eq", "value": "42"}]]}

    response = post_json(http, URL, {"name": "Odd", "kind": "rule", "rules": rules})

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "parties.segment_rule_invalid"
    assert "Unknown field “shoe_size”" in body["detail"]
    assert body["fields"]["groups.0.0"] == ["Unknown field “shoe_size”."]
    assert ClientGroup.objects.count() == 0


def test_patch_recompute_and_version(api_client, head_of_sales):
    ClientFactory(name="L", status="lead")
    http = api_client.as_user(head_of_sales)
    segment = post_json(
        http, URL, {"name": "S", "kind": "rule", "rules": clients_rule()}
    ).json()
    assert segment["member_count"] == 0

    patched = http.patch(
        f"{URL}/{segment['id']}",
        json.dumps({"rules": clients_rule("lead"), "version": 1}),
        content_type="application/json",
    )
    assert patched.status_code == 200
    assert (patched.json()["member_count"], patched.json()["version"]) == (1, 2)

    stale = http.patch(
        f"{URL}/{segment['id']}",
        json.dumps({"name": "T", "version": 1}),
        content_type="application/json",
    )
    assert stale.status_code == 409

    ClientFactory(name="L2", status="lead")
    again = http.post(f"{URL}/{segment['id']}/recompute")
    assert again.json() == {"members": 2, "added": 1, "removed": 0}


def test_manual_segment_members_endpoint(api_client, head_of_sales):
    a = ClientFactory(name="A")
    http = api_client.as_user(head_of_sales)
    segment = post_json(http, URL, {"name": "Hand", "client_ids": [a.pk]}).json()
    assert segment["member_count"] == 1
    assert http.post(f"{URL}/{segment['id']}/recompute").status_code == 409
    response = post_json(http, f"{URL}/{segment['id']}/members", {"remove": [a.pk]})
    assert response.json()["member_count"] == 0


def test_sales_manager_reads_but_cannot_create(api_client, manager, head_of_sales):
    ClientFactory(name="Mine", owner=manager, status="client")
    ClientFactory(name="Other", status="client")
    segment = post_json(
        api_client.as_user(head_of_sales),
        URL,
        {"name": "Clients", "kind": "rule", "rules": clients_rule()},
    ).json()
    http = api_client.as_user(manager)
    assert post_json(http, URL, {"name": "Mine"}).status_code == 403
    members = http.get(f"{URL}/{segment['id']}/members").json()
    assert [m["name"] for m in members["items"]] == ["Mine"]


def test_list_and_members_run_fixed_queries(
    api_client, head_of_sales, django_assert_num_queries
):
    http = api_client.as_user(head_of_sales)
    segment = post_json(
        http, URL, {"name": "S0", "kind": "rule", "rules": clients_rule()}
    ).json()
    ClientFactory(name="C", status="client")
    http.post(f"{URL}/{segment['id']}/recompute")
    members = f"{URL}/{segment['id']}/members"
    with django_assert_num_queries(6):
        assert http.get(URL).json()["count"] == 1
    with django_assert_num_queries(8):
        assert http.get(members).json()["count"] == 1
    # ten times more rows, the same queries
    for i in range(1, 10):
        ClientFactory(name=f"C{i}", status="client")
        post_json(http, URL, {"name": f"S{i}", "kind": "rule", "rules": clients_rule()})
    http.post(f"{URL}/{segment['id']}/recompute")
    with django_assert_num_queries(6):
        assert http.get(URL).json()["count"] == 10
    with django_assert_num_queries(8):
        assert http.get(members).json()["count"] == 10


def test_field_catalogue_lists_crm_fields(api_client, head_of_sales):
    fields = api_client.as_user(head_of_sales).get(f"{URL}/fields").json()
    by_code = {f["code"]: f for f in fields}
    assert {"status", "owner", "source_channel", "crm.has_open_deal"} <= set(by_code)
    status_ops = [op["code"] for op in by_code["status"]["operators"]]
    assert status_ops == ["eq", "ne", "in", "not_in"]
    assert {"value": "client", "label": "Client"} in by_code["status"]["choices"]


def test_crm_fields_open_deal_and_last_interaction(api_client, head_of_sales):
    busy = ClientFactory(name="Busy", owner=head_of_sales)
    quiet = ClientFactory(name="Quiet", owner=head_of_sales)
    ClientFactory(name="Never")
    DealFactory(client=busy, status=Deal.Status.IN_WORK)
    DealFactory(client=quiet, status=Deal.Status.LOST)
    InteractionFactory(client=busy, state=Interaction.State.DONE)
    http = api_client.as_user(head_of_sales)

    open_deal = post_json(
        http,
        URL,
        {
            "name": "Open",
            "kind": "rule",
            "rules": {
                "groups": [[{"field": "crm.has_open_deal", "operator": "is_true"}]]
            },
        },
    ).json()
    silent = post_json(
        http,
        URL,
        {
            "name": "Silent",
            "kind": "rule",
            "rules": {
                "groups": [
                    [
                        {
                            "field": "crm.last_interaction",
                            "operator": "older_days",
                            "value": 30,
                        }
                    ]
                ]
            },
        },
    ).json()

    def names(segment):
        items = http.get(f"{URL}/{segment['id']}/members").json()["items"]
        return [m["name"] for m in items]

    assert names(open_deal) == ["Busy"]
    assert names(silent) == ["Never", "Quiet"]


def test_client_and_contact_lists_filter_by_segment(api_client, head_of_sales):
    inside = ClientFactory(name="Inside", status="client")
    outside = ClientFactory(name="Outside", status="lead")
    ContactRoleFactory(client=inside, contact__first_name="Ina")
    ContactRoleFactory(client=outside, contact__first_name="Otto")
    http = api_client.as_user(head_of_sales)
    segment = post_json(
        http, URL, {"name": "S", "kind": "rule", "rules": clients_rule()}
    ).json()

    clients = http.get(f"/api/v1/clients?segment_id={segment['id']}").json()
    contacts = http.get(f"/api/v1/contacts?segment_id={segment['id']}").json()

    assert [c["name"] for c in clients["items"]] == ["Inside"]
    assert [c["first_name"] for c in contacts["items"]] == ["Ina"]


def test_members_counts_manual_groups_picked_on_client_forms(api_client, head_of_sales):
    from satu.parties.tests.factories import ClientGroupFactory

    group = ClientGroupFactory(name="Retail")
    ClientFactory(name="Shop").groups.add(group)
    item = api_client.as_user(head_of_sales).get(URL).json()["items"][0]
    assert (item["name"], item["members"], item["kind"]) == ("Retail", 1, "manual")
