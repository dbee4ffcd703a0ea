"""Receivables: ageing buckets as of a date (one query), credit exposure,
client balance and card section, payment dynamics and splits."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from satu.billing import queries, services
from satu.billing.tests.factories import CashAccountFactory, ContractFactory
from satu.core.formatting import money
from satu.parties.queries import card_sections

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)


def _invoice(make_invoice, client, amount, due):
    return make_invoice(
        client,
        amounts=[Decimal(amount)],
        issue_date=date(2026, 1, 2),
        due_date=due,
    )


def test_ageing_buckets_as_of_a_date(
    accountant, bank, customer, make_invoice, django_assert_num_queries
):
    _invoice(make_invoice, customer, 100, date(2026, 7, 15))  # current
    _invoice(make_invoice, customer, 200, date(2026, 6, 30))  # current (due today)
    _invoice(make_invoice, customer, 300, date(2026, 6, 29))  # 1–30
    _invoice(make_invoice, customer, 50, date(2026, 5, 31))  # 1–30 (30 days)
    _invoice(make_invoice, customer, 400, date(2026, 5, 30))  # 31–60 (31 days)
    _invoice(make_invoice, customer, 500, date(2026, 4, 20))  # 61–90
    old = _invoice(make_invoice, customer, 600, date(2026, 1, 31))  # 90+
    # Paid after the date: still open on it; paid before: not.
    services.payment_create(
        actor=accountant,
        direction="in",
        cash_account_id=bank.pk,
        amount=600,
        client_id=customer.pk,
        date=date(2026, 7, 5),
        allocations=[{"invoice_id": old.pk, "amount": 600}],
    )
    early = _invoice(make_invoice, customer, 700, date(2026, 2, 1))
    services.payment_create(
        actor=accountant,
        direction="in",
        cash_account_id=bank.pk,
        amount=700,
        client_id=customer.pk,
        date=date(2026, 3, 1),
        allocations=[{"invoice_id": early.pk, "amount": 700}],
    )
    make_invoice(customer, amounts=[Decimal(999)], issue_date=date(2026, 7, 1))

    with django_assert_num_queries(1):
        rows = queries.receivables_ageing(actor=accountant, as_of=AS_OF)

    assert len(rows) == 1
    row = rows[0]
    assert row["name"] == "Toko Maju"
    assert [row[k] for k in ("current", "d1_30", "d31_60", "d61_90", "d90_plus")] == [
        Decimal(300),
        Decimal(350),
        Decimal(400),
        Decimal(500),
        Decimal(600),
    ]
    assert row["total"] == Decimal(2150)


def test_credit_notes_reduce_receivables_and_payables_are_separate(
    accountant, customer, make_invoice
):
    invoice = make_invoice(customer, amounts=[Decimal(1000)])
    services.credit_note_create(
        actor=accountant,
        invoice_id=invoice.pk,
        lines=[{"line_id": invoice.lines.get().pk, "quantity": "0.25"}],
        post=True,
    )
    supplier = ContractFactory(kind="purchase").counterparty
    make_invoice(None, kind="supplier_invoice", counterparty_id=supplier.pk)
    receivable = queries.receivables_ageing(actor=accountant, as_of=date(2026, 3, 1))
    payable = queries.receivables_ageing(
        actor=accountant, as_of=date(2026, 3, 1), side="payable"
    )
    assert [r["total"] for r in receivable] == [Decimal(750)]
    assert [(r["name"], r["total"]) for r in payable] == [
        (supplier.legal_name, Decimal(1000000))
    ]


def test_credit_exposure_and_check(accountant, bank, customer, make_invoice):
    contract = ContractFactory(
        client=customer, credit_limit=Decimal(1500000), overdue_days_allowed=10
    )
    make_invoice(
        customer,
        amounts=[Decimal(1000000)],
        contract_id=contract.pk,
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
    )
    exposure = queries.credit_exposure(
        counterparty_id=contract.counterparty_id, on=date(2026, 2, 5)
    )
    assert exposure.open_receivables == Decimal(1000000)
    assert exposure.overdue_amount == Decimal(1000000)
    assert exposure.max_overdue_days == 5
    assert exposure.credit_limit == Decimal(1500000)

    fits = queries.credit_check(
        counterparty_id=contract.counterparty_id, amount=400000, on=date(2026, 2, 5)
    )
    assert fits.allowed
    over = queries.credit_check(
        counterparty_id=contract.counterparty_id, amount=600000, on=date(2026, 2, 5)
    )
    assert not over.allowed and "credit limit" in over.reason
    late = queries.credit_check(
        counterparty_id=contract.counterparty_id, amount=1, on=date(2026, 2, 20)
    )
    assert not late.allowed and "20 days overdue" in late.reason


def test_client_card_shows_the_balance(manager, accountant, customer, make_invoice):
    today = timezone.localdate()
    make_invoice(
        customer,
        amounts=[Decimal(950000)],
        issue_date=today,
        due_date=today + timedelta(days=30),
    )
    make_invoice(
        customer,
        amounts=[Decimal(300000)],
        issue_date=date(2020, 1, 1),
        due_date=date(2020, 1, 31),
    )
    section = next(
        s for s in card_sections(actor=manager, client=customer) if s.title == "Balance"
    )
    receivable, overdue = money(Decimal(1250000), "IDR"), money(Decimal(300000), "IDR")
    assert section.header == f"Receivable {receivable} ({overdue} overdue)"


def test_payment_dynamics_and_split(accountant, company, bank, customer):
    cash = CashAccountFactory(company=company, kind="cash", name="Cash desk")
    for day, account, direction, amount, purpose in [
        (date(2026, 1, 10), bank, "in", 1000, "sale"),
        (date(2026, 1, 20), cash, "out", 300, "salary"),
        (date(2026, 3, 5), bank, "in", 500, "advance"),
    ]:
        services.payment_create(
            actor=accountant,
            direction=direction,
            cash_account_id=account.pk,
            amount=amount,
            purpose_code=purpose,
            client_id=customer.pk if direction == "in" else None,
            date=day,
        )
    rows = queries.payment_dynamics(
        actor=accountant, date_from=date(2026, 1, 1), date_to=date(2026, 3, 31)
    )
    assert [(r["month"], r["received"], r["paid"]) for r in rows] == [
        (date(2026, 1, 1), Decimal(1000), Decimal(300)),
        (date(2026, 2, 1), Decimal(0), Decimal(0)),
        (date(2026, 3, 1), Decimal(500), Decimal(0)),
    ]
    by_purpose = queries.payment_split(
        actor=accountant,
        date_from=date(2026, 1, 1),
        date_to=date(2026, 3, 31),
        by="purpose",
    )
    assert [(r["name"], r["received"], r["paid"]) for r in by_purpose] == [
        ("Advance", Decimal(500), Decimal(0)),
        ("Salary", Decimal(0), Decimal(300)),
        ("Sale", Decimal(1000), Decimal(0)),
    ]
    by_account = queries.payment_split(
        actor=accountant, date_from=date(2026, 1, 1), date_to=date(2026, 3, 31)
    )
    assert [(r["name"], r["net"]) for r in by_account] == [
        ("BCA IDR", Decimal(1500)),
        ("Cash desk", Decimal(-300)),
    ]
