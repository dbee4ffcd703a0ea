"""Public reads of inventory: availability, balances, moves, transfers,
warehouses and locations, valuation. See docs/domains/inventory.md."""

import decimal
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Case, F, Q, Sum, When

from satu.core.errors import NotFound
from satu.inventory.models import (
    InventoryCount,
    InventoryCountLine,
    Location,
    Lot,
    Quant,
    Reservation,
    StockLevel,
    StockMove,
    Transfer,
    TransferLine,
    Warehouse,
    WriteOffReason,
)

ZERO = Decimal(0)


def _t(value) -> str:
    """Text for a filter; PostgreSQL text cannot hold NUL characters."""
    return str(value or "").replace("\x00", "")


OPEN_STATES = ("confirmed", "picked", "packed", "in_transit")


@dataclass(frozen=True)
class Availability:
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    incoming: Decimal


def stock_availability(*, product_ids, warehouse_id=None) -> dict[int, Availability]:
    """Per product (over all warehouses, or one): on hand, reserved,
    available (on hand − reserved) and incoming (open receipts and internal
    transfers into the warehouse, not yet received). Two queries; products
    without stock get zeros."""
    ids = [int(p) for p in product_ids]
    if not ids:
        return {}
    levels = StockLevel.objects.filter(product_id__in=ids)
    if warehouse_id is not None:
        levels = levels.filter(warehouse_id=warehouse_id)
    sums = {
        row["product_id"]: row
        for row in levels.values("product_id").annotate(
            on_hand_sum=Sum("on_hand"), reserved_sum=Sum("reserved")
        )
    }
    receipts = Q(transfer__kind="receipt")
    internal = Q(transfer__kind="internal")
    if warehouse_id is not None:
        receipts &= Q(transfer__warehouse_id=warehouse_id)
        internal &= Q(transfer__destination_warehouse_id=warehouse_id)
    incoming = dict(
        TransferLine.objects.filter(
            receipts | internal,
            product_id__in=ids,
            transfer__state__in=OPEN_STATES,
        )
        .values("product_id")
        .annotate(q=Sum("quantity"))
        .values_list("product_id", "q")
    )
    out = {}
    for pid in ids:
        row = sums.get(pid) or {}
        on_hand = row.get("on_hand_sum") or ZERO
        reserved = row.get("reserved_sum") or ZERO
        out[pid] = Availability(
            on_hand=on_hand,
            reserved=reserved,
            available=on_hand - reserved,
            incoming=incoming.get(pid) or ZERO,
        )
    return out


def stock_available(*, product_id, warehouse_id=None) -> Decimal:
    return stock_availability(product_ids=[product_id], warehouse_id=warehouse_id)[
        int(product_id)
    ].available


def warehouse_get(*, warehouse_id) -> Warehouse:
    wh = (
        Warehouse.objects.select_related("stock_location", "company")
        .filter(pk=warehouse_id)
        .first()
    )
    if wh is None:
        raise NotFound()
    return wh


def warehouse_active(*, warehouse_id) -> bool | None:
    """Whether the warehouse is active; None when there is no such
    warehouse (one light query: the validation hot path)."""
    found = list(
        Warehouse.objects.filter(pk=warehouse_id)
        .order_by()
        .values_list("is_active", flat=True)
    )
    return found[0] if found else None


def warehouse_list(*, include_inactive=False, search=""):
    search = _t(search)
    qs = Warehouse.objects.select_related("stock_location").order_by("code")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if search:
        qs = qs.filter(Q(code__icontains=search) | Q(name__icontains=search))
    return qs


def warehouse_default() -> Warehouse | None:
    """The main warehouse: the first active non-outlet one by code (else
    the first active one), or None before setup."""
    qs = Warehouse.objects.filter(is_active=True).select_related("stock_location")
    return qs.filter(is_outlet=False).order_by("code", "pk").first() or (
        qs.order_by("code", "pk").first()
    )


