"""`satu check-books` for billing finds broken totals, paid amounts,
allocations and number gaps."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from satu.billing import services
from satu.billing.models import Invoice, Payment
from satu.core.books import check_books

pytestmark = pytest.mark.django_db


def test_clean_books_and_each_kind_of_damage(accountant, bank, customer, make_invoice):
    invoice = make_invoice(customer, amounts=[Decimal(1000), Decimal(500)])
    second = make_invoice(customer)
    services.payment_create(
        actor=accountant,
        direction="in",
        cash_account_id=bank.pk,
        amount=2000,
        client_id=customer.pk,
        allocations=[{"invoice_id": invoice.pk, "amount": 1500}],
    )
    services.credit_note_create(actor=accountant, invoice_id=second.pk, post=True)
    assert check_books(["billing"]) == {"billing": []}
    call_command("check_books")

    Invoice.objects.filter(pk=invoice.pk).update(amount_total=Decimal(1400))
    Payment.objects.update(amount_allocated=Decimal(100))
    Invoice.objects.filter(pk=second.pk).update(number="INV-2026-0005")

    problems = check_books(["billing"])["billing"]
    text = "\n".join(problems)
    assert "INV-2026-0001: total 1400" in text
    assert "allocations sum to 1500" in text
    assert "not 1..2 without gaps" in text
