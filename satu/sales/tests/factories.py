"""Test data for sales: a company, a warehouse with stock, priced and taxed
products, a client of the manager; orders made through the services."""

from datetime import date
from decimal import Decimal

from satu.catalog.tests.factories import (
    PriceListFactory,
    PriceListItemFactory,
    TaxRuleFactory,
)
from satu.inventory.tests.factories import make_product, make_warehouse, receive
from satu.parties.models import Company
from satu.parties.tests.factories import ClientFactory
from satu.sales import services


def make_company(**kwargs):
    kwargs.setdefault("code", "OWN")
    kwargs.setdefault("name", "Satu Trading")
    kwargs.setdefault("legal_name", "PT Satu Trading")
    kwargs.setdefault("currency", "USD")
    kwargs.setdefault("address", "Jl. Sudirman 1, Jakarta")
    kwargs.setdefault("tax_id", "01.234.567.8-901.000")
    return Company.objects.create(is_default=True, **kwargs)


def make_world(*, keeper, manager, stock=100, products=2):
    """A warehouse GDG, a 10 % tax, a USD price list, `products` goods with
    `stock` units each, and a client owned by `manager`."""
    company = make_company()
    wh = make_warehouse(keeper, "GDG")
    tax = TaxRuleFactory(name="VAT 10", rate=Decimal("10"))
    price_list = PriceListFactory(name="List USD", currency="USD")
    items = []
    for i in range(products):
        product = make_product(sku=f"P{i + 1:03d}", name=f"Product {i + 1}")
        PriceListItemFactory(
            price_list=price_list, product=product, price=Decimal("12.50") * (i + 1)
        )
        if stock:
            receive(keeper, wh, product, stock)
        items.append(product)
    client = ClientFactory(owner=manager, name="Toko Maju")
    return {
        "company": company,
        "wh": wh,
        "tax": tax,
        "price_list": price_list,
        "products": items,
        "client": client,
    }


def make_order(actor, world, quantities=(3, 2), **kwargs):
    lines = [
        {"product_id": p.pk, "quantity": q}
        for p, q in zip(world["products"], quantities, strict=False)
    ]
    kwargs.setdefault("order_date", date.today())
    return services.sales_order_create(
        actor=actor,
        client_id=world["client"].pk,
        lines=lines,
        warehouse_id=world["wh"].pk,
        **kwargs,
    )
