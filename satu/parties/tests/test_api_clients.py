"""/api/v1/clients and its sub-resources, through real requests."""

import json

import pytest

from satu.core import custom_fields, features
from satu.core.models import AuditEntry
from satu.parties import services
from satu.parties.models import Client, ClientCounterparty, TimelineEntry
from satu.parties.tests.factories import (
    ChannelFactory,
    ClientCounterpartyFactory,
    ClientFactory,
    ClientGroupFactory,
    ContactMethodFactory,
    ContactRoleFactory,
    CounterpartyFactory,
    TimelineEntryFactory,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/clients"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Users are created per test; the real hasher costs most of the runtime.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def post_json(http, url, data, **headers):
    return http.post(
        url, json.dumps(data), content_type="application/json", headers=headers
    )


def patch_json(http, url, data):
    return http.patch(url, json.dumps(data), content_type="application/json")


def snapshot(client: Client) -> dict:
    client.refresh_from_db()
    return {f: getattr(client, f) for f in ("name", "status", "phone", "version")}


# ------------------------------------------------------------------ list


def test_manager_lists_only_his_clients(api_client, manager, other_manager):
    ClientFactory(owner=manager, name="PT Milik Saya")
    ClientFactory(owner=other_manager, name="PT Milik Orang")

    body = api_client.as_user(manager).get(URL).json()

    assert [c["name"] for c in body["items"]] == ["PT Milik Saya"]
    assert body["count"] == 1


def test_head_of_sales_lists_everyone(
    api_client, head_of_sales, manager, other_manager
):
    ClientFactory(owner=manager, name="A")
    ClientFactory(owner=other_manager, name="B")

    body = api_client.as_user(head_of_sales).get(URL).json()

    assert [c["name"] for c in body["items"]] == ["A", "B"]


def test_list_filters(api_client, head_of_sales, manager):
    group = ClientGroupFactory(name="Retail")
    channel = ChannelFactory(name="Expo")
    grouped = ClientFactory(owner=manager, name="PT Grup", status="lead")
    grouped.groups.add(group)
    ClientFactory(owner=head_of_sales, name="PT Kanal", source_channel=channel)
    ClientFactory(owner=manager, name="PT Arsip", is_archived=True)
    http = api_client.as_user(head_of_sales)

    def names(**params):
        return [c["name"] for c in http.get(URL, params).json()["items"]]

    assert names(status="lead") == ["PT Grup"]
    assert names(group_id=group.pk) == ["PT Grup"]
    assert names(channel_id=channel.pk) == ["PT Kanal"]
    assert names(owner_id=manager.pk) == ["PT Grup"]
    assert names(archived="true") == ["PT Arsip"]
    assert names(search="kanal") == ["PT Kanal"]


def test_search_finds_a_client_by_contact_phone(api_client, manager):
    client = services.client_create(actor=manager, name="PT Telepon")
    services.contact_create(
        actor=manager,
        first_name="Budi",
        phones=["0812 3456 7890"],
        client_roles=[{"client_id": client.pk, "role": "Owner"}],
    )

    body = api_client.as_user(manager).get(URL, {"search": "0812-3456-7890"}).json()

    assert [c["id"] for c in body["items"]] == [client.pk]


def test_custom_field_filters(api_client, admin_user, manager):
    custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.client",
        code="tier",
        label="Tier",
        field_type="choice",
        choices=["gold", "silver"],
    )
    custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.client",
        code="since",
        label="Since",
        field_type="date",
    )
    ClientFactory(owner=manager, name="Emas", custom={"tier": "gold"})
    ClientFactory(owner=manager, name="Perak", custom={"tier": "silver"})
    http = api_client.as_user(manager)

    gold = http.get(URL, {"cf_tier": "gold"}).json()
    bad = http.get(URL, {"cf_since": "yesterday"})

    assert [c["name"] for c in gold["items"]] == ["Emas"]
    assert gold["items"][0]["custom"] == {"tier": "gold"}
    assert bad.status_code == 422
    assert list(bad.json()["fields"]) == ["cf_since"]


@pytest.mark.parametrize(
    "params",
    [
        {"status": "vip"},
        {"owner_id": "me"},
        {"archived": "perhaps"},
        {"search": "x" * 201},
        {"group_id": 0},
    ],
)
def test_bad_list_parameters_are_422(api_client, manager, params):
    response = api_client.as_user(manager).get(URL, params)

    assert response.status_code == 422
    assert list(response.json()["fields"]) == list(params)


