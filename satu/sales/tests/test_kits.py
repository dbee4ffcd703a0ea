"""Kits on sales orders: a kit line reserves, ships and counts as its
stocked components (the scarcest component decides how many whole kits
left); invoicing follows the kits shipped."""

from decimal import Decimal

import pytest

from satu.catalog.models import KitComponent, Product
from satu.catalog.tests.factories import PriceListItemFactory
from satu.core.books import check_books
from satu.inventory import queries as inventory_queries
from satu.inventory import services as inventory_services
from satu.inventory.errors import InsufficientStock, LotRequired
from satu.inventory.models import Reservation, StockMove
from satu.inventory.tests.factories import make_product, receive
from satu.sales import queries, services
from satu.sales.errors import OverInvoicing, OverShipment

pytestmark = pytest.mark.django_db


@pytest.fixture
def kit(world):
    """KIT-1 = 2 × P001 + 1 × P002 + an installation service."""
    a, b = world["products"]
    kit = make_product(sku="KIT-1", name="Starter kit", kind=Product.Kind.KIT)
    service = make_product(
        sku="SRV-1", name="Installation", kind=Product.Kind.SERVICE, cost_price=0
    )
    KitComponent.objects.create(kit=kit, component=a, quantity=2)
    KitComponent.objects.create(kit=kit, component=b, quantity=1)
    KitComponent.objects.create(kit=kit, component=service, quantity=1)
    PriceListItemFactory(price_list=world["price_list"], product=kit, price=40)
    return kit


def _order(manager, world, kit, quantity=3, **kwargs):
    return services.sales_order_create(
        actor=manager,
        client_id=world["client"].pk,
        warehouse_id=world["wh"].pk,
        lines=[{"product_id": kit.pk, "quantity": quantity}],
        **kwargs,
    )


def _on_hand(world, product):
    return inventory_queries.stock_availability(
        product_ids=[product.pk], warehouse_id=world["wh"].pk
    )[product.pk]


def test_confirm_reserves_components_and_availability_counts_kits(manager, world, kit):
    a, b = world["products"]
    order = _order(manager, world, kit)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    line = order.lines.get()
    reserved = dict(
        Reservation.objects.filter(origin_line_id=line.pk, state="active").values_list(
            "product_id", "quantity"
        )
    )
    assert reserved == {a.pk: Decimal(6), b.pk: Decimal(3)}
    lines = queries.sales_order_lines(order=order)
    avail = queries.sales_order_availability(order=order, lines=lines)[line.pk]
    # 100 of each: 50 kits on hand (A is scarcer); 6 A and 3 B reserved → 3
    # kits reserved, 47 available, all 3 held by this line.
    assert avail.on_hand == 50
    assert avail.reserved == 3
    assert avail.available == 47
    assert avail.reserved_for_line == 3


def test_ship_and_invoice_a_kit(manager, world, kit):
    a, b = world["products"]
    order = _order(manager, world, kit)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    transfer = services.sales_order_ship(actor=manager, order_id=order.pk)
    moved = dict(
        StockMove.objects.filter(transfer_id=transfer.pk).values_list(
            "product_id", "quantity"
        )
    )
    assert moved == {a.pk: Decimal(6), b.pk: Decimal(3)}
    assert _on_hand(world, a).on_hand == 94
    assert _on_hand(world, b).on_hand == 97
    assert _on_hand(world, a).reserved == 0
    order.refresh_from_db()
    line = order.lines.get()
    assert line.shipped_quantity == 3
    assert order.shipping_status == "full"
    invoice = services.sales_order_invoice(actor=manager, order_id=order.pk)
    assert [(li.product_id, li.quantity) for li in invoice.lines.all()] == [
        (kit.pk, Decimal(3))
    ]
    order.refresh_from_db()
    assert order.state == "done"
    assert check_books() == {"billing": [], "inventory": []}


def test_partial_ship_counts_whole_kits_and_refuses_more(manager, world, kit):
    order = _order(manager, world, kit)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    line = order.lines.get()
    services.sales_order_ship(actor=manager, order_id=order.pk, quantities={line.pk: 1})
    line.refresh_from_db()
    assert line.shipped_quantity == 1
    with pytest.raises(OverShipment) as exc:
        services.sales_order_ship(
            actor=manager, order_id=order.pk, quantities={line.pk: 3}
        )
    assert f"quantities.{line.pk}" in exc.value.fields
    # Only the shipped kit can be invoiced.
    with pytest.raises(OverInvoicing):
        services.sales_order_invoice(
            actor=manager, order_id=order.pk, quantities={line.pk: 2}
        )
    services.sales_order_invoice(actor=manager, order_id=order.pk)
    line.refresh_from_db()
    assert line.invoiced_quantity == 1


