"""Public writes of purchasing: supplier prices, purchase orders (create,
edit, confirm, receive, bill, cancel), reorder points and draft orders from
reorder proposals. See docs/domains/purchasing.md.

Every function is keyword-only with `actor` first and runs in one
transaction; receiving and billing call inventory and billing directly in
that same transaction (a refused receipt leaves no stock move, a refused
bill no invoice). Locking order: PurchaseOrder (pk order) → inventory
(Transfer → Quant → StockLevel) → billing (invoice number counter).

Quantities received and billed are not kept by purchasing alone: they are
read back from inventory (`moved_quantities`) and billing
(`invoiced_quantities`) after every change, so a receipt validated on the
warehouse screens counts the same as one made here.
"""

from datetime import date, datetime
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from satu.catalog import taxes
from satu.catalog.models import Product
from satu.core import audit, features, numbering
from satu.core.errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
    VersionConflict,
)
from satu.core.events import publish_on_commit
from satu.core.money import currency_valid
from satu.parties.models import Counterparty
from satu.purchasing import locks
from satu.purchasing.errors import (
    BadState,
    CurrencyMismatch,
    InvalidContract,
    NothingToDo,
    OverBilling,
    OverReceipt,
)
from satu.purchasing.events import (
    PurchaseOrderBilled,
    PurchaseOrderCancelled,
    PurchaseOrderConfirmed,
    PurchaseOrderReceived,
)
from satu.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    ReorderPoint,
    SupplierPrice,
)

ORIGIN = "purchasing.order"
PREFIX = "PO"
Q4 = Decimal("0.0001")
Q6 = Decimal("0.000001")
ZERO = Decimal(0)
OPEN_TRANSFER_STATES = ("confirmed", "picked", "packed")

State = PurchaseOrder.State
Progress = PurchaseOrder.Progress


# ------------------------------------------------------------------ helpers


def _begin(actor, perm: str) -> None:
    features.require("purchasing")
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied()


def _check_version(obj, version) -> None:
    if version is not None and int(version) != obj.version:
        raise VersionConflict()


