"""Real concurrency on PostgreSQL: posting drafts at the same time gives
consecutive numbers without duplicates; paying one invoice from two
payments at once never allocates more than due."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from satu.billing import services
from satu.billing.errors import OverAllocation
from satu.billing.models import Invoice
from satu.core.books import check_books

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
]


def _together(count, work):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run(index):
        try:
            barrier.wait()
            results.append(work(index))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_concurrent_posting_gives_consecutive_numbers(
    accountant, customer, make_invoice
):
    drafts = [make_invoice(customer, post=False) for _ in range(6)]

    results, errors = _together(
        6,
        lambda i: (
            services.invoice_post(actor=accountant, invoice_id=drafts[i].pk).number
        ),
    )

    assert errors == []
    assert sorted(results) == [f"INV-2026-{n:04d}" for n in range(1, 7)]
    assert Invoice.objects.filter(state="posted").count() == 6
    assert check_books(["billing"]) == {"billing": []}


def test_concurrent_payments_never_overpay(accountant, bank, customer, make_invoice):
    services.payment_purposes_seed()  # a transactional test flushed the seed
    invoice = make_invoice(customer, amounts=[Decimal(1000)])

    results, errors = _together(
        2,
        lambda i: services.payment_create(
            actor=accountant,
            direction="in",
            cash_account_id=bank.pk,
            amount=700,
            client_id=customer.pk,
            allocations=[{"invoice_id": invoice.pk, "amount": 700}],
        ),
    )

    assert (len(results), [type(e) for e in errors]) == (1, [OverAllocation]), errors
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.amount_due) == (Decimal(700), Decimal(300))
