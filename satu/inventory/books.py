"""`satu check-books` for inventory: recompute the running balances from
the ledger of done moves and report every difference."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from satu.catalog.models import Product
from satu.inventory.models import (
    CostLayer,
    Location,
    Quant,
    Reservation,
    StockLevel,
    StockMove,
    Warehouse,
)

ZERO = Decimal(0)


def _n(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


def check_inventory() -> list[str]:
    """Quants = moves in − out; levels = quants, active reservations and
    move values; no negative stock where forbidden; FIFO layers = levels."""
    out: list[str] = []
    locations = {
        loc.pk: loc
        for loc in Location.objects.select_related("warehouse").only(
            "pk", "kind", "warehouse_id", "warehouse__allow_negative", "code", "name"
        )
    }
    ledger: dict = defaultdict(Decimal)
    values: dict = defaultdict(Decimal)
    done = StockMove.objects.filter(state=StockMove.State.DONE)
    for row in done.values("product_id", "source_id", "lot_id").annotate(
        q=Sum("quantity")
    ):
        ledger[(row["product_id"], row["source_id"], row["lot_id"])] -= row["q"]
    for row in done.values("product_id", "destination_id", "lot_id").annotate(
        q=Sum("quantity")
    ):
        ledger[(row["product_id"], row["destination_id"], row["lot_id"])] += row["q"]
    # Value crosses a warehouse boundary when one side is internal to it and
    # the other is not internal to the same warehouse.
    for row in done.values(
        "product_id",
        "source__kind",
        "source__warehouse_id",
        "destination__kind",
        "destination__warehouse_id",
    ).annotate(v=Sum("value")):
        src_wh = (
            row["source__warehouse_id"] if row["source__kind"] == "internal" else None
        )
        dst_wh = (
            row["destination__warehouse_id"]
            if row["destination__kind"] == "internal"
            else None
        )
        if src_wh == dst_wh:
            continue
        if src_wh is not None:
            values[(row["product_id"], src_wh)] -= row["v"]
        if dst_wh is not None:
            values[(row["product_id"], dst_wh)] += row["v"]

    quants = {
        (q.product_id, q.location_id, q.lot_id): q.quantity
        for q in Quant.objects.only("product_id", "location_id", "lot_id", "quantity")
    }
    on_hand: dict = defaultdict(Decimal)
    for key in set(ledger) | set(quants):
        product_id, location_id, lot_id = key
        loc = locations.get(location_id)
        if loc is None or loc.kind not in Location.STOCKED:
            continue
        have, want = quants.get(key, ZERO), ledger.get(key, ZERO)
        if have != want:
            out.append(
                f"quant product {product_id} at {loc.code or loc.name} lot {lot_id}: "
                f"balance {_n(have)} but moves give {_n(want)}"
            )
        forbid = loc.kind == "transit" or not loc.warehouse.allow_negative
        if have < 0 and forbid:
            out.append(
                f"quant product {product_id} at {loc.code or loc.name} lot {lot_id}: "
                f"negative ({_n(have)}) in a warehouse that forbids it"
            )
        if loc.kind == "internal":
            on_hand[(product_id, loc.warehouse_id)] += have

    reserved: dict = defaultdict(Decimal)
    for row in (
        Reservation.objects.filter(state=Reservation.State.ACTIVE)
        .values("product_id", "warehouse_id")
        .annotate(q=Sum("quantity"))
    ):
        reserved[(row["product_id"], row["warehouse_id"])] = row["q"]
    levels = {
        (lv.product_id, lv.warehouse_id): lv
        for lv in StockLevel.objects.only(
            "product_id", "warehouse_id", "on_hand", "reserved", "value"
        )
    }
    for key in set(levels) | set(on_hand) | set(reserved) | set(values):
        lv = levels.get(key)
        have = (lv.on_hand, lv.reserved, lv.value) if lv else (ZERO, ZERO, ZERO)
        want = (on_hand.get(key, ZERO), reserved.get(key, ZERO), values.get(key, ZERO))
        for label, a, b in zip(
            ("on hand", "reserved", "value"), have, want, strict=True
        ):
            if a != b:
                out.append(
                    f"level product {key[0]} warehouse {key[1]}: {label} {_n(a)} "
                    f"but the ledger gives {_n(b)}"
                )

    fifo_ids = set(
        Product.objects.filter(costing_method="fifo").values_list("pk", flat=True)
    )
    layers = {
        (r["product_id"], r["warehouse_id"]): (r["q"], r["v"])
        for r in CostLayer.objects.values("product_id", "warehouse_id").annotate(
            q=Sum("remaining"), v=Sum("remaining_value")
        )
    }
    negative_ok = set(
        Warehouse.objects.filter(allow_negative=True).values_list("pk", flat=True)
    )
    for key, lv in levels.items():
        # Where stock may go negative, issues below zero are valued without
        # layers; the level (= the ledger) stays the reference there.
        if key[0] not in fifo_ids or key[1] in negative_ok:
            continue
        q, v = layers.get(key, (ZERO, ZERO))
        if lv.on_hand >= 0 and (q != lv.on_hand or v != lv.value):
            out.append(
                f"FIFO layers product {key[0]} warehouse {key[1]}: {_n(q)} worth "
                f"{_n(v)} but the level holds {_n(lv.on_hand)} worth {_n(lv.value)}"
            )
    return out
