"""Public reads of sales: quotes, orders, availability per order line,
assortment rules, and what the quote PDF shows.

Record rules: a user sees the quotes and orders of the clients they see
(`clients_visible_to`) and holds `sales.view_quote` / `sales.view_salesorder`
for; anything else answers NotFound.
"""

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.db.models import (
    BooleanField,
    Case,
    DateField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from satu.catalog.models import KitComponent
from satu.core.errors import NotFound
from satu.core.money import currency_precision, money_round
from satu.parties.queries import client_scope, clients_visible_to, company_default
from satu.sales.models import (
    AssortmentRule,
    Quote,
    QuoteLine,
    SalesOrder,
    SalesOrderLine,
)

ORDER_ORIGIN = "sales.order"
ZERO = Decimal(0)


def _pk(value, message) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound(message) from None


# ------------------------------------------------------------------ quotes


def quotes_visible_to(actor) -> QuerySet[Quote]:
    if actor is None or not actor.is_active or not actor.has_perm("sales.view_quote"):
        return Quote.objects.none()
    return Quote.objects.filter(client__in=clients_visible_to(actor))


def quote_list(
    *,
    actor,
    search: str = "",
    state: str = "",
    client_id: int | None = None,
    deal_id: int | None = None,
    expired: bool | None = None,
) -> QuerySet[Quote]:
    """Quotes, newest first. `expired=True`: draft/sent quotes past their
    valid-until date (what `quotes_expire` will mark)."""
    qs = quotes_visible_to(actor).select_related("client", "deal")
    text = search.strip()
    if text:
        qs = qs.filter(Q(number__icontains=text) | Q(client__name__icontains=text))
    if state:
        qs = qs.filter(state=state)
    if client_id:
        qs = qs.filter(client_id=client_id)
    if deal_id:
        qs = qs.filter(deal_id=deal_id)
    if expired is not None:
        overdue = Q(
            state__in=(Quote.State.DRAFT, Quote.State.SENT),
            valid_until__lt=timezone.localdate(),
        )
        qs = qs.filter(overdue if expired else ~overdue)
    return qs.order_by("-issue_date", "-id")


def quote_get(*, actor, quote_id) -> Quote:
    quote = (
        quotes_visible_to(actor)
        .select_related("client", "deal", "company", "warehouse", "created_by")
        .filter(pk=_pk(quote_id, _("Quote not found.")))
        .first()
    )
    if quote is None:
        raise NotFound(_("Quote not found."))
    return quote


def quote_lines(*, quote: Quote) -> list[QuoteLine]:
    return list(quote.lines.select_related("product").order_by("position", "id"))


def quote_is_expired(quote: Quote) -> bool:
    """Past its valid-until date while still open (draft or sent)."""
    return (
        quote.state
        in (
            Quote.State.DRAFT,
            Quote.State.SENT,
        )
        and quote.valid_until < timezone.localdate()
    )


def _fmt(amount, currency: str) -> str:
    places = currency_precision(currency)
    return f"{Decimal(amount):,.{places}f}"


def tax_summary(lines) -> list[dict]:
    """[(name, rate, untaxed, tax)] grouped by tax, for totals blocks."""
    groups: dict = {}
    for line in lines:
        key = (line.tax_name, line.tax_rate, line.tax_inclusive)
        untaxed, tax = groups.get(key, (ZERO, ZERO))
        groups[key] = (untaxed + line.untaxed, tax + line.tax)
    return [
        {
            "name": name or _("No tax"),
            "rate": rate.normalize(),
            "inclusive": inclusive,
            "untaxed": untaxed,
            "tax": tax,
        }
        for (name, rate, inclusive), (untaxed, tax) in groups.items()
    ]


def quote_document_context(quote: Quote) -> dict:
    """Everything the "sales.quote" PDF template uses."""
    lines = quote_lines(quote=quote)
    currency = quote.currency
    return {
        "quote": quote,
        "company": quote.company or company_default(),
        "client": quote.client,
        "lines": [
            {
                "line": line,
                "unit_price": _fmt(line.unit_price, currency),
                "untaxed": _fmt(line.untaxed, currency),
                "total": _fmt(line.total, currency),
            }
            for line in lines
        ],
        "taxes": [
            {
                **t,
                "untaxed": _fmt(t["untaxed"], currency),
                "tax": _fmt(t["tax"], currency),
            }
            for t in tax_summary(lines)
        ],
        "untaxed": _fmt(quote.untaxed, currency),
        "tax": _fmt(quote.tax, currency),
        "total": _fmt(quote.total, currency),
        "currency": currency,
    }


# ------------------------------------------------------------------ orders


def sales_orders_visible_to(actor) -> QuerySet[SalesOrder]:
    if (
        actor is None
        or not actor.is_active
        or not actor.has_perm("sales.view_salesorder")
    ):
        return SalesOrder.objects.none()
    return SalesOrder.objects.filter(client__in=clients_visible_to(actor))


def sales_order_scope(actor) -> int | None | bool:
    """`sales_orders_visible_to` as a value for prepared queries: False —
    none, None — all, an id — the orders of that user's clients (filter
    with `parties.queries.scoped(..., "client__owner_id")`)."""
    if (
        actor is None
        or not actor.is_active
        or not actor.has_perm("sales.view_salesorder")
    ):
        return False
    return client_scope(actor)


LATE_STATES = (SalesOrder.State.CONFIRMED, SalesOrder.State.PROCESSING)
DELIVERY_SORTS = {"delivery": False, "-delivery": True}


def _next_delivery_date() -> Subquery:
    """The earliest delivery date (the line's, else the order's) of the
    order's lines still to ship: goods and kits not fully shipped (service
    lines are never shipped, nor kits whose components are all services).
    NULL when none of them has a date."""
    stocked_component = KitComponent.objects.filter(
        kit_id=OuterRef("product_id"), component__kind="goods"
    )
    return Subquery(
        SalesOrderLine.objects.filter(
            order_id=OuterRef("pk"), shipped_quantity__lt=F("quantity")
        )
        .exclude(product__kind="service")
        .exclude(Q(product__kind="kit") & ~Exists(stocked_component))
        .annotate(
            due=Coalesce(
                "delivery_date", OuterRef("delivery_date"), output_field=DateField()
            )
        )
        .filter(due__isnull=False)
        .order_by("due")
        .values("due")[:1],
        output_field=DateField(),
    )


def with_delivery(qs: QuerySet[SalesOrder], today=None) -> QuerySet[SalesOrder]:
    """Annotate orders (in the same query, no query per row) with
    `next_delivery_date` (see `_next_delivery_date`), `delivery_due` (that,
    else the order's delivery date: the list's column and sort) and
    `late`: confirmed or processing, goods not fully shipped and
    `next_delivery_date` before `today` (default: the local date)."""
    today = today or timezone.localdate()
    return qs.annotate(next_delivery_date=_next_delivery_date()).annotate(
        delivery_due=Coalesce("next_delivery_date", "delivery_date"),
        late=Case(
            When(
                Q(state__in=LATE_STATES, next_delivery_date__lt=today)
                & ~Q(shipping_status=SalesOrder.Progress.FULL),
                then=Value(True),
            ),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )


def sales_order_list(
    *,
    actor,
    search: str = "",
    state: str = "",
    client_id: int | None = None,
    deal_id: int | None = None,
    segment_id: int | None = None,
    shipping_status: str = "",
    invoice_status: str = "",
    late: bool | None = None,
    sort: str = "",
) -> QuerySet[SalesOrder]:
    """Orders, newest first; `search` matches the number, external id or
    client name; `segment_id` keeps clients of a segment; `late=True` keeps
    the late ones (False: the others); `sort` "delivery" / "-delivery"
    orders by `delivery_due` (orders without one last). Every order carries
    the `with_delivery` annotations."""
    qs = with_delivery(
        sales_orders_visible_to(actor).select_related("client", "warehouse")
    )
    text = search.strip()
    if text:
        qs = qs.filter(
            Q(number__icontains=text)
            | Q(external_id=text)
            | Q(client__name__icontains=text)
        )
    if state:
        qs = qs.filter(state=state)
    if client_id:
        qs = qs.filter(client_id=client_id)
    if deal_id:
        qs = qs.filter(deal_id=deal_id)
    if segment_id:
        from satu.parties.queries import segment_client_ids

        qs = qs.filter(client_id__in=segment_client_ids(segment_id))
    if shipping_status:
        qs = qs.filter(shipping_status=shipping_status)
    if invoice_status:
        qs = qs.filter(invoice_status=invoice_status)
    if late is not None:
        qs = qs.filter(late=bool(late))
    if sort in DELIVERY_SORTS:
        due = F("delivery_due")
        due = (
            due.desc(nulls_last=True)
            if DELIVERY_SORTS[sort]
            else due.asc(nulls_last=True)
        )
        return qs.order_by(due, "-id")
    return qs.order_by("-order_date", "-id")


def sales_order_get(*, actor, order_id) -> SalesOrder:
    """The order with the `with_delivery` annotations (`late`, ...)."""
    order = (
        with_delivery(sales_orders_visible_to(actor))
        .select_related(
            "client", "deal", "quote", "contract", "company", "warehouse", "created_by"
        )
        .filter(pk=_pk(order_id, _("Sales order not found.")))
        .first()
    )
    if order is None:
        raise NotFound(_("Sales order not found."))
    return order


def sales_order_by_external_id(*, actor, external_id: str) -> SalesOrder | None:
    return sales_orders_visible_to(actor).filter(external_id=external_id).first()


def sales_order_lines(*, order: SalesOrder):
    return list(
        order.lines.select_related("product__base_unit").order_by("position", "id")
    )


@dataclass(frozen=True)
class LineAvailability:
    line_id: int
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    incoming: Decimal
    reserved_for_line: Decimal


def sales_order_availability(
    *, order: SalesOrder, lines
) -> dict[int, LineAvailability]:
    """Per order line, in base units of the order's warehouse: on hand,
    reserved (by everyone), available, incoming, and what this line holds
    reserved. A kit line counts whole kits its stocked components make (the
    scarcest decides). Three queries, four with kits."""
    from satu.catalog import queries as catalog_queries
    from satu.catalog.models import Product
    from satu.inventory import queries as inventory_queries

    kit_ids = {
        line.product_id for line in lines if line.product.kind == Product.Kind.KIT
    }
    components = {
        kit: [c for c in rows if c.component.kind == Product.Kind.GOODS]
        for kit, rows in (
            catalog_queries.kit_components(kit_ids) if kit_ids else {}
        ).items()
    }
    product_ids = {line.product_id for line in lines} | {
        c.component_id for rows in components.values() for c in rows
    }
    stock = inventory_queries.stock_availability(
        product_ids=product_ids, warehouse_id=order.warehouse_id
    )
    held = inventory_queries.reserved_by_product(
        origin_type=ORDER_ORIGIN, origin_id=order.pk
    )
    result = {}
    for line in lines:
        parts = components.get(line.product_id)
        if parts:
            result[line.pk] = _kit_availability(line, parts, stock, held)
            continue
        s = stock.get(line.product_id)
        if s is None:
            continue
        result[line.pk] = LineAvailability(
            line_id=line.pk,
            on_hand=s.on_hand,
            reserved=s.reserved,
            available=s.available,
            incoming=s.incoming,
            reserved_for_line=held.get((line.pk, line.product_id)) or ZERO,
        )
    return result


def _kit_availability(line, parts, stock, held) -> LineAvailability:
    """Whole kits: for each figure, the least over the components of
    (component figure ÷ quantity per kit), rounded down."""

    def kits(figure) -> Decimal:
        return min((figure(c) or ZERO) / c.quantity for c in parts).to_integral_value(
            rounding=ROUND_FLOOR
        )

    def field(name):
        return lambda c: (
            getattr(stock[c.component_id], name) if c.component_id in stock else ZERO
        )

    return LineAvailability(
        line_id=line.pk,
        on_hand=kits(field("on_hand")),
        reserved=kits(field("reserved")),
        available=kits(field("available")),
        incoming=kits(field("incoming")),
        reserved_for_line=kits(lambda c: held.get((line.pk, c.component_id))),
    )


def sales_order_payment_status(*, order: SalesOrder) -> str:
    """none | partial | full: how much of the order's posted invoices is
    paid (one query)."""
    from satu.billing import queries as billing_queries

    invoices = [
        i
        for i in billing_queries.invoices_for_origin(
            origin_type=ORDER_ORIGIN, origin_id=order.pk
        )
        if i.state in ("posted", "paid") and i.kind == "customer_invoice"
    ]
    if not invoices:
        return SalesOrder.Progress.NONE
    total = sum((i.amount_total for i in invoices), ZERO)
    due = sum((i.amount_due for i in invoices), ZERO)
    if due <= 0 and order.invoice_status == SalesOrder.Progress.FULL:
        return SalesOrder.Progress.FULL
    if due >= total:
        return SalesOrder.Progress.NONE
    return SalesOrder.Progress.PARTIAL


def sales_order_invoices(*, order: SalesOrder):
    from satu.billing import queries as billing_queries

    return list(
        billing_queries.invoices_for_origin(
            origin_type=ORDER_ORIGIN, origin_id=order.pk
        )
    )


def sales_order_transfers(*, order: SalesOrder):
    from satu.inventory import queries as inventory_queries

    return list(
        inventory_queries.transfer_list(origin_type=ORDER_ORIGIN, origin_id=order.pk)
    )


@dataclass(frozen=True)
class CancelPlan:
    """What cancelling an order does (`sales_order_cancel_plan`): releases
    reservations, cancels open deliveries, deletes draft invoices and — the
    reversal, which needs `reverse=True` and a reason — takes back what was
    shipped (`returns`: inventory's Returnable rows, base units) and credits
    what is still creditable on posted invoices (`credit_notes`).
    `blockers` are reasons it cannot be done at all."""

    reservations: bool
    open_deliveries: list  # [(transfer id, number, state)]
    draft_invoices: list  # [invoice id]
    returns: list
    credit_notes: list  # [{"invoice_id", "invoice", "amount", "currency"}]
    blockers: list

    @property
    def needs_reversal(self) -> bool:
        return bool(self.returns or self.credit_notes)

    def as_dict(self) -> dict:
        """JSON-ready (decimals as strings): the API's answer and the
        `reversal` context of `sales.reversal_required`."""
        from satu.catalog.queries import plain

        return {
            "returns": [
                {
                    "warehouse": r.warehouse,
                    "product_id": r.product_id,
                    "sku": r.sku,
                    "name": r.name,
                    "lot": r.lot,
                    "line_id": r.origin_line_id,
                    "quantity": plain(r.quantity),
                }
                for r in self.returns
            ],
            "credit_notes": [
                {
                    "invoice_id": c["invoice_id"],
                    "invoice": c["invoice"],
                    "amount": str(c["amount"]),
                    "currency": c["currency"],
                }
                for c in self.credit_notes
            ],
            "open_deliveries": [number for _pk, number, _s in self.open_deliveries],
            "draft_invoices": len(self.draft_invoices),
            "reservations": self.reservations,
            "blockers": [str(b) for b in self.blockers],
        }


CREDITED_STATES = ("posted", "paid")


def sales_order_cancel_plan(*, order: SalesOrder) -> CancelPlan:
    """What `services.sales_order_cancel` would do to `order` now (five
    queries whatever the number of lines and documents)."""
    from satu.billing import queries as billing_queries
    from satu.inventory import queries as inventory_queries

    blockers = []
    open_deliveries = []
    for t in inventory_queries.transfer_list(
        origin_type=ORDER_ORIGIN, origin_id=order.pk
    ).filter(state__in=inventory_queries.OPEN_STATES):
        if t.state == "in_transit":
            blockers.append(
                _(
                    "Transfer %(number)s is in transit between warehouses: "
                    "receive it first, then cancel the order."
                )
                % {"number": t.number}
            )
        open_deliveries.append((t.pk, t.number, t.state))
    returns = inventory_queries.returnable_quantities(
        origin_type=ORDER_ORIGIN, origin_id=order.pk
    )
    archived = sorted({r.warehouse for r in returns if not r.warehouse_active})
    if archived:
        blockers.append(
            _(
                "Warehouse %(codes)s is archived: the shipped goods cannot be "
                "returned there. Reactivate it first."
            )
            % {"codes": ", ".join(archived)}
        )
    invoices = list(
        billing_queries.invoices_for_origin(
            origin_type=ORDER_ORIGIN, origin_id=order.pk
        )
    )
    drafts = [inv.pk for inv in invoices if inv.state == "draft"]
    credited_qty: dict = {}
    credited_total: dict = {}
    for note in invoices:
        if note.credited_invoice_id and note.state in CREDITED_STATES:
            credited_total[note.credited_invoice_id] = (
                credited_total.get(note.credited_invoice_id, ZERO) + note.amount_total
            )
            for line in note.lines.all():
                credited_qty[line.credited_line_id] = (
                    credited_qty.get(line.credited_line_id, ZERO) + line.quantity
                )
    credit_notes = []
    for inv in invoices:
        if inv.kind != "customer_invoice" or inv.state not in CREDITED_STATES:
            continue
        if any(
            line.quantity - credited_qty.get(line.pk, ZERO) > 0
            for line in inv.lines.all()
        ):
            credit_notes.append(
                {
                    "invoice_id": inv.pk,
                    "invoice": inv.number,
                    "amount": money_round(
                        inv.amount_total - credited_total.get(inv.pk, ZERO),
                        inv.currency,
                    ),
                    "currency": inv.currency,
                }
            )
    reserved = inventory_queries.reserved_quantities(
        origin_type=ORDER_ORIGIN, origin_id=order.pk
    )
    return CancelPlan(
        reservations=any(q for q in reserved.values()),
        open_deliveries=open_deliveries,
        draft_invoices=drafts,
        returns=returns,
        credit_notes=credit_notes,
        blockers=blockers,
    )


def open_documents_for_client(*, actor, client_id) -> dict:
    """Open quotes and orders of a client (the client card section)."""
    quotes = list(
        quotes_visible_to(actor)
        .filter(client_id=client_id, state__in=(Quote.State.DRAFT, Quote.State.SENT))
        .order_by("-issue_date", "-id")[:5]
    )
    orders = list(
        sales_orders_visible_to(actor)
        .filter(
            client_id=client_id,
            state__in=(
                SalesOrder.State.DRAFT,
                SalesOrder.State.CONFIRMED,
                SalesOrder.State.PROCESSING,
            ),
        )
        .order_by("-order_date", "-id")[:5]
    )
    return {"quotes": quotes, "orders": orders}


def documents_for_deal(*, actor, deal_id) -> dict:
    """Quotes and orders of a deal, for the deal page (composed in web)."""
    return {
        "quotes": list(quotes_visible_to(actor).filter(deal_id=deal_id)),
        "orders": list(sales_orders_visible_to(actor).filter(deal_id=deal_id)),
    }


# ------------------------------------------------------------------ assortment


def assortment_rule_list(*, actor, warehouse_id=None, active: bool = True):
    if not actor.has_perm("sales.view_assortmentrule"):
        return AssortmentRule.objects.none()
    qs = AssortmentRule.objects.filter(is_active=active).select_related(
        "product", "category__parent", "warehouse", "client_group"
    )
    if warehouse_id:
        qs = qs.filter(Q(warehouse_id=warehouse_id) | Q(warehouse__isnull=True))
    return qs.order_by("-id")
