"""Warehouses, locations, stock moves and balances, lots and serial numbers,
valuation, inventory counts (INV-1..3). See docs/domains/inventory.md.

Ledger and balances: `StockMove` (done) is the ledger; `Quant` (per
product × location × lot, internal and transit locations only) and
`StockLevel` (per product × warehouse: on hand, reserved, value) are running
balances updated under row locks in the same transaction as the move.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from satu.catalog.models import Product
from satu.core.fields import AmountField, QuantityField
from satu.core.models import TimeStampedModel
from satu.parties.models import Client, Company, Counterparty


class Warehouse(TimeStampedModel):
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    address = models.TextField(_("address"), blank=True)
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    allow_negative = models.BooleanField(_("allow negative stock"), default=False)
    is_outlet = models.BooleanField(_("outlet"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    view_location = models.ForeignKey(
        "Location", null=True, on_delete=models.PROTECT, related_name="+"
    )
    stock_location = models.ForeignKey(
        "Location", null=True, on_delete=models.PROTECT, related_name="+"
    )
    transit_location = models.ForeignKey(
        "Location", null=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["code"]
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Location(models.Model):
    class Kind(models.TextChoices):
        INTERNAL = "internal", _("Internal")
        VIEW = "view", _("View")
        SUPPLIER = "supplier", _("Suppliers")
        CUSTOMER = "customer", _("Customers")
        LOSS = "loss", _("Loss")
        ADJUSTMENT = "adjustment", _("Inventory adjustment")
        TRANSIT = "transit", _("Transit")

    VIRTUAL = ("supplier", "customer", "loss", "adjustment")
    # Locations that hold stock balances (quants).
    STOCKED = ("internal", "transit")

    warehouse = models.ForeignKey(
        Warehouse,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="locations",
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=32, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["warehouse_id", "id"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        constraints = [
            # One shared location of each virtual kind.
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(warehouse__isnull=True),
                name="inventory_location_virtual_unique",
            )
        ]

    def __str__(self) -> str:
        if self.warehouse_id and self.code:
            return f"{self.code}"
        return self.name


class Lot(models.Model):
    """A lot or a serial number of a product (a serial holds one unit)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("lot / serial"), max_length=64)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["product_id", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "code"], name="inventory_lot_unique"
            )
        ]

    def __str__(self) -> str:
        return self.code


class Quant(models.Model):
    """On hand of a product (lot) in an internal or transit location."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(
        Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity = QuantityField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["product", "location", "lot"],
                name="inventory_quant_unique",
            ),
            models.UniqueConstraint(
                fields=["product", "location"],
                condition=Q(lot__isnull=True),
                name="inventory_quant_nolot_unique",
            ),
        ]
        indexes = [models.Index(fields=["location", "product"])]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}: {self.quantity}"


class StockLevel(models.Model):
    """Running balance of a product in a warehouse (its internal locations):
    on hand, reserved (active reservations), value (valuation). The row lock
    on it serialises everything about this product in this warehouse."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="levels"
    )
    on_hand = QuantityField(default=0)
    reserved = QuantityField(default=0)
    value = AmountField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["product", "warehouse"], name="inventory_level_unique"
            )
        ]
        indexes = [models.Index(fields=["warehouse", "product"])]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id}: {self.on_hand}"

    @property
    def available(self):
        return self.on_hand - self.reserved


