"""Public reads of inventory: availability, balances, moves, transfers,
warehouses and locations, valuation. See docs/domains/inventory.md."""

import decimal
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Case, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from satu.catalog.models import Product
from satu.core.errors import NotFound
from satu.core.fields import QuantityField
from satu.core.prepared import prepared
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


def projected_stock_annotations(
    product_ref: str = "product_id", warehouse_ref: str = "warehouse_id"
) -> dict:
    """Annotations for rows that name a product and a warehouse (reorder
    points, say): `on_hand_q`, `reserved_q` and `incoming_q` (open receipts
    and internal transfers into that warehouse), zero when there is none —
    subqueries of the same statement, no query per row."""
    level = StockLevel.objects.filter(
        product_id=OuterRef(product_ref), warehouse_id=OuterRef(warehouse_ref)
    )
    incoming = (
        TransferLine.objects.filter(
            product_id=OuterRef(product_ref), transfer__state__in=OPEN_STATES
        )
        .filter(
            Q(transfer__kind="receipt", transfer__warehouse_id=OuterRef(warehouse_ref))
            | Q(
                transfer__kind="internal",
                transfer__destination_warehouse_id=OuterRef(warehouse_ref),
            )
        )
        .values("product_id")
        .annotate(q=Sum("quantity"))
        .values("q")
    )
    qty = QuantityField()
    return {
        "on_hand_q": Coalesce(
            Subquery(level.values("on_hand")[:1]), Value(ZERO), output_field=qty
        ),
        "reserved_q": Coalesce(
            Subquery(level.values("reserved")[:1]), Value(ZERO), output_field=qty
        ),
        "incoming_q": Coalesce(Subquery(incoming), Value(ZERO), output_field=qty),
    }


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
    if warehouse_id is None:
        return None
    found = _WAREHOUSE_ACTIVE.all(warehouse_id=int(warehouse_id))
    return found[0] if found else None


_WAREHOUSE_ACTIVE = prepared(
    lambda warehouse_id: (
        Warehouse.objects.filter(pk=warehouse_id)
        .order_by()
        .values_list("is_active", flat=True)
    )
)


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
MOVED_BY_PRODUCT_SQL = MOVED_SQL.replace(
    "SELECT m.origin_line_id, ", "SELECT m.origin_line_id, m.product_id, "
).replace("GROUP BY m.origin_line_id", "GROUP BY m.origin_line_id, m.product_id")
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


def moved_by_product(*, origin_type, origin_id) -> dict[tuple, Decimal]:
    """`moved_quantities` per (origin_line_id, product_id): for a document
    line whose goods move as several products (a kit's components)."""
    origin_type = _t(origin_type)
    with connection.cursor() as cursor:
        cursor.execute(MOVED_BY_PRODUCT_SQL, [origin_type, origin_id])
        rows = cursor.fetchall()
    return {(line_id, pid): _quantity(q) or ZERO for line_id, pid, q in rows}


def reserved_by_product(*, origin_type, origin_id) -> dict[tuple, Decimal]:
    """Still-reserved quantity per (origin_line_id, product_id)."""
    rows = _RESERVED_BY_PRODUCT.all(
        origin_type=origin_type,
        origin_id=None if origin_id is None else int(origin_id),
    )
    return {(line_id, pid): q for line_id, pid, q in rows}


_RESERVED_BY_PRODUCT = prepared(
    lambda origin_type, origin_id: (
        Reservation.objects.filter(
            origin_type=origin_type, origin_id=origin_id, state="active"
        )
        .values("origin_line_id", "product_id")
        .annotate(q=Sum("quantity"))
        .values_list("origin_line_id", "product_id", "q")
    )
)


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


@dataclass(frozen=True)
class Returnable:
    """Goods of a document still at the customer: what its done moves sent
    from `location` to customers minus what came back there, per product,
    lot and origin line, with the value they left with (net)."""

    warehouse_id: int
    warehouse: str
    warehouse_active: bool
    location_id: int
    product_id: int
    sku: str
    name: str
    lot_id: int | None
    lot: str
    origin_line_id: int | None
    quantity: Decimal
    value: Decimal


