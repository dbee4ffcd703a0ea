"""Events of the inventory domain, published on commit (frozen, past tense).

Accounting needs the values: every move carries `value` (quantity × unit
cost at posting, 4 decimals; the cost of goods for issues)."""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class StockMovePosted:
    move_id: int
    product_id: int
    quantity: Decimal
    source_id: int
    destination_id: int
    value: Decimal


@dataclass(frozen=True)
class TransferDone:
    """A transfer (or one leg of an internal transfer) was posted.

    `lines`: tuple of (origin_line_id, product_id, quantity, value) for what
    was actually moved now (a partial done names only the shipped part)."""

    transfer_id: int
    kind: str
    origin_type: str
    origin_id: int | None
    lines: tuple
    warehouse_id: int | None = None
    # Internal transfers: "sent" (stock -> transit) or "received".
    leg: str = ""


@dataclass(frozen=True)
class TransferCancelled:
    transfer_id: int
    kind: str
    origin_type: str
    origin_id: int | None


@dataclass(frozen=True)
class InventoryCountValidated:
    count_id: int
    warehouse_id: int
    lines: tuple  # (product_id, lot_id, difference, value)
