"""/api/v1/counterparties: legal entities, tax ids, bank accounts and the
dated history of legal names."""

import json

import pytest

from satu.core import features
from satu.parties.models import BankAccount, ClientCounterparty, Counterparty
from satu.parties.tests.factories import (
    ClientCounterpartyFactory,
    ClientFactory,
    CounterpartyFactory,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/counterparties"
NPWP = "013000666091000"
# The check digit is the 9th digit (the last three are the branch code, so
# 013000666091001 is a valid NPWP of branch 001).
BAD_NPWP = "013000667091000"
BRANCH_NPWP = "013000666091001"


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


def test_create_with_tax_id_client_link_and_bank_account(api_client, manager):
    client = ClientFactory(owner=manager)
    http = api_client.as_user(manager)

    response = post_json(
        http,
        URL,
        {
            "legal_name": "PT Maju Jaya Tbk",
            "tax_id": "01.300.066.6-091.000",
            "registration_address": "Jl. Sudirman 1, Jakarta",
            "valid_from": "2024-01-01",
            "client_id": client.pk,
            "bank_accounts": [{"bank_name": "BCA", "account_number": "123-456-7890"}],
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["tax_id"], body["country"]) == (NPWP, "ID")
    assert body["bank_accounts"] == [
        {
            "id": BankAccount.objects.get().pk,
            "bank_name": "BCA",
            "account_number": "1234567890",
            "currency": "IDR",
            "is_default": True,
        }
    ]
    assert body["details"] == [
        {
            "valid_from": "2024-01-01",
            "legal_name": "PT Maju Jaya Tbk",
            "registration_address": "Jl. Sudirman 1, Jakarta",
        }
    ]
    link = ClientCounterparty.objects.get()
    assert (link.client_id, str(link.valid_from)) == (client.pk, "2024-01-01")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "legal_name"),
        ({"legal_name": ""}, "legal_name"),
        ({"legal_name": "x" * 256}, "legal_name"),
        ({"legal_name": "PT X", "tax_id": BAD_NPWP}, "tax_id"),
        ({"legal_name": "PT X", "tax_id": "abc"}, "tax_id"),
        ({"legal_name": "PT X", "country": "IDN"}, "country"),
        ({"legal_name": "PT X", "country": "1D"}, "country"),
        ({"legal_name": "PT X", "valid_from": "2024-02-30"}, "valid_from"),
        (
            {
                "legal_name": "PT X",
                "bank_accounts": [{"bank_name": "BCA", "account_number": "12"}],
            },
            "account_number",
        ),
        (
            {"legal_name": "PT X", "bank_accounts": [{"bank_name": "BCA"}]},
            "bank_accounts.0.account_number",
        ),
        ({"legal_name": "PT X", "custom": {"nope": "1"}}, "custom.nope"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(
    api_client, manager, payload, field
):
    response = post_json(api_client.as_user(manager), URL, payload)

    assert response.status_code == 422
    assert field in response.json()["fields"]
    assert Counterparty.objects.count() == 0
    assert BankAccount.objects.count() == 0


def test_branch_npwp_is_accepted(api_client, manager):
    response = post_json(
        api_client.as_user(manager),
        URL,
        {"legal_name": "PT Cabang", "tax_id": BRANCH_NPWP},
    )

    assert (response.status_code, response.json()["tax_id"]) == (201, BRANCH_NPWP)


def test_tax_id_registered_twice_is_refused(api_client, manager):
    http = api_client.as_user(manager)
    post_json(http, URL, {"legal_name": "PT Satu", "tax_id": NPWP})

    response = post_json(http, URL, {"legal_name": "PT Dua", "tax_id": NPWP})

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["tax_id"]
    assert Counterparty.objects.count() == 1


def test_create_linked_to_another_managers_client_is_404(
    api_client, manager, other_manager
):
    client = ClientFactory(owner=other_manager)

    response = post_json(
        api_client.as_user(manager), URL, {"legal_name": "PT X", "client_id": client.pk}
    )

    assert response.status_code == 404
    assert Counterparty.objects.count() == 0


def test_director_may_not_create(api_client, director):
    response = post_json(api_client.as_user(director), URL, {"legal_name": "PT X"})

    assert response.status_code == 403
    assert Counterparty.objects.count() == 0


def test_list_shows_visible_counterparties_with_search(
    api_client, manager, other_manager
):
    mine = ClientCounterpartyFactory(
        client=ClientFactory(owner=manager),
        counterparty=CounterpartyFactory(legal_name="PT Punya Saya", tax_id=NPWP),
    ).counterparty
    ClientCounterpartyFactory(
        client=ClientFactory(owner=other_manager),
        counterparty=CounterpartyFactory(legal_name="PT Punya Orang"),
    )
    http = api_client.as_user(manager)

    listed = http.get(URL).json()
    by_tax_id = http.get(URL, {"search": "0130006"}).json()

    assert [c["id"] for c in listed["items"]] == [mine.pk]
    assert [c["id"] for c in by_tax_id["items"]] == [mine.pk]


def test_list_query_count_does_not_grow(api_client, manager, django_assert_num_queries):
    CounterpartyFactory.create_batch(2, created_by=manager)
    http = api_client.as_user(manager)
    http.get(URL)
    with django_assert_num_queries(6) as few:
        assert len(http.get(URL).json()["items"]) == 2
    CounterpartyFactory.create_batch(10, created_by=manager)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(http.get(URL).json()["items"]) == 12


def test_another_managers_counterparty_is_404(api_client, manager, other_manager):
    theirs = ClientCounterpartyFactory(client=ClientFactory(owner=other_manager))
    http = api_client.as_user(manager)
    url = f"{URL}/{theirs.counterparty_id}"

    assert http.get(url).status_code == 404
    assert patch_json(http, url, {"legal_name": "PT Dibajak"}).status_code == 404
    theirs.counterparty.refresh_from_db()
    assert theirs.counterparty.legal_name.startswith("PT Entity")


def test_new_legal_name_is_dated_and_history_kept(api_client, manager):
    http = api_client.as_user(manager)
    created = post_json(
        http, URL, {"legal_name": "CV Lama", "valid_from": "2020-01-01"}
    )
    url = f"{URL}/{created.json()['id']}"

    changed = patch_json(
        http,
        url,
        {"legal_name": "PT Baru", "effective_date": "2025-07-01", "version": 1},
    )
    stale = patch_json(http, url, {"legal_name": "PT Telat", "version": 1})

    assert changed.status_code == 200
    assert changed.json()["legal_name"] == "PT Baru"
    assert [(d["valid_from"], d["legal_name"]) for d in changed.json()["details"]] == [
        ("2025-07-01", "PT Baru"),
        ("2020-01-01", "CV Lama"),
    ]
    assert (stale.status_code, stale.json()["code"]) == (409, "version_conflict")
    assert Counterparty.objects.get().legal_name == "PT Baru"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"tax_id": BAD_NPWP}, "tax_id"),
        ({"legal_name": ""}, "legal_name"),
        ({"effective_date": "tomorrow"}, "effective_date"),
        ({"country": "Indonesia"}, "country"),
    ],
)
def test_patch_refuses_bad_input_and_changes_nothing(
    api_client, manager, payload, field
):
    counterparty = CounterpartyFactory(created_by=manager, legal_name="PT Tetap")

    response = patch_json(
        api_client.as_user(manager), f"{URL}/{counterparty.pk}", payload
    )

    assert response.status_code == 422
    assert field in response.json()["fields"]
    counterparty.refresh_from_db()
    assert (counterparty.legal_name, counterparty.tax_id, counterparty.version) == (
        "PT Tetap",
        "",
        1,
    )


