"""Test data for inventory: warehouses through the service (so their
locations exist), goods products, stock via receipts."""

from decimal import Decimal

from satu.catalog.tests.factories import ProductFactory
from satu.inventory import queries, services


def make_warehouse(actor, code="GDG", **kwargs):
    return services.warehouse_create(
        actor=actor, code=code, name=kwargs.pop("name", f"Warehouse {code}"), **kwargs
    )


def make_product(**kwargs):
    kwargs.setdefault("cost_price", Decimal("10"))
    return ProductFactory(**kwargs)


def receive(actor, warehouse, product, quantity, unit_cost=None, lot_code=""):
    """Post a receipt move supplier → stock."""
    return services.stock_move_post(
        actor=actor,
        product_id=product.pk,
        quantity=quantity,
        source_id=queries.virtual_location("supplier").pk,
        destination_id=warehouse.stock_location_id,
        unit_cost=unit_cost,
        lot_code=lot_code,
    )


def issue(actor, warehouse, product, quantity, lot_code="", destination="customer"):
    return services.stock_move_post(
        actor=actor,
        product_id=product.pk,
        quantity=quantity,
        source_id=warehouse.stock_location_id,
        destination_id=queries.virtual_location(destination).pk,
        lot_code=lot_code,
    )
