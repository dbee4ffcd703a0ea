"""Sales order services: create, confirm (credit, reservation), ship,
invoice, cancel, and the bad input each refuses without changing anything."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from satu.core.errors import ValidationFailed, VersionConflict
from satu.inventory import queries as inventory_queries
from satu.inventory.errors import InsufficientStock
from satu.sales import services
from satu.sales.errors import (
    BadState,
    CancelRefused,
    InvalidPrice,
    OverInvoicing,
    OverShipment,
)
from satu.sales.models import SalesOrder, SalesOrderLine
from satu.sales.tests.factories import make_order

pytestmark = pytest.mark.django_db


def _available(world, i=0):
    p = world["products"][i]
    return inventory_queries.stock_availability(
        product_ids=[p.pk], warehouse_id=world["wh"].pk
    )[p.pk]


def test_create_prices_taxes_and_totals(manager, world):
    order = make_order(manager, world)
    lines = list(order.lines.order_by("position"))
    assert order.number.startswith("SO-")
    assert [line.unit_price for line in lines] == [Decimal("12.50"), Decimal("25.00")]
    assert lines[0].price_explanation == "Price list List USD"
    assert lines[0].tax_rate == Decimal("10")
    # 3 × 12.50 + 2 × 25 = 87.50; tax 8.75
    assert order.untaxed == Decimal("87.50")
    assert order.tax == Decimal("8.75")
    assert order.total == Decimal("96.25")
    assert order.state == "draft"
    assert order.client.timeline.filter(kind="sales.order_created").count() == 1


@pytest.mark.parametrize(
    "line, field, code",
    [
        ({"quantity": 0}, "lines.0.quantity", "validation_error"),
        ({"quantity": -1}, "lines.0.quantity", "validation_error"),
        ({"quantity": 1, "unit": "crate"}, "lines.0.unit", "validation_error"),
        (
            {"quantity": 1, "unit_price": "1.234"},
            "lines.0.unit_price",
            InvalidPrice.code,
        ),
    ],
)
def test_bad_lines_refused_and_nothing_written(manager, world, line, field, code):
    with pytest.raises(ValidationFailed) as exc:
        services.sales_order_create(
            actor=manager,
            client_id=world["client"].pk,
            lines=[{"product_id": world["products"][0].pk, **line}],
        )
    assert field in exc.value.fields
    assert exc.value.code == code
    assert SalesOrder.objects.count() == 0


def test_external_id_returns_the_existing_order(manager, world):
    first = make_order(manager, world, external_id="SHOP-1")
    again = make_order(manager, world, quantities=(9,), external_id="SHOP-1")
    assert again.pk == first.pk and again.created is False
    assert SalesOrder.objects.count() == 1


def test_confirm_reserves_stock(manager, world):
    order = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    order.refresh_from_db()
    assert order.state == "confirmed"
    assert _available(world).reserved == Decimal("3")
    assert _available(world).available == Decimal("97")


def test_confirm_short_stock_refused_unless_backorder(manager, world):
    order = make_order(manager, world, quantities=(500, 1))
    with pytest.raises(InsufficientStock):
        services.sales_order_confirm(actor=manager, order_id=order.pk)
    order.refresh_from_db()
    assert order.state == "draft" and _available(world).reserved == 0
    services.sales_order_confirm(
        actor=manager, order_id=order.pk, without_reservation=True
    )
    order.refresh_from_db()
    assert order.state == "confirmed" and order.without_reservation
    assert _available(world).reserved == 0


def test_stale_version_is_a_conflict(manager, world):
    order = make_order(manager, world)
    with pytest.raises(VersionConflict):
        services.sales_order_confirm(
            actor=manager, order_id=order.pk, version=order.version + 1
        )
    order.refresh_from_db()
    assert order.state == "draft"


def test_partial_ship_then_rest_then_over_shipment(manager, world):
    order = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    first, second = order.lines.order_by("position")
    services.sales_order_ship(
        actor=manager, order_id=order.pk, quantities={first.pk: 1}
    )
    order.refresh_from_db()
    first.refresh_from_db()
    assert order.state == "processing" and order.shipping_status == "partial"
    assert first.shipped_quantity == Decimal("1")
    assert _available(world).on_hand == Decimal("99")
    assert _available(world).reserved == Decimal("2")
    with pytest.raises(OverShipment) as exc:
        services.sales_order_ship(
            actor=manager, order_id=order.pk, quantities={first.pk: 3}
        )
    assert f"quantities.{first.pk}" in exc.value.fields
    assert _available(world).on_hand == Decimal("99")
    services.sales_order_ship(actor=manager, order_id=order.pk)
    order.refresh_from_db()
    assert order.shipping_status == "full"
    assert _available(world).on_hand == Decimal("97")
    assert _available(world).reserved == 0


def test_invoice_only_what_was_shipped(manager, world):
    order = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    first, second = order.lines.order_by("position")
    services.sales_order_ship(
        actor=manager, order_id=order.pk, quantities={first.pk: 2}
    )
    with pytest.raises(OverInvoicing):
        services.sales_order_invoice(
            actor=manager, order_id=order.pk, quantities={first.pk: 3}
        )
    invoice = services.sales_order_invoice(actor=manager, order_id=order.pk)
    assert invoice.state == "posted" and invoice.number
    # 2 × 12.50 = 25.00 + 10 % tax
    assert invoice.amount_untaxed == Decimal("25.00")
    assert invoice.amount_total == Decimal("27.50")
    order.refresh_from_db()
    assert order.invoice_status == "partial"
    services.sales_order_ship(actor=manager, order_id=order.pk)
    services.sales_order_invoice(actor=manager, order_id=order.pk)
    order.refresh_from_db()
    assert order.state == "done"
    assert order.invoiced_amount == order.total


def test_invoice_before_delivery(manager, world):
    order = make_order(manager, world, invoice_before_delivery=True)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    invoice = services.sales_order_invoice(actor=manager, order_id=order.pk)
    assert invoice.amount_total == order.total


def test_cancel_releases_and_refuses_after_shipping(manager, world):
    order = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    services.sales_order_cancel(actor=manager, order_id=order.pk, reason="client")
    order.refresh_from_db()
    assert order.state == "cancelled" and _available(world).reserved == 0
    with pytest.raises(BadState):
        services.sales_order_confirm(actor=manager, order_id=order.pk)
    with pytest.raises(BadState):
        services.sales_order_ship(actor=manager, order_id=order.pk)
    with pytest.raises(BadState):
        services.sales_order_invoice(actor=manager, order_id=order.pk)
    other = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=other.pk)
    services.sales_order_ship(actor=manager, order_id=other.pk)
    with pytest.raises(CancelRefused):
        services.sales_order_cancel(actor=manager, order_id=other.pk)


def test_two_step_delivery_updates_order_when_done(
    manager, keeper, world, django_capture_on_commit_callbacks
):
    from satu.inventory import services as inventory_services

    order = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    transfer = services.sales_order_ship(
        actor=manager, order_id=order.pk, one_step=False
    )
    order.refresh_from_db()
    assert order.shipping_status == "none"
    with pytest.raises(OverShipment):
        first = order.lines.order_by("position").first()
        services.sales_order_ship(
            actor=manager, order_id=order.pk, quantities={first.pk: 1}
        )
    with django_capture_on_commit_callbacks(execute=True):
        inventory_services.transfer_done(actor=keeper, transfer_id=transfer.pk)
    order.refresh_from_db()
    assert order.shipping_status == "full"


def test_service_queries_fixed_for_five_lines(manager, keeper, world):
    """The query count of each step does not depend on the number of lines
    for sales' own work: a 5-line order costs what the counts below say."""
    from satu.catalog.tests.factories import PriceListItemFactory
    from satu.inventory.tests.factories import make_product, receive

    products = list(world["products"])
    for i in range(3):
        p = make_product(sku=f"X{i}")
        PriceListItemFactory(price_list=world["price_list"], product=p, price=10)
        receive(keeper, world["wh"], p, 50)
        products.append(p)
    lines = [{"product_id": p.pk, "quantity": 1} for p in products]

    from satu.core import txcache

    def counts(lines):
        # Each step is its own transaction in real use: start each with an
        # empty per-transaction cache, as a new transaction would.
        txcache.forget()
        with CaptureQueriesContext(connection) as create:
            order = services.sales_order_create(
                actor=manager,
                client_id=world["client"].pk,
                lines=lines,
                warehouse_id=world["wh"].pk,
            )
        txcache.forget()
        with CaptureQueriesContext(connection) as confirm:
            services.sales_order_confirm(actor=manager, order_id=order.pk)
        txcache.forget()
        with CaptureQueriesContext(connection) as ship:
            services.sales_order_ship(actor=manager, order_id=order.pk)
        txcache.forget()
        with CaptureQueriesContext(connection) as invoice:
            services.sales_order_invoice(actor=manager, order_id=order.pk)
        assert SalesOrderLine.objects.filter(order=order).count() == len(lines)
        return [len(create), len(confirm), len(ship), len(invoice)]

    counts(lines)  # the first order creates the number counters
    five = counts(lines)
    one = counts(lines[:1])
    print("queries create/confirm/ship/invoice, 5 lines:", five, "1 line:", one)
    # No step makes a query per line: inventory writes its stock rows with
    # one statement per table (executemany / multi-row insert).
    # PostgreSQL: inventory locks both balances in one statement and writes
    # them with the moves in another (4 fewer when shipping). Reservations,
    # deliveries and invoices take the products the order's lines brought
    # (catalog.queries.remember_products): no product read of their own.
    # A step's audit and timeline rows are written together at its end
    # (prepared.deferred_inserts): one INSERT per table.
    ship = 22 if connection.vendor == "postgresql" else 26
    assert five == one == [17, 12, ship, 16]
