"""Credit notes: full or some lines, never more than invoiced."""

from decimal import Decimal

import pytest

from satu.billing import queries, services
from satu.billing.errors import BadState, OverCredit
from satu.billing.models import Invoice

pytestmark = pytest.mark.django_db


def _invoice(accountant, customer, post=True):
    invoice = services.invoice_create(
        actor=accountant,
        kind="customer_invoice",
        currency="IDR",
        client_id=customer.pk,
        origin_type="sales.order",
        origin_id=5,
        lines=[
            {
                "description": "Pump",
                "quantity": 3,
                "unit_price": 100000,
                "tax_rate": 11,
                "origin_line_id": 51,
            },
            {
                "description": "Hose",
                "quantity": 10,
                "unit_price": "3333",
                "tax_rate": 11,
                "origin_line_id": 52,
            },
        ],
    )
    if post:
        invoice = services.invoice_post(actor=accountant, invoice_id=invoice.pk)
    return invoice


def test_full_credit_settles_the_invoice(accountant, company, customer):
    invoice = _invoice(accountant, customer)
    note = services.credit_note_create(
        actor=accountant, invoice_id=invoice.pk, post=True
    )
    invoice.refresh_from_db()
    assert note.kind == Invoice.Kind.CUSTOMER_CREDIT_NOTE
    assert note.number == "CN-2026-0001" or note.number.startswith("CN-")
    assert note.amount_total == invoice.amount_total
    assert (invoice.state, invoice.amount_due, invoice.amount_offset) == (
        "paid",
        0,
        invoice.amount_total,
    )
    assert note.amount_due == 0
    assert queries.invoiced_quantities(origin_type="sales.order", origin_id=5) == {
        51: 0,
        52: 0,
    }


def test_partial_credits_never_exceed_what_was_invoiced(accountant, company, customer):
    invoice = _invoice(accountant, customer)
    pump, hose = invoice.lines.all()
    first = services.credit_note_create(
        actor=accountant,
        invoice_id=invoice.pk,
        lines=[{"line_id": hose.pk, "quantity": 3}],
        post=True,
    )
    assert first.amount_untaxed == Decimal("9999")
    assert queries.invoiced_quantities(origin_type="sales.order", origin_id=5) == {
        51: 3,
        52: 7,
    }
    with pytest.raises(OverCredit) as caught:
        services.credit_note_create(
            actor=accountant,
            invoice_id=invoice.pk,
            lines=[{"line_id": hose.pk, "quantity": 8}],
        )
    assert caught.value.code == "billing.over_credit"
    assert Invoice.objects.filter(kind="customer_credit_note").count() == 1
    rest = services.credit_note_create(
        actor=accountant, invoice_id=invoice.pk, post=True
    )
    invoice.refresh_from_db()
    # The last credit takes exactly what is left: no cent stays open.
    assert first.amount_total + rest.amount_total == invoice.amount_total
    assert invoice.amount_due == 0
    with pytest.raises(OverCredit):
        services.credit_note_create(actor=accountant, invoice_id=invoice.pk)


def test_two_drafts_cannot_credit_the_same_quantity(accountant, company, customer):
    invoice = _invoice(accountant, customer)
    pump = invoice.lines.first()
    services.credit_note_create(
        actor=accountant,
        invoice_id=invoice.pk,
        lines=[{"line_id": pump.pk, "quantity": 2}],
    )
    with pytest.raises(OverCredit):
        services.credit_note_create(
            actor=accountant,
            invoice_id=invoice.pk,
            lines=[{"line_id": pump.pk, "quantity": 2}],
        )


def test_only_posted_invoices_are_credited(accountant, company, customer):
    draft = _invoice(accountant, customer, post=False)
    with pytest.raises(BadState):
        services.credit_note_create(actor=accountant, invoice_id=draft.pk)


def test_credit_after_payment_is_a_refund_due(accountant, company, customer, bank):
    invoice = _invoice(accountant, customer)
    services.payment_create(
        actor=accountant,
        direction="in",
        cash_account_id=bank.pk,
        amount=invoice.amount_total,
        client_id=customer.pk,
        allocations=[{"invoice_id": invoice.pk, "amount": invoice.amount_total}],
    )
    pump = invoice.lines.first()
    note = services.credit_note_create(
        actor=accountant,
        invoice_id=invoice.pk,
        lines=[{"line_id": pump.pk, "quantity": 1}],
        post=True,
    )
    assert (note.amount_offset, note.amount_due) == (0, Decimal("111000"))
    refund = services.payment_create(
        actor=accountant,
        direction="out",
        purpose_code="refund",
        cash_account_id=bank.pk,
        amount=111000,
        client_id=customer.pk,
        allocations=[{"invoice_id": note.pk, "amount": 111000}],
    )
    note.refresh_from_db()
    assert note.state == "paid"
    assert refund.purpose.code == "refund"


def test_cancelling_a_credit_note_reopens_the_invoice(accountant, company, customer):
    invoice = _invoice(accountant, customer)
    note = services.credit_note_create(
        actor=accountant, invoice_id=invoice.pk, post=True
    )
    services.invoice_cancel(actor=accountant, invoice_id=note.pk)
    invoice.refresh_from_db()
    assert (invoice.state, invoice.amount_due, invoice.amount_offset) == (
        "posted",
        invoice.amount_total,
        0,
    )


def test_any_sequence_of_partial_credits_ties_out(accountant, company, customer):
    """Property: whatever partial quantities are credited, the credit notes
    never exceed the invoice, and crediting the rest leaves exactly zero."""
    import random

    from satu.core.books import check_books

    rng = random.Random(20260301)
    for _ in range(8):
        invoice = services.invoice_post(
            actor=accountant,
            invoice_id=services.invoice_create(
                actor=accountant,
                kind="customer_invoice",
                currency="USD",
                client_id=customer.pk,
                lines=[
                    {
                        "description": f"Item {n}",
                        "quantity": rng.randint(1, 9),
                        "unit_price": Decimal(rng.randint(1, 99999)) / 100,
                        "tax_rate": rng.choice([0, 11, 12]),
                        "tax_inclusive": rng.random() < 0.3,
                        "discount_percent": rng.choice([0, 5, 12.5]),
                    }
                    for n in range(rng.randint(1, 4))
                ],
            ).pk,
        )
        for line in invoice.lines.all():
            left = line.quantity
            while left > 1 and rng.random() < 0.7:
                part = Decimal(rng.randint(1, int(left) - 1))
                services.credit_note_create(
                    actor=accountant,
                    invoice_id=invoice.pk,
                    lines=[{"line_id": line.pk, "quantity": part}],
                    post=True,
                )
                left -= part
        invoice.refresh_from_db()
        assert invoice.amount_offset <= invoice.amount_total
        services.credit_note_create(actor=accountant, invoice_id=invoice.pk, post=True)
        invoice.refresh_from_db()
        credited = sum(n.amount_total for n in invoice.credit_notes.all())
        assert credited == invoice.amount_total
        assert (invoice.amount_due, invoice.state) == (0, "paid")
    assert check_books(["billing"]) == {"billing": []}