def test_uneven_delivery_counts_the_scarcest_component(
    manager, keeper, world, kit, django_capture_on_commit_callbacks
):
    """A two-step delivery where the warehouse sends fewer of one component:
    the order counts the whole kits that left."""
    a, b = world["products"]
    order = _order(manager, world, kit)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    transfer = services.sales_order_ship(
        actor=manager, order_id=order.pk, one_step=False
    )
    rows = {li.product_id: li for li in transfer.lines.all()}
    assert {p: li.quantity for p, li in rows.items()} == {
        a.pk: Decimal(6),
        b.pk: Decimal(3),
    }
    # 5 of A (2.5 kits' worth) and all 3 of B: 2 whole kits left (the
    # order hears of it through TransferDone, after the commit).
    with django_capture_on_commit_callbacks(execute=True):
        inventory_services.transfer_done(
            actor=keeper, transfer_id=transfer.pk, quantities={rows[a.pk].pk: 5}
        )
    line = order.lines.get()
    assert line.shipped_quantity == 2
    order.refresh_from_db()
    assert order.shipping_status == "partial"
    # The backorder holds the missing A; shipping "the rest" sends nothing
    # more than the kits need.
    backorder = inventory_queries.transfer_list(
        origin_type="sales.order", origin_id=order.pk
    ).get(state="confirmed")
    assert [(li.product_id, li.quantity) for li in backorder.lines.all()] == [
        (a.pk, Decimal(1))
    ]
    with django_capture_on_commit_callbacks(execute=True):
        inventory_services.transfer_done(actor=keeper, transfer_id=backorder.pk)
    line.refresh_from_db()
    assert line.shipped_quantity == 3
    assert _on_hand(world, a).on_hand == 94
    assert _on_hand(world, b).on_hand == 97
    assert check_books() == {"billing": [], "inventory": []}


def test_evening_out_an_uneven_delivery(
    manager, keeper, world, kit, django_capture_on_commit_callbacks
):
    """Cancel the backorder of an uneven delivery, then ship the rest from
    the order: only the missing component goes."""
    a, b = world["products"]
    order = _order(manager, world, kit)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    transfer = services.sales_order_ship(
        actor=manager, order_id=order.pk, one_step=False
    )
    rows = {li.product_id: li for li in transfer.lines.all()}
    with django_capture_on_commit_callbacks(execute=True):
        inventory_services.transfer_done(
            actor=keeper, transfer_id=transfer.pk, quantities={rows[a.pk].pk: 5}
        )
    backorder = inventory_queries.transfer_list(
        origin_type="sales.order", origin_id=order.pk
    ).get(state="confirmed")
    with django_capture_on_commit_callbacks(execute=True):
        inventory_services.transfer_cancel(actor=keeper, transfer_id=backorder.pk)
    rest = services.sales_order_ship(actor=manager, order_id=order.pk)
    assert [(li.product_id, li.quantity) for li in rest.lines.all()] == [
        (a.pk, Decimal(1))
    ]
    line = order.lines.get()
    assert line.shipped_quantity == 3
    assert _on_hand(world, a).on_hand == 94
    assert _on_hand(world, b).on_hand == 97


def test_missing_component_refuses_the_confirmation(manager, keeper, world, kit):
    a, _b = world["products"]
    order = _order(manager, world, kit, quantity=60)  # needs 120 of A
    with pytest.raises(InsufficientStock) as exc:
        services.sales_order_confirm(actor=manager, order_id=order.pk)
    assert a.sku in str(exc.value.message) or any(
        s["product_id"] == a.pk for s in exc.value.shortages
    )
    order.refresh_from_db()
    assert order.state == "draft"
    assert not Reservation.objects.filter(origin_id=order.pk).exists()


def test_tracked_component_needs_a_two_step_delivery(
    manager, keeper, world, kit, django_capture_on_commit_callbacks
):
    tracked = make_product(sku="LOT-1", tracking=Product.Tracking.LOT)
    receive(keeper, world["wh"], tracked, 10, lot_code="L1")
    KitComponent.objects.create(kit=kit, component=tracked, quantity=1)
    order = _order(manager, world, kit, quantity=1)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    line = order.lines.get()
    with pytest.raises(LotRequired) as exc:
        services.sales_order_ship(actor=manager, order_id=order.pk)
    assert f"lots.{line.pk}" in exc.value.fields
    assert not StockMove.objects.filter(origin_id=order.pk).exists()
    transfer = services.sales_order_ship(
        actor=manager, order_id=order.pk, one_step=False
    )
    lot_line = transfer.lines.get(product=tracked)
    with django_capture_on_commit_callbacks(execute=True):
        inventory_services.transfer_done(
            actor=keeper, transfer_id=transfer.pk, lots={lot_line.pk: "L1"}
        )
    line.refresh_from_db()
    assert line.shipped_quantity == 1


def test_order_screen_offers_the_kit_for_shipping(client, manager, world, kit):
    order = _order(manager, world, kit, quantity=2)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    line = order.lines.get()
    client.force_login(manager)
    page = client.get(f"/sales-orders/{order.pk}/").content.decode()
    assert f'name="ship_{line.pk}"' in page
    response = client.post(
        f"/sales-orders/{order.pk}/ship/",
        {f"ship_{line.pk}": "1", "warehouse": world["wh"].pk, "one_step": "1"},
    )
    assert response.status_code in (200, 302)
    line.refresh_from_db()
    assert line.shipped_quantity == 1
