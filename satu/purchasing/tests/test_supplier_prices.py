"""Supplier prices and the best price for a product and quantity."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from satu.core.errors import ValidationFailed, VersionConflict
from satu.purchasing import queries, services
from satu.purchasing.models import SupplierPrice
from satu.purchasing.tests.factories import SupplierFactory, SupplierPriceFactory

D = Decimal


def test_create_and_update(purchaser, supplier, goods):
    sp = services.supplier_price_create(
        actor=purchaser,
        supplier_id=supplier.pk,
        product_id=goods.pk,
        price="12.5",
        currency="usd",
        min_quantity="10",
        lead_time_days=7,
    )
    assert (sp.price, sp.currency, sp.min_quantity) == (D("12.5"), "USD", D("10"))
    sp = services.supplier_price_update(
        actor=purchaser, price_id=sp.pk, version=sp.version, price="11"
    )
    assert sp.price == D("11") and sp.version == 2
    with pytest.raises(VersionConflict):
        services.supplier_price_update(
            actor=purchaser, price_id=sp.pk, version=1, price="10"
        )
    assert SupplierPrice.objects.get().price == D("11")


@pytest.mark.parametrize(
    "field,kwargs",
    [
        ("price", {"price": "1.00001"}),
        ("price", {"price": "-1"}),
        ("min_quantity", {"min_quantity": "0"}),
        ("currency", {"currency": "EURO"}),
        ("valid_to", {"valid_from": "2026-02-01", "valid_to": "2026-01-01"}),
    ],
)
def test_bad_input(purchaser, supplier, goods, field, kwargs):
    from datetime import date

    for key in ("valid_from", "valid_to"):
        if key in kwargs:
            kwargs[key] = date.fromisoformat(kwargs[key])
    data = {"price": "1"} | kwargs
    with pytest.raises(ValidationFailed) as exc:
        services.supplier_price_create(
            actor=purchaser, supplier_id=supplier.pk, product_id=goods.pk, **data
        )
    assert field in exc.value.fields
    assert not SupplierPrice.objects.exists()


def test_best_price_by_quantity_break(company, goods):
    cheap = SupplierFactory(legal_name="PT Murah")
    fast = SupplierFactory(legal_name="PT Cepat")
    SupplierPriceFactory(supplier=fast, product=goods, price=D("100"), lead_time_days=2)
    SupplierPriceFactory(
        supplier=cheap,
        product=goods,
        price=D("80"),
        min_quantity=D("50"),
        lead_time_days=10,
    )
    quote = queries.best_supplier_price(product_id=goods.pk, quantity=10)
    assert (quote.supplier_id, quote.price) == (fast.pk, D("100"))
    assert "1 price(s) need a larger quantity" in quote.explanation
    quote = queries.best_supplier_price(product_id=goods.pk, quantity=50)
    assert (quote.supplier_id, quote.price) == (cheap.pk, D("80"))
    assert quote.explanation.startswith("PT Murah, 80 IDR from 50")
    assert "cheapest of 2 valid prices" in quote.explanation


def test_best_price_respects_validity_and_currency(company, goods, supplier):
    today = timezone.localdate()
    SupplierPriceFactory(
        supplier=supplier, product=goods, price=D("1"), valid_to=today - timedelta(1)
    )
    SupplierPriceFactory(supplier=supplier, product=goods, price=D("5"), currency="USD")
    SupplierPriceFactory(supplier=supplier, product=goods, price=D("70000"))
    quote = queries.best_supplier_price(product_id=goods.pk)
    assert (quote.price, quote.currency) == (D("70000"), "IDR")  # company currency
    quote = queries.best_supplier_price(product_id=goods.pk, currency="USD")
    assert quote.price == D("5")
    assert queries.best_supplier_price(product_id=goods.pk, currency="EUR") is None


def test_supplier_list(purchaser, supplier, goods, django_assert_num_queries):
    SupplierPriceFactory(supplier=supplier, product=goods)
    SupplierFactory(legal_name="Not a supplier")
    purchaser.has_perm("purchasing.view_supplierprice")  # permission cache
    with django_assert_num_queries(1):
        rows = list(queries.supplier_list(actor=purchaser))
    assert [(r.legal_name, r.price_count, r.order_count) for r in rows] == [
        ("PT Sumber Makmur", 1, 0)
    ]