def test_list_query_count_does_not_grow_with_rows(
    api_client, manager, django_assert_num_queries
):
    group = ClientGroupFactory()
    channel = ChannelFactory()

    def add(n):
        for client in ClientFactory.create_batch(
            n, owner=manager, source_channel=channel
        ):
            client.groups.add(group)

    add(2)
    http = api_client.as_user(manager)
    http.get(URL)  # the token's first use writes last_used_at
    with django_assert_num_queries(7) as few:
        assert len(http.get(URL).json()["items"]) == 2
    add(10)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(http.get(URL).json()["items"]) == 12


# ------------------------------------------------------------------ create


def test_create_a_client(api_client, manager, captured_events):
    group = ClientGroupFactory(name="Retail")
    http = api_client.as_user(manager)

    response = post_json(
        http,
        URL,
        {
            "name": "PT Maju Jaya",
            "kind": "company",
            "status": "lead",
            "phone": "021 555 0123",
            "email": "Sales@MajuJaya.CO.ID",
            "group_ids": [group.pk],
            "region": "Jakarta",
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert {
        k: body[k] for k in ("name", "status", "phone", "email", "region", "version")
    } == {
        "name": "PT Maju Jaya",
        "status": "lead",
        "phone": "+62215550123",
        "email": "Sales@majujaya.co.id",
        "region": "Jakarta",
        "version": 1,
    }
    assert body["owner"] == {
        "id": manager.pk,
        "username": "manager",
        "full_name": "Manager",
    }
    assert body["groups"] == [{"id": group.pk, "name": "Retail"}]
    assert Client.objects.get().owner == manager


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": 42}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "A", "kind": "robot"}, "kind"),
        ({"name": "A", "status": "vip"}, "status"),
        ({"name": "A", "phone": "12"}, "phone"),
        ({"name": "A", "phone": "x" * 65}, "phone"),
        ({"name": "A", "email": "not-an-email"}, "email"),
        ({"name": "A", "owner_id": 999999}, "owner_id"),
        ({"name": "A", "owner_id": "me"}, "owner_id"),
        ({"name": "A", "group_ids": [999999]}, "group_ids"),
        ({"name": "A", "source_channel_id": 999999}, "source_channel_id"),
        ({"name": "A", "custom": {"nope": 1}}, "custom.nope"),
        ({"name": "A", "custom": {"nope": [1]}}, "custom.nope"),
        ({"name": "A", "allow_duplicate": "sure"}, "allow_duplicate"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(
    api_client, manager, payload, field
):
    response = post_json(api_client.as_user(manager), URL, payload)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["fields"]
    assert Client.objects.count() == 0
    assert AuditEntry.objects.filter(content_type__model="client").count() == 0


def test_possible_duplicate_is_409_with_candidates(api_client, manager):
    first = ClientFactory(owner=manager, name="PT Sinar Abadi", phone="+62215550123")
    http = api_client.as_user(manager)

    response = post_json(http, URL, {"name": "Other", "phone": "021-555-0123"})
    confirmed = post_json(
        http, URL, {"name": "Other", "phone": "021-555-0123", "allow_duplicate": True}
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "parties.possible_duplicate"
    assert body["candidates"] == [
        {"id": first.pk, "name": "PT Sinar Abadi", "reasons": ["same phone"]}
    ]
    assert confirmed.status_code == 201
    assert Client.objects.count() == 2


def test_manager_cannot_create_for_another_manager(api_client, manager, other_manager):
    response = post_json(
        api_client.as_user(manager), URL, {"name": "X", "owner_id": other_manager.pk}
    )

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["owner_id"]
    assert Client.objects.count() == 0


def test_director_is_read_only(api_client, director):
    response = post_json(api_client.as_user(director), URL, {"name": "X"})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Client.objects.count() == 0


def test_typed_custom_values(api_client, admin_user, manager):
    for code, kind in [("employees", "number"), ("since", "date"), ("vip", "bool")]:
        custom_fields.custom_field_create(
            actor=admin_user,
            object_type="parties.client",
            code=code,
            label=code,
            field_type=kind,
        )
    http = api_client.as_user(manager)

    created = post_json(
        http,
        URL,
        {
            "name": "PT Bertipe",
            "custom": {"employees": 120, "since": "2020-05-01", "vip": "yes"},
        },
    )
    bad = post_json(
        http,
        URL,
        {"name": "PT Salah", "custom": {"employees": "many", "since": "2020-13-01"}},
    )

    assert created.status_code == 201
    assert created.json()["custom"] == {
        "employees": "120",
        "since": "2020-05-01",
        "vip": True,
    }
    assert bad.status_code == 422
    assert sorted(bad.json()["fields"]) == ["custom.employees", "custom.since"]


def test_required_custom_field_is_enforced(api_client, admin_user, manager):
    custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.client",
        code="region_code",
        label="Region code",
        field_type="text",
        required=True,
    )

    response = post_json(api_client.as_user(manager), URL, {"name": "PT Wajib"})

    assert response.status_code == 422
    assert response.json()["fields"] == {
        "custom.region_code": ["Region code is required."]
    }


# ------------------------------------------------------------------ get / patch


def test_get_own_client(api_client, manager):
    client = ClientFactory(owner=manager, name="PT Lihat")

    response = api_client.as_user(manager).get(f"{URL}/{client.pk}")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["name"]) == (client.pk, "PT Lihat")


def test_another_managers_client_is_404(api_client, manager, other_manager):
    client = ClientFactory(owner=other_manager)
    http = api_client.as_user(manager)

    assert http.get(f"{URL}/{client.pk}").status_code == 404
    assert http.get(f"{URL}/999999").json()["code"] == "not_found"
    assert http.get(f"{URL}/abc").status_code == 422


def test_patch_changes_only_given_fields(api_client, manager, captured_events):
    client = ClientFactory(
        owner=manager, name="PT Lama", status="prospect", phone="+62215550123"
    )
    http = api_client.as_user(manager)

    response = patch_json(
        http,
        f"{URL}/{client.pk}",
        {"name": "PT Baru", "status": "client", "version": 1},
    )

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["version"]) == ("PT Baru", 2)
    assert snapshot(client) == {
        "name": "PT Baru",
        "status": "client",
        "phone": "+62215550123",
        "version": 2,
    }
    assert (
        TimelineEntry.objects.filter(
            client=client, kind="client.status_changed"
        ).count()
        == 1
    )


def test_patch_with_stale_version_is_409_and_changes_nothing(api_client, manager):
    client = ClientFactory(owner=manager, name="PT Versi", version=3)
    before = snapshot(client)

    response = patch_json(
        api_client.as_user(manager),
        f"{URL}/{client.pk}",
        {"name": "PT Telat", "version": 2},
    )

    assert response.status_code == 409
    assert response.json()["code"] == "version_conflict"
    assert snapshot(client) == before


def test_patch_of_another_managers_client_is_404_and_changes_nothing(
    api_client, manager, other_manager
):
    client = ClientFactory(owner=other_manager, name="PT Orang Lain")
    before = snapshot(client)

    response = patch_json(
        api_client.as_user(manager), f"{URL}/{client.pk}", {"name": "PT Dibajak"}
    )

    assert response.status_code == 404
    assert snapshot(client) == before
    assert AuditEntry.objects.count() == 1  # the test client's token


def test_director_patch_is_403_and_changes_nothing(api_client, director, manager):
    client = ClientFactory(owner=manager, name="PT Direktur")
    before = snapshot(client)

    response = patch_json(
        api_client.as_user(director), f"{URL}/{client.pk}", {"name": "PT Diubah"}
    )

    assert response.status_code == 403
    assert snapshot(client) == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "vip"}, "status"),
        ({"name": None}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"email": "nope"}, "email"),
        ({"phone": "+62 12"}, "phone"),
        ({"version": "one"}, "version"),
        ({"owner_id": 0}, "owner_id"),
    ],
)
def test_patch_refuses_bad_input_and_changes_nothing(
    api_client, manager, payload, field
):
    client = ClientFactory(owner=manager, name="PT Tetap")
    before = snapshot(client)

    response = patch_json(api_client.as_user(manager), f"{URL}/{client.pk}", payload)

    assert response.status_code == 422
    assert field in response.json()["fields"]
    assert snapshot(client) == before


