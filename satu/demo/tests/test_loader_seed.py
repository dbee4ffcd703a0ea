"""The demo loader is deterministic and only loads into an empty database."""

import pytest
from django.db import transaction
from stdnum.id import npwp

from satu.billing.models import Invoice
from satu.core.models import SystemFlag, User
from satu.demo import loader
from satu.parties.models import Client, ContactMethod, Counterparty
from satu.sales.models import SalesOrder


def _snapshot():
    return (
        list(
            User.objects.order_by("pk").values_list(
                "username", "first_name", "last_name"
            )
        ),
        list(
            Client.objects.order_by("pk").values_list(
                "name", "status", "phone", "email", "custom", "owner__username"
            )
        ),
        list(Counterparty.objects.order_by("pk").values_list("legal_name", "tax_id")),
        list(ContactMethod.objects.order_by("pk").values_list("value", flat=True)),
        list(
            SalesOrder.objects.order_by("number").values_list(
                "number", "client__name", "order_date", "state", "total"
            )
        ),
        list(
            Invoice.objects.order_by("kind", "number").values_list(
                "number", "issue_date", "state", "amount_total", "amount_due"
            )
        ),
    )


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_company():
    snapshots = []
    for _ in range(2):
        with transaction.atomic():
            loader.load(clients=15)
            snapshots.append(_snapshot())
            transaction.set_rollback(True)

    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0][1]) == 15
    assert len(snapshots[0][4]) >= 40  # sales orders


@pytest.mark.django_db
def test_load_refuses_a_database_that_is_not_empty():
    User.objects.create_user("someone")

    with pytest.raises(loader.DemoRefused):
        loader.load(clients=3)

    assert User.objects.count() == 1
    assert not SystemFlag.objects.exists()


def test_npwp_numbers_carry_the_luhn_check_digit():
    assert loader.npwp_number("01312166", "091") == "013121660091000"
    assert npwp.is_valid(loader.npwp_number("02123456", "073", "001"))
