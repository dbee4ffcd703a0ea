"""REST endpoints of inventory (under /api/v1/): warehouses, locations,
stock (levels and availability), stock moves, transfers with their
actions, lots, inventory counts. Quantities and money travel as decimal
strings. Endpoints parse, call `services`/`queries`, and shape."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from satu.core.errors import PermissionDenied
from satu.inventory import queries, services

router = Router(tags=["inventory"])

DecimalIn = Annotated[
    Decimal, Field(description="A decimal number, best sent as a string.")
]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
# Any stored 64-bit id (origins may be any integer another app uses).
BigInt = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


def _require(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied()


def _s(value) -> str | None:
    if value is None:
        return None
    return format(Decimal(value).normalize(), "f") if value else "0"


# ------------------------------------------------------------------ schemas


class LocationOut(Schema):
    id: int
    warehouse_id: int | None
    parent_id: int | None
    name: str
    code: str
    kind: str


class WarehouseOut(Schema):
    id: int
    code: str
    name: str
    address: str
    company_id: int | None
    allow_negative: bool
    is_outlet: bool
    is_active: bool
    stock_location_id: int | None
    transit_location_id: int | None
    version: int


class WarehouseIn(Schema):
    code: str = Field(min_length=1, max_length=16, examples=["GDG"])
    name: str = Field(min_length=1, max_length=100)
    address: str = ""
    allow_negative: bool = False
    is_outlet: bool = False
    company_id: Id | None = None


class WarehousePatch(Schema):
    version: BigInt | None = None
    name: str | None = Field(None, min_length=1, max_length=100)
    address: str | None = None
    allow_negative: bool | None = None
    is_outlet: bool | None = None
    is_active: bool | None = None


class LocationIn(Schema):
    warehouse_id: Id
    name: str = Field(min_length=1, max_length=100)
    code: str = Field("", max_length=32)
    parent_id: Id | None = None


class LocationFilters(Schema):
    warehouse_id: BigInt | None = None
    kind: str | None = None


class StockLevelOut(Schema):
    product_id: int
    sku: str
    name: str
    warehouse_id: int
    warehouse: str
    on_hand: str
    reserved: str
    available: str
    value: str

    @staticmethod
    def resolve_sku(obj) -> str:
        return obj.product.sku

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.product.name

    @staticmethod
    def resolve_warehouse(obj) -> str:
        return obj.warehouse.code

    @staticmethod
    def resolve_on_hand(obj) -> str:
        return _s(obj.on_hand)

    @staticmethod
    def resolve_reserved(obj) -> str:
        return _s(obj.reserved)

    @staticmethod
    def resolve_available(obj) -> str:
        return _s(obj.on_hand - obj.reserved)

    @staticmethod
    def resolve_value(obj) -> str:
        return _s(obj.value)


class StockFilters(Schema):
    warehouse_id: BigInt | None = None
    search: str = ""


class AvailabilityOut(Schema):
    product_id: int
    on_hand: str
    reserved: str
    available: str
    incoming: str


class AvailabilityFilters(Schema):
    product_ids: str = Field(description="Comma-separated product ids.")
    warehouse_id: BigInt | None = None


class MoveOut(Schema):
    id: int
    product_id: int
    quantity: str
    source_id: int
    destination_id: int
    lot_id: int | None
    lot_code: str | None
    state: str
    unit_cost: str
    value: str
    origin_type: str
    origin_id: int | None
    origin_line_id: int | None
    transfer_id: int | None
    reference: str
    done_at: datetime | None

    @staticmethod
    def resolve_quantity(obj) -> str:
        return _s(obj.quantity)

    @staticmethod
    def resolve_unit_cost(obj) -> str:
        return _s(obj.unit_cost)

    @staticmethod
    def resolve_value(obj) -> str:
        return _s(obj.value)

    @staticmethod
    def resolve_lot_code(obj) -> str | None:
        return obj.lot.code if obj.lot_id else None


class MoveIn(Schema):
    product_id: Id
    quantity: DecimalIn
    source_id: Id
    destination_id: Id
    lot_id: Id | None = None
    lot_code: str = Field("", max_length=64)
    lot_expires_on: date | None = Field(
        None, description="Expiry date of a lot this move creates (ISO date)."
    )
    unit_cost: DecimalIn | None = None
    origin_type: str = Field("", max_length=40)
    origin_id: BigInt | None = None
    origin_line_id: BigInt | None = None
    reference: str = Field("", max_length=100)


class MoveFilters(Schema):
    product_id: BigInt | None = None
    warehouse_id: BigInt | None = None
    origin_type: str = ""
    origin_id: BigInt | None = None


class TransferLineOut(Schema):
    id: int
    product_id: int
    sku: str
    quantity: str
    done_quantity: str
    lot_id: int | None
    lot_code: str | None
    lot_expires_on: date | None = None
    origin_line_id: int | None
    unit_cost: str | None

    @staticmethod
    def resolve_sku(obj) -> str:
        return obj.product.sku

    @staticmethod
    def resolve_quantity(obj) -> str:
        return _s(obj.quantity)

    @staticmethod
    def resolve_done_quantity(obj) -> str:
        return _s(obj.done_quantity)

    @staticmethod
    def resolve_unit_cost(obj) -> str | None:
        return _s(obj.unit_cost)

    @staticmethod
    def resolve_lot_code(obj) -> str | None:
        return obj.lot.code if obj.lot_id else None

    @staticmethod
    def resolve_lot_expires_on(obj) -> date | None:
        return obj.lot.expires_on if obj.lot_id else None


class TransferListOut(Schema):
    id: int
    number: str
    kind: str
    state: str
    warehouse_id: int
    destination_warehouse_id: int | None
    origin_type: str
    origin_id: int | None
    client_id: int | None
    counterparty_id: int | None
    reason_id: int | None
    backorder_of_id: int | None
    scheduled_date: date | None
    reference: str
    done_at: datetime | None
    version: int


class TransferOut(TransferListOut):
    lines: list[TransferLineOut]


class TransferLineIn(Schema):
    product_id: Id
    quantity: DecimalIn
    lot_id: Id | None = None
    lot_code: str = Field("", max_length=64)
    lot_expires_on: date | None = Field(
        None, description="Expiry date of a lot this line creates (ISO date)."
    )
    origin_line_id: BigInt | None = None
    unit_cost: DecimalIn | None = None


class TransferIn(Schema):
    kind: Literal["receipt", "delivery", "internal", "write_off", "adjustment"]
    warehouse_id: Id
    lines: list[TransferLineIn] = Field(min_length=1)
    origin_type: str = Field("", max_length=40)
    origin_id: BigInt | None = None
    client_id: Id | None = None
    counterparty_id: Id | None = None
    destination_warehouse_id: Id | None = None
    reason_id: Id | None = None
    reference: str = Field("", max_length=100)
    scheduled_date: date | None = None
    note: str = ""


class TransferFilters(Schema):
    state: str = ""
    kind: str = ""
    warehouse_id: BigInt | None = None
    search: str = ""
    origin_type: str = ""
    origin_id: BigInt | None = None


class TransferPatch(Schema):
    version: int
    lines: list[TransferLineIn] | None = None
    scheduled_date: date | None = None
    reference: str | None = Field(None, max_length=100)
    note: str | None = None


class VersionIn(Schema):
    version: BigInt | None = None


class DoneIn(Schema):
    version: BigInt | None = None
    quantities: dict[int, DecimalIn] | None = Field(
        None, description="Per transfer line id: the quantity moved now."
    )
    lots: dict[int, str] | None = Field(
        None, description="Per transfer line id: lot or serial code."
    )
    lot_expires_on: dict[int, date] | None = Field(
        None, description="Per transfer line id: the lot's expiry date (ISO)."
    )


class LotOut(Schema):
    id: int
    product_id: int
    code: str
    expires_on: date | None


class LotFilters(Schema):
    product_id: BigInt | None = None
    search: str = ""


class LotPatch(Schema):
    expires_on: date | None = Field(
        description="The expiry date (ISO); null clears it."
    )


class LotAvailableOut(Schema):
    lot_id: int
    code: str
    expires_on: date | None
    quantity: str
    expired: bool

    @staticmethod
    def resolve_quantity(obj) -> str:
        return _s(obj.quantity)


class LotAvailableFilters(Schema):
    product_id: Id
    warehouse_id: Id
    location_id: Id | None = None
    include_expired: bool = Field(
        True, description="Also list expired lots (they can only be written off)."
    )


class ExpiringLotOut(Schema):
    lot_id: int
    code: str
    expires_on: date
    product_id: int
    sku: str
    name: str
    warehouse_id: int
    warehouse_code: str
    on_hand: str

    @staticmethod
    def resolve_on_hand(obj) -> str:
        return _s(obj["on_hand"])


class ExpiringLotFilters(Schema):
    days: int = Field(30, ge=0, le=3650)
    warehouse_id: BigInt | None = None
    search: str = ""


class CountLineOut(Schema):
    id: int
    product_id: int
    location_id: int
    lot_id: int | None
    expected: str
    counted: str | None
    difference: str | None

    @staticmethod
    def resolve_expected(obj) -> str:
        return _s(obj.expected)

    @staticmethod
    def resolve_counted(obj) -> str | None:
        return _s(obj.counted)

    @staticmethod
    def resolve_difference(obj) -> str | None:
        return _s(obj.difference)


class CountOut(Schema):
    id: int
    number: str
    warehouse_id: int
    state: str
    note: str
    version: int
    validated_at: datetime | None


class CountDetailOut(CountOut):
    lines: list[CountLineOut]


class CountIn(Schema):
    warehouse_id: Id
    product_ids: list[Id] | None = None
    note: str = ""


class NewCountLine(Schema):
    product_id: Id
    lot_code: str = ""
    counted: DecimalIn


class CountsIn(Schema):
    version: BigInt | None = None
    counted: dict[int, DecimalIn | None] = Field(default_factory=dict)
    new_lines: list[NewCountLine] = Field(default_factory=list)


# ---------------------------------------------------------------- warehouses


@router.get("/warehouses", response=list[WarehouseOut])
@paginate
def list_warehouses(request, search: str = "", include_inactive: bool = False):
    _require(request.auth, "inventory.view_warehouse")
    return queries.warehouse_list(include_inactive=include_inactive, search=search)


@router.post("/warehouses", response={201: WarehouseOut})
def post_warehouse(request, payload: WarehouseIn):
    wh = services.warehouse_create(actor=request.auth, **payload.model_dump())
    return Status(201, wh)


@router.get("/warehouses/{warehouse_id}", response=WarehouseOut)
def get_warehouse(request, warehouse_id: int):
    _require(request.auth, "inventory.view_warehouse")
    return queries.warehouse_get(warehouse_id=warehouse_id)


@router.patch("/warehouses/{warehouse_id}", response=WarehouseOut)
def patch_warehouse(request, warehouse_id: int, payload: WarehousePatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version", None)
    return services.warehouse_update(
        actor=request.auth, warehouse_id=warehouse_id, version=version, **data
    )


@router.get("/locations", response=list[LocationOut])
@paginate
def list_locations(request, filters: Query[LocationFilters]):
    _require(request.auth, "inventory.view_location")
    return queries.location_list(
        warehouse_id=filters.warehouse_id,
        kinds=[filters.kind] if filters.kind else None,
    )


@router.post("/locations", response={201: LocationOut})
def post_location(request, payload: LocationIn):
    return Status(
        201, services.location_create(actor=request.auth, **payload.model_dump())
    )


# --------------------------------------------------------------------- stock


@router.get("/stock", response=list[StockLevelOut])
@paginate
def list_stock(request, filters: Query[StockFilters]):
    """Stock per product × warehouse: on hand, reserved, available, value."""
    _require(request.auth, "inventory.view_stocklevel")
    return queries.stock_levels(
        warehouse_id=filters.warehouse_id, search=filters.search
    )


@router.get("/stock/availability", response=list[AvailabilityOut])
def get_availability(request, filters: Query[AvailabilityFilters]):
    """On hand, reserved, available and incoming per product (one warehouse
    or all)."""
    _require(request.auth, "inventory.view_stocklevel")
    try:
        ids = [int(x) for x in filters.product_ids.split(",") if x.strip()][:500]
    except ValueError:
        from satu.core.errors import ValidationFailed

        raise ValidationFailed(
            fields={"product_ids": ["Comma-separated numbers."]}
        ) from None
    result = queries.stock_availability(
        product_ids=ids, warehouse_id=filters.warehouse_id
    )
    return [
        {
            "product_id": pid,
            "on_hand": _s(a.on_hand),
            "reserved": _s(a.reserved),
            "available": _s(a.available),
            "incoming": _s(a.incoming),
        }
        for pid, a in result.items()
    ]


@router.get("/stock-moves", response=list[MoveOut])
@paginate
def list_stock_moves(request, filters: Query[MoveFilters]):
    _require(request.auth, "inventory.view_stockmove")
    return queries.move_list(
        product_id=filters.product_id,
        warehouse_id=filters.warehouse_id,
        origin_type=filters.origin_type,
        origin_id=filters.origin_id,
    )


@router.post("/stock-moves", response={201: MoveOut})
def post_stock_move(request, payload: MoveIn):
    """Create and post one move (done at once)."""
    move = services.stock_move_post(actor=request.auth, **payload.model_dump())
    return Status(201, queries.move_list().get(pk=move.pk))


@router.get("/lots", response=list[LotOut])
@paginate
def list_lots(request, filters: Query[LotFilters]):
    _require(request.auth, "inventory.view_lot")
    return queries.lot_list(product_id=filters.product_id, search=filters.search)


@router.get("/lots/available", response=list[LotAvailableOut])
def list_lots_available(request, filters: Query[LotAvailableFilters]):
    """FEFO: the product's lots with stock in the warehouse (or one of its
    locations), first expiry first, lots without expiry last."""
    _require(request.auth, "inventory.view_lot")
    return queries.lots_available(**filters.model_dump())


@router.get("/lots/expiring", response=list[ExpiringLotOut])
@paginate
def list_lots_expiring(request, filters: Query[ExpiringLotFilters]):
    """Lots with stock expiring within `days` days (expired ones included),
    per warehouse, soonest first."""
    _require(request.auth, "inventory.view_lot")
    return queries.expiring_lots(**filters.model_dump())


@router.get("/lots/{lot_id}", response=LotOut)
def get_lot(request, lot_id: int):
    _require(request.auth, "inventory.view_lot")
    return queries.lot_get(lot_id=lot_id)


@router.patch("/lots/{lot_id}", response=LotOut)
def patch_lot(request, lot_id: int, payload: LotPatch):
    """Change the lot's expiry date (audited)."""
    return services.lot_update(
        actor=request.auth, lot_id=lot_id, expires_on=payload.expires_on
    )


