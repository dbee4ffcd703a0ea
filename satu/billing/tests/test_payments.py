"""Payments and matching: full, partial, one to many, many to one, advances,
and every refusal leaving nothing changed."""

from datetime import date
from decimal import Decimal

import pytest

from satu.billing import queries, services
from satu.billing.errors import (
    BadState,
    DirectionMismatch,
    InvoiceCancelled,
    OverAllocation,
    PartyMismatch,
    TooManyDecimals,
)
from satu.billing.events import PaymentPosted
from satu.billing.models import Invoice, Payment, PaymentAllocation
from satu.billing.tests.factories import CashAccountFactory
from satu.core.errors import NotFound, VersionConflict
from satu.core.money import CurrencyMismatch
from satu.core.testing.helpers import make_user
from satu.parties.models import TimelineEntry
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def _pay(accountant, bank, client, amount, allocations=(), **kw):
    return services.payment_create(
        actor=accountant,
        direction=kw.pop("direction", "in"),
        cash_account_id=bank.pk,
        amount=amount,
        purpose_code=kw.pop("purpose_code", "sale"),
        client_id=client.pk if client else None,
        date=kw.pop("date", date(2026, 3, 10)),
        allocations=[
            {"invoice_id": inv.pk, "amount": value} for inv, value in allocations
        ],
        **kw,
    )


def _state(*objs):
    result = []
    for obj in objs:
        obj.refresh_from_db()
        if isinstance(obj, Invoice):
            result.append((obj.state, obj.amount_paid, obj.amount_due, obj.version))
        else:
            result.append((obj.state, obj.amount_allocated, obj.version))
    return result


def test_full_payment_marks_the_invoice_paid(
    accountant,
    bank,
    customer,
    make_invoice,
    captured_events,
    django_capture_on_commit_callbacks,
):
    invoice = make_invoice(customer, amounts=[Decimal("1250000")])
    with django_capture_on_commit_callbacks(execute=True):
        payment = _pay(accountant, bank, customer, "1250000", [(invoice, "1250000")])

    invoice.refresh_from_db()
    assert payment.number == "RCV-2026-0001"
    assert invoice.state == Invoice.State.PAID
    assert (invoice.amount_paid, invoice.amount_due) == (Decimal("1250000"), 0)
    assert payment.amount_unallocated == 0
    event = next(e for e in captured_events if isinstance(e, PaymentPosted))
    assert event.amount == Decimal("1250000")
    assert event.allocations == ((invoice.pk, Decimal("1250000")),)
    assert event.purpose == "sale"
    entry = TimelineEntry.objects.get(kind="payment.received")
    assert entry.client_id == customer.pk


def test_partial_payments_many_to_one(accountant, bank, customer, make_invoice):
    invoice = make_invoice(customer, amounts=[Decimal("1000000")])
    _pay(accountant, bank, customer, 400000, [(invoice, 400000)])
    invoice.refresh_from_db()
    assert (invoice.state, invoice.amount_due) == ("posted", Decimal("600000"))
    _pay(accountant, bank, customer, 600000, [(invoice, 600000)])
    invoice.refresh_from_db()
    assert (invoice.state, invoice.amount_due) == ("paid", 0)
    assert invoice.allocations.count() == 2


def test_one_payment_to_many_invoices_and_advance(
    accountant, bank, customer, make_invoice
):
    a = make_invoice(customer, amounts=[Decimal("300000")])
    b = make_invoice(customer, amounts=[Decimal("500000")])
    c = make_invoice(customer, amounts=[Decimal("200000")])
    payment = _pay(accountant, bank, customer, 1000000, [(a, 300000), (b, 500000)])
    assert payment.amount_allocated == Decimal("800000")
    assert queries.client_balance(client_id=customer.pk)[0].advances == Decimal(
        "200000"
    )

    services.payment_allocate(
        actor=accountant,
        payment_id=payment.pk,
        allocations=[{"invoice_id": c.pk, "amount": "200000"}],
    )
    assert _state(a, b, c)[2][0] == "paid"
    payment.refresh_from_db()
    assert payment.amount_unallocated == 0
    # Nothing open, nothing in advance: the balance has no rows.
    assert queries.client_balance(client_id=customer.pk) == []


def test_allocating_more_than_due_changes_nothing(
    accountant, bank, customer, make_invoice
):
    invoice = make_invoice(customer, amounts=[Decimal("100000")])
    before = Payment.objects.count()
    with pytest.raises(OverAllocation) as caught:
        _pay(accountant, bank, customer, 150000, [(invoice, 150000)])
    assert caught.value.code == "billing.over_allocation"
    assert Payment.objects.count() == before
    assert _state(invoice) == [("posted", 0, Decimal("100000"), 2)]


def test_allocating_more_than_unallocated_changes_nothing(
    accountant, bank, customer, make_invoice
):
    invoice = make_invoice(customer, amounts=[Decimal("900000")])
    payment = _pay(accountant, bank, customer, 500000)
    with pytest.raises(OverAllocation):
        services.payment_allocate(
            actor=accountant,
            payment_id=payment.pk,
            allocations=[{"invoice_id": invoice.pk, "amount": 600000}],
        )
    assert _state(payment, invoice) == [
        ("posted", 0, 1),
        ("posted", 0, Decimal("900000"), 2),
    ]