def test_patch_custom_values_merges_codes(api_client, admin_user, manager):
    for code in ("tier", "note"):
        custom_fields.custom_field_create(
            actor=admin_user,
            object_type="parties.client",
            code=code,
            label=code,
            field_type="text",
        )
    client = ClientFactory(owner=manager, custom={"tier": "gold", "note": "keep"})

    response = patch_json(
        api_client.as_user(manager),
        f"{URL}/{client.pk}",
        {"custom": {"tier": "silver"}},
    )

    assert response.json()["custom"] == {"tier": "silver", "note": "keep"}


# ------------------------------------------------------------------ actions


def test_archive_and_restore(api_client, manager):
    client = ClientFactory(owner=manager)
    http = api_client.as_user(manager)

    archived = http.post(f"{URL}/{client.pk}/archive")
    listed = http.get(URL).json()["count"]
    restored = http.post(f"{URL}/{client.pk}/restore")

    assert (archived.status_code, archived.json()["is_archived"]) == (200, True)
    assert listed == 0
    assert (restored.status_code, restored.json()["is_archived"]) == (200, False)
    kinds = set(TimelineEntry.objects.values_list("kind", flat=True))
    assert kinds == {"client.archived", "client.restored"}


def test_archived_client_cannot_be_edited(api_client, manager):
    client = ClientFactory(owner=manager, name="PT Arsip", is_archived=True)

    response = patch_json(
        api_client.as_user(manager), f"{URL}/{client.pk}", {"name": "PT Hidup"}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "parties.client_archived"


def test_archive_of_another_managers_client_is_404(api_client, manager, other_manager):
    client = ClientFactory(owner=other_manager)

    response = api_client.as_user(manager).post(f"{URL}/{client.pk}/archive")

    assert response.status_code == 404
    client.refresh_from_db()
    assert client.is_archived is False


def test_merge_moves_records_to_the_survivor(api_client, head_of_sales, manager):
    survivor = ClientFactory(owner=manager, name="PT Utama")
    merged = ClientFactory(owner=manager, name="PT Utama (dobel)")
    ClientCounterpartyFactory(client=merged)

    response = post_json(
        api_client.as_user(head_of_sales),
        f"{URL}/{survivor.pk}/merge",
        {"merged_id": merged.pk},
    )

    assert response.status_code == 200
    assert response.json()["id"] == survivor.pk
    merged.refresh_from_db()
    assert (merged.merged_into_id, merged.is_archived) == (survivor.pk, True)
    assert ClientCounterparty.objects.get().client_id == survivor.pk


def test_merge_needs_the_permission_and_valid_ids(api_client, head_of_sales, manager):
    survivor = ClientFactory(owner=manager)
    merged = ClientFactory(owner=manager)

    refused = post_json(
        api_client.as_user(manager),
        f"{URL}/{survivor.pk}/merge",
        {"merged_id": merged.pk},
    )
    http = api_client.as_user(head_of_sales)
    itself = post_json(http, f"{URL}/{survivor.pk}/merge", {"merged_id": survivor.pk})
    missing = post_json(http, f"{URL}/{survivor.pk}/merge", {"merged_id": 999999})
    wrong_type = post_json(http, f"{URL}/{survivor.pk}/merge", {"merged_id": "x"})

    assert refused.status_code == 403
    assert (itself.status_code, itself.json()["code"]) == (
        409,
        "parties.merge_not_allowed",
    )
    assert missing.status_code == 404
    assert wrong_type.status_code == 422
    merged.refresh_from_db()
    assert merged.merged_into_id is None


# ------------------------------------------------------------------ timeline


def test_timeline_pages_newest_first_with_kind_filter(api_client, manager):
    client = ClientFactory(owner=manager)
    entries = [
        TimelineEntryFactory(client=client, kind=k)
        for k in ("note", "call", "note", "note", "call")
    ]
    http = api_client.as_user(manager)
    url = f"{URL}/{client.pk}/timeline"

    first = http.get(url, {"page_size": 2}).json()
    second = http.get(first["next"]).json()
    notes = http.get(url, {"kind": "note"}).json()
    both = http.get(url, {"kind": "note,call"}).json()

    assert [e["id"] for e in first["items"]] == [entries[4].pk, entries[3].pk]
    assert first["count"] == 5
    assert [e["id"] for e in second["items"]] == [entries[2].pk, entries[1].pk]
    assert [e["id"] for e in notes["items"]] == [
        entries[3].pk,
        entries[2].pk,
        entries[0].pk,
    ]
    assert (notes["count"], notes["next"], both["count"]) == (3, None, 5)


def test_timeline_of_another_managers_client_is_404(api_client, manager, other_manager):
    client = ClientFactory(owner=other_manager)

    response = api_client.as_user(manager).get(f"{URL}/{client.pk}/timeline")

    assert response.status_code == 404


def test_timeline_query_count_does_not_grow(
    api_client, manager, django_assert_num_queries
):
    client = ClientFactory(owner=manager)
    TimelineEntryFactory.create_batch(2, client=client, actor=manager)
    http = api_client.as_user(manager)
    url = f"{URL}/{client.pk}/timeline"
    http.get(url)
    with django_assert_num_queries(8) as few:
        assert len(http.get(url).json()["items"]) == 2
    TimelineEntryFactory.create_batch(10, client=client, actor=manager)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(http.get(url).json()["items"]) == 12


# ------------------------------------------------------------------ sub-resources


def test_link_and_list_counterparties(api_client, manager):
    client = ClientFactory(owner=manager)
    counterparty = CounterpartyFactory(created_by=manager, legal_name="PT Badan Hukum")
    http = api_client.as_user(manager)
    url = f"{URL}/{client.pk}/counterparties"

    linked = post_json(
        http,
        url,
        {
            "counterparty_id": counterparty.pk,
            "valid_from": "2024-01-01",
            "valid_to": "2024-12-31",
        },
    )
    overlapping = post_json(
        http, url, {"counterparty_id": counterparty.pk, "valid_from": "2024-06-01"}
    )
    reversed_period = post_json(
        http,
        url,
        {
            "counterparty_id": counterparty.pk,
            "valid_from": "2025-06-01",
            "valid_to": "2025-01-01",
        },
    )
    listed = http.get(url).json()
    on_day = http.get(url, {"on": "2025-03-01"}).json()

    assert linked.status_code == 201
    assert linked.json()["counterparty"]["legal_name"] == "PT Badan Hukum"
    assert (linked.json()["valid_from"], linked.json()["valid_to"]) == (
        "2024-01-01",
        "2024-12-31",
    )
    assert (overlapping.status_code, list(overlapping.json()["fields"])) == (
        422,
        ["valid_from"],
    )
    assert (reversed_period.status_code, list(reversed_period.json()["fields"])) == (
        422,
        ["valid_to"],
    )
    assert [link["id"] for link in listed["items"]] == [linked.json()["id"]]
    assert on_day["items"] == []
    assert ClientCounterparty.objects.count() == 1


def test_linking_to_another_managers_client_is_404(api_client, manager, other_manager):
    client = ClientFactory(owner=other_manager)
    counterparty = CounterpartyFactory(created_by=manager)

    response = post_json(
        api_client.as_user(manager),
        f"{URL}/{client.pk}/counterparties",
        {"counterparty_id": counterparty.pk},
    )

    assert response.status_code == 404
    assert ClientCounterparty.objects.count() == 0


def test_client_contacts_and_audit(api_client, manager):
    client = services.client_create(actor=manager, name="PT Kontak")
    role = ContactRoleFactory(client=client, role="Purchaser")
    ContactMethodFactory(contact=role.contact, value="+6281234567890")
    http = api_client.as_user(manager)

    contacts = http.get(f"{URL}/{client.pk}/contacts").json()
    history = http.get(f"{URL}/{client.pk}/audit").json()

    assert [(c["role"], c["contact"]["phones"]) for c in contacts["items"]] == [
        ("Purchaser", ["+6281234567890"])
    ]
    assert [e["action"] for e in history["items"]] == ["created"]
    assert history["items"][0]["actor"]["username"] == "manager"


def test_client_contacts_disappear_with_the_contacts_module(
    api_client, admin_user, manager
):
    client = ClientFactory(owner=manager)
    features.feature_set(code="contacts", enabled=False, actor=admin_user)

    response = api_client.as_user(manager).get(f"{URL}/{client.pk}/contacts")

    assert response.status_code == 404
    assert response.json()["code"] == "feature_disabled"


def test_sub_resources_of_another_managers_client_are_404(
    api_client, manager, other_manager
):
    client = ClientFactory(owner=other_manager)
    http = api_client.as_user(manager)

    for tail in ("counterparties", "contacts", "audit"):
        assert http.get(f"{URL}/{client.pk}/{tail}").status_code == 404


def test_idempotent_create_replays_and_creates_once(api_client, manager):
    http = api_client.as_user(manager)
    payload = {"name": "PT Sekali", "status": "lead"}

    first = post_json(http, URL, payload, **{"Idempotency-Key": "c-1"})
    second = post_json(http, URL, payload, **{"Idempotency-Key": "c-1"})
    reused = post_json(http, URL, {"name": "PT Lain"}, **{"Idempotency-Key": "c-1"})

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert (reused.status_code, reused.json()["code"]) == (
        422,
        "idempotency.key_reused",
    )
    assert Client.objects.count() == 1