# ----------------------------------------------------------------- transfers


def _transfer_out(transfer_id: int):
    transfer = queries.transfer_get(transfer_id=transfer_id)
    transfer.lines_list = list(queries.transfer_lines(transfer_id=transfer_id))
    return {
        **{f: getattr(transfer, f) for f in TransferListOut.model_fields},
        "lines": transfer.lines_list,
    }


@router.get("/transfers", response=list[TransferListOut])
@paginate
def list_transfers(request, filters: Query[TransferFilters]):
    _require(request.auth, "inventory.view_transfer")
    return queries.transfer_list(**filters.model_dump())


@router.post("/transfers", response={201: TransferOut})
def post_transfer(request, payload: TransferIn):
    data = payload.model_dump()
    data["lines"] = [line for line in data["lines"]]
    transfer = services.transfer_create(actor=request.auth, **data)
    return Status(201, _transfer_out(transfer.pk))


@router.get("/transfers/{transfer_id}", response=TransferOut)
def get_transfer(request, transfer_id: int):
    _require(request.auth, "inventory.view_transfer")
    return _transfer_out(transfer_id)


@router.patch("/transfers/{transfer_id}", response=TransferOut)
def patch_transfer(request, transfer_id: int, payload: TransferPatch):
    """Edit a transfer that has moved nothing yet (`version` required)."""
    data = payload.model_dump(exclude_unset=True)
    services.transfer_update(actor=request.auth, transfer_id=transfer_id, **data)
    return _transfer_out(transfer_id)