def returnable_quantities(*, origin_type, origin_id) -> list[Returnable]:
    """What a document's deliveries left at the customer and could be taken
    back (`services.customer_return`): done moves internal → customer minus
    customer → internal, per (stock location, product, lot, origin line);
    only rows with a quantity above zero, in warehouse, product, lot order.
    One query; sums are exact (added up in Python)."""
    moves = (
        StockMove.objects.filter(
            origin_type=_t(origin_type),
            origin_id=origin_id,
            state=StockMove.State.DONE,
        )
        .filter(
            Q(source__kind=Location.Kind.INTERNAL, destination__kind="customer")
            | Q(source__kind="customer", destination__kind=Location.Kind.INTERNAL)
        )
        .values_list(
            "source__kind",
            "source_id",
            "destination_id",
            "product_id",
            "lot_id",
            "origin_line_id",
            "quantity",
            "value",
        )
    )
    sums: dict = {}
    for src_kind, src, dst, product, lot, line, qty, value in moves:
        out = src_kind == Location.Kind.INTERNAL
        key = (src if out else dst, product, lot, line)
        q, v = sums.get(key, (ZERO, ZERO))
        sums[key] = (q + qty, v + value) if out else (q - qty, v - value)
    keys = [k for k, (q, _v) in sums.items() if q > 0]
    if not keys:
        return []
    locations = Location.objects.select_related("warehouse").in_bulk(
        {k[0] for k in keys}
    )
    products = {
        p["pk"]: p
        for p in Product.objects.filter(pk__in={k[1] for k in keys}).values(
            "pk", "sku", "name"
        )
    }
    lots = dict(
        Lot.objects.filter(pk__in={k[2] for k in keys if k[2]}).values_list(
            "pk", "code"
        )
    )
    rows = []
    for key in keys:
        loc_id, product_id, lot_id, line_id = key
        loc = locations[loc_id]
        qty, value = sums[key]
        rows.append(
            Returnable(
                warehouse_id=loc.warehouse_id,
                warehouse=loc.warehouse.code,
                warehouse_active=loc.warehouse.is_active,
                location_id=loc_id,
                product_id=product_id,
                sku=products[product_id]["sku"],
                name=products[product_id]["name"],
                lot_id=lot_id,
                lot=lots.get(lot_id, ""),
                origin_line_id=line_id,
                quantity=qty,
                value=value,
            )
        )
    rows.sort(key=lambda r: (r.warehouse, r.sku, r.lot, r.origin_line_id or 0))
    return rows


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


# ------------------------------------------------------------- lot expiry


@dataclass(frozen=True)
class LotStock:
    """A lot with stock in a warehouse (or one of its locations)."""

    lot_id: int
    code: str
    expires_on: date | None
    quantity: Decimal
    expired: bool


def lots_available(
    *,
    product_id,
    warehouse_id,
    location_id=None,
    include_expired=True,
    today: date | None = None,
) -> list[LotStock]:
    """FEFO suggestion: the product's lots with quantity > 0 in the
    warehouse's internal locations (or in one of them), first expiry first
    out, lots without expiry last (then by code). `expired` is true for a
    lot whose expiry date is before `today` (default the local date); such
    lots cannot be shipped or transferred out, only written off, and are
    left out with `include_expired=False`. One query."""
    today = today or timezone.localdate()
    qs = Quant.objects.filter(
        product_id=product_id,
        location__warehouse_id=warehouse_id,
        location__kind=Location.Kind.INTERNAL,
        lot__isnull=False,
    )
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    if not include_expired:
        qs = qs.filter(Q(lot__expires_on__isnull=True) | Q(lot__expires_on__gte=today))
    rows = (
        qs.values("lot_id", "lot__code", "lot__expires_on")
        .annotate(q=Sum("quantity"))
        .filter(q__gt=0)
        .order_by(F("lot__expires_on").asc(nulls_last=True), "lot__code", "lot_id")
    )
    return [
        LotStock(
            lot_id=r["lot_id"],
            code=r["lot__code"],
            expires_on=r["lot__expires_on"],
            quantity=r["q"],
            expired=r["lot__expires_on"] is not None and r["lot__expires_on"] < today,
        )
        for r in rows
    ]


def expiring_lots(*, days=30, warehouse_id=None, search="", today: date | None = None):
    """Lots with stock whose expiry date is at most `days` days away
    (already expired ones included), per lot × warehouse with the quantity
    on hand in its internal locations; soonest first. A values() queryset
    (one query; pages and exports iterate it): rows have lot_id, code,
    expires_on, product_id, sku, name, warehouse_id, warehouse_code,
    on_hand."""
    today = today or timezone.localdate()
    limit = today + timedelta(days=int(days))
    search = _t(search)
    qs = Quant.objects.filter(
        location__kind=Location.Kind.INTERNAL,
        lot__expires_on__isnull=False,
        lot__expires_on__lte=limit,
    )
    if warehouse_id:
        qs = qs.filter(location__warehouse_id=warehouse_id)
    if search:
        qs = qs.filter(
            Q(lot__code__icontains=search)
            | Q(product__name__icontains=search)
            | Q(product__sku__icontains=search)
        )
    return (
        qs.values("lot_id", "product_id")
        .annotate(
            warehouse_id=F("location__warehouse_id"),
            code=F("lot__code"),
            expires_on=F("lot__expires_on"),
            sku=F("product__sku"),
            name=F("product__name"),
            warehouse_code=F("location__warehouse__code"),
            on_hand=Sum("quantity"),
        )
        .filter(on_hand__gt=0)
        .order_by("expires_on", "sku", "code", "warehouse_code")
    )


def lot_get(*, lot_id) -> Lot:
    lot = Lot.objects.select_related("product").filter(pk=lot_id).first()
    if lot is None:
        raise NotFound()
    return lot


def lot_quants(*, lot_id):
    """Where a lot is: its non-zero quants with location and warehouse."""
    return (
        Quant.objects.filter(lot_id=lot_id)
        .exclude(quantity=0)
        .select_related("location", "location__warehouse")
        .order_by("location__warehouse__code", "location__code", "location_id")
    )
