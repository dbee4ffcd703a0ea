from decimal import Decimal

import pytest

from satu.core.errors import VersionConflict
from satu.inventory import queries, services
from satu.inventory.errors import BadState, InsufficientStock, LotRequired
from satu.inventory.models import (
    Quant,
    Reservation,
    StockLevel,
    StockMove,
    Transfer,
    WriteOffReason,
)
from satu.inventory.tests.factories import make_product, receive

pytestmark = pytest.mark.django_db


def level(product, wh):
    return StockLevel.objects.get(product=product, warehouse=wh)


def test_receipt_transfer_numbers_and_posts(
    keeper, wh, product, books_clean, captured_events
):
    t = services.transfer_create(
        actor=keeper,
        kind="receipt",
        warehouse_id=wh.pk,
        lines=[{"product_id": product.pk, "quantity": "5", "unit_cost": "7"}],
        origin_type="purchasing.order",
        origin_id=9,
    )
    assert t.state == "confirmed"
    assert t.number.startswith("GDG/IN/") and t.number.endswith("-0001")
    avail = queries.stock_availability(product_ids=[product.pk], warehouse_id=wh.pk)
    assert avail[product.pk].incoming == 5
    t = services.transfer_done(actor=keeper, transfer_id=t.pk)
    assert t.state == "done"
    assert level(product, wh).on_hand == 5
    assert level(product, wh).value == Decimal("35")
    avail = queries.stock_availability(product_ids=[product.pk], warehouse_id=wh.pk)
    assert avail[product.pk].incoming == 0
    line_id = t.lines.get().pk
    assert StockMove.objects.get().transfer_line_id == line_id
    assert queries.moved_quantities(origin_type="purchasing.order", origin_id=9) == {}
    books_clean()


def test_delivery_pick_pack_done_consumes_reservation(keeper, wh, product, books_clean):
    receive(keeper, wh, product, 10)
    services.reservation_create(
        actor=keeper,
        origin_type="sales.order",
        origin_id=1,
        lines=[
            {
                "product_id": product.pk,
                "warehouse_id": wh.pk,
                "quantity": 4,
                "origin_line_id": 11,
            }
        ],
    )
    assert level(product, wh).reserved == 4
    t = services.transfer_create(
        actor=keeper,
        kind="delivery",
        warehouse_id=wh.pk,
        origin_type="sales.order",
        origin_id=1,
        lines=[{"product_id": product.pk, "quantity": 4, "origin_line_id": 11}],
    )
    t = services.transfer_pick(actor=keeper, transfer_id=t.pk, version=t.version)
    assert t.state == "picked"
    with pytest.raises(VersionConflict):
        services.transfer_pack(actor=keeper, transfer_id=t.pk, version=t.version - 1)
    t = services.transfer_pack(actor=keeper, transfer_id=t.pk)
    line = t.lines.get()
    t = services.transfer_done(actor=keeper, transfer_id=t.pk, quantities={line.pk: 3})
    assert t.state == "done"
    assert level(product, wh).on_hand == 7
    assert level(product, wh).reserved == 1
    backorder = Transfer.objects.get(backorder_of=t)
    assert backorder.state == "confirmed"
    assert backorder.lines.get().quantity == 1
    assert queries.moved_quantities(origin_type="sales.order", origin_id=1) == {11: 3}
    services.transfer_done(actor=keeper, transfer_id=backorder.pk)
    assert level(product, wh).reserved == 0
    assert Reservation.objects.get().state == "done"
    assert queries.moved_quantities(origin_type="sales.order", origin_id=1) == {11: 4}
    with pytest.raises(BadState) as exc:
        services.transfer_done(actor=keeper, transfer_id=backorder.pk)
    assert exc.value.code == "inventory.bad_state"
    with pytest.raises(BadState):
        services.transfer_cancel(actor=keeper, transfer_id=backorder.pk)
    books_clean()


def test_delivery_short_of_stock_changes_nothing(keeper, wh, product):
    other = make_product()
    receive(keeper, wh, product, 2)
    receive(keeper, wh, other, 1)
    t = services.transfer_create(
        actor=keeper,
        kind="delivery",
        warehouse_id=wh.pk,
        lines=[
            {"product_id": product.pk, "quantity": 3},
            {"product_id": other.pk, "quantity": 5},
        ],
    )
    with pytest.raises(InsufficientStock) as exc:
        services.transfer_done(actor=keeper, transfer_id=t.pk)
    assert {s["product_id"] for s in exc.value.shortages} == {product.pk, other.pk}
    t.refresh_from_db()
    assert t.state == "confirmed" and t.version == 1
    assert StockMove.objects.count() == 2
    assert level(product, wh).on_hand == 2


