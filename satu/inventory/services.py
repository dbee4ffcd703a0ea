"""Public writes of inventory: warehouses and locations, stock moves,
reservations, transfers (receipts, deliveries, internal, write-offs,
adjustments), inventory counts. See docs/domains/inventory.md.

Every function is keyword-only with `actor` first and runs in one
transaction; called outside a transaction it retries PostgreSQL
serialisation failures and deadlocks itself (`_atomic_retry`), so they never
reach a user. Inside a caller's transaction it joins it (the caller owns
the retry). Locking order (see locks.py): Transfer / InventoryCount →
Quant → StockLevel → number counter, each in pk order.

A failed call changes nothing: validation raises before writing, and the
posting core computes every new balance in memory and raises
InsufficientStock before the first UPDATE.
"""

import contextlib
import copy
import decimal
import functools
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from django.db import OperationalError, connection, transaction
from django.db.models import Exists, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from satu.catalog import queries as catalog_queries
from satu.catalog.models import Product
from satu.core import audit, features, numbering, txcache
from satu.core.errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
    VersionConflict,
)
from satu.core.events import publish_on_commit
from satu.core.prepared import insert, prepared, update
from satu.inventory import locks
from satu.inventory.errors import (
    BadState,
    InsufficientStock,
    InvalidLocation,
    InvalidQuantity,
    LotExpired,
    LotRequired,
    NotStockable,
    SerialQuantity,
)
from satu.inventory.events import (
    InventoryCountValidated,
    StockMovePosted,
    TransferCancelled,
    TransferDone,
)
from satu.inventory.models import (
    CostLayer,
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
from satu.parties.models import Client, Company, Counterparty

Q6 = Decimal("0.000001")
Q4 = Decimal("0.0001")
ZERO = Decimal(0)
MAX_ATTEMPTS = 6
RETRY_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected

PREFIX = {
    Transfer.Kind.RECEIPT: "IN",
    Transfer.Kind.DELIVERY: "OUT",
    Transfer.Kind.INTERNAL: "INT",
    Transfer.Kind.WRITE_OFF: "WO",
    Transfer.Kind.ADJUSTMENT: "ADJ",
    Transfer.Kind.RETURN: "RET",
}


# ------------------------------------------------------------------ plumbing


def _retryable(exc: Exception) -> bool:
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in RETRY_SQLSTATES:
        return True
    return "database is locked" in str(exc)


def _in_transaction() -> bool:
    return transaction.get_connection().in_atomic_block


_joined = threading.local()


@contextlib.contextmanager
def joined():
    """Inside the caller's transaction, the services called within this block
    skip their own savepoint (two statements each). Only for a caller that
    lets every error of theirs propagate, so its whole transaction (or its
    own savepoint) rolls back — never one that catches an error and carries
    on in the same transaction."""
    previous = getattr(_joined, "on", False)
    _joined.on = True
    try:
        yield
    finally:
        _joined.on = previous


def _atomic_retry(fn):
    """`transaction.atomic`, retried on serialisation failure / deadlock when
    this call owns the transaction (jittered back-off, 6 attempts); without
    a savepoint of its own inside a `joined()` block."""
    atomic_fn = transaction.atomic(fn)
    joined_fn = transaction.atomic(fn, savepoint=False)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _in_transaction():
            if getattr(_joined, "on", False):
                return joined_fn(*args, **kwargs)
            return atomic_fn(*args, **kwargs)
        return _retried(atomic_fn, *args, **kwargs)

    return wrapper


def _retried(fn, *args, **kwargs):
    """fn(), called again on serialisation failure / deadlock (jittered
    back-off, 6 attempts). Only for a call that owns its transaction."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            return fn(*args, **kwargs)
        except OperationalError as exc:
            if attempt == MAX_ATTEMPTS - 1 or not _retryable(exc):
                raise
            time.sleep(0.005 * (2**attempt) * (1 + (time.monotonic_ns() % 7) / 7))
    raise AssertionError("unreachable")


def _begin(actor, perm: str) -> None:
    features.require("inventory")
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied()


def _text(value) -> str:
    """User text as stored: a string without NUL (PostgreSQL refuses it)."""
    return str(value or "").replace("\x00", "")


def _actor_id(actor):
    return actor.pk if actor is not None and actor.pk else None


def clean_quantity(value, *, field: str = "quantity", allow_zero=False) -> Decimal:
    """A quantity > 0 (or ≥ 0) with at most six decimals, else InvalidQuantity."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidQuantity(fields={field: [_("Enter a number.")]}) from None
    if (
        not number.is_finite()
        or number < 0
        or (number == 0 and not allow_zero)
        or number != number.quantize(Q6)
        or number >= Decimal(10) ** 14
    ):
        raise InvalidQuantity(
            fields={
                field: [
                    _("Enter a quantity greater than zero with at most 6 decimals.")
                ]
            }
        )
    return number.quantize(Q6)


def _clean_cost(value, field="unit_cost") -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationFailed(fields={field: [_("Enter a number.")]}) from None
    if not number.is_finite() or number < 0 or number != number.quantize(Q4):
        raise ValidationFailed(
            fields={field: [_("Enter a cost of at least 0 with at most 4 decimals.")]}
        )
    return number


def _check_version(obj, version) -> None:
    if version is not None and int(version) != obj.version:
        raise VersionConflict()


def _get_or_create_virtual(kind: str) -> Location:
    """The virtual location of `kind` (read once per transaction)."""
    return copy.copy(
        txcache.cached(f"inventory.virtual.{kind}", lambda: _virtual(kind))
    )


_VIRTUAL = prepared(
    lambda kind: Location.objects.filter(warehouse__isnull=True, kind=kind)
)


def _virtual(kind: str) -> Location:
    loc = _VIRTUAL.first(kind=kind)
    if loc is None:
        Location.objects.bulk_create(
            [Location(kind=kind, name=str(Location.Kind(kind).label), code=kind)],
            ignore_conflicts=True,
        )
        loc = Location.objects.get(warehouse__isnull=True, kind=kind)
    return loc


def _lot_for(
    product: Product,
    lot_id,
    lot_code: str,
    expires_on: date | None = None,
    *,
    field: str = "lot_expires_on",
    actor=None,
) -> Lot | None:
    """The lot `lot_id` or `lot_code` of `product` (created when new).
    `expires_on` (a cleaned date, see _clean_lot_expiry) is a new lot's
    expiry date; an existing lot must agree with it (_lot_dated)."""
    if lot_id:
        lot = Lot.objects.filter(pk=lot_id, product_id=product.pk).first()
        if lot is None:
            raise NotFound(_("This lot does not exist for the product."))
        return _lot_dated(product, lot, expires_on, field, actor)
    code = _text(lot_code).strip()
    if not code:
        return None
    if len(code) > 64:
        raise ValidationFailed(fields={"lot_code": [_("At most 64 characters.")]})
    lot = Lot.objects.filter(product_id=product.pk, code=code).first()
    if lot is None:
        Lot.objects.bulk_create(
            [Lot(product_id=product.pk, code=code, expires_on=expires_on)],
            ignore_conflicts=True,
        )
        lot = Lot.objects.get(product_id=product.pk, code=code)
    return _lot_dated(product, lot, expires_on, field, actor)


def _clean_lot_expiry(value, product, field: str = "lot_expires_on") -> date | None:
    """An expiry date given with a lot on receipt: None / "" (none), a date
    or an ISO string. Raises ValidationFailed naming `field` for anything
    else, or when `product` is not tracked by lot or serial."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, date) or isinstance(value, datetime):
        message = _("Enter a valid expiry date (YYYY-MM-DD).")
        raise ValidationFailed(message, fields={field: [message]})
    if product.tracking == Product.Tracking.NONE:
        message = _(
            "%(product)s is not tracked by lot or serial: it takes no expiry date."
        ) % {"product": product}
        raise ValidationFailed(message, fields={field: [message]})
    return value


def _lot_dated(product, lot: Lot, expires_on, field: str, actor) -> Lot:
    """A receipt's expiry date for an existing lot: the same date (or none
    given) passes; a lot without a date takes it (audited); another date
    is refused (ValidationFailed naming `field`), never overwritten."""
    if expires_on is None or lot.expires_on == expires_on:
        return lot
    if lot.expires_on is None:
        if Lot.objects.filter(pk=lot.pk, expires_on__isnull=True).update(
            expires_on=expires_on
        ):
            lot.expires_on = expires_on
            audit.record(
                actor=actor,
                subject=lot,
                action="updated",
                changes={"expires_on": [None, expires_on]},
            )
            return lot
        lot.refresh_from_db(fields=["expires_on"])  # dated meanwhile
        if lot.expires_on == expires_on:
            return lot
    message = _(
        "Lot %(lot)s of %(product)s already expires on %(date)s, not on "
        "%(given)s. Enter the lot's date, or correct the lot first."
    ) % {
        "lot": lot.code,
        "product": product,
        "date": lot.expires_on,
        "given": expires_on,
    }
    raise ValidationFailed(
        message,
        fields={field: [message]},
        lot_id=lot.pk,
        lot_code=lot.code,
        expires_on=lot.expires_on.isoformat(),
    )


# ------------------------------------------------------------ warehouses


@_atomic_retry
def warehouse_create(
    *,
    actor,
    code,
    name,
    address="",
    allow_negative=False,
    is_outlet=False,
    company_id=None,
) -> Warehouse:
    """Create a warehouse with its view root, internal "Stock" location
    (`stock_location`) and transit location (`transit_location`).
    Raises ValidationFailed (code taken or malformed, name missing)."""
    _begin(actor, "inventory.add_warehouse")
    code = _text(code).strip().upper()
    name = _text(name).strip()
    errors = {}
    if not code or len(code) > 16 or not code.replace("-", "").isalnum():
        errors["code"] = [_("Use up to 16 letters, digits or -.")]
    elif Warehouse.objects.filter(code=code).exists():
        errors["code"] = [_("A warehouse with this code already exists.")]
    if not name or len(name) > 100:
        errors["name"] = [_("Enter a name of at most 100 characters.")]
    if company_id is not None and not Company.objects.filter(pk=company_id).exists():
        errors["company_id"] = [_("Unknown company.")]
    if errors:
        raise ValidationFailed(fields=errors)
    wh = Warehouse.objects.create(
        code=code,
        name=name,
        address=_text(address),
        allow_negative=bool(allow_negative),
        is_outlet=bool(is_outlet),
        company_id=company_id,
    )
    view = Location.objects.create(
        warehouse=wh, name=name, code=code, kind=Location.Kind.VIEW
    )
    stock = Location.objects.create(
        warehouse=wh,
        parent=view,
        name=_("Stock"),
        code=f"{code}/Stock",
        kind=Location.Kind.INTERNAL,
    )
    transit = Location.objects.create(
        warehouse=wh,
        parent=view,
        name=_("Transit"),
        code=f"{code}/Transit",
        kind=Location.Kind.TRANSIT,
    )
    wh.view_location, wh.stock_location, wh.transit_location = view, stock, transit
    wh.save(update_fields=["view_location", "stock_location", "transit_location"])
    audit.record(actor=actor, subject=wh, action="created")
    return wh


@_atomic_retry
def warehouse_update(*, actor, warehouse_id, version=None, **changes) -> Warehouse:
    """Change name, address, allow_negative, is_outlet, is_active.
    Raises VersionConflict, ValidationFailed, NotFound."""
    _begin(actor, "inventory.change_warehouse")
    wh = Warehouse.objects.select_for_update().filter(pk=warehouse_id).first()
    if wh is None:
        raise NotFound()
    _check_version(wh, version)
    allowed = {"name", "address", "allow_negative", "is_outlet", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(fields={k: [_("Cannot be changed.")] for k in unknown})
    before = audit.snapshot(wh, sorted(allowed))
    if "name" in changes:
        name = _text(changes["name"]).strip()
        if not name or len(name) > 100:
            raise ValidationFailed(
                fields={"name": [_("Enter a name of at most 100 characters.")]}
            )
        changes["name"] = name
    for key, value in changes.items():
        setattr(wh, key, _text(value) if isinstance(value, str) else value)
    wh.version += 1
    wh.save()
    audit.record(
        actor=actor,
        subject=wh,
        action="updated",
        changes=audit.diff(before, audit.snapshot(wh, sorted(allowed))),
    )
    return wh


@_atomic_retry
def location_create(*, actor, warehouse_id, name, code="", parent_id=None) -> Location:
    """An internal location in the warehouse, under `parent_id` (default the
    warehouse's view root). Raises ValidationFailed, NotFound."""
    _begin(actor, "inventory.add_location")
    wh = Warehouse.objects.filter(pk=warehouse_id).first()
    if wh is None:
        raise NotFound(_("Unknown warehouse."))
    name = _text(name).strip()
    if not name or len(name) > 100:
        raise ValidationFailed(
            fields={"name": [_("Enter a name of at most 100 characters.")]}
        )
    parent = wh.view_location
    if parent_id:
        parent = Location.objects.filter(pk=parent_id, warehouse=wh).first()
        if parent is None:
            raise ValidationFailed(
                fields={"parent_id": [_("Pick a location of this warehouse.")]}
            )
    code = _text(code).strip() or f"{wh.code}/{name}"
    loc = Location.objects.create(
        warehouse=wh,
        parent=parent,
        name=name,
        code=code[:32],
        kind=Location.Kind.INTERNAL,
    )
    audit.record(actor=actor, subject=loc, action="created")
    return loc


@_atomic_retry
def write_off_reason_create(*, actor, code, name) -> WriteOffReason:
    """Add a reason to the configurable write-off list."""
    _begin(actor, "inventory.add_writeoffreason")
    code = _text(code).strip().lower()
    name = _text(name).strip()
    errors = {}
    if (
        not code
        or len(code) > 32
        or not code.replace("-", "").replace("_", "").isalnum()
    ):
        errors["code"] = [_("Use up to 32 letters, digits, - or _.")]
    elif WriteOffReason.objects.filter(code=code).exists():
        errors["code"] = [_("This code is taken.")]
    if not name or len(name) > 100:
        errors["name"] = [_("Enter a name of at most 100 characters.")]
    if errors:
        raise ValidationFailed(fields=errors)
    reason = WriteOffReason.objects.create(code=code, name=name)
    audit.record(actor=actor, subject=reason, action="created")
    return reason


@_atomic_retry
def lot_update(*, actor, lot_id, expires_on) -> Lot:
    """Set (or clear, with None) the expiry date of a lot or serial. Lots
    carry no version: the row is locked and the change audited.
    Raises ValidationFailed (not a date), NotFound, PermissionDenied."""
    _begin(actor, "inventory.change_lot")
    if isinstance(expires_on, str):
        try:
            expires_on = date.fromisoformat(expires_on.strip()) if expires_on else None
        except ValueError:
            raise ValidationFailed(
                fields={"expires_on": [_("Enter a valid date.")]}
            ) from None
    if expires_on is not None and not isinstance(expires_on, date):
        raise ValidationFailed(fields={"expires_on": [_("Enter a valid date.")]})
    lot = Lot.objects.select_for_update().filter(pk=lot_id).first()
    if lot is None:
        raise NotFound(_("Unknown lot."))
    before = audit.snapshot(lot, ["expires_on"])
    lot.expires_on = expires_on
    lot.save(update_fields=["expires_on"])
    changes = audit.diff(before, audit.snapshot(lot, ["expires_on"]))
    if changes:
        audit.record(actor=actor, subject=lot, action="updated", changes=changes)
    return lot


# --------------------------------------------------------- posting core


@dataclass
class _Spec:
    product: Product
    quantity: Decimal
    source: Location
    destination: Location
    lot: Lot | None = None
    unit_cost: Decimal | None = None
    origin_type: str = ""
    origin_id: int | None = None
    origin_line_id: int | None = None
    reference: str = ""
    transfer_id: int | None = None
    transfer_line_id: int | None = None
    # Carried value (second leg of an internal transfer: exactly what left).
    value: Decimal | None = None


def _validate_spec(spec: _Spec) -> None:
    product = spec.product
    if product.kind != Product.Kind.GOODS:
        raise NotStockable()
    src, dst = spec.source, spec.destination
    if (
        src.pk == dst.pk
        or src.kind == Location.Kind.VIEW
        or dst.kind == Location.Kind.VIEW
        or (src.kind not in Location.STOCKED and dst.kind not in Location.STOCKED)
    ):
        raise InvalidLocation()
    if product.tracking != Product.Tracking.NONE and spec.lot is None:
        raise LotRequired(fields={"lot_code": [LotRequired.default_message]})
    if product.tracking == Product.Tracking.NONE and spec.lot is not None:
        raise ValidationFailed(
            fields={"lot_code": [_("This product is not tracked by lot.")]}
        )
    if product.tracking == Product.Tracking.SERIAL and spec.quantity != 1:
        raise SerialQuantity(fields={"quantity": [SerialQuantity.default_message]})
    if spec.lot is not None and spec.lot.expires_on is not None:
        _check_lot_expiry(spec)


# Where an expired lot may still go: written off (loss) or counted out.
# Where an expired lot may still go: written off, counted out, or sent back
# to the supplier (returning expired goods is what suppliers take back).
_EXPIRED_LOT_OK = (
    Location.Kind.LOSS,
    Location.Kind.ADJUSTMENT,
    Location.Kind.SUPPLIER,
)


def _check_lot_expiry(spec: _Spec) -> None:
    """INV-3: a lot whose `expires_on` is before the move's date (today)
    does not leave its warehouse (delivery, issue, first leg of an internal
    transfer). It may be written off, counted out, returned to the supplier,
    moved between locations of its warehouse, and received from transit.
    Raises LotExpired."""
    src, dst, lot = spec.source, spec.destination, spec.lot
    if src.kind != Location.Kind.INTERNAL or dst.kind in _EXPIRED_LOT_OK:
        return
    if dst.kind == Location.Kind.INTERNAL and dst.warehouse_id == src.warehouse_id:
        return
    if lot.expires_on < timezone.localdate():
        raise LotExpired(
            _(
                "Lot %(lot)s of %(product)s expired on %(date)s: it cannot be "
                "shipped or transferred out. Write it off instead."
            )
            % {"lot": lot.code, "product": spec.product, "date": lot.expires_on},
            lot_id=lot.pk,
            lot_code=lot.code,
            expires_on=lot.expires_on.isoformat(),
        )


def _quant_q(keys) -> Q:
    cond = Q(pk__in=[])
    for product_id, location_id, lot_id in keys:
        cond |= Q(product_id=product_id, location_id=location_id, lot_id=lot_id)
    return cond


class _Balance:
    """A locked balance row held in memory while a posting computes."""

    __slots__ = ("pk", "product_id", "owner_id", "quantity", "reserved", "value")

    def __init__(self, pk, product_id, owner_id, quantity, reserved=ZERO, value=ZERO):
        self.pk, self.product_id, self.owner_id = pk, product_id, owner_id
        self.quantity, self.reserved, self.value = quantity, reserved, value

    # StockLevel names, for readers of levels.
    @property
    def on_hand(self):
        return self.quantity

    @on_hand.setter
    def on_hand(self, value):
        self.quantity = value


_to_decimal = decimal.Context(prec=15).create_decimal_from_float


def _dec(value, exp=Q6) -> Decimal:
    """A number as read by a raw cursor (SQLite gives floats/ints) → Decimal."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return _to_decimal(value).quantize(exp)
    return Decimal(value).quantize(exp)


def _locked_quants(keys: set) -> dict:
    """Quants for (product, location, lot) keys, created when missing, locked
    in pk order."""
    if not keys:
        return {}

    def fetch():
        return {
            (p, loc, lot): _Balance(pk, p, loc, _dec(q))
            for pk, p, loc, lot, q in locks.quant_rows_for_update(connection, keys)
        }

    found = fetch()
    missing = keys - set(found)
    if missing:
        # A concurrent creation of the same row makes this insert wait for
        # the other transaction and then do nothing; the re-read locks it.
        Quant.objects.bulk_create(
            [
                Quant(product_id=p, location_id=loc, lot_id=lot)
                for p, loc, lot in missing
            ],
            ignore_conflicts=True,
        )
        found = fetch()
    return found


def _locked_balances(
    quant_keys: set, level_keys: set, locked: tuple | None = None
) -> tuple[dict, dict]:
    """`_locked_quants` and `_locked_levels` (same order, same locks): when
    every row exists — the usual case — in one statement (or none: `locked`,
    the rows of `locks.balance_rows_for_update` the caller already read)."""
    quant_rows, level_rows = locked or locks.balance_rows_for_update(
        connection, quant_keys, level_keys
    )
    quants = {
        (p, loc, lot): _Balance(pk, p, loc, _dec(q))
        for pk, p, loc, lot, q in quant_rows
    }
    levels = {
        (p, w): _Balance(pk, p, w, _dec(q), _dec(r), _dec(v, Q4))
        for pk, p, w, q, r, v in level_rows
    }
    if quant_keys - set(quants) or level_keys - set(levels):
        # First posting of a product there: create the rows, lock them all
        # again in the usual order.
        return _locked_quants(quant_keys), _locked_levels(level_keys)
    return quants, levels


def _locked_levels(keys: set) -> dict:
    """StockLevels for (product, warehouse) keys, created when missing,
    locked in pk order."""
    if not keys:
        return {}

    def fetch():
        return {
            (p, w): _Balance(pk, p, w, _dec(q), _dec(r), _dec(v, Q4))
            for pk, p, w, q, r, v in locks.level_rows_for_update(connection, keys)
        }

    found = fetch()
    if keys - set(found):
        StockLevel.objects.bulk_create(
            [StockLevel(product_id=p, warehouse_id=w) for p, w in keys - set(found)],
            ignore_conflicts=True,
        )
        found = fetch()
    return found


def _round4(value: Decimal) -> Decimal:
    return value.quantize(Q4, rounding=ROUND_HALF_EVEN)


def _issue_value(spec: _Spec, level: StockLevel, fifo_layers: list | None):
    """Value of `spec.quantity` leaving the level; for FIFO also the layer
    consumptions [(layer, take, value)]."""
    qty = spec.quantity
    if fifo_layers is not None:
        consumed, value, left = [], ZERO, qty
        for layer in fifo_layers:
            if left <= 0:
                break
            if layer.remaining <= 0:
                continue
            take = min(left, layer.remaining)
            if take == layer.remaining:
                part = layer.remaining_value
            else:
                part = _round4(layer.remaining_value * take / layer.remaining)
            consumed.append((layer, take, part))
            value += part
            left -= take
        if left > 0:  # only where negative stock is allowed
            last = fifo_layers[-1].unit_cost if fifo_layers else spec.product.cost_price
            value += _round4(left * last)
        return value, consumed
    if level.on_hand > 0 and qty == level.on_hand:
        return level.value, []
    if level.on_hand > 0:
        return _round4(level.value * qty / level.on_hand), []
    return _round4(qty * spec.product.cost_price), []


def sorted_by_pk(rows: dict) -> list:
    return [rows[pk] for pk in sorted(rows)]


def _execute_rows(cursor, sql: str, rows: list) -> None:
    """One statement for one row, one executemany for several."""
    if len(rows) == 1:
        cursor.execute(sql, rows[0])
    elif rows:
        cursor.executemany(sql, rows)


_OPEN_LAYERS = prepared(
    lambda product_id, warehouse_id: CostLayer.objects.filter(
        product_id=product_id, warehouse_id=warehouse_id, remaining__gt=0
    ).order_by("id")
)


def _post(
    actor,
    specs: list[_Spec],
    *,
    warehouses: dict | None = None,
    extra_levels=(),
    updates: list | None = None,
    then=None,
    locked: tuple | None = None,
) -> list:
    """Post moves: lock quants then levels (pk order), compute every new
    balance and value in memory, refuse all with InsufficientStock if any
    source would go negative where forbidden, then write (one statement per
    table; on PostgreSQL one statement in all). `updates` are the caller's
    own row updates (`_Update`) written with the balances; `then(levels,
    touched_levels)`, called under the locks before the writes, may change
    the locked levels' `reserved` (marking them touched) and returns more
    updates. `locked`: the balance rows already locked for these specs
    (`_move_subjects`)."""
    quant_keys, level_keys = set(), set(extra_levels)
    for spec in specs:
        _validate_spec(spec)
        lot_id = spec.lot.pk if spec.lot else None
        for loc in (spec.source, spec.destination):
            if loc.kind in Location.STOCKED:
                quant_keys.add((spec.product.pk, loc.pk, lot_id))
            if loc.kind == Location.Kind.INTERNAL:
                level_keys.add((spec.product.pk, loc.warehouse_id))
    quants, levels = _locked_balances(quant_keys, level_keys, locked)
    fifo: dict = {}
    for product_id, warehouse_id in level_keys:
        product = next(s.product for s in specs if s.product.pk == product_id)
        if product.costing_method == Product.CostingMethod.FIFO:
            fifo[(product_id, warehouse_id)] = _OPEN_LAYERS.all(
                product_id=product_id, warehouse_id=warehouse_id
            )
    shortages: dict = {}
    now = timezone.now()
    actor_id = _actor_id(actor)
    moves, layer_new, layer_changed = [], [], {}
    touched_quants, touched_levels = {}, {}
    for spec in specs:
        product, qty = spec.product, spec.quantity
        lot_id = spec.lot.pk if spec.lot else None
        src, dst = spec.source, spec.destination
        src_level = (
            levels[(product.pk, src.warehouse_id)]
            if src.kind == Location.Kind.INTERNAL
            else None
        )
        dst_level = (
            levels[(product.pk, dst.warehouse_id)]
            if dst.kind == Location.Kind.INTERNAL
            else None
        )
        same_wh = src_level is not None and src_level is dst_level
        # Valuation: what leaves a warehouse takes its cost from there.
        consumed = []
        if src_level is not None:
            layers = fifo.get((product.pk, src.warehouse_id))
            value, consumed = _issue_value(spec, src_level, None if same_wh else layers)
            unit_cost = _round4(value / qty)
        elif spec.value is not None:
            value = spec.value
            unit_cost = _round4(value / qty)
        else:
            unit_cost = (
                spec.unit_cost if spec.unit_cost is not None else product.cost_price
            )
            value = _round4(unit_cost * qty)
        # Quantities.
        if src.kind in Location.STOCKED:
            quant = quants[(product.pk, src.pk, lot_id)]
            new = quant.quantity - qty
            forbid = src.kind == Location.Kind.TRANSIT or not _allow_negative(
                src, warehouses
            )
            if new < 0 and (forbid or product.tracking == Product.Tracking.SERIAL):
                key = (product.pk, src.warehouse_id)
                short = shortages.setdefault(
                    key,
                    {
                        "product_id": product.pk,
                        "warehouse_id": src.warehouse_id,
                        "location_id": src.pk,
                        "requested": ZERO,
                        "available": quant.quantity,
                        "name": str(product),
                    },
                )
                short["requested"] += qty
            quant.quantity = new
            touched_quants[quant.pk] = quant
        if dst.kind in Location.STOCKED:
            quant = quants[(product.pk, dst.pk, lot_id)]
            quant.quantity += qty
            if product.tracking == Product.Tracking.SERIAL and quant.quantity > 1:
                raise SerialQuantity(
                    _("Serial number %(code)s is already in %(loc)s.")
                    % {"code": spec.lot.code, "loc": dst}
                )
            touched_quants[quant.pk] = quant
        if not same_wh:
            if src_level is not None:
                src_level.on_hand -= qty
                src_level.value -= value
                touched_levels[src_level.pk] = src_level
                for layer, take, part in consumed:
                    layer.remaining -= take
                    layer.remaining_value -= part
                    layer_changed[layer.pk] = layer
            if dst_level is not None:
                dst_level.on_hand += qty
                dst_level.value += value
                touched_levels[dst_level.pk] = dst_level
        move = _new_move(
            product_id=product.pk,
            quantity=qty,
            source_id=src.pk,
            destination_id=dst.pk,
            lot_id=lot_id,
            unit_cost=unit_cost,
            value=value,
            origin_type=spec.origin_type,
            origin_id=spec.origin_id,
            origin_line_id=spec.origin_line_id,
            transfer_id=spec.transfer_id,
            transfer_line_id=spec.transfer_line_id,
            reference=spec.reference,
            done_at=now,
            created_by_id=actor_id,
        )
        moves.append(move)
        if (
            not same_wh
            and dst_level is not None
            and product.costing_method == Product.CostingMethod.FIFO
        ):
            remaining, remaining_value = qty, value
            if dst_level.quantity < qty:
                # The receipt first covers units issued below zero (a
                # warehouse allowing negative stock): what is left is the
                # level itself.
                remaining = max(dst_level.quantity, ZERO)
                remaining_value = dst_level.value if remaining > 0 else ZERO
            layer = CostLayer(
                product_id=product.pk,
                warehouse_id=dst.warehouse_id,
                quantity=qty,
                remaining=remaining,
                unit_cost=unit_cost,
                remaining_value=remaining_value,
            )
            layer_new.append((move, layer))
            fifo.setdefault((product.pk, dst.warehouse_id), []).append(layer)
    if shortages:
        raise _shortage_error(list(shortages.values()))
    updates = list(updates or ())
    if then is not None:
        updates += then(levels, touched_levels)
    if connection.vendor == "postgresql" and moves:
        _write_postgresql(touched_quants, touched_levels, moves, now, updates)
    else:
        _write(touched_quants, touched_levels, moves, now, updates)
    for layer in layer_changed.values():
        if layer.pk:
            CostLayer.objects.filter(pk=layer.pk).update(
                remaining=layer.remaining, remaining_value=layer.remaining_value
            )
    if layer_new:
        for move, layer in layer_new:
            layer.move_id = move.pk
        CostLayer.objects.bulk_create([layer for _m, layer in layer_new])
    for move in moves:
        _announce(move)
    return moves


def _announce(move: StockMove) -> None:
    """StockMovePosted, delivered once the transaction commits."""
    publish_on_commit(
        StockMovePosted(
            move_id=move.pk,
            product_id=move.product_id,
            quantity=move.quantity,
            source_id=move.source_id,
            destination_id=move.destination_id,
            value=move.value,
        )
    )


@dataclass
class _Update:
    """New values of some columns of rows of `table` by id, written with a
    posting: `rows` [(value, …, id)] in pk order; `types` the PostgreSQL
    types of the columns (for the VALUES list of `_write_postgresql`)."""

    table: str
    columns: tuple
    types: tuple
    rows: list

    def sql(self) -> str:
        sets = ", ".join(f"{c} = %s" for c in self.columns)
        return f"UPDATE {self.table} SET {sets} WHERE id = %s"

    def cte(self, name: str) -> tuple[str, list]:
        row = "(" + ", ".join(f"%s::{t}" for t in (*self.types, "bigint")) + ")"
        sets = ", ".join(f"{c} = v.{c}" for c in self.columns)
        names = ", ".join((*self.columns, "id"))
        sql = (
            f"{name} AS (UPDATE {self.table} AS t SET {sets} "
            f"FROM (VALUES {', '.join([row] * len(self.rows))}) AS v({names}) "
            "WHERE t.id = v.id RETURNING 1)"
        )
        return sql, [value for r in self.rows for value in r]


def _write(
    touched_quants: dict, touched_levels: dict, moves: list, now, updates=()
) -> None:
    """Write the new balances and insert the moves: one statement per table
    whatever the number of moves (pk order); then the `updates`."""
    ops = connection.ops
    dec = ops.adapt_decimalfield_value
    with connection.cursor() as cursor:
        _execute_rows(
            cursor,
            "UPDATE inventory_quant SET quantity = %s WHERE id = %s",
            [(dec(q.quantity), q.pk) for q in sorted_by_pk(touched_quants)],
        )
        _execute_rows(
            cursor,
            "UPDATE inventory_stocklevel SET on_hand = %s, value = %s, "
            "reserved = %s WHERE id = %s",
            [
                (dec(lv.quantity), dec(lv.value), dec(lv.reserved), lv.pk)
                for lv in sorted_by_pk(touched_levels)
            ],
        )
        done_at = ops.adapt_datetimefield_value(now)
        if len(moves) == 1:
            cursor.execute(MOVE_INSERT, _move_params(moves[0], done_at, ops))
            moves[0].pk = moves[0].id = cursor.fetchone()[0]
        elif moves:
            params = []
            for move in moves:
                params.extend(_move_params(move, done_at, ops))
            cursor.execute(
                MOVE_INSERT_MANY % ", ".join([MOVE_ROW] * len(moves)), params
            )
            ids = sorted(row[0] for row in cursor.fetchall())
            for move, pk in zip(moves, ids, strict=True):
                move.pk = move.id = pk
        for u in updates:
            _execute_rows(cursor, u.sql(), u.rows)


def _write_postgresql(
    touched_quants: dict, touched_levels: dict, moves: list, now, updates=()
) -> None:
    """`_write` in one statement (one round trip): the balance updates and
    `updates` as data-modifying CTEs of the moves' INSERT. The balance rows
    are already locked and the others are guarded by those locks (a
    transfer's lines by the transfer's, reservations by their levels'), so
    the order of the updates does not matter."""
    ops = connection.ops
    dec = ops.adapt_decimalfield_value
    ctes, params = [], []
    quants = sorted_by_pk(touched_quants)
    if quants:
        rows = ", ".join(["(%s::numeric, %s::bigint)"] * len(quants))
        ctes.append(
            "q AS (UPDATE inventory_quant AS t SET quantity = v.quantity "
            f"FROM (VALUES {rows}) AS v(quantity, id) WHERE t.id = v.id "
            "RETURNING 1)"
        )
        for q in quants:
            params += [dec(q.quantity), q.pk]
    levels = sorted_by_pk(touched_levels)
    if levels:
        rows = ", ".join(
            ["(%s::numeric, %s::numeric, %s::numeric, %s::bigint)"] * len(levels)
        )
        ctes.append(
            "l AS (UPDATE inventory_stocklevel AS t SET on_hand = v.on_hand, "
            f"value = v.value, reserved = v.reserved FROM (VALUES {rows}) "
            "AS v(on_hand, value, reserved, id) WHERE t.id = v.id RETURNING 1)"
        )
        for lv in levels:
            params += [dec(lv.quantity), dec(lv.value), dec(lv.reserved), lv.pk]
    for i, u in enumerate(updates):
        if u.rows:
            cte, values = u.cte(f"u{i}")
            ctes.append(cte)
            params += values
    done_at = ops.adapt_datetimefield_value(now)
    for move in moves:
        params.extend(_move_params(move, done_at, ops))
    sql = MOVE_INSERT_MANY % ", ".join([MOVE_ROW] * len(moves))
    if ctes:
        sql = "WITH " + ", ".join(ctes) + " " + sql
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = sorted(row[0] for row in cursor.fetchall())
    for move, pk in zip(moves, ids, strict=True):
        move.pk = move.id = pk


_MOVE_FIELDS = [f.attname for f in StockMove._meta.concrete_fields]


def _new_move(**values) -> StockMove:
    """A done StockMove instance (positional init: the cheap path)."""
    values.setdefault("id", None)
    values.setdefault("state", StockMove.State.DONE)
    return StockMove(*[values[name] for name in _MOVE_FIELDS])


MOVE_INSERT = (
    "INSERT INTO inventory_stockmove (product_id, quantity, source_id, "
    "destination_id, lot_id, state, unit_cost, value, origin_type, origin_id, "
    "origin_line_id, transfer_id, transfer_line_id, reference, done_at, "
    "created_by_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
    "%s, %s, %s) RETURNING id"
)
MOVE_ROW = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
MOVE_INSERT_MANY = (
    "INSERT INTO inventory_stockmove (product_id, quantity, source_id, "
    "destination_id, lot_id, state, unit_cost, value, origin_type, origin_id, "
    "origin_line_id, transfer_id, transfer_line_id, reference, done_at, "
    "created_by_id) VALUES %s RETURNING id"
)


def _move_params(move: StockMove, done_at, ops) -> list:
    dec = ops.adapt_decimalfield_value
    return [
        move.product_id,
        dec(move.quantity),
        move.source_id,
        move.destination_id,
        move.lot_id,
        move.state,
        dec(move.unit_cost),
        dec(move.value),
        move.origin_type,
        move.origin_id,
        move.origin_line_id,
        move.transfer_id,
        move.transfer_line_id,
        move.reference,
        done_at,
        move.created_by_id,
    ]


def _allow_negative(loc: Location, warehouses: dict | None) -> bool:
    if warehouses and loc.warehouse_id in warehouses:
        return warehouses[loc.warehouse_id].allow_negative
    return loc.warehouse.allow_negative


def _shortage_error(shortages: list[dict]) -> InsufficientStock:
    parts = [
        _("%(name)s: %(requested)s requested, %(available)s available")
        % {
            "name": s["name"],
            "requested": _fmt(s["requested"]),
            "available": _fmt(max(s["available"], ZERO)),
        }
        for s in shortages
    ]
    for s in shortages:
        s.pop("name", None)
    return InsufficientStock(
        _("Not enough stock: %(list)s.") % {"list": "; ".join(parts)},
        shortages=shortages,
    )


def _fmt(q: Decimal) -> str:
    text = format(q.normalize(), "f")
    return text


SUBJECTS = (
    "SELECT p.kind, p.tracking, p.costing_method, p.cost_price, p.sku, p.name, "
    "s.kind, s.warehouse_id, s.code, s.name, sw.allow_negative, "
    "d.kind, d.warehouse_id, d.code, d.name, dw.allow_negative, "
    "(SELECT enabled FROM core_featuretoggle WHERE code = 'inventory') "
    "FROM catalog_product p "
    "CROSS JOIN inventory_location s "
    "LEFT JOIN inventory_warehouse sw ON sw.id = s.warehouse_id "
    "CROSS JOIN inventory_location d "
    "LEFT JOIN inventory_warehouse dw ON dw.id = d.warehouse_id "
    "WHERE p.id = %s AND s.id = %s AND d.id = %s"
)


class _LightProduct:
    """What posting needs of a product, without a model instance's cost."""

    __slots__ = (
        "pk",
        "kind",
        "tracking",
        "costing_method",
        "cost_price",
        "sku",
        "name",
    )

    def __init__(self, pk, kind, tracking, costing_method, cost_price, sku, name):
        self.pk, self.kind, self.tracking = pk, kind, tracking
        self.costing_method, self.cost_price = costing_method, cost_price
        self.sku, self.name = sku, name

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class _LightWarehouse:
    __slots__ = ("pk", "allow_negative")

    def __init__(self, pk, allow_negative):
        self.pk, self.allow_negative = pk, allow_negative


class _LightLocation:
    __slots__ = ("pk", "kind", "warehouse_id", "code", "name", "warehouse")

    def __init__(self, pk, kind, warehouse_id, code, name, warehouse):
        self.pk, self.kind, self.warehouse_id = pk, kind, warehouse_id
        self.code, self.name, self.warehouse = code, name, warehouse

    def __str__(self) -> str:
        return self.code or self.name


@functools.cache
def _subjects_and_balances_sql(vendor: str) -> str:
    """SUBJECTS with the balances the move will lock (`_move_subjects`)."""
    stocked = ", ".join(f"'{k}'" for k in Location.STOCKED)
    balances = locks.balances_sql(
        connection,
        "product_id = %s AND lot_id IS NULL AND location_id IN (SELECT id FROM "
        f"inventory_location WHERE id IN (%s, %s) AND kind IN ({stocked}))",
        "product_id = %s AND warehouse_id IN (SELECT warehouse_id FROM "
        "inventory_location WHERE id IN (%s, %s) AND kind = "
        f"'{Location.Kind.INTERNAL.value}')",
    )
    # balances_sql is "WITH q AS (…), l AS (…) SELECT …": its SELECT becomes
    # the right side of a LEFT JOIN on the subjects' single row.
    ctes, union = balances.split(" SELECT 0, ", 1)
    return (
        f"{ctes}, s AS ({SUBJECTS}) SELECT s.*, b.* FROM s LEFT JOIN "
        f"(SELECT 0, {union}) AS b ON 1 = 1"
    )


def _move_subjects(ids: tuple[int, int, int], *, lock: bool = False):
    """Product and both locations (with their warehouse's negative-stock
    rule) and the module's toggle, in one statement (the posting hot path
    does `_begin` this way). With `lock` (a move without lot) the same
    statement also reads and locks the move's quants and levels (pk order,
    quants first, as `_post` would): returned as the rows of
    `locks.balance_rows_for_update` for `_post(locked=…)`, else None.
    `ids`: (product, source, destination), ints. Raises FeatureDisabled,
    NotFound."""
    ids = list(ids)
    balances = None
    with connection.cursor() as cursor:
        if lock:
            cursor.execute(_subjects_and_balances_sql(connection.vendor), ids * 3)
            rows = cursor.fetchall()
            row = rows[0][:17] if rows else None
            balances = locks.split_balance_rows(
                [r[17:] for r in rows if r[17] is not None]
            )
        else:
            cursor.execute(SUBJECTS, ids)
            row = cursor.fetchone()
    if row is None:
        features.require("inventory")
        if not Product.objects.filter(pk=ids[0]).exists():
            raise NotFound(_("Unknown product."))
        raise NotFound(_("Unknown location."))
    if not (features.get("inventory").default if row[16] is None else bool(row[16])):
        features.require("inventory")  # raises FeatureDisabled with the label
    product = _LightProduct(ids[0], *row[:3], _dec(row[3], Q4), *row[4:6])

    def location(pk, kind, warehouse_id, code, name, allow_negative):
        warehouse = (
            _LightWarehouse(warehouse_id, bool(allow_negative))
            if warehouse_id
            else None
        )
        return _LightLocation(pk, kind, warehouse_id, code, name, warehouse)

    return (
        product,
        location(ids[1], *row[6:11]),
        location(ids[2], *row[11:16]),
        balances,
    )


def stock_move_post(
    *,
    actor,
    product_id,
    quantity,
    source_id,
    destination_id,
    lot_id=None,
    lot_code="",
    unit_cost=None,
    origin_type="",
    origin_id=None,
    origin_line_id=None,
    reference="",
    lot_expires_on=None,
) -> StockMove:
    """Create and post one move (state done) from `source_id` to
    `destination_id`; at least one side is an internal or transit location.
    `lot_expires_on` (date or ISO string) dates a lot this move creates; an
    existing lot must have that date or none (see _lot_dated).

    Locks the quants (product × location × lot) and the stock levels
    (product × warehouse) it touches, in pk order. `unit_cost` values a move
    that comes from outside the warehouses (supplier, adjustment; default
    product.cost_price); what leaves a warehouse is valued at its moving
    average or by consuming FIFO layers. The move itself is the audit record
    (created_by, done_at; moves are never edited).

    On PostgreSQL a plain move (no lot, moving average, existing balance
    rows, no stock going negative) is posted by one statement, the function
    `inventory_move_post` (ADR 015); everything else, and whatever that
    function declines, takes the general path (`_post`).

    Raises InvalidQuantity, InsufficientStock (source would go negative and
    its warehouse forbids it), LotRequired, SerialQuantity, InvalidLocation,
    NotStockable, NotFound, PermissionDenied.
    """
    if actor is None or not actor.has_perm("inventory.add_stockmove"):
        raise PermissionDenied()
    qty = clean_quantity(quantity)
    cost = None if unit_cost in (None, "") else _clean_cost(unit_cost)
    try:
        ids = (int(product_id), int(source_id), int(destination_id))
    except (TypeError, ValueError):
        raise NotFound() from None
    origin = {
        "origin_type": _text(origin_type)[:40],
        "origin_id": _origin_id(origin_id, "origin_id"),
        "origin_line_id": _origin_id(origin_line_id, "origin_line_id"),
        "reference": _text(reference)[:100],
    }
    if connection.vendor == "postgresql" and not (lot_id or lot_code or lot_expires_on):
        move = _move_post_in_one(actor, ids, qty, cost, origin)
        if move is not None:
            return move
    return _move_post(actor, ids, qty, cost, origin, lot_id, lot_code, lot_expires_on)


def _origin_id(value, field: str) -> int | None:
    """A document id a move refers to: an integer or nothing."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(fields={field: [_("Enter a whole number.")]}) from None


@_atomic_retry
def _move_post(actor, ids, qty, cost, origin, lot_id, lot_code, lot_expires_on):
    """stock_move_post's general path (after its checks)."""
    # Without a lot, the balances to lock are known from the ids alone:
    # read and locked with the subjects (one statement fewer).
    product, source, destination, balances = _move_subjects(
        ids, lock=not (lot_id or lot_code)
    )
    expires = _clean_lot_expiry(lot_expires_on, product)
    lot = None
    if lot_id or lot_code:
        lot = _lot_for(product, lot_id, lot_code, expires, actor=actor)
    spec = _Spec(
        product=product,
        quantity=qty,
        source=source,
        destination=destination,
        lot=lot,
        unit_cost=cost,
        **origin,
    )
    return _post(actor, [spec], locked=balances)[0]


MOVE_POST_SQL = (
    "SELECT move_id, move_unit_cost, move_value FROM inventory_move_post("
    "%s::bigint, %s::numeric, %s::bigint, %s::bigint, %s::numeric, %s::text, "
    "%s::bigint, %s::bigint, %s::text, %s::timestamptz, %s::bigint, %s::boolean)"
)


def _move_post_in_one(actor, ids, qty, cost, origin) -> StockMove | None:
    """PostgreSQL: post a plain move in one statement — in autocommit, one
    round trip with its commit — through `inventory_move_post` (migration
    inventory 0003, ADR 015), which computes what `_post` would for it.
    None when the function declined (it wrote nothing): the caller takes the
    general path, which raises the right error or handles the case."""
    now = timezone.now()
    actor_id = _actor_id(actor)
    params = [
        ids[0],
        qty,
        ids[1],
        ids[2],
        cost,
        origin["origin_type"],
        origin["origin_id"],
        origin["origin_line_id"],
        origin["reference"],
        now,
        actor_id,
        features.get("inventory").default,
    ]

    def call():
        with connection.cursor() as cursor:
            cursor.execute(MOVE_POST_SQL, params)
            return cursor.fetchone()

    if _in_transaction():
        # Inside a caller's transaction: a savepoint of its own, as every
        # service here (none in a `joined()` block).
        with transaction.atomic(savepoint=not getattr(_joined, "on", False)):
            row = call()
    else:
        row = _retried(call)
    if row is None:
        return None
    move = _new_move(
        id=row[0],
        product_id=ids[0],
        quantity=qty,
        source_id=ids[1],
        destination_id=ids[2],
        lot_id=None,
        unit_cost=row[1],
        value=row[2],
        transfer_id=None,
        transfer_line_id=None,
        done_at=now,
        created_by_id=actor_id,
        **origin,
    )
    _announce(move)
    return move


# ---------------------------------------------------------- reservations


_ALLOW_NEGATIVE = prepared(
    lambda ids: Warehouse.objects.filter(pk__in=ids).values_list("pk", "allow_negative")
)


@_atomic_retry
def reservation_create(*, actor, origin_type, origin_id, lines) -> list:
    """Reserve stock for a document's lines: [{"product_id", "warehouse_id",
    "quantity", "origin_line_id"}]. All or nothing: when any product lacks
    available stock (on hand − reserved, per warehouse; lines of the same
    product add up) raises InsufficientStock naming every short product.
    A warehouse that allows negative stock reserves without limit. Service
    lines are skipped (nothing to reserve); kits raise NotStockable.
    Locks the StockLevel rows (pk order)."""
    _begin(actor, "inventory.add_reservation")
    if not lines:
        raise ValidationFailed(fields={"lines": [_("Add at least one line.")]})
    cleaned = []
    for i, line in enumerate(lines):
        qty = clean_quantity(line.get("quantity"), field=f"lines.{i}.quantity")
        cleaned.append(
            (
                int(line["product_id"]),
                int(line["warehouse_id"]),
                qty,
                line.get("origin_line_id"),
            )
        )
    products = catalog_queries.products_by_id([c[0] for c in cleaned])
    allow_negative = dict(_ALLOW_NEGATIVE.all(ids=[c[1] for c in cleaned]))
    for product_id, warehouse_id, _q, _l in cleaned:
        if product_id not in products:
            raise NotFound(_("Unknown product."))
        if warehouse_id not in allow_negative:
            raise NotFound(_("Unknown warehouse."))
        if products[product_id].kind == Product.Kind.KIT:
            raise NotStockable()
    # Services are not kept in stock: their lines reserve nothing.
    cleaned = [c for c in cleaned if products[c[0]].kind == Product.Kind.GOODS]
    if not cleaned:
        return []
    levels = _locked_levels({(c[0], c[1]) for c in cleaned})
    wanted: dict = {}
    for product_id, warehouse_id, qty, _l in cleaned:
        wanted[(product_id, warehouse_id)] = (
            wanted.get((product_id, warehouse_id), ZERO) + qty
        )
    shortages = []
    for key, qty in wanted.items():
        level = levels[key]
        if allow_negative[key[1]]:
            continue
        if level.on_hand - level.reserved < qty:
            shortages.append(
                {
                    "product_id": key[0],
                    "warehouse_id": key[1],
                    "requested": qty,
                    "available": level.on_hand - level.reserved,
                    "name": str(products[key[0]]),
                }
            )
    if shortages:
        raise _shortage_error(shortages)
    dec = connection.ops.adapt_decimalfield_value
    with connection.cursor() as cursor:
        _execute_rows(
            cursor,
            "UPDATE inventory_stocklevel SET reserved = reserved + %s WHERE id = %s",
            [
                (dec(qty), pk)
                for pk, qty in sorted(
                    (levels[key].pk, qty) for key, qty in wanted.items()
                )
            ],
        )
    made = [
        Reservation(
            product_id=p,
            warehouse_id=w,
            quantity=q,
            original_quantity=q,
            origin_type=_text(origin_type)[:40],
            origin_id=origin_id,
            origin_line_id=line_id,
            created_by_id=_actor_id(actor),
        )
        for p, w, q, line_id in cleaned
    ]
    insert(made)
    return made


def _release(qs, state: str) -> int:
    """Release (or finish) the reservations of `qs` under their levels' locks."""
    rows = list(
        qs.filter(state=Reservation.State.ACTIVE).values_list(
            "pk", "product_id", "warehouse_id", "quantity"
        )
    )
    if not rows:
        return 0
    levels = _locked_levels({(r[1], r[2]) for r in rows})
    # Re-read under the locks: a concurrent release may have won.
    rows = list(
        Reservation.objects.filter(
            pk__in=[r[0] for r in rows], state=Reservation.State.ACTIVE
        ).values_list("pk", "product_id", "warehouse_id", "quantity")
    )
    per_level: dict = {}
    for _pk, p, w, q in rows:
        per_level[(p, w)] = per_level.get((p, w), ZERO) + q
    for key, qty in per_level.items():
        StockLevel.objects.filter(pk=levels[key].pk).update(
            reserved=F("reserved") - qty
        )
    return Reservation.objects.filter(pk__in=[r[0] for r in rows]).update(
        state=state, quantity=0
    )


@_atomic_retry
def reservation_release(*, actor, origin_type, origin_id, origin_line_id=None) -> int:
    """Release the active reservations of a document (or of one of its
    lines). Locks the StockLevel rows. Returns how many were released."""
    _begin(actor, "inventory.add_reservation")
    qs = Reservation.objects.filter(origin_type=_text(origin_type), origin_id=origin_id)
    if origin_line_id is not None:
        qs = qs.filter(origin_line_id=origin_line_id)
    return _release(qs, Reservation.State.RELEASED)


def _active_reservations(origin_type, origin_id, line_ids):
    return Reservation.objects.filter(
        origin_type=origin_type,
        origin_id=origin_id,
        origin_line_id__in=line_ids,
        state=Reservation.State.ACTIVE,
    )


def _ids(values) -> list[int]:
    """Ids for an `__in` filter, without the None the ORM would drop (NULL
    equals nothing)."""
    return [int(v) for v in values if v is not None]


_ACTIVE_RESERVATIONS = prepared(
    lambda origin_type, origin_id, line_ids: _active_reservations(
        origin_type, origin_id, line_ids
    ).order_by("id")
)
_RESERVATION_LEVELS = prepared(
    lambda origin_type, origin_id, line_ids: _active_reservations(
        origin_type, origin_id, line_ids
    ).values_list("product_id", "warehouse_id")
)


def _consume_reservations(
    transfer: Transfer, shipped: list, levels: dict, touched_levels: dict
) -> list:
    """A delivery ships (origin_line_id, product_id, qty): reduce the
    origin line's active reservations, this warehouse's first. Called by
    `_post` under the levels' locks: lowers the locked `levels`' reserved
    (marked in `touched_levels`) and returns the reservations' `_Update`."""
    if not transfer.origin_type or transfer.origin_id is None:
        return []
    line_ids = {s[0] for s in shipped if s[0] is not None}
    if not line_ids:
        return []
    reservations = _ACTIVE_RESERVATIONS.all(
        origin_type=transfer.origin_type,
        origin_id=_id(transfer.origin_id),
        line_ids=sorted(_ids(line_ids)),
    )
    if not reservations:
        return []
    extra = {(r.product_id, r.warehouse_id) for r in reservations} - set(levels)
    if extra:
        levels.update(_locked_levels(extra))
    changed = {}
    for line_id, product_id, qty in shipped:
        mine = [
            r
            for r in reservations
            if r.origin_line_id == line_id and r.product_id == product_id
        ]
        mine.sort(key=lambda r: (r.warehouse_id != transfer.warehouse_id, r.id))
        left = qty
        for r in mine:
            if left <= 0:
                break
            take = min(left, r.quantity)
            if take <= 0:
                continue
            r.quantity -= take
            left -= take
            if r.quantity == 0:
                r.state = Reservation.State.DONE
            changed[r.pk] = r
            level = levels[(r.product_id, r.warehouse_id)]
            level.reserved -= take
            touched_levels[level.pk] = level
    dec = connection.ops.adapt_decimalfield_value
    return [
        _Update(
            "inventory_reservation",
            ("quantity", "state"),
            ("numeric", "varchar"),
            [(dec(r.quantity), r.state, r.pk) for r in sorted_by_pk(changed)],
        )
    ]


# ------------------------------------------------------------- transfers


def _transfer_locations(transfer: Transfer, leg: int = 1):
    wh = transfer.warehouse
    kind = transfer.kind
    if kind == Transfer.Kind.RECEIPT:
        return _get_or_create_virtual("supplier"), wh.stock_location
    if kind == Transfer.Kind.DELIVERY:
        return wh.stock_location, _get_or_create_virtual("customer")
    if kind == Transfer.Kind.WRITE_OFF:
        return wh.stock_location, _get_or_create_virtual("loss")
    if kind == Transfer.Kind.ADJUSTMENT:
        return _get_or_create_virtual("adjustment"), wh.stock_location
    if kind == Transfer.Kind.RETURN:
        return _get_or_create_virtual("customer"), wh.stock_location
    if leg == 1:
        return wh.stock_location, wh.transit_location
    return wh.transit_location, transfer.destination_warehouse.stock_location


def _id(value) -> int | None:
    """An id argument as the ORM takes it (int(), which raises ValueError /
    TypeError for what is not one); None stays None."""
    return None if value is None else int(value)


# A transfer's warehouse (with its stock and transit locations) and whether
# the transfer's client exists (`client_found`; client_id 0: none given).
_TRANSFER_WAREHOUSE = prepared(
    lambda warehouse_id, client_id: (
        Warehouse.objects.filter(pk=warehouse_id)
        .select_related("stock_location", "transit_location")
        .annotate(client_found=Exists(Client.objects.filter(pk=client_id)))
    )
)


def _number(warehouse: Warehouse, kind: str, year: int) -> str:
    prefix = f"{warehouse.code}/{PREFIX[kind]}"
    n = numbering.next_number(f"inv/{prefix}"[:40], year)
    return f"{prefix}/{year}-{n:04d}"


def _clean_lines(lines, *, tracked_ok=True, actor=None) -> list[dict]:
    if not lines:
        raise ValidationFailed(fields={"lines": [_("Add at least one line.")]})
    products = catalog_queries.products_by_id([int(li["product_id"]) for li in lines])
    out = []
    for i, line in enumerate(lines):
        product = products.get(int(line["product_id"]))
        if product is None:
            raise NotFound(_("Unknown product."))
        if product.kind == Product.Kind.KIT:
            raise NotStockable()
        qty = clean_quantity(line.get("quantity"), field=f"lines.{i}.quantity")
        if product.kind == Product.Kind.SERVICE:
            continue  # services are delivered, not moved: skipped
        cost = line.get("unit_cost")
        cost = None if cost in (None, "") else _clean_cost(cost, f"lines.{i}.unit_cost")
        lot = None
        expires = _clean_lot_expiry(
            line.get("lot_expires_on"), product, f"lines.{i}.lot_expires_on"
        )
        if expires and not (line.get("lot_id") or _text(line.get("lot_code")).strip()):
            message = _("Name the lot or serial this expiry date belongs to.")
            raise ValidationFailed(
                message, fields={f"lines.{i}.lot_expires_on": [message]}
            )
        if line.get("lot_id") or line.get("lot_code"):
            lot = _lot_for(
                product,
                line.get("lot_id"),
                line.get("lot_code", ""),
                expires,
                field=f"lines.{i}.lot_expires_on",
                actor=actor,
            )
            if product.tracking == Product.Tracking.NONE:
                raise ValidationFailed(
                    fields={
                        f"lines.{i}.lot_code": [
                            _("This product is not tracked by lot.")
                        ]
                    }
                )
        out.append(
            {
                "product": product,
                "quantity": qty,
                "lot": lot,
                "origin_line_id": line.get("origin_line_id"),
                "unit_cost": cost,
            }
        )
    if not out:
        raise ValidationFailed(
            fields={"lines": [_("None of these products is kept in stock.")]}
        )
    return out


@_atomic_retry
def transfer_create(
    *,
    actor,
    kind,
    warehouse_id,
    lines,
    origin_type="",
    origin_id=None,
    client_id=None,
    counterparty_id=None,
    destination_warehouse_id=None,
    reference="",
    scheduled_date: date | None = None,
    reason_id=None,
    note="",
    done: bool = False,
) -> Transfer:
    """Create a transfer in state confirmed with a gapless number per
    warehouse, kind and year ("GDG/OUT/2026-0001"). kind: receipt |
    delivery | internal (needs another `destination_warehouse_id`) |
    write_off (`reason_id` from the configurable list) | adjustment.
    lines: [{"product_id", "quantity", "lot_id"?, "lot_code"?,
    "lot_expires_on"?, "origin_line_id"?, "unit_cost"?}] (`lot_expires_on`:
    the expiry date of a lot the line creates, see stock_move_post);
    service lines are skipped, kits
    raise NotStockable. Nothing moves until transfer_done — or at once with
    `done=True` (one-step: the same as transfer_done on every line, without
    reading back what was just written).
    Locks the number counter. Raises ValidationFailed, InvalidQuantity,
    NotStockable, NotFound (and with `done` what transfer_done raises)."""
    _begin(actor, "inventory.add_transfer")
    if kind not in Transfer.Kind.values:
        raise ValidationFailed(fields={"kind": [_("Unknown kind of transfer.")]})
    if kind == Transfer.Kind.RETURN:
        # Valued at what left: only from the deliveries (customer_return).
        raise ValidationFailed(
            fields={"kind": [_("A customer return is made from the delivered goods.")]}
        )
    # The warehouse and whether the client exists: one statement.
    client_id = _id(client_id)
    wh = _id(warehouse_id)
    if wh is not None:
        wh = _TRANSFER_WAREHOUSE.first(warehouse_id=wh, client_id=client_id or 0)
    if wh is None:
        raise NotFound(_("Unknown warehouse."))
    if not wh.is_active:
        raise ValidationFailed(
            fields={"warehouse_id": [_("This warehouse is archived.")]}
        )
    dest = None
    if kind == Transfer.Kind.INTERNAL:
        dest = Warehouse.objects.filter(pk=destination_warehouse_id).first()
        if dest is None or dest.pk == wh.pk:
            raise ValidationFailed(
                fields={
                    "destination_warehouse_id": [
                        _("Pick another warehouse to transfer to.")
                    ]
                }
            )
    reason = None
    if kind == Transfer.Kind.WRITE_OFF:
        reason = WriteOffReason.objects.filter(pk=reason_id, is_active=True).first()
        if reason is None:
            raise ValidationFailed(fields={"reason_id": [_("Pick a reason.")]})
    if client_id is not None and not wh.client_found:
        raise ValidationFailed(fields={"client_id": [_("Unknown client.")]})
    if (
        counterparty_id is not None
        and not Counterparty.objects.filter(pk=counterparty_id).exists()
    ):
        raise ValidationFailed(fields={"counterparty_id": [_("Unknown counterparty.")]})
    cleaned = _clean_lines(lines, actor=actor)
    today = timezone.localdate()
    transfer = Transfer(
        number=_number(wh, kind, today.year),
        kind=kind,
        warehouse=wh,
        destination_warehouse=dest,
        state=Transfer.State.CONFIRMED,
        origin_type=_text(origin_type)[:40],
        origin_id=origin_id,
        client_id=client_id,
        counterparty_id=counterparty_id,
        reason=reason,
        scheduled_date=scheduled_date,
        reference=_text(reference)[:100],
        note=_text(note),
        created_by_id=_actor_id(actor),
    )
    insert([transfer])
    lines = _transfer_lines(transfer, cleaned)
    insert(lines)
    audit.record(actor=actor, subject=transfer, action="created")
    if done:
        if not actor.has_perm("inventory.change_transfer"):
            raise PermissionDenied()
        return _transfer_done(actor, transfer, lines, None, None)
    return transfer


def _transfer_lines(transfer: Transfer, cleaned: list[dict]) -> list[TransferLine]:
    """Unsaved lines of `transfer` from `_clean_lines`' output."""
    return [
        TransferLine(
            transfer=transfer,
            product=c["product"],
            quantity=c["quantity"],
            lot=c["lot"],
            origin_line_id=c["origin_line_id"],
            unit_cost=c["unit_cost"],
        )
        for c in cleaned
    ]


def _locked_transfer(transfer_id, version) -> Transfer:
    transfer = locks.transfers_for_update(
        Transfer.objects.filter(pk=transfer_id)
    ).first()
    if transfer is None:
        raise NotFound(_("Unknown transfer."))
    _check_version(transfer, version)
    return transfer


def _step(actor, transfer_id, version, allowed: set, new_state: str) -> Transfer:
    _begin(actor, "inventory.change_transfer")
    transfer = _locked_transfer(transfer_id, version)
    if transfer.state not in allowed:
        raise BadState()
    old = transfer.state
    transfer.state = new_state
    transfer.version += 1
    transfer.save(update_fields=["state", "version", "updated_at"])
    audit.record(
        actor=actor,
        subject=transfer,
        action="state_changed",
        changes={"state": [old, new_state]},
    )
    return transfer


_UNSET = object()


@_atomic_retry
def transfer_update(
    *,
    actor,
    transfer_id,
    version,
    lines=None,
    scheduled_date=_UNSET,
    reference=None,
    note=None,
) -> Transfer:
    """Edit a transfer that has moved nothing yet (confirmed, picked,
    packed): `lines` replaces all lines (same shape as transfer_create),
    plus scheduled date, reference, note. Locks the transfer; `version` must
    match (VersionConflict otherwise). Raises BadState, ValidationFailed,
    InvalidQuantity, NotStockable."""
    _begin(actor, "inventory.change_transfer")
    transfer = _locked_transfer(transfer_id, version)
    if version is None:
        raise VersionConflict()
    if transfer.state not in ("confirmed", "picked", "packed"):
        raise BadState()
    before = audit.snapshot(transfer, ["scheduled_date", "reference", "note"])
    if lines is not None:
        cleaned = _clean_lines(lines, actor=actor)
        transfer.lines.all().delete()
        insert(_transfer_lines(transfer, cleaned))
    if scheduled_date is not _UNSET:
        transfer.scheduled_date = scheduled_date
    if reference is not None:
        transfer.reference = _text(reference)[:100]
    if note is not None:
        transfer.note = _text(note)
    transfer.version += 1
    transfer.save()
    changes = audit.diff(
        before, audit.snapshot(transfer, ["scheduled_date", "reference", "note"])
    )
    if lines is not None:
        changes["lines"] = [None, len(lines)]
    audit.record(actor=actor, subject=transfer, action="updated", changes=changes)
    return transfer


@_atomic_retry
def transfer_pick(*, actor, transfer_id, version=None) -> Transfer:
    """Optional step: confirmed → picked. Raises BadState, VersionConflict."""
    return _step(actor, transfer_id, version, {"confirmed"}, "picked")


@_atomic_retry
def transfer_pack(*, actor, transfer_id, version=None) -> Transfer:
    """Optional step: picked → packed. Raises BadState, VersionConflict."""
    return _step(actor, transfer_id, version, {"picked"}, "packed")


@_atomic_retry
def transfer_done(
    *,
    actor,
    transfer_id,
    quantities: dict | None = None,
    lots: dict | None = None,
    version=None,
    lot_expires_on: dict | None = None,
) -> Transfer:
    """Post a transfer's moves (one per line) and mark it done.

    `quantities` {TransferLine id: qty} ships part of a line (0 = none of
    it; lines not named ship in full); what is left goes to a new
    backorder transfer (confirmed, same origin). `lots` {TransferLine id:
    lot/serial code} names the lot where the line has none;
    `lot_expires_on` {TransferLine id: date} its expiry date (a new lot
    takes it, an existing one must agree: field `lot_expires_on.<id>`).
    A delivery consumes the origin line's active reservations up to the
    shipped quantity (this warehouse's first). An internal transfer moves
    in two legs: the first call sends (stock → transit, state in_transit),
    the second receives everything sent (transit → destination stock, done).

    Locks the transfer, then quants and levels (pk order), then the number
    counter for a backorder. Raises BadState (done / cancelled, or nothing
    to ship), InsufficientStock, LotRequired, SerialQuantity,
    InvalidQuantity, VersionConflict. Publishes TransferDone and
    StockMovePosted."""
    _begin(actor, "inventory.change_transfer")
    transfer = _locked_transfer(transfer_id, version)
    if transfer.state in (Transfer.State.DONE, Transfer.State.CANCELLED, "draft"):
        raise BadState()
    wh = Warehouse.objects.select_related("stock_location", "transit_location").get(
        pk=transfer.warehouse_id
    )
    transfer.warehouse = wh
    if transfer.destination_warehouse_id:
        transfer.destination_warehouse = Warehouse.objects.select_related(
            "stock_location"
        ).get(pk=transfer.destination_warehouse_id)
    lines = list(transfer.lines.select_related("product", "lot"))
    return _transfer_done(actor, transfer, lines, quantities, lots, lot_expires_on)


def _transfer_done(
    actor, transfer: Transfer, lines: list, quantities, lots, expiry=None
):
    """transfer_done on a locked transfer whose warehouse(s) (with their
    stock and transit locations) and lines (with product and lot) are
    loaded — transfer_create(done=True) hands over what it just wrote."""
    wh = transfer.warehouse
    warehouses = {wh.pk: wh}
    if transfer.destination_warehouse_id:
        warehouses[transfer.destination_warehouse_id] = transfer.destination_warehouse
    receiving = transfer.state == Transfer.State.IN_TRANSIT
    source, destination = _transfer_locations(transfer, leg=2 if receiving else 1)
    source.warehouse = warehouses.get(source.warehouse_id)
    destination.warehouse = warehouses.get(destination.warehouse_id)
    specs, ship, rest = [], [], []
    if receiving:
        sent = {
            m.transfer_line_id: m
            for m in StockMove.objects.filter(
                transfer=transfer, source_id=wh.stock_location_id
            )
        }
        for line in lines:
            m = sent.get(line.pk)
            if m is None:
                continue
            specs.append(
                _Spec(
                    product=line.product,
                    quantity=m.quantity,
                    source=source,
                    destination=destination,
                    lot=line.lot,
                    value=m.value,
                    origin_type=transfer.origin_type,
                    origin_id=transfer.origin_id,
                    origin_line_id=line.origin_line_id,
                    reference=transfer.number,
                    transfer_id=transfer.pk,
                    transfer_line_id=line.pk,
                )
            )
            ship.append((line, m.quantity))
    else:
        quantities = {int(k): v for k, v in (quantities or {}).items()}
        lots = {int(k): v for k, v in (lots or {}).items()}
        expiry = {int(k): v for k, v in (expiry or {}).items()}
        known = {line.pk for line in lines}
        if set(quantities) - known or set(lots) - known or set(expiry) - known:
            raise ValidationFailed(
                fields={"quantities": [_("A line does not belong to this transfer.")]}
            )
        for line in lines:
            qty = line.quantity
            if line.pk in quantities:
                qty = clean_quantity(
                    quantities[line.pk], field=f"quantities.{line.pk}", allow_zero=True
                )
                if qty > line.quantity:
                    raise InvalidQuantity(
                        fields={
                            f"quantities.{line.pk}": [
                                _("At most %(q)s.") % {"q": _fmt(line.quantity)}
                            ]
                        }
                    )
            expires = None
            if expiry.get(line.pk) not in (None, ""):
                field = f"lot_expires_on.{line.pk}"
                expires = _clean_lot_expiry(expiry[line.pk], line.product, field)
                if not lots.get(line.pk) and line.lot is not None:
                    _lot_dated(line.product, line.lot, expires, field, actor)
            if line.pk in lots and lots[line.pk]:
                line.lot = _lot_for(
                    line.product,
                    None,
                    lots[line.pk],
                    expires,
                    field=f"lot_expires_on.{line.pk}",
                    actor=actor,
                )
            if qty < line.quantity:
                rest.append((line, line.quantity - qty))
            if qty == 0:
                continue
            specs.append(
                _Spec(
                    product=line.product,
                    quantity=qty,
                    source=source,
                    destination=destination,
                    lot=line.lot,
                    unit_cost=line.unit_cost,
                    origin_type=transfer.origin_type,
                    origin_id=transfer.origin_id,
                    origin_line_id=line.origin_line_id,
                    reference=transfer.number,
                    transfer_id=transfer.pk,
                    transfer_line_id=line.pk,
                )
            )
            ship.append((line, qty))
        if not specs:
            raise BadState(_("Nothing to move: every quantity is zero."))
    # Reservations a delivery will consume: their levels are locked with
    # the others, in one pk-ordered pass.
    reservation_levels = set()
    if transfer.kind == Transfer.Kind.DELIVERY and transfer.origin_type:
        reservation_levels = set(
            _RESERVATION_LEVELS.all(
                origin_type=transfer.origin_type,
                origin_id=_id(transfer.origin_id),
                line_ids=_ids(s.origin_line_id for s in specs),
            )
        )
    updates, then = [], None
    if not receiving:
        dec = connection.ops.adapt_decimalfield_value
        updates.append(
            _Update(
                "inventory_transferline",
                ("done_quantity", "quantity", "lot_id"),
                ("numeric", "numeric", "bigint"),
                [
                    (dec(qty), dec(qty), line.lot.pk if line.lot else None, line.pk)
                    for line, qty in sorted(ship, key=lambda s: s[0].pk)
                ],
            )
        )
    if transfer.kind == Transfer.Kind.DELIVERY:
        shipped = [(line.origin_line_id, line.product_id, qty) for line, qty in ship]

        def then(levels, touched_levels):
            return _consume_reservations(transfer, shipped, levels, touched_levels)

    moves = _post(
        actor,
        specs,
        warehouses=warehouses,
        extra_levels=reservation_levels,
        updates=updates,
        then=then,
    )
    backorder = None
    if rest:
        backorder = Transfer.objects.create(
            number=_number(wh, transfer.kind, timezone.localdate().year),
            kind=transfer.kind,
            warehouse=wh,
            destination_warehouse_id=transfer.destination_warehouse_id,
            state=Transfer.State.CONFIRMED,
            origin_type=transfer.origin_type,
            origin_id=transfer.origin_id,
            client_id=transfer.client_id,
            counterparty_id=transfer.counterparty_id,
            reason_id=transfer.reason_id,
            backorder_of=transfer,
            scheduled_date=transfer.scheduled_date,
            reference=transfer.reference,
            created_by_id=_actor_id(actor),
        )
        TransferLine.objects.bulk_create(
            [
                TransferLine(
                    transfer=backorder,
                    product=line.product,
                    quantity=qty,
                    lot=line.lot if line.product.tracking != "serial" else None,
                    origin_line_id=line.origin_line_id,
                    unit_cost=line.unit_cost,
                )
                for line, qty in rest
            ]
        )
        # Lines shipped as zero leave this transfer entirely.
        zero = [line.pk for line, qty in rest if qty == line.quantity]
        if zero:
            TransferLine.objects.filter(pk__in=zero).delete()
        audit.record(actor=actor, subject=backorder, action="created")
    old = transfer.state
    if transfer.kind == Transfer.Kind.INTERNAL and not receiving:
        transfer.state = Transfer.State.IN_TRANSIT
    else:
        transfer.state = Transfer.State.DONE
        transfer.done_at = timezone.now()
    transfer.version += 1
    update(transfer, ["state", "version", "done_at", "updated_at"])
    audit.record(
        actor=actor,
        subject=transfer,
        action="state_changed",
        changes={"state": [old, transfer.state]}
        | ({"backorder": backorder.number} if backorder else {}),
    )
    _announce_done(
        actor,
        transfer,
        [(line, qty, move) for (line, qty), move in zip(ship, moves, strict=True)],
        timeline_kind=(
            "inventory.delivered" if transfer.kind == Transfer.Kind.DELIVERY else ""
        ),
        warehouse_id=(transfer.destination_warehouse_id if receiving else wh.pk),
        leg=(
            ("received" if receiving else "sent")
            if transfer.kind == Transfer.Kind.INTERNAL
            else ""
        ),
    )
    return transfer


def _announce_done(
    actor, transfer, moved: list, *, timeline_kind: str, warehouse_id, leg: str
) -> None:
    """After posting a transfer: the client's timeline entry (`timeline_kind`,
    when the transfer has a client) and TransferDone on commit. `moved` is
    [(transfer line, quantity, stock move)]."""
    if timeline_kind and transfer.client_id:
        from satu.parties.services import timeline_record

        timeline_record(
            client_id=transfer.client_id,
            kind=timeline_kind,
            actor=actor,
            summary=f"{transfer.number}: {len(moved)}",
            subject_type="inventory.transfer",
            subject_id=transfer.pk,
            url=f"/transfers/{transfer.pk}/",
            data={"number": transfer.number, "lines": len(moved)},
        )
    publish_on_commit(
        TransferDone(
            transfer_id=transfer.pk,
            kind=transfer.kind,
            origin_type=transfer.origin_type,
            origin_id=transfer.origin_id,
            lines=tuple(
                (line.origin_line_id, line.product_id, qty, move.value)
                for line, qty, move in moved
            ),
            warehouse_id=warehouse_id,
            leg=leg,
        )
    )


@_atomic_retry
def transfer_cancel(*, actor, transfer_id, version=None) -> Transfer:
    """Cancel a transfer that has moved nothing yet (not done, not in
    transit). Locks the transfer. Raises BadState, VersionConflict."""
    _begin(actor, "inventory.change_transfer")
    transfer = _locked_transfer(transfer_id, version)
    if transfer.state in (
        Transfer.State.DONE,
        Transfer.State.CANCELLED,
        Transfer.State.IN_TRANSIT,
    ):
        raise BadState()
    old = transfer.state
    transfer.state = Transfer.State.CANCELLED
    transfer.version += 1
    transfer.save(update_fields=["state", "version", "updated_at"])
    audit.record(
        actor=actor,
        subject=transfer,
        action="state_changed",
        changes={"state": [old, transfer.state]},
    )
    publish_on_commit(
        TransferCancelled(
            transfer_id=transfer.pk,
            kind=transfer.kind,
            origin_type=transfer.origin_type,
            origin_id=transfer.origin_id,
        )
    )
    return transfer


# ------------------------------------------------------ customer returns


@_atomic_retry
def customer_return(
    *, actor, origin_type, origin_id, client_id=None, reference="", note=""
) -> list[Transfer]:
    """Take back everything a document's deliveries left at the customer
    (`queries.returnable_quantities`): one return transfer (kind return,
    numbered "GDG/RET/2026-0001", posted at once: done) per warehouse, one
    line per product × lot × origin line, moving customer → the stock
    location the goods left from, into the same lot, with the same origin
    (so `moved_quantities` nets to zero) and at exactly the value they left
    with (net of earlier returns): stock levels, values and FIFO layers are
    restored. Locks quants and levels (pk order), then the number counter.
    Raises BadState (nothing left at the customer), ValidationFailed
    (warehouse archived), PermissionDenied. Publishes TransferDone (kind
    return) and StockMovePosted."""
    _begin(actor, "inventory.add_transfer")
    if not actor.has_perm("inventory.change_transfer"):
        raise PermissionDenied()
    from satu.inventory import queries

    rows = queries.returnable_quantities(origin_type=origin_type, origin_id=origin_id)
    if not rows:
        raise BadState(_("Nothing delivered for this document is left to take back."))
    archived = sorted({r.warehouse for r in rows if not r.warehouse_active})
    if archived:
        raise ValidationFailed(
            _("Warehouse %(codes)s is archived: goods cannot be returned there.")
            % {"codes": ", ".join(archived)}
        )
    if client_id is not None and not Client.objects.filter(pk=client_id).exists():
        raise ValidationFailed(fields={"client_id": [_("Unknown client.")]})
    warehouses = Warehouse.objects.in_bulk({r.warehouse_id for r in rows})
    locations = Location.objects.in_bulk({r.location_id for r in rows})
    products = Product.objects.in_bulk({r.product_id for r in rows})
    lots = Lot.objects.in_bulk({r.lot_id for r in rows if r.lot_id})
    customer = _get_or_create_virtual("customer")
    origin_type = _text(origin_type)[:40]
    reference = _text(reference)[:100]
    today = timezone.localdate()
    now = timezone.now()
    transfers, specs, made = [], [], []
    for wh_id in sorted(warehouses):
        wh = warehouses[wh_id]
        mine = [r for r in rows if r.warehouse_id == wh_id]
        transfer = Transfer.objects.create(
            number=_number(wh, Transfer.Kind.RETURN, today.year),
            kind=Transfer.Kind.RETURN,
            warehouse=wh,
            state=Transfer.State.DONE,
            origin_type=origin_type,
            origin_id=origin_id,
            client_id=client_id,
            reference=reference,
            note=_text(note),
            done_at=now,
            created_by_id=_actor_id(actor),
        )
        lines = TransferLine.objects.bulk_create(
            [
                TransferLine(
                    transfer=transfer,
                    product_id=r.product_id,
                    quantity=r.quantity,
                    done_quantity=r.quantity,
                    lot_id=r.lot_id,
                    origin_line_id=r.origin_line_id,
                    unit_cost=_round4(r.value / r.quantity),
                )
                for r in mine
            ]
        )
        for r, line in zip(mine, lines, strict=True):
            specs.append(
                _Spec(
                    product=products[r.product_id],
                    quantity=r.quantity,
                    source=customer,
                    destination=locations[r.location_id],
                    lot=lots.get(r.lot_id),
                    value=r.value,
                    origin_type=origin_type,
                    origin_id=origin_id,
                    origin_line_id=r.origin_line_id,
                    reference=transfer.number,
                    transfer_id=transfer.pk,
                    transfer_line_id=line.pk,
                )
            )
            made.append((transfer, line))
        transfers.append(transfer)
    moves = _post(actor, specs, warehouses=warehouses)
    for transfer in transfers:
        audit.record(
            actor=actor,
            subject=transfer,
            action="created",
            changes={"state": [None, transfer.state], "reference": reference},
        )
        _announce_done(
            actor,
            transfer,
            [
                (line, line.quantity, move)
                for (t, line), move in zip(made, moves, strict=True)
                if t is transfer
            ],
            timeline_kind="inventory.returned",
            warehouse_id=transfer.warehouse_id,
            leg="",
        )
    return transfers


# ------------------------------------------------------ inventory counts


@_atomic_retry
def inventory_count_create(
    *, actor, warehouse_id, product_ids=None, note=""
) -> InventoryCount:
    """Open a count sheet for a warehouse: one line per product × location ×
    lot with stock in its internal locations (or per named product, also at
    zero), `expected` = the quant now. Raises NotFound."""
    _begin(actor, "inventory.add_inventorycount")
    wh = Warehouse.objects.filter(pk=warehouse_id).first()
    if wh is None:
        raise NotFound(_("Unknown warehouse."))
    count = InventoryCount.objects.create(
        number=_number_count(wh),
        warehouse=wh,
        note=_text(note),
        created_by_id=_actor_id(actor),
    )
    quants = Quant.objects.filter(
        location__warehouse=wh, location__kind=Location.Kind.INTERNAL
    ).select_related("product")
    if product_ids:
        quants = quants.filter(product_id__in=product_ids)
    else:
        quants = quants.exclude(quantity=0)
    rows = [
        InventoryCountLine(
            count=count,
            product_id=q.product_id,
            location_id=q.location_id,
            lot_id=q.lot_id,
            expected=q.quantity,
        )
        for q in quants.order_by("product__name", "product_id", "location_id", "lot_id")
    ]
    if product_ids:
        seen = {r.product_id for r in rows}
        for pid in product_ids:
            if int(pid) not in seen:
                product = Product.objects.filter(pk=pid, kind="goods").first()
                if product is None:
                    raise NotFound(_("Unknown product."))
                if product.tracking == Product.Tracking.NONE:
                    rows.append(
                        InventoryCountLine(
                            count=count,
                            product_id=product.pk,
                            location_id=wh.stock_location_id,
                            expected=0,
                        )
                    )
    InventoryCountLine.objects.bulk_create(rows)
    audit.record(actor=actor, subject=count, action="created")
    return count


def _number_count(wh: Warehouse) -> str:
    year = timezone.localdate().year
    prefix = f"{wh.code}/CNT"
    n = numbering.next_number(f"inv/{prefix}"[:40], year)
    return f"{prefix}/{year}-{n:04d}"


@_atomic_retry
def inventory_count_set(
    *, actor, count_id, counted: dict, version=None, new_lines: list | None = None
) -> InventoryCount:
    """Enter counted quantities {line id: qty or None}; `new_lines` adds
    lines found on the shelf [{"product_id", "lot_code"?, "counted"}].
    Locks the count. Raises BadState, VersionConflict, InvalidQuantity."""
    _begin(actor, "inventory.change_inventorycount")
    count = locks.counts_for_update(InventoryCount.objects.filter(pk=count_id)).first()
    if count is None:
        raise NotFound()
    _check_version(count, version)
    if count.state != InventoryCount.State.DRAFT:
        raise BadState()
    lines = {line.pk: line for line in count.lines.all()}
    for key, value in (counted or {}).items():
        line = lines.get(int(key))
        if line is None:
            raise ValidationFailed(fields={"counted": [_("Unknown line.")]})
        line.counted = (
            None
            if value in (None, "")
            else clean_quantity(value, field=f"counted.{key}", allow_zero=True)
        )
    for line in lines.values():
        line.save(update_fields=["counted"])
    wh = count.warehouse
    for i, extra in enumerate(new_lines or []):
        product = Product.objects.filter(pk=extra.get("product_id")).first()
        if product is None:
            raise NotFound(_("Unknown product."))
        if product.kind != Product.Kind.GOODS:
            raise NotStockable()
        lot = _lot_for(product, None, extra.get("lot_code", ""))
        if product.tracking != Product.Tracking.NONE and lot is None:
            raise LotRequired(
                fields={f"new_lines.{i}.lot_code": [LotRequired.default_message]}
            )
        qty = clean_quantity(
            extra.get("counted"), field=f"new_lines.{i}.counted", allow_zero=True
        )
        line, _c = InventoryCountLine.objects.get_or_create(
            count=count,
            product=product,
            location_id=wh.stock_location_id,
            lot=lot,
            defaults={"expected": 0},
        )
        line.counted = qty
        line.save(update_fields=["counted"])
    count.version += 1
    count.save(update_fields=["version", "updated_at"])
    return count


@_atomic_retry
def inventory_count_validate(*, actor, count_id, version=None) -> InventoryCount:
    """Post the differences of a count as adjustment moves (gain: adjustment
    → location, loss: location → adjustment). The difference is counted −
    on hand at validation time, so moves posted while counting are kept.
    Lines without a counted quantity are skipped. Locks the count, then
    quants and levels. Raises BadState, VersionConflict."""
    _begin(actor, "inventory.change_inventorycount")
    count = locks.counts_for_update(InventoryCount.objects.filter(pk=count_id)).first()
    if count is None:
        raise NotFound()
    _check_version(count, version)
    if count.state != InventoryCount.State.DRAFT:
        raise BadState()
    wh = Warehouse.objects.get(pk=count.warehouse_id)
    adjustment = _get_or_create_virtual("adjustment")
    lines = list(
        count.lines.filter(counted__isnull=False).select_related(
            "product", "lot", "location"
        )
    )
    keys = {(li.product_id, li.location_id, li.lot_id) for li in lines}
    current = (
        {
            (q.product_id, q.location_id, q.lot_id): q.quantity
            for q in locks.quants_for_update(Quant.objects.filter(_quant_q(keys)))
        }
        if keys
        else {}
    )
    specs, done_lines = [], []
    for line in lines:
        line.location.warehouse = wh
        diff = line.counted - current.get(
            (line.product_id, line.location_id, line.lot_id), ZERO
        )
        line.difference = diff
        done_lines.append(line)
        if diff == 0:
            continue
        gain = diff > 0
        specs.append(
            _Spec(
                product=line.product,
                quantity=abs(diff),
                source=adjustment if gain else line.location,
                destination=line.location if gain else adjustment,
                lot=line.lot,
                origin_type="inventory.count",
                origin_id=count.pk,
                origin_line_id=line.pk,
                reference=count.number,
            )
        )
    moves = _post(actor, specs, warehouses={wh.pk: wh}) if specs else []
    for line in done_lines:
        InventoryCountLine.objects.filter(pk=line.pk).update(difference=line.difference)
    count.state = InventoryCount.State.DONE
    count.validated_at = timezone.now()
    count.version += 1
    count.save(update_fields=["state", "validated_at", "version", "updated_at"])
    audit.record(
        actor=actor,
        subject=count,
        action="state_changed",
        changes={"state": ["draft", "done"], "moves": len(moves)},
    )
    publish_on_commit(
        InventoryCountValidated(
            count_id=count.pk,
            warehouse_id=wh.pk,
            lines=tuple(
                (
                    m.product_id,
                    m.lot_id,
                    m.quantity if m.source_id == adjustment.pk else -m.quantity,
                    m.value,
                )
                for m in moves
            ),
        )
    )
    return count


@_atomic_retry
def inventory_count_cancel(*, actor, count_id, version=None) -> InventoryCount:
    """Drop a count sheet that is not validated. Raises BadState."""
    _begin(actor, "inventory.change_inventorycount")
    count = locks.counts_for_update(InventoryCount.objects.filter(pk=count_id)).first()
    if count is None:
        raise NotFound()
    _check_version(count, version)
    if count.state != InventoryCount.State.DRAFT:
        raise BadState()
    count.state = InventoryCount.State.CANCELLED
    count.version += 1
    count.save(update_fields=["state", "version", "updated_at"])
    audit.record(
        actor=actor,
        subject=count,
        action="state_changed",
        changes={"state": ["draft", "cancelled"]},
    )
    return count