def virtual_location(kind: str) -> Location:
    """The shared location of kind supplier | customer | loss | adjustment
    (created on first use if a flush removed it)."""
    if kind not in Location.VIRTUAL:
        raise NotFound()
    from satu.inventory.services import _get_or_create_virtual

    return _get_or_create_virtual(kind)


def location_list(*, warehouse_id=None, kinds=None):
    qs = Location.objects.select_related("warehouse", "parent").order_by(
        "warehouse__code", "code", "pk"
    )
    if warehouse_id is not None:
        qs = qs.filter(warehouse_id=warehouse_id)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs


MOVED_SQL = (
    "SELECT m.origin_line_id, SUM(CASE "
    "WHEN d.kind = 'customer' THEN m.quantity "
    "WHEN s.kind = 'customer' THEN -m.quantity "
    "WHEN s.kind = 'supplier' THEN m.quantity "
    "WHEN d.kind = 'supplier' THEN -m.quantity "
    "ELSE 0 END) "
    "FROM inventory_stockmove m "
    "JOIN inventory_location s ON s.id = m.source_id "
    "JOIN inventory_location d ON d.id = m.destination_id "
    "WHERE m.origin_type = %s AND m.origin_id = %s AND m.state = 'done' "
    "AND m.origin_line_id IS NOT NULL "
    "GROUP BY m.origin_line_id"
)
_to_decimal = decimal.Context(prec=15).create_decimal_from_float
Q6 = Decimal("0.000001")


