"""Public reads of purchasing: suppliers, supplier prices and the best
price, purchase orders, reorder points and the "what to buy" proposals.
See docs/domains/purchasing.md.

Record rule: purchasing documents are not tied to clients, so whoever has
the view permission of a model sees all its records (an actor without it
sees nothing, and a lookup answers 404)."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from satu.core.errors import NotFound
from satu.parties.models import Counterparty
from satu.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    ReorderPoint,
    SupplierPrice,
)

ZERO = Decimal(0)
ORIGIN = "purchasing.order"
QTY = DecimalField(max_digits=20, decimal_places=6)


def _visible(actor, model, perm: str) -> QuerySet:
    if actor is None or not actor.is_active or not actor.has_perm(perm):
        return model.objects.none()
    return model.objects.all()


def purchase_orders_visible_to(actor) -> QuerySet[PurchaseOrder]:
    return _visible(actor, PurchaseOrder, "purchasing.view_purchaseorder")


def supplier_prices_visible_to(actor) -> QuerySet[SupplierPrice]:
    return _visible(actor, SupplierPrice, "purchasing.view_supplierprice")


def reorder_points_visible_to(actor) -> QuerySet[ReorderPoint]:
    return _visible(actor, ReorderPoint, "purchasing.view_reorderpoint")


# ------------------------------------------------------------ supplier prices


def supplier_price_list(
    *,
    actor,
    search: str = "",
    supplier_id=None,
    product_id=None,
    active_only: bool = False,
) -> QuerySet[SupplierPrice]:
    qs = supplier_prices_visible_to(actor).select_related("supplier", "product")
    if search:
        text = search.strip()
        qs = qs.filter(
            Q(product__name__icontains=text)
            | Q(product__sku__icontains=text)
            | Q(supplier__legal_name__icontains=text)
            | Q(supplier_sku__icontains=text)
        )
    if supplier_id:
        qs = qs.filter(supplier_id=supplier_id)
    if product_id:
        qs = qs.filter(product_id=product_id)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("product__name", "supplier__legal_name", "min_quantity", "id")


def supplier_price_get(*, actor, price_id) -> SupplierPrice:
    try:
        pk = int(price_id)
    except (TypeError, ValueError):
        raise NotFound(_("Supplier price not found.")) from None
    sp = (
        supplier_prices_visible_to(actor)
        .select_related("supplier", "product")
        .filter(pk=pk)
        .first()
    )
    if sp is None:
        raise NotFound(_("Supplier price not found."))
    return sp


@dataclass(frozen=True)
class SupplierQuote:
    """The best supplier price for a product and quantity, explained."""

    price_id: int
    supplier_id: int
    supplier_name: str
    price: Decimal
    currency: str
    min_quantity: Decimal
    lead_time_days: int
    explanation: str
    considered: int = 0


def _valid_on(on_date: date) -> Q:
    return (
        Q(is_active=True)
        & (Q(valid_from__isnull=True) | Q(valid_from__lte=on_date))
        & (Q(valid_to__isnull=True) | Q(valid_to__gte=on_date))
    )


def _fmt(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


def _pick(prices, quantity: Decimal, base_currency: str) -> SupplierQuote | None:
    """The cheapest of `prices` whose minimum quantity the quantity reaches;
    the company currency first, then the shortest lead time, then the
    oldest price. Explains the choice."""
    fitting = [p for p in prices if p.min_quantity <= quantity]
    if not fitting:
        return None
    best = min(
        fitting,
        key=lambda p: (p.currency != base_currency, p.price, p.lead_time_days, p.pk),
    )
    parts = [
        _("%(supplier)s, %(price)s %(currency)s from %(min)s")
        % {
            "supplier": best.supplier.legal_name,
            "price": _fmt(best.price),
            "currency": best.currency,
            "min": _fmt(best.min_quantity),
        }
    ]
    if best.lead_time_days:
        parts.append(_("lead time %(days)s days") % {"days": best.lead_time_days})
    if best.valid_to:
        parts.append(_("valid until %(date)s") % {"date": best.valid_to.isoformat()})
    if len(fitting) > 1:
        parts.append(
            _("cheapest of %(n)s valid prices for this quantity") % {"n": len(fitting)}
        )
    skipped = len(prices) - len(fitting)
    if skipped:
        parts.append(_("%(n)s price(s) need a larger quantity") % {"n": skipped})
    return SupplierQuote(
        price_id=best.pk,
        supplier_id=best.supplier_id,
        supplier_name=best.supplier.legal_name,
        price=best.price,
        currency=best.currency,
        min_quantity=best.min_quantity,
        lead_time_days=best.lead_time_days,
        explanation="; ".join(str(p) for p in parts),
        considered=len(fitting),
    )


def _base_currency() -> str:
    from satu.parties.queries import company_default

    company = company_default()
    return company.currency if company else "IDR"


def best_supplier_price(
    *,
    product_id,
    quantity=1,
    on_date: date | None = None,
    currency: str | None = None,
    supplier_id=None,
) -> SupplierQuote | None:
    """The best valid price for `quantity` of a product on a date (one
    query): only `supplier_id`'s prices when given, only `currency`'s when
    given (else the company currency wins over others). The cheapest price
    whose minimum quantity is reached; ties go to the shorter lead time.
    None when no price fits."""
    on_date = on_date or timezone.localdate()
    qs = SupplierPrice.objects.filter(_valid_on(on_date), product_id=product_id)
    if supplier_id:
        qs = qs.filter(supplier_id=supplier_id)
    if currency:
        qs = qs.filter(currency=currency)
    return _pick(
        list(qs.select_related("supplier")), Decimal(quantity), _base_currency()
    )


def supplier_list(*, actor, search: str = "") -> QuerySet[Counterparty]:
    """Counterparties that have supplier prices or purchase orders, with
    their counts and the open (confirmed/processing) order total; one query."""
    if not (
        actor.has_perm("purchasing.view_supplierprice")
        or actor.has_perm("purchasing.view_purchaseorder")
    ):
        return Counterparty.objects.none()
    prices = SupplierPrice.objects.filter(supplier=OuterRef("pk"))
    orders = PurchaseOrder.objects.filter(supplier=OuterRef("pk"))
    price_count = (
        SupplierPrice.objects.filter(supplier=OuterRef("pk"), is_active=True)
        .values("supplier")
        .annotate(n=Count("id"))
        .values("n")
    )
    order_count = (
        PurchaseOrder.objects.filter(supplier=OuterRef("pk"))
        .exclude(state=PurchaseOrder.State.CANCELLED)
        .values("supplier")
        .annotate(n=Count("id"))
        .values("n")
    )
    open_orders = (
        PurchaseOrder.objects.filter(
            supplier=OuterRef("pk"),
            state__in=(PurchaseOrder.State.CONFIRMED, PurchaseOrder.State.PROCESSING),
        )
        .values("supplier")
        .annotate(n=Count("id"))
        .values("n")
    )
    qs = Counterparty.objects.filter(Q(Exists(prices)) | Q(Exists(orders))).annotate(
        price_count=Coalesce(Subquery(price_count), 0),
        order_count=Coalesce(Subquery(order_count), 0),
        open_order_count=Coalesce(Subquery(open_orders), 0),
    )
    if search:
        text = search.strip()
        qs = qs.filter(Q(legal_name__icontains=text) | Q(tax_id__icontains=text))
    return qs.order_by("legal_name", "id")


# ------------------------------------------------------------ purchase orders


def purchase_order_list(
    *,
    actor,
    search: str = "",
    state: str = "",
    supplier_id=None,
    warehouse_id=None,
    receipt_status: str = "",
    bill_status: str = "",
) -> QuerySet[PurchaseOrder]:
    qs = purchase_orders_visible_to(actor).select_related("supplier", "warehouse")
    if search:
        text = search.strip()
        qs = qs.filter(
            Q(number__icontains=text)
            | Q(supplier__legal_name__icontains=text)
            | Q(reference__icontains=text)
        )
    if state:
        qs = qs.filter(state=state)
    if supplier_id:
        qs = qs.filter(supplier_id=supplier_id)
    if warehouse_id:
        qs = qs.filter(warehouse_id=warehouse_id)
    if receipt_status:
        qs = qs.filter(receipt_status=receipt_status)
    if bill_status:
        qs = qs.filter(bill_status=bill_status)
    return qs.order_by("-id")


def purchase_order_get(*, actor, order_id) -> PurchaseOrder:
    """The order with its lines (prefetched with products); 404 when not
    visible."""
    try:
        pk = int(order_id)
    except (TypeError, ValueError):
        raise NotFound(_("Purchase order not found.")) from None
    order = (
        purchase_orders_visible_to(actor)
        .select_related("supplier", "warehouse", "contract", "created_by")
        .prefetch_related("lines__product__base_unit")
        .filter(pk=pk)
        .first()
    )
    if order is None:
        raise NotFound(_("Purchase order not found."))
    return order


def purchase_order_receipts(*, order: PurchaseOrder):
    """The inventory receipts of the order (open and done), newest first."""
    from satu.inventory import queries as inv

    return list(
        inv.transfer_list(kind="receipt", origin_type=ORIGIN, origin_id=order.pk)
    )


def purchase_order_invoices(*, order: PurchaseOrder):
    """The supplier invoices billed from the order."""
    from satu.billing import queries as billing

    return list(billing.invoices_for_origin(origin_type=ORIGIN, origin_id=order.pk))


def purchase_orders_for_supplier(*, actor, supplier_id) -> QuerySet[PurchaseOrder]:
    return purchase_order_list(actor=actor, supplier_id=supplier_id)


# ------------------------------------------------------------- reorder points


def reorder_point_list(
    *, actor, search: str = "", warehouse_id=None
) -> QuerySet[ReorderPoint]:
    qs = reorder_points_visible_to(actor).select_related(
        "product", "warehouse", "preferred_supplier"
    )
    if search:
        text = search.strip()
        qs = qs.filter(
            Q(product__name__icontains=text) | Q(product__sku__icontains=text)
        )
    if warehouse_id:
        qs = qs.filter(warehouse_id=warehouse_id)
    return qs.order_by("warehouse__code", "product__name", "id")


def reorder_point_get(*, actor, point_id) -> ReorderPoint:
    try:
        pk = int(point_id)
    except (TypeError, ValueError):
        raise NotFound(_("Reorder point not found.")) from None
    point = (
        reorder_points_visible_to(actor)
        .select_related("product", "warehouse", "preferred_supplier")
        .filter(pk=pk)
        .first()
    )
    if point is None:
        raise NotFound(_("Reorder point not found."))
    return point


@dataclass
class Proposal:
    """A line of the "what to buy" screen."""

    reorder_point_id: int
    product_id: int
    product_name: str
    product_sku: str
    warehouse_id: int
    warehouse_code: str
    on_hand: Decimal
    available: Decimal
    incoming: Decimal
    minimum: Decimal
    maximum: Decimal
    multiple: Decimal
    quantity: Decimal
    supplier_id: int | None = None
    supplier_name: str = ""
    unit_price: Decimal | None = None
    currency: str = ""
    lead_time_days: int | None = None
    explanation: str = ""
    alternatives: list = field(default_factory=list)

    @property
    def projected(self) -> Decimal:
        return self.available + self.incoming

    @property
    def amount(self) -> Decimal | None:
        return None if self.unit_price is None else self.unit_price * self.quantity


def reorder_proposals(
    *,
    actor=None,
    warehouse_id=None,
    point_ids=None,
    search: str = "",
    include_covered: bool = False,
    on_date: date | None = None,
) -> list[Proposal]:
    """Products whose available + incoming stock in a warehouse is below
    the reorder minimum, with the quantity to buy (up to the maximum,
    rounded up to the multiple) and the supplier: the preferred one when it
    has a price, else the cheapest valid price for that quantity.

    Two queries whatever the number of products: (1) reorder points with
    on hand, reserved and incoming aggregated in SQL and filtered there;
    (2) the valid supplier prices of those products. `include_covered`
    keeps points that need nothing (quantity 0) — used when creating orders
    from a selection. `actor` (optional) applies the record rule."""
    from satu.inventory import queries as inv
    from satu.purchasing.services import round_up

    on_date = on_date or timezone.localdate()
    base = (
        reorder_points_visible_to(actor)
        if actor is not None
        else ReorderPoint.objects.all()
    )
    qs = (
        base.filter(is_active=True)
        .select_related("product", "warehouse", "preferred_supplier")
        .annotate(**inv.projected_stock_annotations())
        .annotate(projected_q=F("on_hand_q") - F("reserved_q") + F("incoming_q"))
    )
    if not include_covered:
        qs = qs.filter(projected_q__lt=F("minimum"))
    if warehouse_id:
        qs = qs.filter(warehouse_id=warehouse_id)
    if point_ids is not None:
        qs = qs.filter(pk__in=list(point_ids))
    if search:
        text = search.strip()
        qs = qs.filter(
            Q(product__name__icontains=text) | Q(product__sku__icontains=text)
        )
    points = list(qs.order_by("warehouse__code", "product__name", "id"))
    if not points:
        return []
    prices_by_product: dict[int, list] = {}
    for sp in SupplierPrice.objects.filter(
        _valid_on(on_date), product_id__in={p.product_id for p in points}
    ).select_related("supplier"):
        prices_by_product.setdefault(sp.product_id, []).append(sp)
    base_currency = _base_currency()
    out = []
    for point in points:
        available = point.on_hand_q - point.reserved_q
        projected = available + point.incoming_q
        need = point.maximum - projected
        quantity = round_up(need, point.multiple) if need > 0 else ZERO
        proposal = Proposal(
            reorder_point_id=point.pk,
            product_id=point.product_id,
            product_name=point.product.name,
            product_sku=point.product.sku,
            warehouse_id=point.warehouse_id,
            warehouse_code=point.warehouse.code,
            on_hand=point.on_hand_q,
            available=available,
            incoming=point.incoming_q,
            minimum=point.minimum,
            maximum=point.maximum,
            multiple=point.multiple,
            quantity=quantity,
        )
        prices = prices_by_product.get(point.product_id, [])
        qty_for_price = quantity if quantity > 0 else Decimal(1)
        quote = None
        if point.preferred_supplier_id:
            quote = _pick(
                [p for p in prices if p.supplier_id == point.preferred_supplier_id],
                qty_for_price,
                base_currency,
            )
            if quote is not None:
                quote = SupplierQuote(
                    **{
                        **quote.__dict__,
                        "explanation": _("Preferred supplier: %(why)s")
                        % {"why": quote.explanation},
                    }
                )
        if quote is None:
            quote = _pick(prices, qty_for_price, base_currency)
            if quote is not None and point.preferred_supplier_id:
                quote = SupplierQuote(
                    **{
                        **quote.__dict__,
                        "explanation": _(
                            "The preferred supplier has no price for this "
                            "quantity; %(why)s"
                        )
                        % {"why": quote.explanation},
                    }
                )
        if quote is not None:
            proposal.supplier_id = quote.supplier_id
            proposal.supplier_name = quote.supplier_name
            proposal.unit_price = quote.price
            proposal.currency = quote.currency
            proposal.lead_time_days = quote.lead_time_days
            proposal.explanation = quote.explanation
        elif point.preferred_supplier_id:
            proposal.supplier_id = point.preferred_supplier_id
            proposal.supplier_name = point.preferred_supplier.legal_name
            proposal.explanation = _(
                "No supplier price for this product; enter the price on the order."
            )
        else:
            proposal.explanation = _("No supplier has a price for this product.")
        out.append(proposal)
    return out


def open_lines_for_product(*, product_id) -> QuerySet[PurchaseOrderLine]:
    """Lines of confirmed/processing orders still to be received."""
    return PurchaseOrderLine.objects.filter(
        product_id=product_id,
        order__state__in=(
            PurchaseOrder.State.CONFIRMED,
            PurchaseOrder.State.PROCESSING,
        ),
    ).select_related("order")
