"""From a deal to money in the bank, and what the client still owes.

A client wants paper and ink; the manager opens a deal with those lines and
makes a quote from it: prices from the price list, 10 % tax, a PDF with our
company's details. The client accepts; one click makes the sales order,
confirming it reserves the goods. The warehouse ships part of it (the rest
stays reserved), accounting invoices exactly what left, the client pays half
of that invoice, and the receivables ageing shows the other half as current.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from satu.billing import queries as billing_queries
from satu.billing import services as billing_services
from satu.billing.models import PaymentPurpose
from satu.core.testing.helpers import make_user
from satu.crm.models import DealLine
from satu.crm.tests.factories import DealFactory
from satu.inventory import queries as inventory_queries
from satu.sales import queries, services
from satu.sales.tests.factories import make_world

pytestmark = pytest.mark.django_db
D = Decimal


def test_deal_to_quote_to_order_to_cash():
    manager = make_user("manager", role="sales_manager")
    keeper = make_user("keeper", role="warehouse")
    accountant = make_user("accountant", role="administrator")
    world = make_world(keeper=keeper, manager=manager, stock=10)
    paper, ink = world["products"]  # 12.50 and 25.00 a piece

    # The deal and its lines.
    deal = DealFactory(client=world["client"], currency="USD", title="Office supply")
    DealLine.objects.create(deal=deal, product=paper, quantity=6)
    DealLine.objects.create(deal=deal, product=ink, quantity=2)

    # A quote from the deal, as PDF.
    quote = services.quote_create(actor=manager, deal_id=deal.pk)
    assert (quote.untaxed, quote.tax, quote.total) == (
        D("125.00"),
        D("12.50"),
        D("137.50"),
    )
    pdf = services.quote_pdf(quote=quote)
    assert pdf.startswith(b"%PDF")

    # Accepted; one click makes the order; confirming reserves the goods.
    services.quote_accept(actor=manager, quote_id=quote.pk)
    order = services.quote_to_order(actor=manager, quote_id=quote.pk)
    assert order.deal_id == deal.pk and order.total == quote.total
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    stock = inventory_queries.stock_availability(
        product_ids=[paper.pk, ink.pk], warehouse_id=world["wh"].pk
    )
    assert (stock[paper.pk].reserved, stock[ink.pk].reserved) == (D(6), D(2))

    # The warehouse ships 4 of the 6 packs of paper and both inks.
    paper_line, ink_line = queries.sales_order_lines(order=order)
    services.sales_order_ship(
        actor=manager, order_id=order.pk, quantities={paper_line.pk: 4, ink_line.pk: 2}
    )
    order.refresh_from_db()
    assert order.state == "processing" and order.shipping_status == "partial"
    stock = inventory_queries.stock_availability(
        product_ids=[paper.pk], warehouse_id=world["wh"].pk
    )[paper.pk]
    assert (stock.on_hand, stock.reserved, stock.available) == (D(6), D(2), D(4))

    # Invoice what was shipped: 4 × 12.50 + 2 × 25 = 100 + 10 % = 110.
    invoice = services.sales_order_invoice(actor=manager, order_id=order.pk)
    assert invoice.state == "posted"
    assert (invoice.amount_untaxed, invoice.amount_total) == (D("100.00"), D("110.00"))
    order.refresh_from_db()
    assert order.invoice_status == "partial"

    # The client pays half.
    if not PaymentPurpose.objects.filter(code="sale").exists():
        billing_services.payment_purpose_create(
            actor=accountant, code="sale", name="Sale"
        )
    bank = billing_services.cash_account_create(
        actor=accountant,
        kind="bank",
        name="BCA",
        currency="USD",
        bank_name="Bank Central Asia",
        account_number="1234567890",
    )
    billing_services.payment_create(
        actor=accountant,
        direction="in",
        cash_account_id=bank.pk,
        amount=D("55.00"),
        purpose_code="sale",
        client_id=world["client"].pk,
        allocations=[{"invoice_id": invoice.pk, "amount": D("55.00")}],
    )
    assert queries.sales_order_payment_status(order=order) == "partial"

    # What the client still owes is current (not yet due).
    rows = billing_queries.receivables_ageing(
        actor=accountant, client_id=world["client"].pk
    )
    assert len(rows) == 1
    assert rows[0]["total"] == D("55.00") and rows[0]["current"] == D("55.00")
    later = timezone.localdate() + timedelta(days=45)
    rows = billing_queries.receivables_ageing(
        actor=accountant, client_id=world["client"].pk, as_of=later
    )
    assert rows[0]["d31_60"] == D("55.00")

    # The timeline of the client tells the story.
    kinds = set(world["client"].timeline.values_list("kind", flat=True))
    assert {"sales.quote_created", "sales.order_confirmed"} <= kinds