def _fmt(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def clean_quantity(value, *, field: str = "quantity", allow_zero=False) -> Decimal:
    """A quantity > 0 (≥ 0 with allow_zero), at most 6 decimals."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationFailed(fields={field: [_("Enter a number.")]}) from None
    if (
        not number.is_finite()
        or number < 0
        or (number == 0 and not allow_zero)
        or number != number.quantize(Q6)
        or number >= Decimal(10) ** 14
    ):
        raise ValidationFailed(
            fields={
                field: [
                    _("Enter a quantity greater than zero with at most 6 decimals.")
                    if not allow_zero
                    else _("Enter a quantity of at least zero with at most 6 decimals.")
                ]
            }
        )
    return number.quantize(Q6)


def clean_price(value, *, field: str = "unit_price") -> Decimal:
    """A price ≥ 0 with at most 4 decimals."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationFailed(fields={field: [_("Enter a number.")]}) from None
    if (
        not number.is_finite()
        or number < 0
        or number != number.quantize(Q4)
        or number >= Decimal(10) ** 16
    ):
        raise ValidationFailed(
            fields={field: [_("Enter a price of at least 0 with at most 4 decimals.")]}
        )
    return number.quantize(Q4)


def _clean_currency(value, field="currency") -> str:
    code = str(value or "").strip().upper()
    if not currency_valid(code):
        raise ValidationFailed(fields={field: [_("Enter a 3-letter currency code.")]})
    return code


def _supplier(supplier_id) -> Counterparty:
    try:
        supplier = Counterparty.objects.filter(pk=int(supplier_id)).first()
    except (TypeError, ValueError):
        supplier = None
    if supplier is None:
        raise ValidationFailed(fields={"supplier_id": [_("Pick a supplier.")]})
    return supplier


def _product(product_id, field="product_id") -> Product:
    try:
        product = Product.objects.filter(pk=int(product_id)).first()
    except (TypeError, ValueError):
        product = None
    if product is None:
        raise ValidationFailed(fields={field: [_("Pick a product.")]})
    return product


def _warehouse(warehouse_id):
    from satu.inventory import queries as inv

    try:
        wh = inv.warehouse_get(warehouse_id=int(warehouse_id))
    except (TypeError, ValueError, NotFound):
        wh = None
    if wh is None or not wh.is_active:
        raise ValidationFailed(fields={"warehouse_id": [_("Pick a warehouse.")]})
    return wh


def _base_currency() -> str:
    from satu.parties.queries import company_default

    company = company_default()
    return company.currency if company else "IDR"


# ----------------------------------------------------------- supplier prices

PRICE_FIELDS = [
    "currency",
    "price",
    "min_quantity",
    "lead_time_days",
    "valid_from",
    "valid_to",
    "supplier_sku",
    "is_active",
]


def _clean_price_data(data: dict) -> dict:
    errors: dict = {}
    out = {}
    for key, cleaner in (
        ("currency", _clean_currency),
        ("price", lambda v, f: clean_price(v, field=f)),
        ("min_quantity", lambda v, f: clean_quantity(v, field=f)),
    ):
        if key in data:
            try:
                out[key] = cleaner(data[key], key)
            except ValidationFailed as exc:
                errors.update(exc.fields)
    if "lead_time_days" in data:
        try:
            days = int(data["lead_time_days"] or 0)
            if days < 0 or days > 3650:
                raise ValueError
            out["lead_time_days"] = days
        except (TypeError, ValueError):
            errors["lead_time_days"] = [_("Enter a number of days from 0 to 3650.")]
    for key in ("valid_from", "valid_to"):
        if key in data:
            out[key] = data[key] or None
    if "supplier_sku" in data:
        sku = str(data["supplier_sku"] or "").strip()
        if len(sku) > 64:
            errors["supplier_sku"] = [_("At most 64 characters.")]
        out["supplier_sku"] = sku
    if "is_active" in data:
        out["is_active"] = bool(data["is_active"])
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def _check_period(valid_from, valid_to) -> None:
    if valid_from and valid_to and valid_to < valid_from:
        raise ValidationFailed(
            fields={"valid_to": [_("The end of validity is before its start.")]}
        )


@transaction.atomic
def supplier_price_create(
    *,
    actor,
    supplier_id,
    product_id,
    price,
    currency="IDR",
    min_quantity=1,
    lead_time_days=0,
    valid_from: date | None = None,
    valid_to: date | None = None,
    supplier_sku="",
) -> SupplierPrice:
    """Record what a supplier charges for a product from `min_quantity` on.
    Raises ValidationFailed (unknown supplier/product, bad price, quantity,
    currency or period). Audited."""
    _begin(actor, "purchasing.add_supplierprice")
    supplier = _supplier(supplier_id)
    product = _product(product_id)
    data = _clean_price_data(
        {
            "currency": currency,
            "price": price,
            "min_quantity": min_quantity,
            "lead_time_days": lead_time_days,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "supplier_sku": supplier_sku,
        }
    )
    _check_period(data["valid_from"], data["valid_to"])
    sp = SupplierPrice.objects.create(supplier=supplier, product=product, **data)
    audit.record(actor=actor, subject=sp, action="created")
    return sp


@transaction.atomic
def supplier_price_update(*, actor, price_id, version=None, **changes) -> SupplierPrice:
    """Change a supplier price (fields of PRICE_FIELDS). Locks the row.
    Raises NotFound, VersionConflict, ValidationFailed. Audited."""
    _begin(actor, "purchasing.change_supplierprice")
    unknown = set(changes) - set(PRICE_FIELDS)
    if unknown:
        raise ValidationFailed(fields={k: [_("Cannot be changed.")] for k in unknown})
    sp = locks.supplier_prices_for_update(
        SupplierPrice.objects.filter(pk=price_id)
    ).first()
    if sp is None:
        raise NotFound(_("Supplier price not found."))
    _check_version(sp, version)
    data = _clean_price_data(changes)
    _check_period(
        data.get("valid_from", sp.valid_from), data.get("valid_to", sp.valid_to)
    )
    before = audit.snapshot(sp, PRICE_FIELDS)
    for key, value in data.items():
        setattr(sp, key, value)
    sp.version += 1
    sp.save()
    audit.record(
        actor=actor,
        subject=sp,
        action="updated",
        changes=audit.diff(before, audit.snapshot(sp, PRICE_FIELDS)),
    )
    return sp


# ------------------------------------------------------------ purchase orders


def _contract(contract_id, supplier: Counterparty, currency: str | None):
    """The purchase contract, checked against the supplier and currency."""
    if not contract_id:
        return None
    from satu.billing import queries as billing

    try:
        contract = (
            billing.contract_list(actor=None, kind="purchase", state="active")
            .filter(pk=int(contract_id), counterparty_id=supplier.pk)
            .first()
        )
    except (TypeError, ValueError):
        contract = None
    if contract is None:
        raise InvalidContract(fields={"contract_id": [InvalidContract.default_message]})
    if currency and contract.currency != currency:
        raise CurrencyMismatch(
            _("The order is in %(order)s but contract %(contract)s is in %(currency)s.")
            % {
                "order": currency,
                "contract": contract.number,
                "currency": contract.currency,
            },
            fields={"currency": [CurrencyMismatch.default_message]},
        )
    return contract


def _build_lines(order: PurchaseOrder, lines) -> list[PurchaseOrderLine]:
    """Cleaned, priced and taxed lines (not saved). Unit prices default to
    the supplier's best price for the quantity on the order date."""
    from satu.purchasing.queries import best_supplier_price

    if not lines:
        raise ValidationFailed(fields={"lines": [_("Add at least one line.")]})
    errors: dict = {}
    ids = []
    for i, raw in enumerate(lines):
        try:
            ids.append(int(raw.get("product_id")))
        except (TypeError, ValueError):
            errors[f"lines.{i}.product_id"] = [_("Pick a product.")]
    products = Product.objects.in_bulk(ids) if ids else {}
    applied = taxes.taxes_for(
        list(products.values()), on=order.order_date, kind="purchases"
    )
    built = []
    for i, raw in enumerate(lines):
        try:
            product = products.get(int(raw.get("product_id")))
        except (TypeError, ValueError):
            continue
        if product is None:
            errors[f"lines.{i}.product_id"] = [_("Pick a product.")]
            continue
        if product.kind == Product.Kind.KIT:
            errors[f"lines.{i}.product_id"] = [
                _("Kits are not bought as such; order their components.")
            ]
            continue
        try:
            qty = clean_quantity(raw.get("quantity"), field=f"lines.{i}.quantity")
        except ValidationFailed as exc:
            errors.update(exc.fields)
            continue
        price = raw.get("unit_price")
        if price in (None, ""):
            quote = best_supplier_price(
                product_id=product.pk,
                quantity=qty,
                on_date=order.order_date,
                currency=order.currency,
                supplier_id=order.supplier_id,
            )
            if quote is None:
                errors[f"lines.{i}.unit_price"] = [
                    _("This supplier has no price for this product; enter one.")
                ]
                continue
            price = quote.price
        else:
            try:
                price = clean_price(price, field=f"lines.{i}.unit_price")
            except ValidationFailed as exc:
                errors.update(exc.fields)
                continue
        tax = applied.get(product.pk) or taxes.AppliedTax.none()
        amounts = taxes.line_amounts(
            quantity=qty,
            unit_price=price,
            currency=order.currency,
            rate=tax.rate,
            inclusive=tax.inclusive,
        )
        description = str(raw.get("description") or "").strip()[:255]
        built.append(
            PurchaseOrderLine(
                order=order,
                product=product,
                description=description or product.name,
                quantity=qty,
                unit_price=price,
                tax_rate=tax.rate,
                tax_inclusive=tax.inclusive,
                untaxed=amounts.untaxed,
                tax=amounts.tax,
                total=amounts.total,
                position=i,
            )
        )
    if errors:
        raise ValidationFailed(_("Some lines are not valid."), fields=errors)
    return built


def _set_totals(order: PurchaseOrder, lines) -> None:
    sums = taxes.totals(lines)
    order.untaxed, order.tax, order.total = sums.untaxed, sums.tax, sums.total


@transaction.atomic
def purchase_order_create(
    *,
    actor,
    supplier_id,
    warehouse_id,
    lines,
    currency=None,
    contract_id=None,
    order_date: date | None = None,
    expected_date: date | None = None,
    reference="",
    note="",
) -> PurchaseOrder:
    """Create a draft purchase order numbered PO-<year>-NNNN (gapless).

    lines: [{"product_id", "quantity", "unit_price"?, "description"?}]; a
    missing unit price comes from the supplier's best price for that
    quantity. Taxes from catalog tax rules of kind "purchases". The currency
    defaults to the contract's, else the company's. Locks the number
    counter. Raises ValidationFailed (lines, quantities, prices, supplier,
    warehouse, currency), InvalidContract, CurrencyMismatch. Audited."""
    _begin(actor, "purchasing.add_purchaseorder")
    supplier = _supplier(supplier_id)
    wh = _warehouse(warehouse_id)
    currency = _clean_currency(currency) if currency else None
    contract = _contract(contract_id, supplier, currency)
    currency = currency or (contract.currency if contract else _base_currency())
    order_date = order_date or timezone.localdate()
    if expected_date and expected_date < order_date:
        raise ValidationFailed(
            fields={"expected_date": [_("The expected date is before the order date.")]}
        )
    order = PurchaseOrder(
        supplier=supplier,
        warehouse=wh,
        contract=contract,
        currency=currency,
        order_date=order_date,
        expected_date=expected_date,
        reference=str(reference or "")[:100],
        note=str(note or ""),
        created_by=actor,
    )
    built = _build_lines(order, lines)
    _set_totals(order, built)
    year = order_date.year
    order.number = numbering.formatted(
        PREFIX, year, numbering.next_number(PREFIX, year)
    )
    order.save()
    PurchaseOrderLine.objects.bulk_create(built)
    audit.record(
        actor=actor,
        subject=order,
        action="created",
        changes={"lines": len(built), "total": str(order.total)},
    )
    return order


def _locked_order(order_id, version=None) -> PurchaseOrder:
    try:
        pk = int(order_id)
    except (TypeError, ValueError):
        raise NotFound(_("Purchase order not found.")) from None
    order = locks.purchase_orders_for_update(
        PurchaseOrder.objects.filter(pk=pk)
    ).first()
    if order is None:
        raise NotFound(_("Purchase order not found."))
    _check_version(order, version)
    return order


EDITABLE = {
    "supplier_id",
    "warehouse_id",
    "currency",
    "contract_id",
    "order_date",
    "expected_date",
    "reference",
    "note",
    "lines",
}


@transaction.atomic
def purchase_order_update(*, actor, order_id, version=None, **changes) -> PurchaseOrder:
    """Edit a draft order (header fields and/or all `lines` at once, which
    are replaced and re-priced). Locks the order. Raises BadState (not
    draft), VersionConflict, ValidationFailed, InvalidContract,
    CurrencyMismatch. Audited."""
    _begin(actor, "purchasing.change_purchaseorder")
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationFailed(fields={k: [_("Cannot be changed.")] for k in unknown})
    order = _locked_order(order_id, version)
    if order.state != State.DRAFT:
        raise BadState(_("Only a draft order can be edited."))
    header = ["supplier_id", "warehouse_id", "currency", "contract_id"]
    before = audit.snapshot(
        order, header + ["order_date", "expected_date", "reference", "total"]
    )
    if "supplier_id" in changes:
        order.supplier = _supplier(changes["supplier_id"])
    if "warehouse_id" in changes:
        order.warehouse = _warehouse(changes["warehouse_id"])
    if changes.get("currency"):
        order.currency = _clean_currency(changes["currency"])
    if "contract_id" in changes:
        order.contract_id = changes["contract_id"] or None
    contract = _contract(order.contract_id, order.supplier, order.currency)
    order.contract = contract
    for key in ("order_date", "expected_date"):
        if key in changes:
            setattr(order, key, changes[key] or None)
    order.order_date = order.order_date or timezone.localdate()
    if order.expected_date and order.expected_date < order.order_date:
        raise ValidationFailed(
            fields={"expected_date": [_("The expected date is before the order date.")]}
        )
    if "reference" in changes:
        order.reference = str(changes["reference"] or "")[:100]
    if "note" in changes:
        order.note = str(changes["note"] or "")
    if "lines" in changes:
        built = _build_lines(order, changes["lines"])
    else:
        # Re-price taxes/rounding on currency/date changes with kept prices.
        built = _build_lines(
            order,
            [
                {
                    "product_id": li.product_id,
                    "quantity": li.quantity,
                    "unit_price": li.unit_price,
                    "description": li.description,
                }
                for li in order.lines.all()
            ],
        )
    order.lines.all().delete()
    PurchaseOrderLine.objects.bulk_create(built)
    _set_totals(order, built)
    order.version += 1
    order.save()
    audit.record(
        actor=actor,
        subject=order,
        action="updated",
        changes=audit.diff(
            before,
            audit.snapshot(
                order, header + ["order_date", "expected_date", "reference", "total"]
            ),
        ),
    )
    return order


def _lines(order: PurchaseOrder) -> list[PurchaseOrderLine]:
    return list(order.lines.select_related("product").order_by("position", "id"))


def _unit_cost(line: PurchaseOrderLine) -> Decimal:
    """Untaxed cost of one unit (what valuation takes), 4 decimals."""
    return (line.untaxed / line.quantity).quantize(Q4)


def _open_receipts(order: PurchaseOrder):
    from satu.inventory import queries as inv

    return list(
        inv.transfer_list(kind="receipt", origin_type=ORIGIN, origin_id=order.pk)
        .filter(state__in=OPEN_TRANSFER_STATES)
        .order_by("pk")
    )


def _create_receipt(actor, order: PurchaseOrder, lines_qty):
    from satu.inventory import services as inv

    return inv.transfer_create(
        actor=actor,
        kind="receipt",
        warehouse_id=order.warehouse_id,
        lines=[
            {
                "product_id": line.product_id,
                "quantity": qty,
                "origin_line_id": line.pk,
                "unit_cost": _unit_cost(line),
            }
            for line, qty in lines_qty
        ],
        origin_type=ORIGIN,
        origin_id=order.pk,
        counterparty_id=order.supplier_id,
        reference=order.number,
        scheduled_date=order.expected_date,
    )


def _progress(done: list, target: list) -> str:
    if not target:
        return Progress.NONE
    if all(d >= t for d, t in zip(done, target, strict=True)):
        return Progress.FULL
    if any(d > 0 for d in done):
        return Progress.PARTIAL
    return Progress.NOTHING


def _refresh(order: PurchaseOrder, lines=None) -> list[PurchaseOrderLine]:
    """Read received (inventory) and billed (billing) quantities back onto
    the lines, then derive receipt/bill status and the state."""
    from satu.billing import queries as billing_queries
    from satu.inventory import queries as inv

    lines = lines if lines is not None else _lines(order)
    moved = inv.moved_quantities(origin_type=ORIGIN, origin_id=order.pk)
    billed = billing_queries.invoiced_quantities(origin_type=ORIGIN, origin_id=order.pk)
    changed = []
    for line in lines:
        rec = moved.get(line.pk, ZERO) if not line.is_service else ZERO
        bil = billed.get(line.pk, ZERO)
        if rec != line.received_quantity or bil != line.billed_quantity:
            line.received_quantity, line.billed_quantity = rec, bil
            changed.append(line)
    if changed:
        PurchaseOrderLine.objects.bulk_update(
            changed, ["received_quantity", "billed_quantity"]
        )
    goods = [li for li in lines if not li.is_service]
    order.receipt_status = _progress(
        [li.received_quantity for li in goods],
        [li.quantity - li.cancelled_quantity for li in goods],
    )
    order.bill_status = _progress(
        [li.billed_quantity for li in lines],
        [li.quantity - li.cancelled_quantity for li in lines],
    )
    if order.state not in (State.DRAFT, State.CANCELLED):
        if order.receipt_status in (
            Progress.FULL,
            Progress.NONE,
        ) and order.bill_status in (Progress.FULL, Progress.NONE):
            order.state = State.DONE
        elif any(li.received_quantity or li.billed_quantity for li in lines):
            order.state = State.PROCESSING
        else:
            order.state = State.CONFIRMED
    return lines


def _save_state(actor, order: PurchaseOrder, old_state: str, **changes) -> None:
    order.version += 1
    order.save(
        update_fields=[
            "state",
            "receipt_status",
            "bill_status",
            "version",
            "updated_at",
        ]
        + (["confirmed_at"] if order.confirmed_at else [])
    )
    record = {"state": [old_state, order.state]} if old_state != order.state else {}
    audit.record(
        actor=actor, subject=order, action="state_changed", changes=record | changes
    )


@transaction.atomic
def purchase_order_confirm(*, actor, order_id, version=None) -> PurchaseOrder:
    """draft → confirmed. Creates the inventory receipt (state confirmed,
    origin "purchasing.order", one line per goods line with unit_cost = the
    order's untaxed unit price) so the goods show as incoming in stock
    availability until received. Locks the order, then the receipt number
    counter. Raises BadState (not a draft, e.g. cancelled),
    VersionConflict, InvalidContract, CurrencyMismatch. Publishes
    PurchaseOrderConfirmed. Audited."""
    _begin(actor, "purchasing.change_purchaseorder")
    order = _locked_order(order_id, version)
    if order.state != State.DRAFT:
        raise BadState(
            _("Only a draft order can be confirmed; this one is %(state)s.")
            % {"state": State(order.state).label}
        )
    _contract(order.contract_id, order.supplier, order.currency)
    lines = _lines(order)
    goods = [(li, li.quantity) for li in lines if not li.is_service]
    transfer = _create_receipt(actor, order, goods) if goods else None
    order.state = State.CONFIRMED
    order.confirmed_at = timezone.now()
    _refresh(order, lines)
    _save_state(
        actor,
        order,
        State.DRAFT,
        **({"receipt": transfer.number} if transfer else {}),
    )
    publish_on_commit(
        PurchaseOrderConfirmed(
            order_id=order.pk,
            number=order.number,
            supplier_id=order.supplier_id,
            warehouse_id=order.warehouse_id,
            receipt_transfer_id=transfer.pk if transfer else None,
        )
    )
    return order


def _active(order: PurchaseOrder) -> None:
    if order.state not in (State.CONFIRMED, State.PROCESSING):
        raise BadState(
            _("The order is %(state)s; confirm it first or open another one.")
            % {"state": State(order.state).label}
            if order.state == State.DRAFT
            else _("The order is %(state)s.") % {"state": State(order.state).label}
        )


def _named(quantities, lines, field) -> dict:
    by_id = {li.pk: li for li in lines}
    out = {}
    for key, value in (quantities or {}).items():
        try:
            line = by_id.get(int(key))
        except (TypeError, ValueError):
            line = None
        if line is None:
            raise ValidationFailed(
                fields={field: [_("A line does not belong to this order.")]}
            )
        out[line.pk] = value
    return out


def _receipt_expiry(named: dict, lines) -> dict[int, date]:
    """{order line id: date} from what `purchase_order_receive` was given
    (dates or ISO strings; empty values dropped). ValidationFailed naming
    `lot_expires_on.<line id>` for a bad date, a service or a product not
    tracked by lot or serial."""
    by_id = {li.pk: li for li in lines}
    out, errors = {}, {}
    for pk, value in named.items():
        if value is None or value == "":
            continue
        field = f"lot_expires_on.{pk}"
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                value = None
        line = by_id[pk]
        if not isinstance(value, date) or isinstance(value, datetime):
            errors[field] = [_("Enter a valid expiry date (YYYY-MM-DD).")]
        elif line.is_service or line.product.tracking == Product.Tracking.NONE:
            errors[field] = [
                _(
                    "%(product)s is not tracked by lot or serial: it takes no "
                    "expiry date."
                )
                % {"product": line.product}
            ]
        else:
            out[pk] = value
    if errors:
        message = next(iter(errors.values()))[0]
        raise ValidationFailed(message, fields=errors)
    return out


@transaction.atomic
def purchase_order_receive(
    *, actor, order_id, quantities=None, lots=None, version=None, lot_expires_on=None
):
    """Receive goods of a confirmed order now: validates its open inventory
    receipt for `quantities` {order line id: qty} (None = everything still
    open; lines not named receive nothing) with `lots` {order line id:
    lot/serial code} for tracked products and `lot_expires_on` {order line
    id: date or ISO string}, the expiry date of a lot this receipt creates
    (an existing lot with another date is refused by inventory: field
    `lot_expires_on.<order line id>`). Stock and valuation are posted by
    inventory (unit cost = the order's price); what is left stays incoming
    as a backorder receipt. Returns the done inventory Transfer.

    Locks the order, then inventory's transfer, quants and levels. Raises
    BadState (not confirmed/processing), OverReceipt (more than ordered
    and not yet received), ValidationFailed (quantities, services),
    NothingToDo, inventory's LotRequired / SerialQuantity,
    VersionConflict. Publishes PurchaseOrderReceived. Audited."""
    from satu.inventory import queries as inv_queries
    from satu.inventory import services as inv
    from satu.inventory.errors import LotRequired

    _begin(actor, "purchasing.change_purchaseorder")
    order = _locked_order(order_id, version)
    _active(order)
    lines = _refresh(order)
    goods = {li.pk: li for li in lines if not li.is_service}
    named = _named(quantities, lines, "quantities")
    lot_codes = {
        k: str(v or "").strip() for k, v in _named(lots, lines, "lots").items()
    }
    expiry = _receipt_expiry(_named(lot_expires_on, lines, "lot_expires_on"), lines)
    wanted: dict[int, Decimal] = {}
    if quantities is None:
        wanted = {pk: li.open_quantity for pk, li in goods.items()}
    else:
        errors = {}
        for pk, raw in named.items():
            field = f"quantities.{pk}"
            if pk not in goods:
                errors[field] = [_("Services are not received into stock.")]
                continue
            try:
                qty = clean_quantity(raw, field=field, allow_zero=True)
            except ValidationFailed as exc:
                errors.update(exc.fields)
                continue
            if qty > goods[pk].open_quantity:
                raise OverReceipt(
                    _("%(product)s: at most %(open)s can still be received.")
                    % {
                        "product": goods[pk].product.name,
                        "open": _fmt(goods[pk].open_quantity),
                    },
                    fields={
                        field: [
                            _("At most %(q)s.") % {"q": _fmt(goods[pk].open_quantity)}
                        ]
                    },
                )
            wanted[pk] = qty
        if errors:
            raise ValidationFailed(fields=errors)
    wanted = {pk: q for pk, q in wanted.items() if q > 0}
    if not wanted:
        raise NothingToDo(_("Nothing to receive: every quantity is zero."))
    missing = [
        pk
        for pk in wanted
        if goods[pk].product.tracking != Product.Tracking.NONE and not lot_codes.get(pk)
    ]
    if missing:
        raise LotRequired(
            fields={f"lots.{pk}": [LotRequired.default_message] for pk in missing}
        )
    receipts = _open_receipts(order)
    tlines = []
    if receipts:
        tlines = [
            tl for r in receipts for tl in inv_queries.transfer_lines(transfer_id=r.pk)
        ]
    # A receipt cancelled on the warehouse screens leaves part of a line
    # without an open receipt line: cover it with a new receipt first.
    open_by_line: dict[int, Decimal] = {}
    for tl in tlines:
        open_by_line[tl.origin_line_id] = (
            open_by_line.get(tl.origin_line_id, ZERO) + tl.quantity
        )
    gaps = [
        (goods[pk], wanted[pk] - open_by_line.get(pk, ZERO))
        for pk in wanted
        if wanted[pk] > open_by_line.get(pk, ZERO)
    ]
    if gaps:
        extra = _create_receipt(actor, order, gaps)
        receipts.append(extra)
        tlines += list(inv_queries.transfer_lines(transfer_id=extra.pk))
    left = dict(wanted)
    plan: dict[int, dict] = {}
    for tl in tlines:
        take = min(left.get(tl.origin_line_id, ZERO), tl.quantity)
        left[tl.origin_line_id] = left.get(tl.origin_line_id, ZERO) - take
        plan.setdefault(tl.transfer_id, {})[tl.pk] = (take, tl.origin_line_id)
    done = None
    for transfer in receipts:
        entries = plan.get(transfer.pk) or {}
        if not any(take for take, _line in entries.values()):
            continue
        dates = {
            tl_id: expiry[line_id]
            for tl_id, (take, line_id) in entries.items()
            if take and line_id in expiry
        }
        try:
            done = inv.transfer_done(
                actor=actor,
                transfer_id=transfer.pk,
                quantities={tl_id: take for tl_id, (take, _l) in entries.items()},
                lots={
                    tl_id: lot_codes[line_id]
                    for tl_id, (take, line_id) in entries.items()
                    if take and lot_codes.get(line_id)
                },
                lot_expires_on=dates or None,
            )
        except ValidationFailed as exc:
            # Inventory names its receipt line; the caller knows order lines.
            names = {
                f"lot_expires_on.{tl_id}": f"lot_expires_on.{line_id}"
                for tl_id, (_take, line_id) in entries.items()
            }
            if not set(exc.fields) & set(names):
                raise
            exc.fields = {names.get(k, k): v for k, v in exc.fields.items()}
            raise
    old = order.state
    _refresh(order, lines)
    _save_state(
        actor,
        order,
        old,
        received={str(pk): _fmt(q) for pk, q in wanted.items()},
    )
    publish_on_commit(
        PurchaseOrderReceived(
            order_id=order.pk,
            transfer_id=done.pk,
            lines=tuple((pk, goods[pk].product_id, q) for pk, q in wanted.items()),
        )
    )
    return done


def _billable(line: PurchaseOrderLine) -> Decimal:
    if line.is_service:
        return line.quantity - line.cancelled_quantity - line.billed_quantity
    return line.received_quantity - line.billed_quantity


@transaction.atomic
def purchase_order_bill(
    *,
    actor,
    order_id,
    quantities=None,
    reference="",
    issue_date: date | None = None,
    due_date: date | None = None,
    post=True,
    version=None,
):
    """Create (and by default post) the supplier's invoice in billing for
    received-not-billed quantities: `quantities` {order line id: qty}, None
    = everything billable (goods: received − billed; services: ordered −
    billed). Prices and taxes are the order's. Returns the billing Invoice.

    Locks the order, then billing's number counter. Raises BadState,
    OverBilling (`purchasing.over_billing`), ValidationFailed, NothingToDo,
    VersionConflict and billing's errors. Publishes PurchaseOrderBilled.
    Audited."""
    from satu.billing import services as billing

    _begin(actor, "purchasing.bill_purchaseorder")
    order = _locked_order(order_id, version)
    _active(order)
    lines = _refresh(order)
    by_id = {li.pk: li for li in lines}
    named = _named(quantities, lines, "quantities")
    wanted: dict[int, Decimal] = {}
    if quantities is None:
        wanted = {li.pk: _billable(li) for li in lines}
    else:
        errors = {}
        for pk, raw in named.items():
            field = f"quantities.{pk}"
            try:
                qty = clean_quantity(raw, field=field, allow_zero=True)
            except ValidationFailed as exc:
                errors.update(exc.fields)
                continue
            if qty > _billable(by_id[pk]):
                line = by_id[pk]
                raise OverBilling(
                    _("%(product)s: at most %(q)s can be billed (%(why)s).")
                    % {
                        "product": line.product.name,
                        "q": _fmt(max(_billable(line), ZERO)),
                        "why": _("ordered, not billed")
                        if line.is_service
                        else _("received, not billed"),
                    },
                    fields={
                        field: [_("At most %(q)s.") % {"q": _fmt(_billable(line))}]
                    },
                )
            wanted[pk] = qty
        if errors:
            raise ValidationFailed(fields=errors)
    wanted = {pk: q for pk, q in wanted.items() if q > 0}
    if not wanted:
        raise NothingToDo(_("Nothing to bill: receive goods first."))
    invoice = billing.invoice_create(
        actor=actor,
        kind="supplier_invoice",
        currency=order.currency,
        counterparty_id=order.supplier_id,
        contract_id=order.contract_id,
        origin_type=ORIGIN,
        origin_id=order.pk,
        issue_date=issue_date,
        due_date=due_date,
        reference=str(reference or order.number),
        lines=[
            {
                "product_id": by_id[pk].product_id,
                "description": by_id[pk].description or by_id[pk].product.name,
                "quantity": q,
                "unit_price": by_id[pk].unit_price,
                "tax_rate": by_id[pk].tax_rate,
                "tax_inclusive": by_id[pk].tax_inclusive,
                "origin_line_id": pk,
            }
            for pk, q in wanted.items()
        ],
    )
    if post:
        invoice = billing.invoice_post(actor=actor, invoice_id=invoice.pk)
    old = order.state
    _refresh(order, lines)
    _save_state(
        actor,
        order,
        old,
        billed={str(pk): _fmt(q) for pk, q in wanted.items()},
        invoice=invoice.pk,
    )
    publish_on_commit(
        PurchaseOrderBilled(
            order_id=order.pk,
            invoice_id=invoice.pk,
            lines=tuple((pk, by_id[pk].product_id, q) for pk, q in wanted.items()),
        )
    )
    return invoice


@transaction.atomic
def purchase_order_cancel(*, actor, order_id, version=None) -> PurchaseOrder:
    """Cancel what has not been received.

    Rule: a draft or a confirmed order with nothing received or billed
    becomes `cancelled` and its open receipt is cancelled in inventory. An
    order partly received keeps what came: the rest of every goods line is
    cancelled (`cancelled_quantity`), open receipts are cancelled, services
    not billed are cancelled, and the order goes on as `processing` until
    what was received is billed, then `done`. Done or cancelled orders
    raise BadState. Locks the order, then inventory's transfers. Raises
    BadState, VersionConflict. Publishes PurchaseOrderCancelled. Audited."""
    from satu.inventory import services as inv

    _begin(actor, "purchasing.change_purchaseorder")
    order = _locked_order(order_id, version)
    if order.state in (State.DONE, State.CANCELLED):
        raise BadState(
            _("The order is %(state)s and cannot be cancelled.")
            % {"state": State(order.state).label}
        )
    old = order.state
    lines = _refresh(order) if old != State.DRAFT else _lines(order)
    for transfer in _open_receipts(order):
        inv.transfer_cancel(actor=actor, transfer_id=transfer.pk)
    touched = any(li.received_quantity or li.billed_quantity for li in lines)
    for line in lines:
        kept = line.billed_quantity if line.is_service else line.received_quantity
        line.cancelled_quantity = line.quantity - kept
    PurchaseOrderLine.objects.bulk_update(lines, ["cancelled_quantity"])
    if touched:
        _refresh(order, lines)
    else:
        order.state = State.CANCELLED
    _save_state(actor, order, old, fully=not touched)
    publish_on_commit(PurchaseOrderCancelled(order_id=order.pk, fully=not touched))
    return order


@transaction.atomic
def purchase_order_sync(*, order_id) -> PurchaseOrder | None:
    """Re-read received and billed quantities of an order after inventory
    or billing changed them on their own screens (called by the event
    handlers; system action, no actor). Locks the order."""
    order = locks.purchase_orders_for_update(
        PurchaseOrder.objects.filter(pk=order_id)
    ).first()
    if order is None or order.state in (State.DRAFT, State.CANCELLED):
        return order
    before = (order.state, order.receipt_status, order.bill_status)
    _refresh(order)
    if (order.state, order.receipt_status, order.bill_status) != before:
        _save_state(None, order, before[0], synced=True)
    return order


# ------------------------------------------------------------- reorder points

POINT_FIELDS = ["minimum", "maximum", "multiple", "preferred_supplier_id", "is_active"]


def _clean_point(data: dict, current: ReorderPoint | None = None) -> dict:
    errors: dict = {}
    out: dict = {}
    for key in ("minimum", "maximum", "multiple"):
        if key in data:
            try:
                out[key] = clean_quantity(
                    data[key], field=key, allow_zero=key == "minimum"
                )
            except ValidationFailed as exc:
                errors.update(exc.fields)
    if "preferred_supplier_id" in data:
        sid = data["preferred_supplier_id"]
        if sid:
            try:
                out["preferred_supplier_id"] = _supplier(sid).pk
            except ValidationFailed:
                errors["preferred_supplier_id"] = [_("Pick a supplier.")]
        else:
            out["preferred_supplier_id"] = None
    if "is_active" in data:
        out["is_active"] = bool(data["is_active"])
    if errors:
        raise ValidationFailed(fields=errors)
    minimum = out.get("minimum", current.minimum if current else ZERO)
    maximum = out.get("maximum", current.maximum if current else minimum)
    if maximum < minimum:
        raise ValidationFailed(
            fields={"maximum": [_("The maximum must be at least the minimum.")]}
        )
    return out


@transaction.atomic
def reorder_point_create(
    *,
    actor,
    product_id,
    warehouse_id,
    minimum,
    maximum,
    multiple=1,
    preferred_supplier_id=None,
) -> ReorderPoint:
    """A reorder rule for a goods product in a warehouse (one per pair).
    Raises ValidationFailed (not goods, duplicate, minimum > maximum,
    quantities). Audited."""
    _begin(actor, "purchasing.add_reorderpoint")
    product = _product(product_id)
    if product.kind != Product.Kind.GOODS:
        raise ValidationFailed(
            fields={"product_id": [_("Only goods are kept in stock.")]}
        )
    wh = _warehouse(warehouse_id)
    data = _clean_point(
        {
            "minimum": minimum,
            "maximum": maximum,
            "multiple": multiple,
            "preferred_supplier_id": preferred_supplier_id,
        }
    )
    if ReorderPoint.objects.filter(product=product, warehouse=wh).exists():
        raise ValidationFailed(
            fields={
                "product_id": [
                    _("This product already has a reorder point in this warehouse.")
                ]
            }
        )
    point = ReorderPoint.objects.create(product=product, warehouse=wh, **data)
    audit.record(actor=actor, subject=point, action="created")
    return point


@transaction.atomic
def reorder_point_update(*, actor, point_id, version=None, **changes) -> ReorderPoint:
    """Change minimum, maximum, multiple, preferred supplier or active.
    Locks the row. Raises NotFound, VersionConflict, ValidationFailed."""
    _begin(actor, "purchasing.change_reorderpoint")
    unknown = set(changes) - set(POINT_FIELDS)
    if unknown:
        raise ValidationFailed(fields={k: [_("Cannot be changed.")] for k in unknown})
    point = locks.reorder_points_for_update(
        ReorderPoint.objects.filter(pk=point_id)
    ).first()
    if point is None:
        raise NotFound(_("Reorder point not found."))
    _check_version(point, version)
    data = _clean_point(changes, point)
    before = audit.snapshot(point, POINT_FIELDS)
    for key, value in data.items():
        setattr(point, key, value)
    point.version += 1
    point.save()
    audit.record(
        actor=actor,
        subject=point,
        action="updated",
        changes=audit.diff(before, audit.snapshot(point, POINT_FIELDS)),
    )
    return point


def round_up(quantity: Decimal, multiple: Decimal) -> Decimal:
    """`quantity` rounded up to a multiple of `multiple`."""
    if multiple <= 0:
        return quantity
    steps = (quantity / multiple).to_integral_value(rounding=ROUND_CEILING)
    return (steps * multiple).quantize(Q6)


@transaction.atomic
def purchase_orders_from_proposals(*, actor, selections) -> list[PurchaseOrder]:
    """Draft purchase orders from chosen reorder proposals, one per
    supplier × warehouse × currency. selections: [{"reorder_point_id",
    "quantity"?, "supplier_id"?}] — quantity defaults to the proposal's,
    supplier to the proposal's (preferred, else cheapest). Raises
    ValidationFailed (unknown point, no supplier, no price, quantities).
    Locks number counters. Audited through purchase_order_create."""
    from satu.purchasing.queries import reorder_proposals

    _begin(actor, "purchasing.add_purchaseorder")
    if not selections:
        raise ValidationFailed(fields={"selections": [_("Select at least one line.")]})
    ids = []
    for i, sel in enumerate(selections):
        try:
            ids.append(int(sel["reorder_point_id"]))
        except (KeyError, TypeError, ValueError):
            raise ValidationFailed(
                fields={f"selections.{i}.reorder_point_id": [_("Unknown line.")]}
            ) from None
    proposals = {
        p.reorder_point_id: p
        for p in reorder_proposals(point_ids=ids, include_covered=True)
    }
    groups: dict[tuple, list] = {}
    errors: dict = {}
    for i, sel in enumerate(selections):
        proposal = proposals.get(int(sel["reorder_point_id"]))
        if proposal is None:
            errors[f"selections.{i}.reorder_point_id"] = [_("Unknown line.")]
            continue
        try:
            qty = (
                clean_quantity(sel["quantity"], field=f"selections.{i}.quantity")
                if sel.get("quantity") not in (None, "")
                else proposal.quantity
            )
        except ValidationFailed as exc:
            errors.update(exc.fields)
            continue
        if qty <= 0:
            errors[f"selections.{i}.quantity"] = [
                _("Enter a quantity greater than zero with at most 6 decimals.")
            ]
            continue
        supplier_id = sel.get("supplier_id") or proposal.supplier_id
        if not supplier_id:
            errors[f"selections.{i}.supplier_id"] = [
                _("No supplier has a price for %(product)s; pick one.")
                % {"product": proposal.product_name}
            ]
            continue
        currency = (
            proposal.currency
            if int(supplier_id) == proposal.supplier_id and proposal.currency
            else None
        )
        key = (int(supplier_id), proposal.warehouse_id, currency)
        groups.setdefault(key, []).append(
            {"product_id": proposal.product_id, "quantity": qty}
        )
    if errors:
        raise ValidationFailed(_("Some selected lines are not valid."), fields=errors)
    orders = []
    for (supplier_id, warehouse_id, currency), lines in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
    ):
        orders.append(
            purchase_order_create(
                actor=actor,
                supplier_id=supplier_id,
                warehouse_id=warehouse_id,
                currency=currency,
                lines=lines,
                note=_("Proposed by reorder points."),
            )
        )
    return orders
