"""Events billing publishes (after commit). Amounts are Decimals in the
document's currency, complete enough for the accounting issue to post its
journal entries without reading billing's tables."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class InvoicePosted:
    """An invoice or credit note got its number. `kind` is
    customer_invoice|customer_credit_note|supplier_invoice|supplier_credit_note;
    `taxes` is [(rate, untaxed, tax)] grouped by tax rate."""

    invoice_id: int
    number: str
    kind: str
    company_id: int
    client_id: int | None
    counterparty_id: int | None
    currency: str
    issue_date: date
    due_date: date | None
    amount_untaxed: Decimal
    amount_tax: Decimal
    amount_total: Decimal
    origin_type: str = ""
    origin_id: int | None = None
    credited_invoice_id: int | None = None
    taxes: tuple = field(default_factory=tuple)


@dataclass(frozen=True)
class InvoiceCancelled:
    invoice_id: int
    number: str
    kind: str
    company_id: int
    currency: str
    amount_untaxed: Decimal
    amount_tax: Decimal
    amount_total: Decimal
    origin_type: str = ""
    origin_id: int | None = None


@dataclass(frozen=True)
class PaymentPosted:
    """Money received (direction "in") or paid (direction "out").
    `allocations` is [(invoice_id, amount)] allocated at creation; later
    allocations publish PaymentAllocated."""

    payment_id: int
    number: str
    direction: str
    purpose: str
    company_id: int
    cash_account_id: int
    client_id: int | None
    counterparty_id: int | None
    currency: str
    amount: Decimal
    date: date
    allocations: tuple = field(default_factory=tuple)


@dataclass(frozen=True)
class PaymentAllocated:
    payment_id: int
    invoice_id: int
    amount: Decimal
    currency: str
    origin_type: str = ""
    origin_id: int | None = None


@dataclass(frozen=True)
class PaymentCancelled:
    payment_id: int
    number: str
    direction: str
    company_id: int
    cash_account_id: int
    currency: str
    amount: Decimal
