"""REST endpoints of sales (under /api/v1/): assortment rules, quotes (with
PDF and sending), sales orders and their actions (confirm, ship, invoice,
cancel). Money and quantities travel as decimal strings.

`POST /sales-orders` with an `external_id` that already exists answers the
existing order with 200 instead of 201 (idempotent by external id).
Lines outside the assortment are accepted and reported in `warnings`.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from satu.catalog.queries import plain
from satu.sales import queries, services

router = Router(tags=["sales"])

DecimalIn = Annotated[
    Decimal, Field(description="A decimal number, best sent as a string.")
]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


def _s(value) -> str:
    return plain(value) if value is not None else "0"


# ------------------------------------------------------------------ schemas


class LineIn(Schema):
    product_id: Id
    quantity: DecimalIn = Field(examples=["3"])
    unit: str | None = Field(
        None, max_length=16, description="Unit code; default the base unit."
    )
    unit_price: DecimalIn | None = Field(
        None, description="Default: the client's price from the price lists."
    )
    discount_percent: DecimalIn | None = None
    description: str = Field("", max_length=300)


class OrderLineIn(LineIn):
    delivery_date: date | None = Field(
        None, description="This line's delivery date; empty: the order's."
    )


class LineOut(Schema):
    id: int
    position: int
    product_id: int
    sku: str
    description: str
    quantity: str
    unit: str
    unit_price: str
    discount_percent: str
    tax_name: str
    tax_rate: str
    tax_inclusive: bool
    untaxed: str
    tax: str
    total: str
    price_explanation: str
    warning: str = Field(description="Outside the assortment (a warning only).")

    @staticmethod
    def resolve_sku(obj) -> str:
        return obj.product.sku

    @staticmethod
    def resolve_quantity(obj) -> str:
        return _s(obj.quantity)

    @staticmethod
    def resolve_unit_price(obj) -> str:
        return _s(obj.unit_price)

    @staticmethod
    def resolve_discount_percent(obj) -> str:
        return _s(obj.discount_percent)

    @staticmethod
    def resolve_tax_rate(obj) -> str:
        return _s(obj.tax_rate)

    @staticmethod
    def resolve_untaxed(obj) -> str:
        return _s(obj.untaxed)

    @staticmethod
    def resolve_tax(obj) -> str:
        return _s(obj.tax)

    @staticmethod
    def resolve_total(obj) -> str:
        return _s(obj.total)

    @staticmethod
    def resolve_warning(obj) -> str:
        return obj.assortment_warning


class OrderLineOut(LineOut):
    shipped_quantity: str
    invoiced_quantity: str
    delivery_date: date | None = Field(
        description="The line's own delivery date; null: the order's."
    )

    @staticmethod
    def resolve_shipped_quantity(obj) -> str:
        return _s(obj.shipped_quantity)

    @staticmethod
    def resolve_invoiced_quantity(obj) -> str:
        return _s(obj.invoiced_quantity)


class ClientRef(Schema):
    id: int
    name: str


def _totals(obj) -> dict:
    return {"untaxed": _s(obj.untaxed), "tax": _s(obj.tax), "total": _s(obj.total)}


class QuoteListOut(Schema):
    id: int
    number: str
    client: ClientRef
    deal_id: int | None
    state: str
    issue_date: date
    valid_until: date
    currency: str
    untaxed: str
    tax: str
    total: str
    version: int

    @staticmethod
    def resolve_untaxed(obj) -> str:
        return _s(obj.untaxed)

    @staticmethod
    def resolve_tax(obj) -> str:
        return _s(obj.tax)

    @staticmethod
    def resolve_total(obj) -> str:
        return _s(obj.total)


class QuoteOut(QuoteListOut):
    warehouse_id: int | None
    note: str
    sent_at: datetime | None
    sent_to: str
    expired: bool = Field(description="Open but past its valid-until date.")
    lines: list[LineOut]
    warnings: list[str]

    @staticmethod
    def resolve_expired(obj) -> bool:
        return queries.quote_is_expired(obj)

    @staticmethod
    def resolve_lines(obj) -> list:
        return queries.quote_lines(quote=obj)

    @staticmethod
    def resolve_warnings(obj) -> list:
        return [
            line.assortment_warning
            for line in queries.quote_lines(quote=obj)
            if line.assortment_warning
        ]


class QuoteIn(Schema):
    client_id: Id | None = Field(None, description="Or give `deal_id`.")
    deal_id: Id | None = Field(
        None, description="Client, currency and (without `lines`) the deal's lines."
    )
    currency: str | None = Field(None, min_length=3, max_length=3)
    lines: list[LineIn] | None = Field(None, max_length=500)
    issue_date: date | None = None
    valid_until: date | None = Field(None, description="Default: 30 days.")
    warehouse_id: Id | None = None
    note: str = Field("", max_length=10000)


class QuotePatch(Schema):
    version: int | None = Field(None, ge=1, le=2**31 - 1)
    lines: list[LineIn] | None = Field(None, max_length=500)
    valid_until: date | None = None
    warehouse_id: Id | None = None
    note: str | None = Field(None, max_length=10000)


class VersionIn(Schema):
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class SendIn(VersionIn):
    to: str = Field(min_length=3, max_length=1000, description="Comma-separated.")
    subject: str = Field("", max_length=200)
    message: str = Field("", max_length=10000)


class ToOrderIn(Schema):
    warehouse_id: Id | None = None
    contract_id: Id | None = None
    delivery_date: date | None = None


class QuoteFilters(Schema):
    search: str = Field("", max_length=200)
    state: str = Field("", max_length=10)
    client_id: Id | None = None
    deal_id: Id | None = None
    expired: bool | None = None


class OrderListOut(Schema):
    id: int
    number: str
    client: ClientRef
    deal_id: int | None
    quote_id: int | None
    contract_id: int | None
    warehouse_id: int
    state: str
    shipping_status: str
    invoice_status: str
    order_date: date
    delivery_date: date | None = Field(
        description="The promised delivery date (lines may have their own)."
    )
    next_delivery_date: date | None = Field(
        description="Earliest delivery date of the lines still to ship."
    )
    late: bool = Field(
        description="Confirmed or processing, goods not fully shipped and "
        "next_delivery_date before today."
    )
    currency: str
    external_id: str
    untaxed: str
    tax: str
    total: str
    version: int

    @staticmethod
    def resolve_untaxed(obj) -> str:
        return _s(obj.untaxed)

    @staticmethod
    def resolve_tax(obj) -> str:
        return _s(obj.tax)

    @staticmethod
    def resolve_total(obj) -> str:
        return _s(obj.total)


class AvailabilityOut(Schema):
    line_id: int
    on_hand: str
    reserved: str
    available: str
    incoming: str
    reserved_for_line: str


class OrderOut(OrderListOut):
    invoice_before_delivery: bool
    without_reservation: bool
    credit_override_reason: str
    note: str
    payment_status: str
    lines: list[OrderLineOut]
    availability: list[AvailabilityOut]
    warnings: list[str]

    @staticmethod
    def resolve_payment_status(obj) -> str:
        return obj.api_payment_status

    @staticmethod
    def resolve_lines(obj) -> list:
        return obj.api_lines

    @staticmethod
    def resolve_availability(obj) -> list:
        return [
            {
                "line_id": a.line_id,
                "on_hand": _s(a.on_hand),
                "reserved": _s(a.reserved),
                "available": _s(a.available),
                "incoming": _s(a.incoming),
                "reserved_for_line": _s(a.reserved_for_line),
            }
            for a in obj.api_availability.values()
        ]

    @staticmethod
    def resolve_warnings(obj) -> list:
        return [ln.assortment_warning for ln in obj.api_lines if ln.assortment_warning]


class OrderIn(Schema):
    client_id: Id
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)
    warehouse_id: Id | None = None
    currency: str | None = Field(None, min_length=3, max_length=3)
    contract_id: Id | None = None
    deal_id: Id | None = None
    external_id: str = Field("", max_length=100)
    order_date: date | None = None
    delivery_date: date | None = None
    invoice_before_delivery: bool = False
    note: str = Field("", max_length=10000)


class OrderPatch(Schema):
    version: int | None = Field(None, ge=1, le=2**31 - 1)
    lines: list[OrderLineIn] | None = Field(None, max_length=500)
    warehouse_id: Id | None = None
    note: str | None = Field(None, max_length=10000)
    invoice_before_delivery: bool | None = None
    delivery_date: date | None = Field(None, description="null clears it.")


class ConfirmIn(VersionIn):
    override_reason: str = Field(
        "", max_length=2000, description="Needs sales.override_credit."
    )
    without_reservation: bool = Field(
        False, description="Confirm as a backorder without reserving stock."
    )


class ShipIn(VersionIn):
    warehouse_id: Id | None = None
    quantities: dict[str, DecimalIn] | None = Field(
        None, description="{order line id: quantity}; default all remaining."
    )
    lots: dict[str, str] | None = Field(None, description="{line id: lot code}.")
    one_step: bool = Field(True, description="False: leave it to the warehouse.")


class ShipOut(Schema):
    transfer_id: int
    transfer_number: str
    transfer_state: str
    order: OrderOut


class InvoiceIn(VersionIn):
    quantities: dict[str, DecimalIn] | None = None
    post: bool = True


class InvoiceOut(Schema):
    invoice_id: int
    invoice_number: str
    invoice_state: str
    order: OrderOut


class CancelIn(VersionIn):
    reason: str = Field("", max_length=2000)
    reverse: bool = Field(
        False,
        description="Confirm the reversal of a shipped or invoiced order "
        "(customer returns, credit notes); needs a `reason`.",
    )


class CancelReturnOut(Schema):
    warehouse: str
    product_id: int
    sku: str
    name: str
    lot: str
    line_id: int | None
    quantity: str = Field(description="Base units.")


class CancelCreditOut(Schema):
    invoice_id: int
    invoice: str
    amount: str
    currency: str


class CancelPlanOut(Schema):
    """What cancelling the order would do now."""

    needs_reversal: bool
    returns: list[CancelReturnOut]
    credit_notes: list[CancelCreditOut]
    open_deliveries: list[str]
    draft_invoices: int
    reservations: bool
    blockers: list[str]


class OrderFilters(Schema):
    search: str = Field("", max_length=200)
    state: str = Field("", max_length=12)
    client_id: Id | None = None
    deal_id: Id | None = None
    segment: Id | None = None
    shipping_status: str = Field("", max_length=8)
    invoice_status: str = Field("", max_length=8)
    late: bool | None = Field(
        None, description="true: only late orders; false: the others."
    )


class AssortmentOut(Schema):
    id: int
    product_id: int | None
    category_id: int | None
    warehouse_id: int | None
    client_group_id: int | None
    note: str
    is_active: bool


class AssortmentIn(Schema):
    product_id: Id | None = None
    category_id: Id | None = None
    warehouse_id: Id | None = None
    client_group_id: Id | None = None
    note: str = Field("", max_length=200)


class AssortmentCheckOut(Schema):
    warnings: dict[str, str]


# ------------------------------------------------------------------ helpers


def _lines(payload_lines):
    if payload_lines is None:
        return None
    return [line.model_dump() for line in payload_lines]


def order_out(actor, order_id):
    """The order with what OrderOut shows beyond its fields (lines,
    availability per line, payment status): a fixed number of queries."""
    order = queries.sales_order_get(actor=actor, order_id=order_id)
    order.api_lines = queries.sales_order_lines(order=order)
    order.api_availability = queries.sales_order_availability(
        order=order, lines=order.api_lines
    )
    order.api_payment_status = queries.sales_order_payment_status(order=order)
    return order


# ------------------------------------------------------------------ quotes


@router.get("/quotes", response=list[QuoteListOut])
@paginate
def list_quotes(request, filters: Query[QuoteFilters]):
    """Quotes, newest first; `expired=true` lists open quotes past their
    valid-until date."""
    return queries.quote_list(actor=request.auth, **filters.model_dump())


@router.post("/quotes", response={201: QuoteOut})
def post_quote(request, payload: QuoteIn):
    """Create a draft quote for a client or from a deal."""
    data = payload.model_dump()
    data["lines"] = _lines(payload.lines)
    quote = services.quote_create(actor=request.auth, **data)
    return Status(201, queries.quote_get(actor=request.auth, quote_id=quote.pk))


@router.get("/quotes/{quote_id}", response=QuoteOut)
def get_quote(request, quote_id: int):
    return queries.quote_get(actor=request.auth, quote_id=quote_id)


@router.patch("/quotes/{quote_id}", response=QuoteOut)
def patch_quote(request, quote_id: int, payload: QuotePatch):
    """Change a draft quote; a stale `version` answers 409."""
    data = payload.model_dump(exclude_unset=True)
    if "lines" in data:
        data["lines"] = _lines(payload.lines)
    services.quote_update(actor=request.auth, quote_id=quote_id, **data)
    return queries.quote_get(actor=request.auth, quote_id=quote_id)


@router.get("/quotes/{quote_id}/pdf")
def get_quote_pdf(request, quote_id: int):
    """The quote as PDF (the editable "sales.quote" document template)."""
    quote = queries.quote_get(actor=request.auth, quote_id=quote_id)
    response = HttpResponse(
        services.quote_pdf(quote=quote), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{quote.number}.pdf"'
    return response


@router.post("/quotes/{quote_id}/send", response=QuoteOut)
def send_quote(request, quote_id: int, payload: SendIn):
    """E-mail the PDF to `to` and mark the quote sent."""
    services.quote_send(actor=request.auth, quote_id=quote_id, **payload.model_dump())
    return queries.quote_get(actor=request.auth, quote_id=quote_id)


@router.post("/quotes/{quote_id}/accept", response=QuoteOut)
def accept_quote(request, quote_id: int, payload: VersionIn | None = None):
    version = payload.version if payload else None
    services.quote_accept(actor=request.auth, quote_id=quote_id, version=version)
    return queries.quote_get(actor=request.auth, quote_id=quote_id)


@router.post("/quotes/{quote_id}/reject", response=QuoteOut)
def reject_quote(request, quote_id: int, payload: VersionIn | None = None):
    version = payload.version if payload else None
    services.quote_reject(actor=request.auth, quote_id=quote_id, version=version)
    return queries.quote_get(actor=request.auth, quote_id=quote_id)


@router.post("/quotes/{quote_id}/order", response={201: OrderOut})
def post_quote_order(request, quote_id: int, payload: ToOrderIn | None = None):
    """Turn an accepted quote into a draft sales order."""
    data = payload.model_dump() if payload else {}
    order = services.quote_to_order(actor=request.auth, quote_id=quote_id, **data)
    return Status(201, order_out(request.auth, order.pk))


# ------------------------------------------------------------------ orders


@router.get("/sales-orders", response=list[OrderListOut])
@paginate
def list_sales_orders(request, filters: Query[OrderFilters]):
    """Orders, newest first; `segment` keeps the clients of a segment;
    `late=true` keeps the late ones (see `late` on each order)."""
    data = filters.model_dump()
    data["segment_id"] = data.pop("segment")
    return queries.sales_order_list(actor=request.auth, **data)


@router.post("/sales-orders", response={201: OrderOut, 200: OrderOut})
def post_sales_order(request, payload: OrderIn):
    """Create a draft order. An `external_id` that already exists answers
    the existing order with 200 (nothing is created)."""
    data = payload.model_dump()
    data["lines"] = _lines(payload.lines)
    order = services.sales_order_create(actor=request.auth, **data)
    status = 201 if getattr(order, "created", True) else 200
    return Status(status, order_out(request.auth, order.pk))


@router.get("/sales-orders/{order_id}", response=OrderOut)
def get_sales_order(request, order_id: int):
    """The order with its lines, availability per line (base units in the
    order's warehouse) and derived statuses."""
    return order_out(request.auth, order_id)


@router.patch("/sales-orders/{order_id}", response=OrderOut)
def patch_sales_order(request, order_id: int, payload: OrderPatch):
    data = payload.model_dump(exclude_unset=True)
    if "lines" in data:
        data["lines"] = _lines(payload.lines)
    services.sales_order_update(actor=request.auth, order_id=order_id, **data)
    return order_out(request.auth, order_id)


@router.post("/sales-orders/{order_id}/confirm", response=OrderOut)
def confirm_sales_order(request, order_id: int, payload: ConfirmIn | None = None):
    """Credit check and reservation; 409 `sales.credit_limit_exceeded` or
    `inventory.insufficient_stock` when refused."""
    data = payload.model_dump() if payload else {}
    services.sales_order_confirm(actor=request.auth, order_id=order_id, **data)
    return order_out(request.auth, order_id)


@router.post("/sales-orders/{order_id}/ship", response=ShipOut)
def ship_sales_order(request, order_id: int, payload: ShipIn | None = None):
    """Ship all that is left, or `quantities` per line; `one_step=false`
    leaves the delivery to the warehouse."""
    data = payload.model_dump() if payload else {}
    transfer = services.sales_order_ship(actor=request.auth, order_id=order_id, **data)
    return {
        "transfer_id": transfer.pk,
        "transfer_number": transfer.number,
        "transfer_state": transfer.state,
        "order": order_out(request.auth, order_id),
    }


@router.post("/sales-orders/{order_id}/invoice", response=InvoiceOut)
def invoice_sales_order(request, order_id: int, payload: InvoiceIn | None = None):
    """Invoice what was shipped (or `quantities`) and post it."""
    data = payload.model_dump() if payload else {}
    invoice = services.sales_order_invoice(
        actor=request.auth, order_id=order_id, **data
    )
    return {
        "invoice_id": invoice.pk,
        "invoice_number": invoice.number or "",
        "invoice_state": invoice.state,
        "order": order_out(request.auth, order_id),
    }


@router.get("/sales-orders/{order_id}/cancel-plan", response=CancelPlanOut)
def sales_order_cancel_plan(request, order_id: int):
    """The confirm step of a cancel: what cancelling would reverse (customer
    returns, credit notes) and release; `blockers` say why it cannot be done."""
    order = queries.sales_order_get(actor=request.auth, order_id=order_id)
    plan = queries.sales_order_cancel_plan(order=order)
    return {"needs_reversal": plan.needs_reversal, **plan.as_dict()}


@router.post("/sales-orders/{order_id}/cancel", response=OrderOut)
def cancel_sales_order(request, order_id: int, payload: CancelIn | None = None):
    """Cancel. A shipped or invoiced order answers 409
    `sales.reversal_required` with `reversal` (the plan) until called with
    `reverse: true` and a `reason`; then goods come back through customer
    returns and posted invoices get credit notes, in one transaction.
    409 `sales.cancel_refused` when it cannot be reversed."""
    data = payload.model_dump() if payload else {}
    services.sales_order_cancel(actor=request.auth, order_id=order_id, **data)
    return order_out(request.auth, order_id)


# ------------------------------------------------------------------ assortment


@router.get("/assortment", response=list[AssortmentOut])
@paginate
def list_assortment(request, warehouse_id: int | None = None):
    return queries.assortment_rule_list(actor=request.auth, warehouse_id=warehouse_id)


@router.post("/assortment", response={201: AssortmentOut})
def post_assortment(request, payload: AssortmentIn):
    rule = services.assortment_rule_create(actor=request.auth, **payload.model_dump())
    return Status(201, rule)


@router.delete("/assortment/{rule_id}", response={204: None})
def delete_assortment(request, rule_id: int):
    services.assortment_rule_remove(actor=request.auth, rule_id=rule_id)
    return Status(204, None)