class Transfer(TimeStampedModel):
    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        DELIVERY = "delivery", _("Delivery")
        INTERNAL = "internal", _("Internal transfer")
        WRITE_OFF = "write_off", _("Write-off")
        ADJUSTMENT = "adjustment", _("Adjustment")
        # Goods taken back from a customer (customer → the stock location
        # they left from, at the value they left with): `customer_return`.
        RETURN = "return", _("Customer return")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CONFIRMED = "confirmed", _("Confirmed")
        PICKED = "picked", _("Picked")
        PACKED = "packed", _("Packed")
        IN_TRANSIT = "in_transit", _("In transit")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="transfers"
    )
    destination_warehouse = models.ForeignKey(
        Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.DRAFT
    )
    origin_type = models.CharField(max_length=40, blank=True)
    origin_id = models.BigIntegerField(null=True, blank=True)
    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    counterparty = models.ForeignKey(
        Counterparty, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.ForeignKey(
        "WriteOffReason",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    backorder_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    scheduled_date = models.DateField(_("scheduled date"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        indexes = [
            models.Index(fields=["origin_type", "origin_id"]),
            models.Index(fields=["state", "kind"]),
        ]

    def __str__(self) -> str:
        return self.number


class TransferLine(models.Model):
    transfer = models.ForeignKey(
        Transfer, on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = QuantityField(_("quantity"))
    done_quantity = QuantityField(_("done"), default=0)
    lot = models.ForeignKey(
        Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    origin_line_id = models.BigIntegerField(null=True, blank=True)
    unit_cost = AmountField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="inventory_transfer_line_qty_pos"
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"


class StockMove(models.Model):
    """One movement of a quantity from a location to another: the ledger."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    # No index of its own: the (product, -id) index below serves every
    # lookup by product, and a move insert maintains one index fewer.
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    quantity = QuantityField(_("quantity"))
    source = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    destination = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+"
    )
    lot = models.ForeignKey(
        Lot,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # partial index in Meta
    )
    state = models.CharField(max_length=10, choices=State.choices, default="draft")
    unit_cost = AmountField(default=0)
    value = AmountField(default=0)
    origin_type = models.CharField(max_length=40, blank=True)
    origin_id = models.BigIntegerField(null=True, blank=True)
    origin_line_id = models.BigIntegerField(null=True, blank=True)
    transfer = models.ForeignKey(
        Transfer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="moves",
        db_index=False,  # partial index in Meta
    )
    transfer_line = models.ForeignKey(
        TransferLine,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="moves",
        db_index=False,  # partial index in Meta
    )
    reference = models.CharField(max_length=100, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="inventory_move_qty_pos"
            )
        ]
        # Optional references are indexed where set only (partial indexes):
        # a lookup by value uses them, and a plain move — most of them —
        # maintains four index entries fewer when it is inserted.
        indexes = [
            models.Index(fields=["product", "-id"]),
            models.Index(
                fields=["origin_type", "origin_id"],
                condition=Q(origin_id__isnull=False),
                name="inventory_move_origin",
            ),
            models.Index(
                fields=["lot"],
                condition=Q(lot__isnull=False),
                name="inventory_move_lot",
            ),
            models.Index(
                fields=["transfer"],
                condition=Q(transfer__isnull=False),
                name="inventory_move_transfer",
            ),
            models.Index(
                fields=["transfer_line"],
                condition=Q(transfer_line__isnull=False),
                name="inventory_move_tline",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.quantity} × {self.product_id} "
            f"{self.source_id}→{self.destination_id}"
        )


class CostLayer(models.Model):
    """A FIFO layer: what came into a warehouse at one unit cost and how much
    of it is still there. Guarded by the StockLevel lock of its product ×
    warehouse."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    move = models.ForeignKey(StockMove, on_delete=models.PROTECT, related_name="+")
    quantity = QuantityField()
    remaining = QuantityField()
    unit_cost = AmountField()
    remaining_value = AmountField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["product", "warehouse", "remaining"])]

    def __str__(self) -> str:
        return f"{self.remaining} @ {self.unit_cost}"


class Reservation(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        DONE = "done", _("Done")
        RELEASED = "released", _("Released")

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    quantity = QuantityField()  # still reserved (shipments consume it)
    original_quantity = QuantityField(default=0)
    origin_type = models.CharField(max_length=40)
    origin_id = models.BigIntegerField()
    origin_line_id = models.BigIntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default="active")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["origin_type", "origin_id", "state"]),
            models.Index(fields=["product", "warehouse", "state"]),
        ]

    def __str__(self) -> str:
        return (
            f"{self.quantity} × {self.product_id} "
            f"for {self.origin_type} {self.origin_id}"
        )


class WriteOffReason(models.Model):
    """A configurable reason for writing stock off (damaged, expired ...)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class InventoryCount(TimeStampedModel):
    class State(models.TextChoices):
        DRAFT = "draft", _("Counting")
        DONE = "done", _("Validated")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=40, unique=True)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default="draft")
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    validated_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.number


class InventoryCountLine(models.Model):
    count = models.ForeignKey(
        InventoryCount, on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(
        Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expected = QuantityField(default=0)
    counted = QuantityField(null=True, blank=True)
    difference = QuantityField(null=True, blank=True)  # set on validation

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.expected} → {self.counted}"
