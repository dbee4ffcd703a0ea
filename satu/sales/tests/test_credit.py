"""The credit check on confirmation, currency against the contract, lots."""

from datetime import date
from decimal import Decimal

import pytest

from satu.billing import services as billing_services
from satu.core.testing.helpers import make_user
from satu.inventory.errors import LotRequired
from satu.inventory.tests.factories import make_product, receive
from satu.parties.tests.factories import CounterpartyFactory
from satu.sales import services
from satu.sales.errors import CreditLimitExceeded, CurrencyMismatch
from satu.sales.models import SalesOrder
from satu.sales.tests.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def accountant(db):
    return make_user("acc", role="administrator")


def _contract(accountant, world, **kwargs):
    return billing_services.contract_create(
        actor=accountant,
        number=kwargs.pop("number", "K-1"),
        kind="sale",
        counterparty_id=CounterpartyFactory().pk,
        client_id=world["client"].pk,
        currency=kwargs.pop("currency", "USD"),
        valid_from=date(2026, 1, 1),
        **kwargs,
    )


def test_over_the_limit_refused_then_overridden(
    manager, head_of_sales, accountant, world
):
    contract = _contract(accountant, world, credit_limit=Decimal("100"))
    first = make_order(manager, world, contract_id=contract.pk)  # 96.25
    services.sales_order_confirm(actor=manager, order_id=first.pk)
    second = make_order(manager, world, quantities=(1,), contract_id=contract.pk)
    with pytest.raises(CreditLimitExceeded) as exc:
        services.sales_order_confirm(actor=manager, order_id=second.pk)
    assert exc.value.code == "sales.credit_limit_exceeded"
    assert "over the credit limit" in str(exc.value)
    second.refresh_from_db()
    assert second.state == "draft"
    # A manager may not override even with a reason.
    with pytest.raises(CreditLimitExceeded):
        services.sales_order_confirm(
            actor=manager, order_id=second.pk, override_reason="known client"
        )
    world["client"].owner = head_of_sales
    world["client"].save()
    services.sales_order_confirm(
        actor=head_of_sales, order_id=second.pk, override_reason="known client"
    )
    second.refresh_from_db()
    assert second.state == "confirmed"
    assert second.credit_override_reason == "known client"
    from satu.core.audit import entries_for

    assert entries_for(second).filter(action="credit_override").count() == 1


def test_currency_mismatch_with_the_contract(manager, accountant, world):
    contract = _contract(accountant, world, currency="USD")
    with pytest.raises(CurrencyMismatch):
        make_order(manager, world, contract_id=contract.pk, currency="EUR")
    assert SalesOrder.objects.count() == 0


def test_lot_tracked_product_needs_a_lot(manager, keeper, world):
    tracked = make_product(sku="LOT-1", tracking="lot")
    receive(keeper, world["wh"], tracked, 10, lot_code="L1")
    order = services.sales_order_create(
        actor=manager,
        client_id=world["client"].pk,
        warehouse_id=world["wh"].pk,
        lines=[{"product_id": tracked.pk, "quantity": 2, "unit_price": "5"}],
    )
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    line = order.lines.get()
    with pytest.raises(LotRequired) as exc:
        services.sales_order_ship(actor=manager, order_id=order.pk)
    assert f"lots.{line.pk}" in exc.value.fields
    services.sales_order_ship(actor=manager, order_id=order.pk, lots={line.pk: "L1"})
    order.refresh_from_db()
    assert order.shipping_status == "full"


def test_contract_price_list_gives_the_price(manager, accountant, world):
    from satu.catalog.tests.factories import PriceListFactory, PriceListItemFactory

    special = PriceListFactory(name="Contract USD", currency="USD", priority=-5)
    PriceListItemFactory(
        price_list=special, product=world["products"][0], price=Decimal("9.99")
    )
    contract = _contract(accountant, world, price_list_id=special.pk)
    order = make_order(manager, world, contract_id=contract.pk)
    first, second = order.lines.order_by("position")
    assert first.unit_price == Decimal("9.99")
    assert first.price_explanation == "Price list Contract USD"
    assert second.unit_price == Decimal("25.00")  # not in the contract's list
