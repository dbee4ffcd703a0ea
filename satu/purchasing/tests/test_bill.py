"""Billing purchase orders: supplier invoices for what was received."""

from decimal import Decimal

import pytest

from satu.billing import queries as billing_queries
from satu.billing.models import Invoice
from satu.core.errors import PermissionDenied, ValidationFailed
from satu.purchasing import services
from satu.purchasing.errors import NothingToDo, OverBilling
from satu.purchasing.models import PurchaseOrder
from satu.purchasing.tests.factories import make_order

D = Decimal


def _received(order, purchaser, product, qty):
    line = order.lines.get(product=product)
    services.purchase_order_receive(
        actor=purchaser, order_id=order.pk, quantities={line.pk: qty}
    )
    return line


def test_bill_received_part(confirmed, purchaser, accountant, goods, goods2):
    line = _received(confirmed, purchaser, goods, "4")
    invoice = services.purchase_order_bill(
        actor=accountant, order_id=confirmed.pk, reference="SUP-77"
    )
    assert invoice.kind == "supplier_invoice" and invoice.state == "posted"
    assert invoice.counterparty_id == confirmed.supplier_id
    assert invoice.number
    assert invoice.origin_type == "purchasing.order"
    assert invoice.origin_id == confirmed.pk
    assert invoice.amount_total == D("4000")
    assert billing_queries.invoiced_quantities(
        origin_type="purchasing.order", origin_id=confirmed.pk
    ) == {line.pk: D("4")}
    order = PurchaseOrder.objects.get(pk=confirmed.pk)
    assert order.bill_status == "partial" and order.state == "processing"
    line.refresh_from_db()
    assert line.billed_quantity == D("4")


def test_full_cycle_is_done(confirmed, purchaser, accountant):
    services.purchase_order_receive(actor=purchaser, order_id=confirmed.pk)
    services.purchase_order_bill(actor=accountant, order_id=confirmed.pk)
    order = PurchaseOrder.objects.get(pk=confirmed.pk)
    assert (order.state, order.receipt_status, order.bill_status) == (
        "done",
        "full",
        "full",
    )


def test_over_billing_refused(confirmed, purchaser, accountant, goods):
    line = _received(confirmed, purchaser, goods, "4")
    version = PurchaseOrder.objects.get(pk=confirmed.pk).version
    with pytest.raises(OverBilling) as exc:
        services.purchase_order_bill(
            actor=accountant, order_id=confirmed.pk, quantities={line.pk: "5"}
        )
    assert exc.value.code == "purchasing.over_billing"
    assert f"quantities.{line.pk}" in exc.value.fields
    assert not Invoice.objects.exists()
    assert PurchaseOrder.objects.get(pk=confirmed.pk).version == version


def test_nothing_received_nothing_to_bill(confirmed, accountant):
    with pytest.raises(NothingToDo):
        services.purchase_order_bill(actor=accountant, order_id=confirmed.pk)
    assert not Invoice.objects.exists()


def test_service_line_billed_without_receipt(
    purchaser, accountant, supplier, wh, service_product
):
    order = make_order(purchaser, supplier, wh, [(service_product, D("2"), D("300"))])
    services.purchase_order_confirm(actor=purchaser, order_id=order.pk)
    line = order.lines.get()
    with pytest.raises(OverBilling):
        services.purchase_order_bill(
            actor=accountant, order_id=order.pk, quantities={line.pk: "3"}
        )
    invoice = services.purchase_order_bill(actor=accountant, order_id=order.pk)
    assert invoice.amount_total == D("600")
    order.refresh_from_db()
    assert order.state == "done" and order.receipt_status == "none"


def test_bad_quantity(confirmed, purchaser, accountant, goods):
    line = _received(confirmed, purchaser, goods, "4")
    with pytest.raises(ValidationFailed):
        services.purchase_order_bill(
            actor=accountant, order_id=confirmed.pk, quantities={line.pk: "-1"}
        )
    assert not Invoice.objects.exists()


def test_purchaser_cannot_bill(confirmed, purchaser):
    with pytest.raises(PermissionDenied):
        services.purchase_order_bill(actor=purchaser, order_id=confirmed.pk)


def test_cancelled_invoice_frees_the_quantity(
    confirmed, purchaser, accountant, goods, django_capture_on_commit_callbacks
):
    from satu.billing import services as billing

    line = _received(confirmed, purchaser, goods, "4")
    invoice = services.purchase_order_bill(actor=accountant, order_id=confirmed.pk)
    with django_capture_on_commit_callbacks(execute=True):
        billing.invoice_cancel(actor=accountant, invoice_id=invoice.pk)
    line.refresh_from_db()
    assert line.billed_quantity == 0
    again = services.purchase_order_bill(actor=accountant, order_id=confirmed.pk)
    assert again.amount_total == D("4000")
