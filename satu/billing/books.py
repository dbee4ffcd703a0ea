"""`satu check-books` for billing: recompute invoice totals, paid and due
amounts, payment allocations and the number series from their sources and
report every difference (an empty list when everything ties out)."""

import re
from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from satu.billing.models import Invoice, InvoiceLine, Payment, PaymentAllocation

ZERO = Decimal(0)


PLACES = Decimal("0.0001")


def _q(value) -> Decimal:
    # SQLite sums decimals as floats: compare at the field's 4 places.
    return Decimal(str(value or 0)).quantize(PLACES)


def _sums(qs, key: str, fields: tuple[str, ...]) -> dict:
    rows = qs.order_by().values(key).annotate(**{f: Sum(f) for f in fields})
    return {row[key]: tuple(_q(row[f]) for f in fields) for row in rows}


def invoice_totals() -> list[str]:
    """Each invoice's untaxed/tax/total equal the sums of its lines."""
    lines = _sums(InvoiceLine.objects.all(), "invoice_id", ("untaxed", "tax", "total"))
    problems = []
    for pk, number, untaxed, tax, total in Invoice.objects.values_list(
        "pk", "number", "amount_untaxed", "amount_tax", "amount_total"
    ).iterator():
        summed = lines.get(pk, (_q(0), _q(0), _q(0)))
        if (_q(untaxed), _q(tax), _q(total)) != summed:
            problems.append(
                f"invoice {number or '#' + str(pk)}: total {_q(total)} but lines "
                f"sum to {summed[2]}"
            )
    return problems


def invoice_paid() -> list[str]:
    """paid = sum of allocations; due = total − paid − credited (open ones);
    an invoice's credited amount = what its credit notes settle."""
    allocated = _sums(PaymentAllocation.objects.all(), "invoice_id", ("amount",))
    offsets = defaultdict(lambda: _q(0))
    for original_id, offset in (
        Invoice.objects.filter(credited_invoice__isnull=False)
        .exclude(state=Invoice.State.CANCELLED)
        .values_list("credited_invoice_id", "amount_offset")
    ):
        offsets[original_id] += _q(offset)
    problems = []
    open_states = (Invoice.State.POSTED, Invoice.State.PAID)
    for row in Invoice.objects.values_list(
        "pk",
        "number",
        "state",
        "credited_invoice_id",
        "amount_total",
        "amount_paid",
        "amount_offset",
        "amount_due",
    ).iterator():
        pk, number, state, credited_id, total, paid, offset, due = row
        name = number or f"#{pk}"
        real = allocated.get(pk, (_q(0),))[0]
        if _q(paid) != real:
            problems.append(
                f"invoice {name}: paid {_q(paid)} but allocations sum to {real}"
            )
        if state in open_states:
            if _q(due) != _q(total) - _q(paid) - _q(offset):
                problems.append(
                    f"invoice {name}: due {_q(due)} is not total − paid − credited"
                )
            if (state == Invoice.State.PAID) != (_q(due) <= 0):
                problems.append(f"invoice {name}: state {state} does not fit its due")
        if credited_id is None and _q(offset) != offsets.get(pk, _q(0)):
            problems.append(
                f"invoice {name}: credited {_q(offset)} but its credit notes "
                f"settle {offsets.get(pk, _q(0))}"
            )
    return problems


def payment_allocations() -> list[str]:
    """allocated = sum of allocations ≤ amount; cancelled ones hold none."""
    allocated = _sums(PaymentAllocation.objects.all(), "payment_id", ("amount",))
    problems = []
    for pk, number, state, amount, recorded in Payment.objects.values_list(
        "pk", "number", "state", "amount", "amount_allocated"
    ).iterator():
        real = allocated.get(pk, (_q(0),))[0]
        if (
            _q(recorded) != real
            or real > _q(amount)
            or (state == Payment.State.CANCELLED and real > 0)
        ):
            problems.append(
                f"payment {number} ({state}): allocated {_q(recorded)}, "
                f"allocations sum to {real}, amount {_q(amount)}"
            )
    return problems


def number_series() -> list[str]:
    """Posted numbers per company, kind and year run 1..n without gaps or
    duplicates."""
    pattern = re.compile(r"^[A-Z]+-(\d{4})-(\d+)$")
    series = defaultdict(list)
    for company_id, kind, number in (
        Invoice.objects.exclude(number="")
        .values_list("company_id", "kind", "number")
        .order_by()
    ):
        match = pattern.match(number)
        if not match:
            series[(company_id, kind, "?")].append(-1)
            continue
        series[(company_id, kind, match.group(1))].append(int(match.group(2)))
    problems = []
    for (company_id, kind, year), numbers in sorted(series.items()):
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            problems.append(
                f"{kind} numbers of company {company_id} in {year} are not "
                f"1..{len(numbers)} without gaps"
            )
    drafts_numbered = Invoice.objects.filter(state=Invoice.State.DRAFT).exclude(
        number=""
    )
    problems += [
        f"draft #{pk} has a number"
        for pk in drafts_numbered.values_list("pk", flat=True)
    ]
    return problems


def check() -> list[str]:
    return invoice_totals() + invoice_paid() + payment_allocations() + number_series()
