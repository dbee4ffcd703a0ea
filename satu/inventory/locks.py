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


def balances_sql(connection, quant_where: str, level_where: str) -> str:
    """One statement reading (and on PostgreSQL locking) quants then stock
    levels: two CTEs — each `FOR UPDATE` in pk order on PostgreSQL — read by
    a UNION ALL, whose branches run one after the other (quants first), as
    the two separate statements would. Rows: (0, id, product_id,
    location_id, lot_id, quantity, NULL, NULL) for quants, (1, id,
    product_id, warehouse_id, NULL, on_hand, reserved, value) for levels."""
    pg = connection.vendor == "postgresql"
    lock = " ORDER BY id FOR UPDATE" if pg else ""
    num, big = ("NULL::numeric", "NULL::bigint") if pg else ("NULL", "NULL")
    return (
        "WITH q AS (SELECT id, product_id, location_id, lot_id, quantity "
        f"FROM inventory_quant WHERE {quant_where}{lock}), "
        "l AS (SELECT id, product_id, warehouse_id, on_hand, reserved, value "
        f"FROM inventory_stocklevel WHERE {level_where}{lock}) "
        f"SELECT 0, id, product_id, location_id, lot_id, quantity, {num}, {num} "
        f"FROM q UNION ALL SELECT 1, id, product_id, warehouse_id, {big}, "
        "on_hand, reserved, value FROM l"
    )


def split_balance_rows(rows) -> tuple[list, list]:
    """The rows of `balances_sql` as (quant rows, level rows), each sorted
    by pk in the forms of `quant_rows_for_update` / `level_rows_for_update`."""
    quants = [r[1:6] for r in rows if r[0] == 0]
    levels = [(r[1], r[2], r[3], r[5], r[6], r[7]) for r in rows if r[0] == 1]
    return sorted(quants), sorted(levels)


def balance_rows_for_update(connection, quant_keys, level_keys):
    """`quant_rows_for_update` then `level_rows_for_update`, in that order,
    in one statement (`balances_sql`) on PostgreSQL and SQLite."""
    if (
        connection.vendor not in ("postgresql", "sqlite")
        or not quant_keys
        or not level_keys
    ):
        return (
            quant_rows_for_update(connection, quant_keys) if quant_keys else [],
            level_rows_for_update(connection, level_keys) if level_keys else [],
        )
    qwhere, qparams = _keyed(quant_keys, ("product_id", "location_id", "lot_id"))
    lwhere, lparams = _keyed(level_keys, ("product_id", "warehouse_id"))
    with connection.cursor() as cursor:
        cursor.execute(balances_sql(connection, qwhere, lwhere), qparams + lparams)
        return split_balance_rows(cursor.fetchall())
