"""Customer returns (`services.customer_return`): goods a document's
deliveries left at the customer come back to the stock location and lot
they left from, at the value they left with."""

from decimal import Decimal

import pytest
from django.urls import reverse

from satu.core.errors import PermissionDenied, ValidationFailed
from satu.core.testing.helpers import make_user
from satu.inventory import queries, services
from satu.inventory.errors import BadState
from satu.inventory.events import TransferDone
from satu.inventory.models import (
    CostLayer,
    Quant,
    StockLevel,
    StockMove,
    Transfer,
)
from satu.inventory.tests.factories import make_product, make_warehouse, receive
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

ORIGIN = "sales.order"


def level(product, wh):
    return StockLevel.objects.get(product=product, warehouse=wh)


def deliver(keeper, wh, lines, origin_id=1, client=None):
    t = services.transfer_create(
        actor=keeper,
        kind="delivery",
        warehouse_id=wh.pk,
        lines=lines,
        origin_type=ORIGIN,
        origin_id=origin_id,
        client_id=client.pk if client else None,
    )
    return services.transfer_done(actor=keeper, transfer_id=t.pk)


def test_return_restores_average_value_exactly(
    keeper,
    wh,
    product,
    books_clean,
    captured_events,
    django_capture_on_commit_callbacks,
):
    receive(keeper, wh, product, 3, unit_cost="10")
    receive(keeper, wh, product, 4, unit_cost="11")
    other = make_product()
    receive(keeper, wh, other, 5, unit_cost="2")
    before = (level(product, wh).on_hand, level(product, wh).value)
    assert before == (7, Decimal("74"))
    client = ClientFactory()
    out = deliver(
        keeper,
        wh,
        [
            {"product_id": product.pk, "quantity": 3, "origin_line_id": 11},
            {"product_id": other.pk, "quantity": 2, "origin_line_id": 12},
        ],
        client=client,
    )
    # 74 × 3 / 7 = 31.7142857… → 31.7143 left with the goods.
    assert StockMove.objects.get(transfer=out, product=product).value == Decimal(
        "31.7143"
    )
    returnable = queries.returnable_quantities(origin_type=ORIGIN, origin_id=1)
    assert [(r.sku, r.quantity, r.value) for r in returnable] == sorted(
        [
            (product.sku, Decimal(3), Decimal("31.7143")),
            (other.sku, Decimal(2), Decimal("4")),
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):
        [ret] = services.customer_return(
            actor=keeper,
            origin_type=ORIGIN,
            origin_id=1,
            client_id=client.pk,
            reference="SO-1",
        )
    assert ret.kind == Transfer.Kind.RETURN and ret.state == Transfer.State.DONE
    assert ret.number.startswith("GDG/RET/") and ret.number.endswith("-0001")
    assert (level(product, wh).on_hand, level(product, wh).value) == before
    assert (level(other, wh).on_hand, level(other, wh).value) == (5, Decimal("10"))
    moves = StockMove.objects.filter(transfer=ret).select_related("source")
    assert {m.source.kind for m in moves} == {"customer"}
    assert {m.destination_id for m in moves} == {wh.stock_location_id}
    assert {m.transfer_line_id for m in moves} == set(
        ret.lines.values_list("pk", flat=True)
    )
    assert queries.moved_quantities(origin_type=ORIGIN, origin_id=1) == {
        11: 0,
        12: 0,
    }
    assert queries.returnable_quantities(origin_type=ORIGIN, origin_id=1) == []
    assert client.timeline.filter(kind="inventory.returned").count() == 1
    done = [e for e in captured_events if isinstance(e, TransferDone)]
    assert [(e.transfer_id, e.kind) for e in done] == [(ret.pk, "return")]
    books_clean()
    # Nothing is left at the customer: a second return is refused.
    with pytest.raises(BadState):
        services.customer_return(actor=keeper, origin_type=ORIGIN, origin_id=1)


def test_return_fifo_restores_layers_and_value(keeper, wh, books_clean):
    p = make_product(costing_method="fifo")
    receive(keeper, wh, p, 2, unit_cost="5")
    receive(keeper, wh, p, 2, unit_cost="9")
    deliver(keeper, wh, [{"product_id": p.pk, "quantity": 3, "origin_line_id": 1}])
    assert level(p, wh).value == Decimal("9")  # one unit at 9 left
    services.customer_return(actor=keeper, origin_type=ORIGIN, origin_id=1)
    assert (level(p, wh).on_hand, level(p, wh).value) == (4, Decimal("28"))
    layers = CostLayer.objects.filter(product=p, remaining__gt=0)
    assert sum(x.remaining_value for x in layers) == Decimal("28")
    books_clean()


def test_lot_comes_back_to_its_lot_and_earlier_returns_net(keeper, wh, books_clean):
    p = make_product(tracking="lot")
    receive(keeper, wh, p, 5, lot_code="L-1")
    receive(keeper, wh, p, 5, lot_code="L-2")
    deliver(
        keeper,
        wh,
        [
            {"product_id": p.pk, "quantity": 2, "lot_code": "L-1", "origin_line_id": 7},
            {"product_id": p.pk, "quantity": 3, "lot_code": "L-2", "origin_line_id": 7},
        ],
    )
    # One unit of L-2 already came back by hand (a move with the origin).
    services.stock_move_post(
        actor=keeper,
        product_id=p.pk,
        quantity=1,
        source_id=queries.virtual_location("customer").pk,
        destination_id=wh.stock_location_id,
        lot_code="L-2",
        unit_cost="10",
        origin_type=ORIGIN,
        origin_id=1,
        origin_line_id=7,
    )
    rows = queries.returnable_quantities(origin_type=ORIGIN, origin_id=1)
    assert [(r.lot, r.quantity) for r in rows] == [("L-1", 2), ("L-2", 2)]
    [ret] = services.customer_return(actor=keeper, origin_type=ORIGIN, origin_id=1)
    assert sorted(
        (line.lot.code, line.quantity) for line in ret.lines.select_related("lot")
    ) == [("L-1", 2), ("L-2", 2)]
    quants = {
        q.lot.code: q.quantity
        for q in Quant.objects.filter(
            product=p, location_id=wh.stock_location_id
        ).select_related("lot")
    }
    assert quants == {"L-1": 5, "L-2": 5}
    assert queries.moved_quantities(origin_type=ORIGIN, origin_id=1) == {7: 0}
    books_clean()


def test_one_return_per_warehouse(keeper, wh, product, books_clean):
    wh2 = make_warehouse(keeper, "SBY")
    receive(keeper, wh, product, 4)
    receive(keeper, wh2, product, 4, unit_cost="12")
    deliver(
        keeper, wh, [{"product_id": product.pk, "quantity": 1, "origin_line_id": 1}]
    )
    deliver(
        keeper, wh2, [{"product_id": product.pk, "quantity": 2, "origin_line_id": 1}]
    )
    returns = services.customer_return(actor=keeper, origin_type=ORIGIN, origin_id=1)
    assert sorted(t.number.split("/")[0] for t in returns) == ["GDG", "SBY"]
    assert level(product, wh).on_hand == 4 and level(product, wh2).on_hand == 4
    assert level(product, wh2).value == Decimal("48")
    books_clean()


def test_refusals_change_nothing(keeper, wh, product, books_clean):
    receive(keeper, wh, product, 4)
    deliver(
        keeper, wh, [{"product_id": product.pk, "quantity": 2, "origin_line_id": 1}]
    )
    moves = StockMove.objects.count()
    seller = make_user("counter", role="accountant")
    with pytest.raises(PermissionDenied):
        services.customer_return(actor=seller, origin_type=ORIGIN, origin_id=1)
    services.warehouse_update(actor=keeper, warehouse_id=wh.pk, is_active=False)
    with pytest.raises(ValidationFailed) as exc:
        services.customer_return(actor=keeper, origin_type=ORIGIN, origin_id=1)
    assert "GDG" in str(exc.value)
    with pytest.raises(BadState):
        services.customer_return(actor=keeper, origin_type=ORIGIN, origin_id=2)
    assert StockMove.objects.count() == moves
    assert not Transfer.objects.filter(kind="return").exists()
    assert level(product, wh).on_hand == 2
    books_clean()


def test_return_shows_on_the_transfer_screens(client, keeper, wh, product):
    receive(keeper, wh, product, 4)
    deliver(
        keeper, wh, [{"product_id": product.pk, "quantity": 2, "origin_line_id": 1}]
    )
    [ret] = services.customer_return(actor=keeper, origin_type=ORIGIN, origin_id=1)
    client.force_login(keeper)
    page = client.get(reverse("transfer_detail", args=[ret.pk]))
    assert page.status_code == 200 and ret.number in page.content.decode()
    listing = client.get(reverse("transfer_list"), {"kind": "return"})
    assert ret.number in listing.content.decode()


def test_return_kind_not_created_by_hand(keeper, wh, product):
    with pytest.raises(ValidationFailed) as exc:
        services.transfer_create(
            actor=keeper,
            kind="return",
            warehouse_id=wh.pk,
            lines=[{"product_id": product.pk, "quantity": 1}],
        )
    assert "kind" in exc.value.fields