@router.post("/transfers/{transfer_id}/pick", response=TransferOut)
def pick_transfer(request, transfer_id: int, payload: VersionIn):
    services.transfer_pick(
        actor=request.auth, transfer_id=transfer_id, version=payload.version
    )
    return _transfer_out(transfer_id)


@router.post("/transfers/{transfer_id}/pack", response=TransferOut)
def pack_transfer(request, transfer_id: int, payload: VersionIn):
    services.transfer_pack(
        actor=request.auth, transfer_id=transfer_id, version=payload.version
    )
    return _transfer_out(transfer_id)


@router.post("/transfers/{transfer_id}/done", response=TransferOut)
def done_transfer(request, transfer_id: int, payload: DoneIn):
    """Post the moves; `quantities` per line id for a partial (the rest goes
    to a backorder), `lots` per line id."""
    services.transfer_done(
        actor=request.auth,
        transfer_id=transfer_id,
        quantities=payload.quantities,
        lots=payload.lots,
        version=payload.version,
        lot_expires_on=payload.lot_expires_on,
    )
    return _transfer_out(transfer_id)


@router.post("/transfers/{transfer_id}/cancel", response=TransferOut)
def cancel_transfer(request, transfer_id: int, payload: VersionIn):
    services.transfer_cancel(
        actor=request.auth, transfer_id=transfer_id, version=payload.version
    )
    return _transfer_out(transfer_id)


