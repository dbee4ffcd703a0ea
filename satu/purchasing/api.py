"""REST endpoints of purchasing (under /api/v1/): supplier prices and the
best price, suppliers, purchase orders and their actions (confirm,
receive, bill, cancel), reorder points and proposals. Endpoints parse,
call `services`/`queries` and shape the answer."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from satu.core.errors import PermissionDenied
from satu.purchasing import queries, services

router = Router(tags=["purchasing"])

ObjectId = Annotated[int, Field(ge=1, le=2**63 - 1)]
# Decimal strings are checked by the services (decimals, sign) so that the
# API answers the same codes and messages as the screens.
DecimalIn = Annotated[Decimal, Field(max_digits=30)]
OrderState = Literal["draft", "confirmed", "processing", "done", "cancelled", ""]
ProgressValue = Literal["nothing", "partial", "full", "none", ""]


def _perm(request, perm: str) -> None:
    if not request.auth.has_perm(perm):
        raise PermissionDenied()


# ------------------------------------------------------------------ schemas


class Ref(Schema):
    id: int
    name: str


class SupplierPriceOut(Schema):
    id: int
    supplier: Ref
    product: Ref
    currency: str
    price: Decimal
    min_quantity: Decimal
    lead_time_days: int
    valid_from: date | None
    valid_to: date | None
    supplier_sku: str
    is_active: bool
    version: int

    @staticmethod
    def resolve_supplier(obj):
        return {"id": obj.supplier_id, "name": obj.supplier.legal_name}

    @staticmethod
    def resolve_product(obj):
        return {"id": obj.product_id, "name": obj.product.name}


class SupplierPriceIn(Schema):
    supplier_id: ObjectId
    product_id: ObjectId
    price: DecimalIn
    currency: str = Field("IDR", max_length=3)
    min_quantity: DecimalIn = Decimal(1)
    lead_time_days: int = Field(0, ge=0, le=3650)
    valid_from: date | None = None
    valid_to: date | None = None
    supplier_sku: str = Field("", max_length=64)


class SupplierPricePatch(Schema):
    version: int | None = None
    price: DecimalIn | None = None
    currency: str | None = Field(None, max_length=3)
    min_quantity: DecimalIn | None = None
    lead_time_days: int | None = Field(None, ge=0, le=3650)
    valid_from: date | None = None
    valid_to: date | None = None
    supplier_sku: str | None = Field(None, max_length=64)
    is_active: bool | None = None


class SupplierPriceFilters(Schema):
    search: str = Field("", max_length=100)
    supplier_id: ObjectId | None = None
    product_id: ObjectId | None = None
    active_only: bool = False


class BestPriceFilters(Schema):
    product_id: ObjectId
    quantity: DecimalIn = Decimal(1)
    currency: str = Field("", max_length=3)
    supplier_id: ObjectId | None = None
    on_date: date | None = None


class BestPriceOut(Schema):
    price_id: int
    supplier_id: int
    supplier_name: str
    price: Decimal
    currency: str
    min_quantity: Decimal
    lead_time_days: int
    explanation: str


class SupplierOut(Schema):
    id: int
    legal_name: str
    tax_id: str
    price_count: int
    order_count: int
    open_order_count: int


class LineIn(Schema):
    product_id: ObjectId
    quantity: DecimalIn
    unit_price: DecimalIn | None = Field(
        None, description="Defaults to the supplier's best price for the quantity."
    )
    description: str = Field("", max_length=255)


class OrderIn(Schema):
    supplier_id: ObjectId
    warehouse_id: ObjectId
    lines: list[LineIn] = Field(..., max_length=500)
    currency: str | None = Field(None, max_length=3)
    contract_id: ObjectId | None = None
    order_date: date | None = None
    expected_date: date | None = None
    reference: str = Field("", max_length=100)
    note: str = Field("", max_length=5000)


class OrderPatch(Schema):
    version: int | None = Field(None, description="Stale version answers 409.")
    supplier_id: ObjectId | None = None
    warehouse_id: ObjectId | None = None
    lines: list[LineIn] | None = Field(None, max_length=500)
    currency: str | None = Field(None, max_length=3)
    contract_id: ObjectId | None = None
    order_date: date | None = None
    expected_date: date | None = None
    reference: str | None = Field(None, max_length=100)
    note: str | None = Field(None, max_length=5000)


class LineOut(Schema):
    id: int
    product: Ref
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    tax_inclusive: bool
    untaxed: Decimal
    tax: Decimal
    total: Decimal
    received_quantity: Decimal
    billed_quantity: Decimal
    cancelled_quantity: Decimal

    @staticmethod
    def resolve_product(obj):
        return {"id": obj.product_id, "name": obj.product.name}


class OrderListOut(Schema):
    id: int
    number: str
    supplier: Ref
    warehouse: Ref
    currency: str
    order_date: date
    expected_date: date | None
    state: str
    receipt_status: str
    bill_status: str
    untaxed: Decimal
    tax: Decimal
    total: Decimal
    version: int

    @staticmethod
    def resolve_supplier(obj):
        return {"id": obj.supplier_id, "name": obj.supplier.legal_name}

    @staticmethod
    def resolve_warehouse(obj):
        return {"id": obj.warehouse_id, "name": obj.warehouse.name}


class OrderOut(OrderListOut):
    contract_id: int | None
    reference: str
    note: str
    lines: list[LineOut]

    @staticmethod
    def resolve_lines(obj):
        return list(obj.lines.all())


class OrderFilters(Schema):
    search: str = Field("", max_length=100)
    state: OrderState = ""
    supplier_id: ObjectId | None = None
    warehouse_id: ObjectId | None = None
    receipt_status: ProgressValue = ""
    bill_status: ProgressValue = ""


class VersionIn(Schema):
    version: int | None = None


class ReceiveIn(Schema):
    version: int | None = None
    quantities: dict[int, DecimalIn] | None = Field(
        None, description="{order line id: quantity}; omitted = all still open."
    )
    lots: dict[int, str] | None = Field(
        None, description="{order line id: lot or serial code} for tracked products."
    )
    lot_expires_on: dict[int, date] | None = Field(
        None,
        description="{order line id: expiry date (ISO)} of the lot received; "
        "a new lot takes it, an existing lot must have that date.",
    )


class ReceiveOut(Schema):
    order: OrderOut
    transfer_id: int
    transfer_number: str


class BillIn(Schema):
    version: int | None = None
    quantities: dict[int, DecimalIn] | None = Field(
        None, description="{order line id: quantity}; omitted = all billable."
    )
    reference: str = Field("", max_length=100, description="The supplier's number.")
    issue_date: date | None = None
    due_date: date | None = None
    post: bool = True


class BillOut(Schema):
    order: OrderOut
    invoice_id: int
    invoice_number: str


class ReorderPointOut(Schema):
    id: int
    product: Ref
    warehouse: Ref
    minimum: Decimal
    maximum: Decimal
    multiple: Decimal
    preferred_supplier: Ref | None
    is_active: bool
    version: int

    @staticmethod
    def resolve_product(obj):
        return {"id": obj.product_id, "name": obj.product.name}

    @staticmethod
    def resolve_warehouse(obj):
        return {"id": obj.warehouse_id, "name": obj.warehouse.name}

    @staticmethod
    def resolve_preferred_supplier(obj):
        if obj.preferred_supplier_id is None:
            return None
        return {
            "id": obj.preferred_supplier_id,
            "name": obj.preferred_supplier.legal_name,
        }


class ReorderPointIn(Schema):
    product_id: ObjectId
    warehouse_id: ObjectId
    minimum: DecimalIn
    maximum: DecimalIn
    multiple: DecimalIn = Decimal(1)
    preferred_supplier_id: ObjectId | None = None


class ReorderPointPatch(Schema):
    version: int | None = None
    minimum: DecimalIn | None = None
    maximum: DecimalIn | None = None
    multiple: DecimalIn | None = None
    preferred_supplier_id: ObjectId | None = None
    is_active: bool | None = None


class ReorderFilters(Schema):
    search: str = Field("", max_length=100)
    warehouse_id: ObjectId | None = None


class ProposalOut(Schema):
    reorder_point_id: int
    product_id: int
    product_name: str
    warehouse_id: int
    on_hand: Decimal
    available: Decimal
    incoming: Decimal
    minimum: Decimal
    maximum: Decimal
    multiple: Decimal
    quantity: Decimal
    supplier_id: int | None
    supplier_name: str
    unit_price: Decimal | None
    currency: str
    lead_time_days: int | None
    explanation: str


class SelectionIn(Schema):
    reorder_point_id: ObjectId
    quantity: DecimalIn | None = None
    supplier_id: ObjectId | None = None


class ProposalOrdersIn(Schema):
    selections: list[SelectionIn] = Field(..., max_length=500)


# ---------------------------------------------------------- supplier prices


@router.get("/supplier-prices", response=list[SupplierPriceOut])
@paginate
def list_supplier_prices(request, filters: Query[SupplierPriceFilters]):
    """Supplier prices by product and supplier."""
    _perm(request, "purchasing.view_supplierprice")
    return queries.supplier_price_list(actor=request.auth, **filters.model_dump())


@router.post("/supplier-prices", response={201: SupplierPriceOut})
def post_supplier_price(request, payload: SupplierPriceIn):
    """Record a supplier price; a price with more than 4 decimals or a zero
    minimum quantity answers 422 with `fields`."""
    sp = services.supplier_price_create(actor=request.auth, **payload.model_dump())
    return Status(201, queries.supplier_price_get(actor=request.auth, price_id=sp.pk))


@router.get("/supplier-prices/best", response={200: BestPriceOut, 404: dict})
def get_best_supplier_price(request, filters: Query[BestPriceFilters]):
    """The best valid price for a product and quantity, with the reason."""
    _perm(request, "purchasing.view_supplierprice")
    data = filters.model_dump()
    data["currency"] = data["currency"].upper() or None
    quote = queries.best_supplier_price(**data)
    if quote is None:
        return Status(
            404,
            {
                "code": "purchasing.no_supplier_price",
                "detail": _("No supplier price fits this product and quantity."),
                "fields": {},
            },
        )
    return quote


@router.get("/supplier-prices/suppliers", response=list[SupplierOut])
@paginate
def list_suppliers(request, search: str = ""):
    """Counterparties with supplier prices or purchase orders."""
    return queries.supplier_list(actor=request.auth, search=search[:100])


@router.get("/supplier-prices/{price_id}", response=SupplierPriceOut)
def get_supplier_price(request, price_id: int):
    _perm(request, "purchasing.view_supplierprice")
    return queries.supplier_price_get(actor=request.auth, price_id=price_id)


@router.patch("/supplier-prices/{price_id}", response=SupplierPriceOut)
def patch_supplier_price(request, price_id: int, payload: SupplierPricePatch):
    """Change a supplier price; a stale `version` answers 409."""
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version", None)
    services.supplier_price_update(
        actor=request.auth, price_id=price_id, version=version, **data
    )
    return queries.supplier_price_get(actor=request.auth, price_id=price_id)


# ---------------------------------------------------------- purchase orders


def _order(request, order_id):
    return queries.purchase_order_get(actor=request.auth, order_id=order_id)


@router.get("/purchase-orders", response=list[OrderListOut])
@paginate
def list_purchase_orders(request, filters: Query[OrderFilters]):
    """Purchase orders, newest first."""
    _perm(request, "purchasing.view_purchaseorder")
    return queries.purchase_order_list(actor=request.auth, **filters.model_dump())


@router.post("/purchase-orders", response={201: OrderOut})
def post_purchase_order(request, payload: OrderIn):
    """Create a draft order (PO-<year>-NNNN). Missing unit prices come from
    supplier prices; a contract in another currency answers 422
    `purchasing.currency_mismatch`."""
    data = payload.model_dump()
    data["lines"] = [dict(line) for line in data["lines"]]
    order = services.purchase_order_create(actor=request.auth, **data)
    return Status(201, _order(request, order.pk))


@router.get("/purchase-orders/{order_id}", response=OrderOut)
def get_purchase_order(request, order_id: int):
    return _order(request, order_id)


@router.patch("/purchase-orders/{order_id}", response=OrderOut)
def patch_purchase_order(request, order_id: int, payload: OrderPatch):
    """Edit a draft; `lines` replaces all lines. Stale `version` → 409."""
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version", None)
    services.purchase_order_update(
        actor=request.auth, order_id=order_id, version=version, **data
    )
    return _order(request, order_id)


@router.post("/purchase-orders/{order_id}/confirm", response=OrderOut)
def confirm_purchase_order(request, order_id: int, payload: VersionIn | None = None):
    """draft → confirmed; the goods show as incoming in stock availability.
    A cancelled order answers 409 `purchasing.bad_state`."""
    services.purchase_order_confirm(
        actor=request.auth,
        order_id=order_id,
        version=payload.version if payload else None,
    )
    return _order(request, order_id)


@router.post("/purchase-orders/{order_id}/receive", response=ReceiveOut)
def receive_purchase_order(request, order_id: int, payload: ReceiveIn):
    """Receive goods now (all open, or `quantities` per line). More than
    open answers 422 `purchasing.over_receipt`; a lot-tracked product
    without a lot 422 `inventory.lot_required`."""
    transfer = services.purchase_order_receive(
        actor=request.auth, order_id=order_id, **payload.model_dump()
    )
    return {
        "order": _order(request, order_id),
        "transfer_id": transfer.pk,
        "transfer_number": transfer.number,
    }


@router.post("/purchase-orders/{order_id}/bill", response=BillOut)
def bill_purchase_order(request, order_id: int, payload: BillIn):
    """The supplier's invoice for received-not-billed quantities. More than
    received answers 422 `purchasing.over_billing`."""
    invoice = services.purchase_order_bill(
        actor=request.auth, order_id=order_id, **payload.model_dump()
    )
    return {
        "order": _order(request, order_id),
        "invoice_id": invoice.pk,
        "invoice_number": invoice.number or "",
    }


@router.post("/purchase-orders/{order_id}/cancel", response=OrderOut)
def cancel_purchase_order(request, order_id: int, payload: VersionIn | None = None):
    """Cancel what is not received (see docs/domains/purchasing.md)."""
    services.purchase_order_cancel(
        actor=request.auth,
        order_id=order_id,
        version=payload.version if payload else None,
    )
    return _order(request, order_id)


# ----------------------------------------------------------- reorder points


@router.get("/reorder-points", response=list[ReorderPointOut])
@paginate
def list_reorder_points(request, filters: Query[ReorderFilters]):
    _perm(request, "purchasing.view_reorderpoint")
    return queries.reorder_point_list(actor=request.auth, **filters.model_dump())


@router.post("/reorder-points", response={201: ReorderPointOut})
def post_reorder_point(request, payload: ReorderPointIn):
    point = services.reorder_point_create(actor=request.auth, **payload.model_dump())
    return Status(201, queries.reorder_point_get(actor=request.auth, point_id=point.pk))


@router.get("/reorder-points/proposals", response=list[ProposalOut])
def list_reorder_proposals(request, filters: Query[ReorderFilters]):
    """What to buy: products below their minimum (available + incoming),
    the quantity up to the maximum and the supplier, explained."""
    _perm(request, "purchasing.view_reorderpoint")
    return queries.reorder_proposals(actor=request.auth, **filters.model_dump())


@router.post("/reorder-points/proposals/orders", response={201: list[OrderListOut]})
def post_orders_from_proposals(request, payload: ProposalOrdersIn):
    """Draft purchase orders from selected proposals, one per supplier."""
    orders = services.purchase_orders_from_proposals(
        actor=request.auth,
        selections=[s.model_dump() for s in payload.selections],
    )
    return Status(
        201,
        list(
            queries.purchase_order_list(actor=request.auth).filter(
                pk__in=[o.pk for o in orders]
            )
        ),
    )


@router.get("/reorder-points/{point_id}", response=ReorderPointOut)
def get_reorder_point(request, point_id: int):
    return queries.reorder_point_get(actor=request.auth, point_id=point_id)


@router.patch("/reorder-points/{point_id}", response=ReorderPointOut)
def patch_reorder_point(request, point_id: int, payload: ReorderPointPatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version", None)
    services.reorder_point_update(
        actor=request.auth, point_id=point_id, version=version, **data
    )
    return queries.reorder_point_get(actor=request.auth, point_id=point_id)
