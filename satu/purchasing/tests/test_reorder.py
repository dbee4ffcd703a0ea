"""Reorder points and the "what to buy" proposals."""

from decimal import Decimal

import pytest

from satu.core.errors import ValidationFailed
from satu.inventory.tests.factories import receive
from satu.purchasing import queries, services
from satu.purchasing.models import PurchaseOrder, ReorderPoint
from satu.purchasing.tests.factories import (
    SupplierFactory,
    SupplierPriceFactory,
    make_order,
)

D = Decimal


@pytest.fixture
def point(purchaser, wh, goods):
    return services.reorder_point_create(
        actor=purchaser,
        product_id=goods.pk,
        warehouse_id=wh.pk,
        minimum="20",
        maximum="100",
        multiple="12",
    )


def test_bad_points(purchaser, wh, goods, service_product, point):
    cases = [
        ({"product_id": goods.pk}, "product_id"),  # duplicate
        ({"product_id": service_product.pk}, "product_id"),
        ({"minimum": "10", "maximum": "5"}, "maximum"),
        ({"multiple": "0"}, "multiple"),
        ({"minimum": "-1"}, "minimum"),
    ]
    for change, field in cases:
        data = {
            "product_id": goods.pk,
            "warehouse_id": wh.pk,
            "minimum": "1",
            "maximum": "2",
            "multiple": "1",
        } | change
        with pytest.raises(ValidationFailed) as exc:
            services.reorder_point_create(actor=purchaser, **data)
        assert field in exc.value.fields, change
    assert ReorderPoint.objects.count() == 1


def test_proposal_quantity_and_cheapest_supplier(
    purchaser, company, wh, goods, point, django_assert_num_queries
):
    cheap, dear = (
        SupplierFactory(legal_name="Cheap"),
        SupplierFactory(legal_name="Dear"),
    )
    SupplierPriceFactory(supplier=cheap, product=goods, price=D("90"))
    SupplierPriceFactory(supplier=dear, product=goods, price=D("95"))
    receive(purchaser, wh, goods, D("5"), unit_cost=D("1"))
    purchaser.has_perm("purchasing.view_reorderpoint")  # permission cache
    with django_assert_num_queries(3):  # company currency + 2
        proposals = queries.reorder_proposals(actor=purchaser)
    [p] = proposals
    assert (p.available, p.incoming, p.projected) == (D("5"), 0, D("5"))
    # up to 100 from 5 = 95, rounded up to a multiple of 12 = 96
    assert p.quantity == D("96")
    assert (p.supplier_id, p.unit_price) == (cheap.pk, D("90"))
    assert "Cheap" in p.explanation


def test_incoming_covers_the_need(purchaser, supplier, wh, goods, point):
    order = make_order(purchaser, supplier, wh, [(goods, D("30"), D("1"))])
    assert len(queries.reorder_proposals(actor=purchaser)) == 1  # draft: not incoming
    services.purchase_order_confirm(actor=purchaser, order_id=order.pk)
    assert queries.reorder_proposals(actor=purchaser) == []


def test_preferred_supplier_wins(purchaser, company, wh, goods, point):
    cheap, preferred = SupplierFactory(), SupplierFactory(legal_name="Preferred")
    SupplierPriceFactory(supplier=cheap, product=goods, price=D("1"))
    SupplierPriceFactory(supplier=preferred, product=goods, price=D("2"))
    services.reorder_point_update(
        actor=purchaser, point_id=point.pk, preferred_supplier_id=preferred.pk
    )
    [p] = queries.reorder_proposals(actor=purchaser)
    assert p.supplier_id == preferred.pk
    assert p.explanation.startswith("Preferred supplier")


def test_orders_from_proposals_grouped_by_supplier(
    purchaser, company, wh, goods, goods2, point
):
    a, b = SupplierFactory(legal_name="A"), SupplierFactory(legal_name="B")
    SupplierPriceFactory(supplier=a, product=goods, price=D("10"))
    SupplierPriceFactory(supplier=b, product=goods2, price=D("20"))
    p2 = services.reorder_point_create(
        actor=purchaser, product_id=goods2.pk, warehouse_id=wh.pk, minimum=1, maximum=5
    )
    orders = services.purchase_orders_from_proposals(
        actor=purchaser,
        selections=[
            {"reorder_point_id": point.pk},
            {"reorder_point_id": p2.pk, "quantity": "7"},
        ],
    )
    assert [(o.supplier_id, o.state) for o in orders] == [
        (a.pk, "draft"),
        (b.pk, "draft"),
    ]
    line_a = orders[0].lines.get()
    assert (line_a.product_id, line_a.quantity, line_a.unit_price) == (
        goods.pk,
        D("108"),  # 100 rounded up to 12s
        D("10"),
    )
    assert orders[1].lines.get().quantity == D("7")


def test_orders_from_proposals_without_supplier(purchaser, wh, point):
    with pytest.raises(ValidationFailed) as exc:
        services.purchase_orders_from_proposals(
            actor=purchaser, selections=[{"reorder_point_id": point.pk}]
        )
    assert "selections.0.supplier_id" in exc.value.fields
    assert not PurchaseOrder.objects.exists()
