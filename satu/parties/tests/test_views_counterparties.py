"""Counterparty list, card, edit form and bank accounts."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from satu.parties import services
from satu.parties.models import BankAccount, Counterparty, CounterpartyDetail
from satu.parties.tests.factories import (
    ClientCounterpartyFactory,
    ClientFactory,
    CounterpartyFactory,
)

pytestmark = pytest.mark.django_db

NPWP = "013000666091000"


def names_in(response) -> list[str]:
    return re.findall(
        r'<a href="/counterparties/\d+/">([^<]+)</a>', response.content.decode()
    )


def test_list_searches_by_legal_name_and_tax_id(client, head_of_sales):
    CounterpartyFactory(legal_name="PT Maju Tbk", tax_id=NPWP)
    CounterpartyFactory(legal_name="CV Sinar")
    client.force_login(head_of_sales)

    by_tax_id = client.get(reverse("counterparty_list"), {"q": "0130006"})
    by_name = client.get(reverse("counterparty_list"), {"q": "sinar"})

    assert names_in(by_tax_id) == ["PT Maju Tbk"]
    assert "01.300.066.6-091.000" in by_tax_id.content.decode()
    assert names_in(by_name) == ["CV Sinar"]


def test_manager_lists_only_counterparties_of_own_clients(
    client, manager, other_manager
):
    ClientCounterpartyFactory(
        client=ClientFactory(owner=manager), counterparty__legal_name="PT Mine"
    )
    ClientCounterpartyFactory(
        client=ClientFactory(owner=other_manager), counterparty__legal_name="PT Theirs"
    )
    client.force_login(manager)

    assert names_in(client.get(reverse("counterparty_list"))) == ["PT Mine"]


def test_list_query_count_does_not_grow(
    client, head_of_sales, django_assert_num_queries
):
    CounterpartyFactory(tax_id=NPWP)
    client.force_login(head_of_sales)
    client.get(reverse("counterparty_list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("counterparty_list"))
    for _i in range(20):
        CounterpartyFactory()

    with django_assert_num_queries(len(few)):
        response = client.get(reverse("counterparty_list"))
    assert len(names_in(response)) == 21


def test_card_shows_tax_id_history_bank_accounts_and_visible_clients(
    client, manager, other_manager
):
    mine = ClientFactory(owner=manager, name="PT Client Mine")
    cp = services.counterparty_create(
        actor=manager,
        legal_name="PT Lama",
        tax_id=NPWP,
        client_id=mine.pk,
        valid_from=date(2020, 1, 1),
        registration_address="Jl. Lama 1",
        bank_accounts=[{"bank_name": "BCA", "account_number": "1234567890"}],
    )
    services.counterparty_update(
        actor=manager,
        counterparty_id=cp.pk,
        legal_name="PT Baru",
        effective_date=date(2024, 7, 1),
    )
    ClientCounterpartyFactory(
        client=ClientFactory(owner=other_manager, name="PT Hidden"), counterparty=cp
    )
    client.force_login(manager)

    body = client.get(reverse("counterparty_detail", args=[cp.pk])).content.decode()

    assert "<h1>PT Baru</h1>" in body
    assert "01.300.066.6-091.000" in body
    assert "PT Lama" in body and "Jul 1, 2024" in body
    assert "BCA" in body and "1234567890" in body
    assert "PT Client Mine" in body
    assert "PT Hidden" not in body


def test_edit_with_effective_date_keeps_the_old_name_in_history(client, manager):
    cp = services.counterparty_create(
        actor=manager, legal_name="PT Lama", valid_from=date(2020, 1, 1)
    )
    client.force_login(manager)

    response = client.post(
        reverse("counterparty_edit", args=[cp.pk]),
        {
            "legal_name": "PT Baru",
            "tax_id": "",
            "country": "ID",
            "registration_address": "",
            "effective_from": "2024-07-01",
            "version": cp.version,
        },
    )

    assert response.status_code == 302
    assert list(
        CounterpartyDetail.objects.filter(counterparty=cp).values_list(
            "valid_from", "legal_name"
        )
    ) == [(date(2024, 7, 1), "PT Baru"), (date(2020, 1, 1), "PT Lama")]


def test_stale_edit_is_refused(client, manager):
    cp = services.counterparty_create(actor=manager, legal_name="PT Lama")
    stale = cp.version
    services.counterparty_update(
        actor=manager, counterparty_id=cp.pk, registration_address="Jl. Baru"
    )
    client.force_login(manager)

    response = client.post(
        reverse("counterparty_edit", args=[cp.pk]),
        {
            "legal_name": "PT Mine",
            "country": "ID",
            "version": stale,
        },
    )

    assert response.status_code == 409
    cp.refresh_from_db()
    assert cp.legal_name == "PT Lama"


def test_standalone_create_goes_to_the_card(client, manager):
    client.force_login(manager)

    response = client.post(
        reverse("counterparty_create"),
        {
            "legal_name": "PT Baru",
            "tax_id": NPWP,
            "country": "ID",
        },
    )

    cp = Counterparty.objects.get()
    assert response["Location"] == reverse("counterparty_detail", args=[cp.pk])
    assert cp.tax_id == NPWP


def test_add_bank_account_and_refuse_a_bad_number(client, manager):
    cp = services.counterparty_create(actor=manager, legal_name="PT Bank")
    client.force_login(manager)
    url = reverse("counterparty_bank_account_add", args=[cp.pk])

    ok = client.post(
        url,
        {"bank_name": "Mandiri", "account_number": "123 0099 8877", "currency": "IDR"},
    )
    bad = client.post(
        url, {"bank_name": "BRI", "account_number": "12-3", "currency": "IDR"}
    )

    assert ok.status_code == 302
    assert bad.status_code == 422
    assert "Enter a valid bank account number." in bad.content.decode()
    assert list(BankAccount.objects.values_list("bank_name", "account_number")) == [
        ("Mandiri", "12300998877")
    ]


def test_director_views_but_may_not_edit(client, director, manager):
    cp = services.counterparty_create(actor=manager, legal_name="PT Lama")
    client.force_login(director)

    card = client.get(reverse("counterparty_detail", args=[cp.pk]))
    assert card.status_code == 200
    assert 'name="bank_name"' not in card.content.decode()
    assert client.get(reverse("counterparty_edit", args=[cp.pk])).status_code == 403
    assert client.get(reverse("counterparty_create")).status_code == 403
    response = client.post(
        reverse("counterparty_bank_account_add", args=[cp.pk]),
        {"bank_name": "BCA", "account_number": "1234567890"},
    )
    assert response.status_code == 403
    assert BankAccount.objects.count() == 0


def test_another_managers_counterparty_is_not_found(client, manager, other_manager):
    cp = services.counterparty_create(actor=other_manager, legal_name="PT Theirs")
    client.force_login(manager)

    assert client.get(reverse("counterparty_detail", args=[cp.pk])).status_code == 404
    assert client.get(reverse("counterparty_edit", args=[cp.pk])).status_code == 404
