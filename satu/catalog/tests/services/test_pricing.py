"""price_for: which list, which break, which discount, and why."""

from datetime import date
from decimal import Decimal

import pytest

from satu.catalog import queries
from satu.catalog.errors import NoPrice, UnknownUnit
from satu.catalog.tests.factories import (
    PriceListFactory,
    PriceListItemFactory,
    ProductFactory,
    ProductUnitFactory,
)
from satu.core.errors import ValidationFailed
from satu.parties.tests.factories import ClientFactory, ClientGroupFactory

pytestmark = pytest.mark.django_db
DAY = date(2026, 6, 1)


@pytest.fixture
def setup(pcs, box):
    """Retail for everyone; Wholesale 2026 for the wholesale group with
    breaks at 1, 100 and 10 boxes and 5 % off the whole list."""
    product = ProductFactory(sku="TEH-500", base_unit=pcs)
    ProductUnitFactory(product=product, unit=box, factor=Decimal("12"))
    wholesale_group = ClientGroupFactory(name="Wholesale")
    retail = PriceListFactory(name="Retail", priority=0)
    wholesale = PriceListFactory(
        name="Wholesale 2026",
        client_group=wholesale_group,
        priority=10,
        valid_from=date(2026, 1, 1),
        valid_to=date(2026, 12, 31),
        discount_percent=Decimal("5"),
    )
    PriceListItemFactory(price_list=retail, product=product, price=Decimal("5000"))
    PriceListItemFactory(price_list=wholesale, product=product, price=Decimal("4500"))
    PriceListItemFactory(
        price_list=wholesale,
        product=product,
        min_quantity=Decimal("100"),
        price=Decimal("4200"),
    )
    PriceListItemFactory(
        price_list=wholesale,
        product=product,
        unit=box,
        min_quantity=Decimal("10"),
        price=Decimal("48000"),
    )
    client = ClientFactory()
    client.groups.add(wholesale_group)
    return product, client


def quote(product, client, quantity, unit="pcs", on=DAY, currency="IDR"):
    return queries.price_for(
        client=client,
        product=product,
        quantity=quantity,
        unit=unit,
        on_date=on,
        currency=currency,
    )


def test_wholesale_client_gets_break_and_list_discount(setup):
    product, client = setup

    result = quote(product, client, "150")

    # 4200 − 5 % = 3990
    assert (result.price, result.gross_price, result.total) == (
        Decimal("3990"),
        Decimal("4200"),
        Decimal("598500"),
    )
    assert result.price_list_name == "Wholesale 2026"
    assert result.explanation == "Price list Wholesale 2026, break 100+, discount 5 %"


def test_below_the_break_the_base_price_applies(setup):
    product, client = setup

    result = quote(product, client, "99")

    assert result.price == Decimal("4275")  # 4500 − 5 %
    assert result.explanation == "Price list Wholesale 2026, discount 5 %"


def test_client_outside_the_group_and_anonymous_get_retail(setup):
    product, _client = setup

    for who in (ClientFactory(), None):
        result = quote(product, who, "150")
        assert (result.price, result.explanation) == (
            Decimal("5000"),
            "Price list Retail",
        )


def test_outside_validity_the_group_list_does_not_apply(setup):
    product, client = setup

    result = quote(product, client, "150", on=date(2027, 1, 1))

    assert result.price_list_name == "Retail"


def test_price_per_box_prefers_the_box_price(setup):
    product, client = setup

    result = quote(product, client, "10", unit="box")

    # 48000 − 5 % = 45600 per box
    assert (result.price, result.total) == (Decimal("45600"), Decimal("456000"))
    assert result.explanation == "Price list Wholesale 2026, break 10+, discount 5 %"


def test_boxes_below_box_break_are_priced_from_pieces(setup):
    product, client = setup

    result = quote(product, client, "9", unit="box")  # 108 pcs: the 100+ break

    assert result.price == Decimal("47880")  # 4200 × 12 − 5 %
    assert result.explanation == (
        "Price list Wholesale 2026, break 100 pcs+, discount 5 %"
    )


def test_item_discount_replaces_list_discount_and_rounds_per_currency(pcs):
    product = ProductFactory(base_unit=pcs)
    usd = PriceListFactory(name="Export", currency="USD")
    PriceListItemFactory(
        price_list=usd,
        product=product,
        price=Decimal("10.05"),
        discount_percent=Decimal("12.5"),
    )

    result = quote(product, None, "3", currency="USD")

    # 10.05 × 0.875 = 8.79375 → 8.79 (half even); 3 × 8.79 = 26.37
    assert (result.price, result.total) == (Decimal("8.79"), Decimal("26.37"))
    assert result.explanation == "Price list Export, discount 12.5 %"


def test_higher_priority_general_list_wins_over_group_list(setup):
    product, client = setup
    promo = PriceListFactory(name="Promo", priority=20)
    PriceListItemFactory(price_list=promo, product=product, price=Decimal("3000"))

    assert quote(product, client, "150").price_list_name == "Promo"


def test_no_price_in_currency(setup):
    product, client = setup

    with pytest.raises(NoPrice) as info:
        quote(product, client, "1", currency="USD")

    assert info.value.code == "catalog.no_price"


def test_inactive_list_is_ignored(pcs):
    product = ProductFactory(base_unit=pcs)
    PriceListItemFactory(price_list=PriceListFactory(is_active=False), product=product)

    with pytest.raises(NoPrice):
        quote(product, None, "1")


@pytest.mark.parametrize(
    ("kwargs", "field", "error"),
    [
        ({"quantity": "0"}, "quantity", ValidationFailed),
        ({"quantity": "-5"}, "quantity", ValidationFailed),
        ({"quantity": "1.0000001"}, "quantity", ValidationFailed),
        ({"quantity": "abc"}, "quantity", ValidationFailed),
        ({"unit": "kg"}, "unit", UnknownUnit),
        ({"currency": "XYZ"}, "currency", ValidationFailed),
    ],
)
def test_bad_input(setup, kwargs, field, error):
    product, client = setup
    args = {"quantity": "1", "unit": "pcs", "currency": "IDR", **kwargs}

    with pytest.raises(error) as info:
        quote(product, client, **args)

    assert field in info.value.fields
    assert info.value.http_status == 422
