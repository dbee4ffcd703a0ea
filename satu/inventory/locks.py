"""Row locks of inventory, always in pk order inside the caller's
transaction. Order across tables (never the other way round):
Transfer / InventoryCount → Quant → StockLevel → number counter.
The StockLevel row of a product × warehouse also guards its reservations
and FIFO cost layers."""

from django.db.models import QuerySet

from satu.inventory.models import InventoryCount, Quant, StockLevel, Transfer


def transfers_for_update(qs: QuerySet[Transfer]) -> QuerySet[Transfer]:
    return qs.order_by("pk").select_for_update(of=("self",))


def counts_for_update(qs: QuerySet[InventoryCount]) -> QuerySet[InventoryCount]:
    return qs.order_by("pk").select_for_update(of=("self",))


def quants_for_update(qs: QuerySet[Quant]) -> QuerySet[Quant]:
    return qs.order_by("pk").select_for_update(of=("self",))


def levels_for_update(qs: QuerySet[StockLevel]) -> QuerySet[StockLevel]:
    return qs.order_by("pk").select_for_update(of=("self",))


def _keyed(keys, columns) -> tuple[str, list]:
    """WHERE clause matching any of `keys` on `columns` (a None matches NULL)."""
    parts, params = [], []
    for key in keys:
        terms = []
        for column, value in zip(columns, key, strict=True):
            if value is None:
                terms.append(f"{column} IS NULL")
            else:
                terms.append(f"{column} = %s")
                params.append(value)
        parts.append("(" + " AND ".join(terms) + ")")
    return " OR ".join(parts), params


def _for_update(connection) -> str:
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def quant_rows_for_update(connection, keys) -> list[tuple]:
    """(id, product_id, location_id, lot_id, quantity) of the quants for
    (product, location, lot) keys, locked in pk order. The posting hot path
    uses this raw form of `quants_for_update` to keep a move to a handful
    of cheap statements (W2 benchmark)."""
    where, params = _keyed(keys, ("product_id", "location_id", "lot_id"))
    sql = (
        "SELECT id, product_id, location_id, lot_id, quantity "
        f"FROM inventory_quant WHERE {where} ORDER BY id{_for_update(connection)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def level_rows_for_update(connection, keys) -> list[tuple]:
    """(id, product_id, warehouse_id, on_hand, reserved, value) of the stock
    levels for (product, warehouse) keys, locked in pk order."""
    where, params = _keyed(keys, ("product_id", "warehouse_id"))
    sql = (
        "SELECT id, product_id, warehouse_id, on_hand, reserved, value "
        f"FROM inventory_stocklevel WHERE {where} ORDER BY id{_for_update(connection)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def balance_rows_for_update(connection, quant_keys, level_keys):
    """`quant_rows_for_update` then `level_rows_for_update`, in that order.
    On PostgreSQL one statement (one round trip): two locking CTEs read by a
    UNION ALL, whose branches run one after the other — quants first, each
    in pk order, as the two separate statements would."""
    if connection.vendor != "postgresql" or not quant_keys or not level_keys:
        return (
            quant_rows_for_update(connection, quant_keys) if quant_keys else [],
            level_rows_for_update(connection, level_keys) if level_keys else [],
        )
    qwhere, qparams = _keyed(quant_keys, ("product_id", "location_id", "lot_id"))
    lwhere, lparams = _keyed(level_keys, ("product_id", "warehouse_id"))
    sql = (
        "WITH q AS (SELECT id, product_id, location_id, lot_id, quantity "
        f"FROM inventory_quant WHERE {qwhere} ORDER BY id FOR UPDATE), "
        "l AS (SELECT id, product_id, warehouse_id, on_hand, reserved, value "
        f"FROM inventory_stocklevel WHERE {lwhere} ORDER BY id FOR UPDATE) "
        "(SELECT 0, id, product_id, location_id, lot_id, quantity, "
        "NULL::numeric, NULL::numeric FROM q) UNION ALL "
        "(SELECT 1, id, product_id, warehouse_id, NULL::bigint, on_hand, "
        "reserved, value FROM l)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, qparams + lparams)
        rows = cursor.fetchall()
    quants = [r[1:6] for r in rows if r[0] == 0]
    levels = [(r[1], r[2], r[3], r[5], r[6], r[7]) for r in rows if r[0] == 1]
    return sorted(quants), sorted(levels)
