"""Test data for purchasing: suppliers, supplier prices, reorder points and
orders through the services (so numbers, taxes and audit are real)."""

from decimal import Decimal

import factory

from satu.parties.tests.factories import CounterpartyFactory
from satu.purchasing import services
from satu.purchasing.models import ReorderPoint, SupplierPrice


class SupplierFactory(CounterpartyFactory):
    legal_name = factory.Sequence(lambda n: f"PT Supplier {n}")


class SupplierPriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierPrice

    supplier = factory.SubFactory(SupplierFactory)
    product = factory.SubFactory("satu.catalog.tests.factories.ProductFactory")
    currency = "IDR"
    price = Decimal("1000")
    min_quantity = Decimal("1")


class ReorderPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReorderPoint

    product = factory.SubFactory("satu.catalog.tests.factories.ProductFactory")
    minimum = Decimal("10")
    maximum = Decimal("50")
    multiple = Decimal("1")


def make_order(actor, supplier, warehouse, lines, **kwargs):
    """A draft order; lines: [(product, quantity, unit_price or None)]."""
    return services.purchase_order_create(
        actor=actor,
        supplier_id=supplier.pk,
        warehouse_id=warehouse.pk,
        lines=[
            {"product_id": p.pk, "quantity": q}
            | ({"unit_price": price} if price is not None else {})
            for p, q, price in lines
        ],
        **kwargs,
    )
