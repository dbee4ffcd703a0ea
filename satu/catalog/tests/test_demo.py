"""The demo catalog: believable, priced, fast."""

import time
from datetime import date
from decimal import Decimal

import pytest

from satu.catalog import demo, queries
from satu.catalog.models import KitComponent, PriceList, PriceListItem, Product
from satu.parties.tests.factories import ClientFactory, ClientGroupFactory

pytestmark = pytest.mark.django_db


def test_demo_catalog_is_priced_and_explained(admin_user):
    groups = {n: ClientGroupFactory(name=n) for n in ("Wholesale", "Distributor")}

    started = time.monotonic()
    summary = demo.load(actor=admin_user, seed=2024, client_groups=groups)
    seconds = time.monotonic() - started

    assert summary["products"] == Product.objects.count() == 500
    assert summary["price_items"] == PriceListItem.objects.count()
    assert seconds < 30
    assert set(Product.objects.values_list("kind", flat=True)) == {
        "goods",
        "service",
        "kit",
    }
    assert KitComponent.objects.count() == 3 + 4 + 5 + 6 + 7
    assert sorted(PriceList.objects.values_list("priority", flat=True)) == [0, 10, 20]

    product = (
        Product.objects.filter(kind="goods", units__unit__code="box")
        .order_by("sku")
        .first()
    )
    buyer = ClientFactory()
    buyer.groups.add(groups["Wholesale"])
    today = date.today()
    result = queries.price_for(
        client=buyer,
        product=product,
        quantity=Decimal(150),
        unit=product.base_unit.code,
        on_date=today,
        currency="IDR",
    )
    assert result.price_list_name == f"Wholesale {today.year}"
    assert "break 100+" in result.explanation