def test_cancelled_transfer_cannot_be_posted(keeper, wh, product):
    t = services.transfer_create(
        actor=keeper,
        kind="receipt",
        warehouse_id=wh.pk,
        lines=[{"product_id": product.pk, "quantity": 1}],
    )
    services.transfer_cancel(actor=keeper, transfer_id=t.pk)
    with pytest.raises(BadState):
        services.transfer_done(actor=keeper, transfer_id=t.pk)
    assert StockMove.objects.count() == 0


def test_internal_transfer_goes_through_transit(keeper, wh, wh2, books_clean):
    p = make_product(costing_method="fifo")
    receive(keeper, wh, p, 5, unit_cost="3")
    t = services.transfer_create(
        actor=keeper,
        kind="internal",
        warehouse_id=wh.pk,
        destination_warehouse_id=wh2.pk,
        lines=[{"product_id": p.pk, "quantity": 4}],
    )
    avail = queries.stock_availability(product_ids=[p.pk], warehouse_id=wh2.pk)
    assert avail[p.pk].incoming == 4
    t = services.transfer_done(actor=keeper, transfer_id=t.pk)
    assert t.state == "in_transit"
    assert level(p, wh).on_hand == 1
    assert Quant.objects.get(location=wh.transit_location).quantity == 4
    with pytest.raises(BadState):
        services.transfer_cancel(actor=keeper, transfer_id=t.pk)
    t = services.transfer_done(actor=keeper, transfer_id=t.pk)
    assert t.state == "done"
    assert level(p, wh2).on_hand == 4
    assert level(p, wh2).value == Decimal("12")
    assert Quant.objects.get(location=wh.transit_location).quantity == 0
    books_clean()


def test_write_off_needs_a_reason(keeper, wh, product, books_clean):
    receive(keeper, wh, product, 5)
    from satu.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.transfer_create(
            actor=keeper,
            kind="write_off",
            warehouse_id=wh.pk,
            lines=[{"product_id": product.pk, "quantity": 1}],
        )
    reason = WriteOffReason.objects.get(code="damaged")
    t = services.transfer_create(
        actor=keeper,
        kind="write_off",
        warehouse_id=wh.pk,
        reason_id=reason.pk,
        lines=[{"product_id": product.pk, "quantity": 2}],
    )
    services.transfer_done(actor=keeper, transfer_id=t.pk)
    move = StockMove.objects.get(transfer=t)
    assert move.destination.kind == "loss"
    assert level(product, wh).on_hand == 3
    books_clean()


def test_lots_named_at_done(keeper, wh):
    p = make_product(tracking="lot")
    t = services.transfer_create(
        actor=keeper,
        kind="receipt",
        warehouse_id=wh.pk,
        lines=[{"product_id": p.pk, "quantity": 3}],
    )
    with pytest.raises(LotRequired):
        services.transfer_done(actor=keeper, transfer_id=t.pk)
    line = t.lines.get()
    services.transfer_done(actor=keeper, transfer_id=t.pk, lots={line.pk: "B-7"})
    assert Quant.objects.get(product=p).lot.code == "B-7"


def test_reservations_all_or_nothing(keeper, wh, product, books_clean):
    other = make_product()
    receive(keeper, wh, product, 5)
    receive(keeper, wh, other, 1)
    with pytest.raises(InsufficientStock) as exc:
        services.reservation_create(
            actor=keeper,
            origin_type="sales.order",
            origin_id=1,
            lines=[
                {
                    "product_id": product.pk,
                    "warehouse_id": wh.pk,
                    "quantity": 3,
                    "origin_line_id": 1,
                },
                {
                    "product_id": product.pk,
                    "warehouse_id": wh.pk,
                    "quantity": 3,
                    "origin_line_id": 2,
                },
                {
                    "product_id": other.pk,
                    "warehouse_id": wh.pk,
                    "quantity": 2,
                    "origin_line_id": 3,
                },
            ],
        )
    assert sorted(s["product_id"] for s in exc.value.shortages) == sorted(
        [product.pk, other.pk]
    )
    assert Reservation.objects.count() == 0
    assert level(product, wh).reserved == 0
    made = services.reservation_create(
        actor=keeper,
        origin_type="sales.order",
        origin_id=1,
        lines=[
            {
                "product_id": product.pk,
                "warehouse_id": wh.pk,
                "quantity": 5,
                "origin_line_id": 1,
            }
        ],
    )
    assert len(made) == 1
    avail = queries.stock_availability(product_ids=[product.pk])[product.pk]
    assert (avail.on_hand, avail.reserved, avail.available) == (5, 5, 0)
    assert (
        services.reservation_release(
            actor=keeper, origin_type="sales.order", origin_id=1
        )
        == 1
    )
    assert level(product, wh).reserved == 0
    books_clean()


