"""Events of sales, published on commit (frozen, past tense)."""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class QuoteSent:
    quote_id: int
    client_id: int
    to: str


@dataclass(frozen=True)
class QuoteAccepted:
    quote_id: int
    client_id: int


@dataclass(frozen=True)
class SalesOrderConfirmed:
    order_id: int
    client_id: int
    deal_id: int | None
    currency: str
    total: Decimal


@dataclass(frozen=True)
class SalesOrderCancelled:
    order_id: int
    client_id: int
