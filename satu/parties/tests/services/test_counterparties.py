from datetime import date

import pytest

from satu.core import features
from satu.core.errors import FeatureDisabled, ValidationFailed
from satu.parties import queries, services
from satu.parties.models import BankAccount, ClientCounterparty, Counterparty
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

NPWP = "013000666091000"


def test_creates_counterparty_linked_to_client_with_history(manager):
    client = ClientFactory(owner=manager)

    cp = services.counterparty_create(
        actor=manager,
        legal_name="PT Maju Jaya Tbk",
        tax_id="01.300.066.6-091.000",
        registration_address="Jl. Sudirman 1, Jakarta",
        client_id=client.pk,
        valid_from=date(2024, 1, 1),
        bank_accounts=[{"bank_name": "BCA", "account_number": "123-456-7890"}],
    )

    assert cp.tax_id == NPWP
    link = ClientCounterparty.objects.get(client=client)
    assert (link.counterparty, link.valid_from, link.valid_to) == (
        cp,
        date(2024, 1, 1),
        None,
    )
    account = BankAccount.objects.get(counterparty=cp)
    assert (account.account_number, account.is_default) == ("1234567890", True)
    client.refresh_from_db()
    assert NPWP in client.search_text
    assert client.timeline.filter(kind="counterparty.linked").exists()


def test_dated_legal_name_keeps_old_documents_right(manager):
    cp = services.counterparty_create(
        actor=manager, legal_name="CV Sinar", valid_from=date(2023, 1, 1)
    )

    services.counterparty_update(
        actor=manager,
        counterparty_id=cp.pk,
        legal_name="PT Sinar Abadi",
        effective_date=date(2025, 7, 1),
    )

    assert (
        queries.counterparty_details_on(cp, date(2024, 12, 31)).legal_name == "CV Sinar"
    )
    assert (
        queries.counterparty_details_on(cp, date(2025, 7, 1)).legal_name
        == "PT Sinar Abadi"
    )
    assert queries.counterparty_details_on(cp, date(2022, 1, 1)) is None


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"legal_name": ""}, "legal_name"),
        ({"legal_name": "PT X", "tax_id": "013000667091000"}, "tax_id"),
        ({"legal_name": "PT X", "country": "Indonesia"}, "country"),
        (
            {
                "legal_name": "PT X",
                "bank_accounts": [{"bank_name": "BCA", "account_number": "abc"}],
            },
            "account_number",
        ),
    ],
)
def test_refuses_bad_input_and_writes_nothing(manager, fields, error_field):
    with pytest.raises(ValidationFailed) as excinfo:
        services.counterparty_create(actor=manager, **fields)
    assert error_field in excinfo.value.fields
    assert Counterparty.objects.count() == 0


def test_refuses_a_second_counterparty_with_the_same_tax_id(manager):
    services.counterparty_create(actor=manager, legal_name="PT A", tax_id=NPWP)
    with pytest.raises(ValidationFailed) as excinfo:
        services.counterparty_create(actor=manager, legal_name="PT B", tax_id=NPWP)
    assert "tax_id" in excinfo.value.fields


def test_links_are_periods_that_must_not_overlap(manager):
    client = ClientFactory(owner=manager)
    cp = services.counterparty_create(actor=manager, legal_name="PT A")
    link = services.counterparty_link(
        actor=manager,
        client_id=client.pk,
        counterparty_id=cp.pk,
        valid_from=date(2024, 1, 1),
        valid_to=date(2024, 12, 31),
    )
    with pytest.raises(ValidationFailed):
        services.counterparty_link(
            actor=manager,
            client_id=client.pk,
            counterparty_id=cp.pk,
            valid_from=date(2024, 6, 1),
        )
    with pytest.raises(ValidationFailed):
        services.counterparty_link(
            actor=manager,
            client_id=client.pk,
            counterparty_id=cp.pk,
            valid_from=date(2025, 2, 1),
            valid_to=date(2025, 1, 1),
        )
    services.counterparty_link(
        actor=manager,
        client_id=client.pk,
        counterparty_id=cp.pk,
        valid_from=date(2025, 1, 1),
    )
    assert [
        lk.counterparty_id
        for lk in queries.client_counterparty_links(client=client, on=date(2024, 6, 1))
    ] == [cp.pk]
    assert (
        len(queries.client_counterparty_links(client=client, on=date(2025, 6, 1))) == 1
    )
    services.counterparty_link_end(
        actor=manager, link_id=link.pk, valid_to=date(2024, 6, 30)
    )
    assert queries.client_counterparty_links(client=client, on=date(2024, 8, 1)) == []


def test_switched_off_module_refuses_work(manager, admin_user):
    features.feature_set(code="counterparties", enabled=False, actor=admin_user)
    with pytest.raises(FeatureDisabled) as excinfo:
        services.counterparty_create(actor=manager, legal_name="PT A")
    assert excinfo.value.code == "feature_disabled"
    assert Counterparty.objects.count() == 0


def test_manager_sees_only_counterparties_of_own_clients(manager, other_manager):
    mine = services.counterparty_create(
        actor=manager, legal_name="Mine", client_id=ClientFactory(owner=manager).pk
    )
    services.counterparty_create(
        actor=other_manager,
        legal_name="Theirs",
        client_id=ClientFactory(owner=other_manager).pk,
    )
    assert list(queries.counterparty_list(actor=manager)) == [mine]