def _quantity(value) -> Decimal:
    """A summed quantity as a raw cursor gives it (SQLite: float/int) →
    Decimal with 6 places, as the ORM's DecimalField converter does."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return _to_decimal(value).quantize(Q6)
    return Decimal(value).quantize(Q6)


def moved_quantities(*, origin_type, origin_id) -> dict[int, Decimal]:
    """Done quantity per origin_line_id over the origin's moves: what went
    to customers minus what came back, or what came from suppliers minus
    what went back to them. One plain statement (order-to-cash hot path)."""
    origin_type = _t(origin_type)
    with connection.cursor() as cursor:
        cursor.execute(MOVED_SQL, [origin_type, origin_id])
        rows = cursor.fetchall()
    return {line_id: _quantity(q) or ZERO for line_id, q in rows}


def reserved_quantities(*, origin_type, origin_id) -> dict[int, Decimal]:
    """Still-reserved quantity per origin_line_id of a document."""
    rows = (
        Reservation.objects.filter(
            origin_type=origin_type, origin_id=origin_id, state="active"
        )
        .values("origin_line_id")
        .annotate(q=Sum("quantity"))
        .values_list("origin_line_id", "q")
    )
    return dict(rows)


def stock_levels(*, warehouse_id=None, search="", only_nonzero=True):
    """Stock per product × warehouse (on hand, reserved, value, available)
    for the stock screen; one query (product and warehouse joined)."""
    search = _t(search)
    qs = StockLevel.objects.select_related("product", "warehouse").annotate(
        available_q=F("on_hand") - F("reserved")
    )
    if warehouse_id:
        qs = qs.filter(warehouse_id=warehouse_id)
    if search:
        qs = qs.filter(
            Q(product__name__icontains=search) | Q(product__sku__icontains=search)
        )
    if only_nonzero:
        qs = qs.exclude(on_hand=0, reserved=0)
    return qs.order_by("product__name", "product_id", "warehouse__code")


def incoming_by_product_warehouse(product_ids) -> dict:
    """{(product_id, warehouse_id): incoming} for open receipts/internal
    transfers, one query."""
    rows = (
        TransferLine.objects.filter(
            product_id__in=list(product_ids),
            transfer__state__in=OPEN_STATES,
            transfer__kind__in=("receipt", "internal"),
        )
        .annotate(
            wh=Case(
                When(
                    transfer__kind="internal",
                    then=F("transfer__destination_warehouse_id"),
                ),
                default=F("transfer__warehouse_id"),
            )
        )
        .values("product_id", "wh")
        .annotate(q=Sum("quantity"))
    )
    return {(r["product_id"], r["wh"]): r["q"] for r in rows}


def stock_value(*, warehouse_id=None) -> dict[int, Decimal]:
    """Stock value per warehouse (sum of StockLevel.value), one query."""
    qs = StockLevel.objects.all()
    if warehouse_id is not None:
        qs = qs.filter(warehouse_id=warehouse_id)
    return {
        wh: value or ZERO
        for wh, value in qs.values("warehouse_id")
        .annotate(v=Sum("value"))
        .values_list("warehouse_id", "v")
    }


def move_list(*, product_id=None, warehouse_id=None, origin_type="", origin_id=None):
    origin_type = _t(origin_type)
    qs = StockMove.objects.select_related(
        "product", "source", "destination", "lot", "transfer"
    ).order_by("-id")
    if product_id:
        qs = qs.filter(product_id=product_id)
    if warehouse_id:
        qs = qs.filter(
            Q(source__warehouse_id=warehouse_id)
            | Q(destination__warehouse_id=warehouse_id)
        )
    if origin_type:
        qs = qs.filter(origin_type=origin_type)
    if origin_id is not None:
        qs = qs.filter(origin_id=origin_id)
    return qs


def quants_for_product(*, product_id):
    return (
        Quant.objects.filter(product_id=product_id)
        .exclude(quantity=0)
        .select_related("location", "location__warehouse", "lot")
        .order_by("location__warehouse__code", "location_id", "lot__code")
    )


def transfer_list(
    *, state="", kind="", warehouse_id=None, search="", origin_type="", origin_id=None
):
    search = _t(search)
    origin_type = _t(origin_type)
    state = _t(state)
    kind = _t(kind)
    qs = Transfer.objects.select_related(
        "warehouse", "destination_warehouse", "client", "counterparty"
    )
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    if warehouse_id:
        qs = qs.filter(warehouse_id=warehouse_id)
    if origin_type:
        qs = qs.filter(origin_type=origin_type)
    if origin_id is not None:
        qs = qs.filter(origin_id=origin_id)
    if search:
        qs = qs.filter(Q(number__icontains=search) | Q(reference__icontains=search))
    return qs.order_by("-id")


def transfer_get(*, transfer_id) -> Transfer:
    transfer = (
        Transfer.objects.select_related(
            "warehouse", "destination_warehouse", "client", "counterparty", "reason"
        )
        .filter(pk=transfer_id)
        .first()
    )
    if transfer is None:
        raise NotFound()
    return transfer


def transfer_lines(*, transfer_id):
    return (
        TransferLine.objects.filter(transfer_id=transfer_id)
        .select_related("product", "product__base_unit", "lot")
        .order_by("id")
    )


def lot_list(*, product_id=None, search=""):
    search = _t(search)
    qs = Lot.objects.select_related("product").order_by("product_id", "code")
    if product_id:
        qs = qs.filter(product_id=product_id)
    if search:
        qs = qs.filter(code__icontains=search)
    return qs


def write_off_reasons(*, include_inactive=False):
    qs = WriteOffReason.objects.order_by("name")
    return qs if include_inactive else qs.filter(is_active=True)


def inventory_count_list(*, warehouse_id=None, state=""):
    state = _t(state)
    qs = InventoryCount.objects.select_related("warehouse").order_by("-id")
    if warehouse_id:
        qs = qs.filter(warehouse_id=warehouse_id)
    if state:
        qs = qs.filter(state=state)
    return qs


def inventory_count_get(*, count_id) -> InventoryCount:
    count = (
        InventoryCount.objects.select_related("warehouse").filter(pk=count_id).first()
    )
    if count is None:
        raise NotFound()
    return count


def inventory_count_lines(*, count_id):
    return (
        InventoryCountLine.objects.filter(count_id=count_id)
        .select_related("product", "location", "lot")
        .order_by("id")
    )