def test_add_bank_account(api_client, manager):
    counterparty = CounterpartyFactory(created_by=manager)
    http = api_client.as_user(manager)
    url = f"{URL}/{counterparty.pk}/bank-accounts"

    first = post_json(
        http, url, {"bank_name": "Mandiri", "account_number": "1234567890123"}
    )
    iban = post_json(
        http,
        url,
        {
            "bank_name": "Deutsche Bank",
            "currency": "EUR",
            "account_number": "DE89 3704 0044 0532 0130 00",
            "is_default": True,
        },
    )
    bad = post_json(
        http, url, {"bank_name": "X", "account_number": "DE00 0000", "currency": "EU"}
    )

    assert first.status_code == 201
    assert (iban.status_code, iban.json()["account_number"]) == (
        201,
        "DE89370400440532013000",
    )
    assert bad.status_code == 422
    assert sorted(bad.json()["fields"]) == ["currency"]
    defaults = dict(BankAccount.objects.values_list("bank_name", "is_default"))
    assert defaults == {"Mandiri": False, "Deutsche Bank": True}


def test_bank_account_with_bad_number_is_refused(api_client, manager):
    counterparty = CounterpartyFactory(created_by=manager)

    response = post_json(
        api_client.as_user(manager),
        f"{URL}/{counterparty.pk}/bank-accounts",
        {"bank_name": "X", "account_number": "DE00 0000 0000"},
    )

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["account_number"]
    assert BankAccount.objects.count() == 0


def test_counterparties_switched_off_are_404(api_client, admin_user, manager):
    client = ClientFactory(owner=manager)
    features.feature_set(code="counterparties", enabled=False, actor=admin_user)
    http = api_client.as_user(manager)

    listed = http.get(URL)
    links = http.get(f"/api/v1/clients/{client.pk}/counterparties")

    assert (listed.status_code, listed.json()["code"]) == (404, "feature_disabled")
    assert (links.status_code, links.json()["code"]) == (404, "feature_disabled")