# ---------------------------------------------------------- inventory counts


def _count_out(count_id: int):
    count = queries.inventory_count_get(count_id=count_id)
    return {
        **{f: getattr(count, f) for f in CountOut.model_fields},
        "lines": list(queries.inventory_count_lines(count_id=count_id)),
    }


@router.get("/inventory-counts", response=list[CountOut])
@paginate
def list_inventory_counts(request, warehouse_id: BigInt | None = None, state: str = ""):
    _require(request.auth, "inventory.view_inventorycount")
    return queries.inventory_count_list(warehouse_id=warehouse_id, state=state)


@router.post("/inventory-counts", response={201: CountDetailOut})
def post_inventory_count(request, payload: CountIn):
    count = services.inventory_count_create(actor=request.auth, **payload.model_dump())
    return Status(201, _count_out(count.pk))


@router.get("/inventory-counts/{count_id}", response=CountDetailOut)
def get_inventory_count(request, count_id: int):
    _require(request.auth, "inventory.view_inventorycount")
    return _count_out(count_id)


@router.post("/inventory-counts/{count_id}/counts", response=CountDetailOut)
def post_inventory_counts(request, count_id: int, payload: CountsIn):
    services.inventory_count_set(
        actor=request.auth,
        count_id=count_id,
        counted=payload.counted,
        version=payload.version,
        new_lines=[line.model_dump() for line in payload.new_lines],
    )
    return _count_out(count_id)


@router.post("/inventory-counts/{count_id}/validate", response=CountDetailOut)
def validate_inventory_count(request, count_id: int, payload: VersionIn):
    services.inventory_count_validate(
        actor=request.auth, count_id=count_id, version=payload.version
    )
    return _count_out(count_id)


@router.post("/inventory-counts/{count_id}/cancel", response=CountDetailOut)
def cancel_inventory_count(request, count_id: int, payload: VersionIn):
    services.inventory_count_cancel(
        actor=request.auth, count_id=count_id, version=payload.version
    )
    return _count_out(count_id)
