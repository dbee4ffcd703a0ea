from decimal import Decimal

import factory

from satu.catalog.models import (
    Category,
    PriceList,
    PriceListItem,
    Product,
    ProductUnit,
    Unit,
)


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"u{n}")
    name = factory.LazyAttribute(lambda o: o.code)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n:05d}")
    base_unit = factory.SubFactory(UnitFactory, code="pcs", name="Pieces")


class ProductUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductUnit

    product = factory.SubFactory(ProductFactory)
    unit = factory.SubFactory(UnitFactory, code="box", name="Box")
    factor = Decimal("12")


class PriceListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceList

    name = factory.Sequence(lambda n: f"Price list {n}")
    currency = "IDR"


class PriceListItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceListItem

    price_list = factory.SubFactory(PriceListFactory)
    product = factory.SubFactory(ProductFactory)
    unit = factory.LazyAttribute(lambda o: o.product.base_unit)
    min_quantity = Decimal("1")
    price = Decimal("1000")


class TaxRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.TaxRule"

    name = factory.Sequence(lambda n: f"VAT {n}")
    rate = Decimal("11")
