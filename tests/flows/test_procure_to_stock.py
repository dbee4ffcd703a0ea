"""From a reorder proposal to stock on the shelf and a payable to the supplier.

The warehouse sees that paper runs low; the "what to buy" screen proposes
filling up to the maximum from the cheapest supplier; the purchaser turns the
proposal into a purchase order, confirms it (the paper is now incoming), and
receives part of it when the truck arrives: stock and its value go up at the
order's price. The accountant records the supplier's invoice for the part
that came, and the payables show exactly that amount owed to the supplier.
"""

from decimal import Decimal

import pytest

from satu.billing import queries as billing_queries
from satu.catalog.tests.factories import TaxRuleFactory
from satu.core.testing.helpers import make_user
from satu.inventory import queries as inv
from satu.inventory import services as inv_services
from satu.inventory.tests.factories import make_product, make_warehouse, receive
from satu.parties.models import Company
from satu.purchasing import queries, services
from satu.purchasing.errors import OverBilling
from satu.purchasing.tests.factories import SupplierFactory, SupplierPriceFactory

pytestmark = pytest.mark.django_db
D = Decimal


def test_reorder_proposal_to_stock_and_payable():
    Company.objects.create(
        code="SATU", name="Satu", legal_name="PT Satu", is_default=True
    )
    purchaser = make_user("purchaser", role="warehouse")
    accountant = make_user("accountant", role="accountant")
    wh = make_warehouse(purchaser, "GDG")
    paper = make_product(name="Paper A4", cost_price=D("0"))
    TaxRuleFactory(name="VAT 11", rate=D("11"), applies_to="purchases")
    cheap = SupplierFactory(legal_name="PT Kertas Murah")
    dear = SupplierFactory(legal_name="PT Kertas Mahal")
    SupplierPriceFactory(
        supplier=cheap, product=paper, price=D("45000"), lead_time_days=3
    )
    SupplierPriceFactory(supplier=dear, product=paper, price=D("48000"))

    # Given 8 boxes on hand, valued at 40,000 each, and a rule: keep 20-100
    # boxes in multiples of 10.
    receive(purchaser, wh, paper, D("8"), unit_cost=D("40000"))
    services.reorder_point_create(
        actor=purchaser,
        product_id=paper.pk,
        warehouse_id=wh.pk,
        minimum="20",
        maximum="100",
        multiple="10",
    )

    # The screen proposes 100 - 8 = 92, rounded up to 100, from the cheaper one.
    [proposal] = queries.reorder_proposals(actor=purchaser)
    assert proposal.quantity == D("100")
    assert (proposal.supplier_id, proposal.unit_price) == (cheap.pk, D("45000"))

    # One click: a draft purchase order for that supplier.
    [order] = services.purchase_orders_from_proposals(
        actor=purchaser,
        selections=[{"reorder_point_id": proposal.reorder_point_id, "quantity": "92"}],
    )
    assert order.state == "draft" and order.supplier_id == cheap.pk
    line = order.lines.get()
    assert (line.quantity, line.unit_price, line.tax_rate) == (
        D("92"),
        D("45000"),
        D("11"),
    )
    assert order.total == D("4595400")  # 92 × 45,000 = 4,140,000 + 11 % VAT

    # Confirmed, the paper is incoming and the proposal disappears.
    services.purchase_order_confirm(actor=purchaser, order_id=order.pk)
    avail = inv.stock_availability(product_ids=[paper.pk], warehouse_id=wh.pk)[paper.pk]
    assert (avail.on_hand, avail.incoming) == (D("8"), D("92"))
    assert queries.reorder_proposals(actor=purchaser) == []

    # The truck brings 50 boxes.
    transfer = services.purchase_order_receive(
        actor=purchaser, order_id=order.pk, quantities={line.pk: "50"}
    )
    assert transfer.kind == "receipt" and transfer.state == "done"
    avail = inv.stock_availability(product_ids=[paper.pk], warehouse_id=wh.pk)[paper.pk]
    assert (avail.on_hand, avail.incoming) == (D("58"), D("42"))
    level = inv.stock_levels(warehouse_id=wh.pk).get(product=paper)
    # 8 × 40,000 + 50 × 45,000 (the order's untaxed price)
    assert level.value == D("2570000")
    order.refresh_from_db()
    assert (order.state, order.receipt_status, order.bill_status) == (
        "processing",
        "partial",
        "nothing",
    )

    # The supplier bills 60 boxes: only the 50 received can be recorded.
    with pytest.raises(OverBilling):
        services.purchase_order_bill(
            actor=accountant, order_id=order.pk, quantities={line.pk: "60"}
        )
    invoice = services.purchase_order_bill(
        actor=accountant, order_id=order.pk, reference="KM/2026/311"
    )
    assert invoice.kind == "supplier_invoice" and invoice.state == "posted"
    assert (invoice.amount_untaxed, invoice.amount_tax, invoice.amount_total) == (
        D("2250000"),
        D("247500"),
        D("2497500"),
    )
    order.refresh_from_db()
    assert order.bill_status == "partial"

    # Payables: exactly the received part is owed to the supplier.
    [row] = billing_queries.receivables_ageing(actor=accountant, side="payable")
    assert row["counterparty_id"] == cheap.pk
    assert row["total"] == D("2497500")

    # The rest arrives through the warehouse's own screen; the order follows.
    backorder = inv.transfer_list(
        kind="receipt", origin_type="purchasing.order", origin_id=order.pk
    ).get(state="confirmed")
    inv_services.transfer_done(actor=purchaser, transfer_id=backorder.pk)
    services.purchase_order_sync(order_id=order.pk)
    services.purchase_order_bill(actor=accountant, order_id=order.pk)
    order.refresh_from_db()
    assert (order.state, order.receipt_status, order.bill_status) == (
        "done",
        "full",
        "full",
    )
    [row] = billing_queries.receivables_ageing(actor=accountant, side="payable")
    assert row["total"] == D("4595400")