def test_cashier_without_all_invoices_pays_only_their_clients_invoices(
    bank, customer, make_invoice
):
    # A user who may record payments but sees only their own clients'
    # invoices (no billing.view_all_invoices, no parties.view_all_clients).
    from django.contrib.auth.models import Permission

    cashier = make_user("cashier", role="sales_manager")
    cashier.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="billing", codename="add_payment"
        )
    )
    cashier = type(cashier).objects.get(pk=cashier.pk)  # fresh permission cache
    mine = ClientFactory(owner=cashier)
    own = make_invoice(mine, amounts=[Decimal("100000")])
    other = make_invoice(customer, amounts=[Decimal("100000")])
    before = Payment.objects.count()
    with pytest.raises(NotFound):
        _pay(cashier, bank, mine, 100000, [(own, 50000), (other, 50000)])
    assert Payment.objects.count() == before
    payment = _pay(cashier, bank, mine, 100000, [(own, 100000)])
    assert payment.amount_allocated == Decimal("100000")
    assert _state(own) == [("paid", Decimal("100000"), 0, 3)]
    assert _state(other) == [("posted", 0, Decimal("100000"), 2)]


def test_paying_a_cancelled_invoice_is_refused(
    accountant, bank, customer, make_invoice
):
    invoice = make_invoice(customer)
    services.invoice_cancel(actor=accountant, invoice_id=invoice.pk)
    with pytest.raises(InvoiceCancelled) as caught:
        _pay(accountant, bank, customer, 1000000, [(invoice, 1000000)])
    assert caught.value.code == "billing.invoice_cancelled"
    assert Payment.objects.count() == 0
    assert PaymentAllocation.objects.count() == 0


def test_currency_must_match_account_and_invoice(
    accountant, company, bank, customer, make_invoice
):
    with pytest.raises(CurrencyMismatch):
        _pay(accountant, bank, customer, 100, currency="USD")
    usd = CashAccountFactory(company=company, currency="USD", name="BCA USD")
    invoice = make_invoice(customer)
    with pytest.raises(CurrencyMismatch) as caught:
        _pay(accountant, usd, customer, 10, [(invoice, 10)])
    assert caught.value.code == "money.currency_mismatch"
    assert Payment.objects.count() == 0


def test_amount_with_too_many_decimals(accountant, company, bank, customer):
    with pytest.raises(TooManyDecimals) as caught:
        _pay(accountant, bank, customer, "100.5")
    assert caught.value.code == "money.too_many_decimals"
    assert "amount" in caught.value.fields
    usd = CashAccountFactory(company=company, currency="USD", name="BCA USD")
    with pytest.raises(TooManyDecimals):
        _pay(accountant, usd, customer, "10.001")
    assert _pay(accountant, usd, customer, "10.01").amount == Decimal("10.01")


def test_direction_and_party_must_fit(accountant, bank, customer, make_invoice):
    invoice = make_invoice(customer)
    with pytest.raises(DirectionMismatch):
        _pay(accountant, bank, customer, 1000, [(invoice, 1000)], direction="out")
    with pytest.raises(PartyMismatch):
        _pay(accountant, bank, ClientFactory(), 1000, [(invoice, 1000)])
    assert Payment.objects.count() == 0


def test_cancelling_a_payment_reopens_its_invoices(
    accountant, bank, customer, make_invoice
):
    invoice = make_invoice(customer, amounts=[Decimal("700000")])
    payment = _pay(accountant, bank, customer, 700000, [(invoice, 700000)])
    services.payment_cancel(actor=accountant, payment_id=payment.pk)
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert payment.state == "cancelled"
    assert (invoice.state, invoice.amount_due) == ("posted", Decimal("700000"))
    with pytest.raises(BadState):
        services.payment_cancel(actor=accountant, payment_id=payment.pk)
    with pytest.raises(VersionConflict):
        services.payment_allocate(
            actor=accountant,
            payment_id=payment.pk,
            version=1,
            allocations=[{"invoice_id": invoice.pk, "amount": 1}],
        )


def test_deallocate_turns_the_allocation_into_an_advance(
    accountant, bank, customer, make_invoice
):
    invoice = make_invoice(customer, amounts=[Decimal("500000")])
    payment = _pay(accountant, bank, customer, 500000, [(invoice, 500000)])
    services.payment_deallocate(
        actor=accountant, payment_id=payment.pk, invoice_id=invoice.pk
    )
    assert _state(invoice)[0][:3] == ("posted", 0, Decimal("500000"))
    payment.refresh_from_db()
    assert payment.amount_unallocated == Decimal("500000")


def test_invoice_with_payments_cannot_be_cancelled(
    accountant, bank, customer, make_invoice
):
    invoice = make_invoice(customer)
    _pay(accountant, bank, customer, 100, [(invoice, 100)])
    with pytest.raises(BadState):
        services.invoice_cancel(actor=accountant, invoice_id=invoice.pk)
    assert _state(invoice)[0][0] == "posted"


def test_supplier_bill_is_paid_out(accountant, bank, make_invoice):
    from satu.parties.tests.factories import CounterpartyFactory

    supplier = CounterpartyFactory()
    bill = make_invoice(None, kind="supplier_invoice", counterparty_id=supplier.pk)
    payment = services.payment_create(
        actor=accountant,
        direction="out",
        cash_account_id=bank.pk,
        amount=1000000,
        counterparty_id=supplier.pk,
        allocations=[{"invoice_id": bill.pk, "amount": 1000000}],
    )
    assert payment.number.startswith("PAY-")
    assert _state(bill)[0][0] == "paid"
