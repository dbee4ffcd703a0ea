"""Price lists and their items: validation, version check, nothing written
on failure."""

from datetime import date
from decimal import Decimal

import pytest

from satu.catalog import services
from satu.catalog.models import PriceList, PriceListItem
from satu.catalog.tests.factories import (
    PriceListFactory,
    ProductFactory,
    ProductUnitFactory,
)
from satu.core.errors import PermissionDenied, ValidationFailed, VersionConflict
from satu.parties.tests.factories import ClientGroupFactory

pytestmark = pytest.mark.django_db


def test_create_price_list_for_group(head_of_sales):
    group = ClientGroupFactory(name="Distributors")

    price_list = services.price_list_create(
        actor=head_of_sales,
        name="Distributor",
        currency="idr",
        client_group_id=group.pk,
        valid_from=date(2026, 1, 1),
        priority=5,
        discount_percent="2.5",
    )

    price_list.refresh_from_db()
    assert (price_list.currency, price_list.client_group_id, price_list.priority) == (
        "IDR",
        group.pk,
        5,
    )
    assert price_list.discount_percent == Decimal("2.5")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"currency": "XYZ"}, "currency"),
        ({"name": "retail"}, "name"),
        ({"client_group_id": 99999}, "client_group_id"),
        ({"valid_from": date(2026, 2, 1), "valid_to": date(2026, 1, 1)}, "valid_to"),
        ({"discount_percent": "101"}, "discount_percent"),
    ],
)
def test_create_refuses_bad_input(head_of_sales, changes, field):
    PriceListFactory(name="Retail")

    with pytest.raises(ValidationFailed) as info:
        services.price_list_create(
            actor=head_of_sales, **{"name": "New", "currency": "IDR", **changes}
        )

    assert field in info.value.fields
    assert PriceList.objects.count() == 1


def test_sales_manager_cannot_create(manager):
    with pytest.raises(PermissionDenied):
        services.price_list_create(actor=manager, name="X")


def test_update_version_and_currency_fixed_once_priced(head_of_sales, pcs):
    price_list = PriceListFactory(name="Retail")
    services.price_list_item_set(
        actor=head_of_sales,
        price_list_id=price_list.pk,
        product_id=ProductFactory(base_unit=pcs).pk,
        price="5000",
    )

    services.price_list_update(
        actor=head_of_sales, price_list_id=price_list.pk, version=1, priority=3
    )
    with pytest.raises(VersionConflict):
        services.price_list_update(
            actor=head_of_sales, price_list_id=price_list.pk, version=1, priority=4
        )
    with pytest.raises(ValidationFailed) as info:
        services.price_list_update(
            actor=head_of_sales, price_list_id=price_list.pk, currency="USD"
        )

    assert "currency" in info.value.fields
    price_list.refresh_from_db()
    assert (price_list.priority, price_list.version, price_list.currency) == (
        3,
        2,
        "IDR",
    )


def test_item_set_replaces_the_same_break(head_of_sales, pcs, box):
    product = ProductFactory(base_unit=pcs)
    ProductUnitFactory(product=product, unit=box, factor=12)
    price_list = PriceListFactory(currency="USD")

    for price in ("1.50", "1.25"):
        services.price_list_item_set(
            actor=head_of_sales,
            price_list_id=price_list.pk,
            product_id=product.pk,
            unit="box",
            min_quantity="10",
            price=price,
            discount_percent="3",
        )

    assert list(
        PriceListItem.objects.values_list(
            "unit__code", "min_quantity", "price", "discount_percent"
        )
    ) == [("box", Decimal("10"), Decimal("1.25"), Decimal("3"))]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"price": "1.005"}, "price"),  # USD has 2 decimals
        ({"price": "-1"}, "price"),
        ({"price": "abc"}, "price"),
        ({"min_quantity": "0"}, "min_quantity"),
        ({"min_quantity": "-3"}, "min_quantity"),
        ({"unit": "kg"}, "unit"),
        ({"discount_percent": "-1"}, "discount_percent"),
        ({"product_id": 999999}, "product_id"),
    ],
)
def test_item_set_refuses_bad_input_and_writes_nothing(
    head_of_sales, pcs, kg, changes, field
):
    product = ProductFactory(base_unit=pcs)
    price_list = PriceListFactory(currency="USD")
    args = {"product_id": product.pk, "price": "1.50", **changes}

    with pytest.raises(ValidationFailed) as info:
        services.price_list_item_set(
            actor=head_of_sales, price_list_id=price_list.pk, **args
        )

    assert field in info.value.fields
    assert PriceListItem.objects.count() == 0


def test_idr_price_with_decimals_refused(head_of_sales, pcs):
    product = ProductFactory(base_unit=pcs)
    price_list = PriceListFactory(currency="IDR")

    with pytest.raises(ValidationFailed) as info:
        services.price_list_item_set(
            actor=head_of_sales,
            price_list_id=price_list.pk,
            product_id=product.pk,
            price="5000.50",
        )

    assert info.value.fields == {"price": ["IDR prices have at most 0 decimals."]}
    assert PriceListItem.objects.count() == 0


def test_item_remove(head_of_sales, pcs):
    product = ProductFactory(base_unit=pcs)
    price_list = PriceListFactory()
    item = services.price_list_item_set(
        actor=head_of_sales,
        price_list_id=price_list.pk,
        product_id=product.pk,
        price="5000",
    )

    services.price_list_item_remove(
        actor=head_of_sales, price_list_id=price_list.pk, item_id=item.pk
    )

    assert PriceListItem.objects.count() == 0
