"""/api/v1/contacts, /client-groups and /channels."""

import json

import pytest

from satu.core import features
from satu.parties.models import (
    Channel,
    ClientGroup,
    Contact,
    ContactMethod,
    ContactRole,
)
from satu.parties.tests.factories import (
    ChannelFactory,
    ClientFactory,
    ClientGroupFactory,
    ContactFactory,
    ContactMethodFactory,
    ContactRoleFactory,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/contacts"


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


# ------------------------------------------------------------------ contacts


def test_create_contact_with_phones_emails_and_roles(api_client, manager):
    client = ClientFactory(owner=manager, name="PT Kontak")
    http = api_client.as_user(manager)

    response = post_json(
        http,
        URL,
        {
            "first_name": "Budi",
            "last_name": "Santoso",
            "position": "Purchasing",
            "phones": ["0812 3456 7890", "+62 21 555 0123"],
            "emails": ["Budi@Kontak.CO.ID"],
            "client_roles": [
                {"client_id": client.pk, "role": "Purchaser", "is_primary": True}
            ],
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["full_name"], body["phones"], body["emails"]) == (
        "Budi Santoso",
        ["+6281234567890", "+62215550123"],
        ["Budi@kontak.co.id"],
    )
    assert [
        (c["client_id"], c["client_name"], c["role"], c["is_primary"])
        for c in body["clients"]
    ] == [(client.pk, "PT Kontak", "Purchaser", True)]
    assert ContactRole.objects.get().client_id == client.pk


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "first_name"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"first_name": "A", "phones": ["12"]}, "phones"),
        ({"first_name": "A", "phones": "0812"}, "phones"),
        ({"first_name": "A", "phones": ["1" * 65]}, "phones.0"),
        ({"first_name": "A", "emails": ["not-an-email"]}, "emails"),
        ({"first_name": "A", "emails": [7]}, "emails.0"),
        (
            {"first_name": "A", "client_roles": [{"client_id": 999999}]},
            "client_roles.0.client_id",
        ),
        (
            {"first_name": "A", "client_roles": [{"role": "x"}]},
            "client_roles.0.client_id",
        ),
        ({"first_name": "A", "custom": {"nope": "1"}}, "custom.nope"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(
    api_client, manager, payload, field
):
    response = post_json(api_client.as_user(manager), URL, payload)

    assert response.status_code == 422
    assert field in response.json()["fields"]
    assert Contact.objects.count() == 0
    assert ContactMethod.objects.count() == 0


def test_contact_at_another_managers_client_cannot_be_created(
    api_client, manager, other_manager
):
    client = ClientFactory(owner=other_manager)

    response = post_json(
        api_client.as_user(manager),
        URL,
        {
            "first_name": "Budi",
            "client_roles": [{"client_id": client.pk}],
        },
    )

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["client_roles.0.client_id"]
    assert Contact.objects.count() == 0


def test_list_and_search_visible_contacts(api_client, manager, other_manager):
    mine = ContactRoleFactory(client=ClientFactory(owner=manager)).contact
    ContactMethodFactory(contact=mine, value="+6281299998888")
    mine.search_text = "person | 6281299998888 | 081299998888"
    mine.save()
    ContactRoleFactory(client=ClientFactory(owner=other_manager))
    http = api_client.as_user(manager)

    listed = http.get(URL).json()
    by_phone = http.get(URL, {"search": "0812-9999-8888"}).json()
    nothing = http.get(URL, {"search": "0000000"}).json()

    assert [c["id"] for c in listed["items"]] == [mine.pk]
    assert [c["id"] for c in by_phone["items"]] == [mine.pk]
    assert nothing["count"] == 0


def test_roles_at_invisible_clients_are_not_shown(api_client, manager, other_manager):
    contact = ContactFactory(first_name="Sari")
    ContactRoleFactory(
        contact=contact, client=ClientFactory(owner=manager, name="Mine")
    )
    ContactRoleFactory(
        contact=contact, client=ClientFactory(owner=other_manager, name="Secret")
    )

    body = api_client.as_user(manager).get(f"{URL}/{contact.pk}").json()

    assert [c["client_name"] for c in body["clients"]] == ["Mine"]


def test_list_query_count_does_not_grow(api_client, manager, django_assert_num_queries):
    client = ClientFactory(owner=manager)

    def add(n):
        for role in ContactRoleFactory.create_batch(n, client=client):
            ContactMethodFactory(contact=role.contact)
            ContactMethodFactory(contact=role.contact, kind="email", value="a@b.id")

    add(2)
    http = api_client.as_user(manager)
    http.get(URL)
    with django_assert_num_queries(8) as few:
        assert len(http.get(URL).json()["items"]) == 2
    add(10)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(http.get(URL).json()["items"]) == 12


def test_get_and_patch_a_contact(api_client, manager):
    contact = ContactRoleFactory(client=ClientFactory(owner=manager)).contact
    ContactMethodFactory(contact=contact, value="+62215550123")
    ContactMethodFactory(contact=contact, kind="email", value="old@x.co.id")
    http = api_client.as_user(manager)

    got = http.get(f"{URL}/{contact.pk}")
    patched = patch_json(
        http,
        f"{URL}/{contact.pk}",
        {"position": "Director", "phones": ["0812 1111 2222"], "version": 1},
    )
    stale = patch_json(http, f"{URL}/{contact.pk}", {"position": "Old", "version": 1})

    assert got.status_code == 200
    assert patched.status_code == 200
    body = patched.json()
    assert (body["position"], body["phones"], body["emails"], body["version"]) == (
        "Director",
        ["+6281211112222"],
        ["old@x.co.id"],
        2,
    )
    assert (stale.status_code, stale.json()["code"]) == (409, "version_conflict")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"first_name": ""}, "first_name"),
        ({"emails": ["bad"]}, "emails"),
        ({"phones": ["0"]}, "phones"),
        ({"position": "x" * 101}, "position"),
    ],
)
def test_patch_refuses_bad_input_and_changes_nothing(
    api_client, manager, payload, field
):
    contact = ContactRoleFactory(client=ClientFactory(owner=manager)).contact
    ContactMethodFactory(contact=contact, value="+62215550123")
    before = (contact.first_name, contact.position)

    response = patch_json(api_client.as_user(manager), f"{URL}/{contact.pk}", payload)

    assert response.status_code == 422
    assert field in response.json()["fields"]
    contact.refresh_from_db()
    assert (contact.version, contact.first_name, contact.position) == (1, *before)
    assert list(contact.methods.values_list("value", flat=True)) == ["+62215550123"]