def test_inventory_count_posts_differences(keeper, wh, product, books_clean):
    other = make_product()
    receive(keeper, wh, product, 10)
    receive(keeper, wh, other, 4)
    count = services.inventory_count_create(actor=keeper, warehouse_id=wh.pk)
    lines = {li.product_id: li for li in count.lines.all()}
    assert lines[product.pk].expected == 10
    services.inventory_count_set(
        actor=keeper,
        count_id=count.pk,
        counted={lines[product.pk].pk: "8", lines[other.pk].pk: "6"},
        version=count.version,
    )
    # A move while counting is kept: the difference is taken at validation.
    receive(keeper, wh, product, 1)
    count = services.inventory_count_validate(actor=keeper, count_id=count.pk)
    assert count.state == "done"
    assert level(product, wh).on_hand == 8
    assert level(other, wh).on_hand == 6
    assert StockMove.objects.filter(origin_type="inventory.count").count() == 2
    with pytest.raises(BadState):
        services.inventory_count_validate(actor=keeper, count_id=count.pk)
    books_clean()


def test_service_lines_are_skipped_kits_refused(keeper, wh, product):
    from satu.core.errors import ValidationFailed
    from satu.inventory.errors import NotStockable

    service = make_product(kind="service")
    kit = make_product(kind="kit")
    receive(keeper, wh, product, 2)
    made = services.reservation_create(
        actor=keeper,
        origin_type="sales.order",
        origin_id=3,
        lines=[
            {"product_id": service.pk, "warehouse_id": wh.pk, "quantity": 5},
            {"product_id": product.pk, "warehouse_id": wh.pk, "quantity": 2},
        ],
    )
    assert [r.product_id for r in made] == [product.pk]
    t = services.transfer_create(
        actor=keeper,
        kind="delivery",
        warehouse_id=wh.pk,
        lines=[
            {"product_id": service.pk, "quantity": 1},
            {"product_id": product.pk, "quantity": 1},
        ],
    )
    assert [li.product_id for li in t.lines.all()] == [product.pk]
    with pytest.raises(ValidationFailed):
        services.transfer_create(
            actor=keeper,
            kind="delivery",
            warehouse_id=wh.pk,
            lines=[{"product_id": service.pk, "quantity": 1}],
        )
    with pytest.raises(NotStockable):
        services.reservation_create(
            actor=keeper,
            origin_type="sales.order",
            origin_id=4,
            lines=[{"product_id": kit.pk, "warehouse_id": wh.pk, "quantity": 1}],
        )


def test_delivery_to_a_client_lands_on_its_timeline(keeper, wh, product):
    from satu.parties.models import TimelineEntry
    from satu.parties.tests.factories import ClientFactory

    client = ClientFactory()
    receive(keeper, wh, product, 2)
    t = services.transfer_create(
        actor=keeper,
        kind="delivery",
        warehouse_id=wh.pk,
        client_id=client.pk,
        lines=[{"product_id": product.pk, "quantity": 2}],
    )
    services.transfer_done(actor=keeper, transfer_id=t.pk)
    entry = TimelineEntry.objects.get(client=client, kind="inventory.delivered")
    assert entry.subject_id == t.pk


def test_transfer_update_checks_version_and_state(keeper, wh, product):
    other = make_product()
    t = services.transfer_create(
        actor=keeper,
        kind="receipt",
        warehouse_id=wh.pk,
        lines=[{"product_id": product.pk, "quantity": 1}],
    )
    with pytest.raises(VersionConflict):
        services.transfer_update(
            actor=keeper, transfer_id=t.pk, version=t.version + 1, reference="X"
        )
    t = services.transfer_update(
        actor=keeper,
        transfer_id=t.pk,
        version=t.version,
        lines=[{"product_id": other.pk, "quantity": 3}],
        reference="PO-7",
    )
    assert t.version == 2 and t.reference == "PO-7"
    assert [(li.product_id, li.quantity) for li in t.lines.all()] == [(other.pk, 3)]
    services.transfer_done(actor=keeper, transfer_id=t.pk)
    t.refresh_from_db()
    with pytest.raises(BadState):
        services.transfer_update(
            actor=keeper, transfer_id=t.pk, version=t.version, reference="late"
        )
