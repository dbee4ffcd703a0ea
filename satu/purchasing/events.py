"""Events of purchasing (published on commit; frozen, past tense)."""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class PurchaseOrderConfirmed:
    order_id: int
    number: str
    supplier_id: int
    warehouse_id: int
    receipt_transfer_id: int | None


@dataclass(frozen=True)
class PurchaseOrderReceived:
    """Goods of the order were received; lines: ((line_id, product_id, qty),)."""

    order_id: int
    transfer_id: int
    lines: tuple[tuple[int, int, Decimal], ...]


@dataclass(frozen=True)
class PurchaseOrderBilled:
    order_id: int
    invoice_id: int
    lines: tuple[tuple[int, int, Decimal], ...]


@dataclass(frozen=True)
class PurchaseOrderCancelled:
    order_id: int
    fully: bool