def test_another_managers_contact_is_404(api_client, manager, other_manager):
    contact = ContactRoleFactory(client=ClientFactory(owner=other_manager)).contact
    http = api_client.as_user(manager)

    assert http.get(f"{URL}/{contact.pk}").status_code == 404
    assert patch_json(http, f"{URL}/{contact.pk}", {"position": "X"}).status_code == 404
    contact.refresh_from_db()
    assert contact.position == ""


def test_director_may_read_but_not_edit(api_client, director, manager):
    contact = ContactRoleFactory(client=ClientFactory(owner=manager)).contact
    http = api_client.as_user(director)

    assert http.get(f"{URL}/{contact.pk}").status_code == 200
    assert patch_json(http, f"{URL}/{contact.pk}", {"position": "X"}).status_code == 403
    assert post_json(http, URL, {"first_name": "X"}).status_code == 403
    assert Contact.objects.count() == 1


def test_link_a_contact_to_a_further_client(api_client, manager, other_manager):
    contact = ContactRoleFactory(client=ClientFactory(owner=manager)).contact
    second = ClientFactory(owner=manager, name="PT Kedua")
    theirs = ClientFactory(owner=other_manager)
    http = api_client.as_user(manager)
    url = f"{URL}/{contact.pk}/clients"

    linked = post_json(http, url, {"client_id": second.pk, "role": "Owner"})
    refused = post_json(http, url, {"client_id": theirs.pk})
    too_long = post_json(http, url, {"client_id": second.pk, "role": "x" * 101})

    assert linked.status_code == 201
    assert (linked.json()["client_name"], linked.json()["role"]) == (
        "PT Kedua",
        "Owner",
    )
    assert refused.status_code == 404
    assert too_long.status_code == 422
    assert ContactRole.objects.filter(contact=contact).count() == 2


def test_contacts_switched_off_are_404(api_client, admin_user, manager):
    features.feature_set(code="contacts", enabled=False, actor=admin_user)
    http = api_client.as_user(manager)

    listed = http.get(URL)
    created = post_json(http, URL, {"first_name": "Budi"})

    assert (listed.status_code, listed.json()["code"]) == (404, "feature_disabled")
    assert (created.status_code, created.json()["code"]) == (404, "feature_disabled")
    assert Contact.objects.count() == 0


def test_idempotent_contact_create(api_client, manager):
    http = api_client.as_user(manager)
    payload = {"first_name": "Ani", "emails": ["ani@x.co.id"]}

    first = post_json(http, URL, payload, **{"Idempotency-Key": "ani"})
    again = post_json(http, URL, payload, **{"Idempotency-Key": "ani"})

    assert again.json() == first.json()
    assert Contact.objects.count() == 1


# ------------------------------------------------------------------ groups, channels


def test_client_groups_list_and_create(api_client, head_of_sales, manager):
    ClientGroupFactory(name="Retail")
    created = post_json(
        api_client.as_user(head_of_sales),
        "/api/v1/client-groups",
        {"name": "Wholesale", "description": "Big buyers"},
    )
    duplicate = post_json(
        api_client.as_user(head_of_sales), "/api/v1/client-groups", {"name": "retail"}
    )
    refused = post_json(
        api_client.as_user(manager), "/api/v1/client-groups", {"name": "Mine"}
    )
    listed = api_client.as_user(manager).get("/api/v1/client-groups").json()

    assert created.status_code == 201
    assert created.json()["description"] == "Big buyers"
    assert (duplicate.status_code, list(duplicate.json()["fields"])) == (422, ["name"])
    assert refused.status_code == 403
    assert [g["name"] for g in listed["items"]] == ["Retail", "Wholesale"]
    assert ClientGroup.objects.count() == 2


def test_channels_list_and_create(api_client, admin_user, manager):
    parent = ChannelFactory(name="Online")
    http = api_client.as_user(admin_user)

    child = post_json(
        http, "/api/v1/channels", {"name": "Instagram", "parent_id": parent.pk}
    )
    unknown_parent = post_json(
        http, "/api/v1/channels", {"name": "X", "parent_id": 999999}
    )
    empty = post_json(http, "/api/v1/channels", {"name": ""})
    refused = post_json(api_client.as_user(manager), "/api/v1/channels", {"name": "Y"})
    listed = api_client.as_user(manager).get("/api/v1/channels").json()

    assert (child.status_code, child.json()["full_name"]) == (201, "Online / Instagram")
    assert (unknown_parent.status_code, list(unknown_parent.json()["fields"])) == (
        422,
        ["parent_id"],
    )
    assert empty.status_code == 422
    assert refused.status_code == 403
    assert {c["full_name"] for c in listed["items"]} == {"Online", "Online / Instagram"}
    assert Channel.objects.count() == 2
