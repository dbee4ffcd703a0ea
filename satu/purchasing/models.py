"""Supplier prices, purchase orders, receipts, reorder points (PUR-1).
See docs/domains/purchasing.md."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from satu.catalog.models import Product
from satu.core.fields import AmountField, QuantityField
from satu.core.models import TimeStampedModel
from satu.parties.models import Counterparty


class SupplierPrice(TimeStampedModel):
    """What a supplier charges for a product from a minimum quantity on,
    in a currency, during a period."""

    supplier = models.ForeignKey(
        Counterparty,
        on_delete=models.PROTECT,
        related_name="supplier_prices",
        verbose_name=_("supplier"),
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="supplier_prices",
        verbose_name=_("product"),
    )
    currency = models.CharField(_("currency"), max_length=3, default="IDR")
    price = AmountField(_("price"))
    min_quantity = QuantityField(_("minimum quantity"), default=1)
    lead_time_days = models.PositiveIntegerField(_("lead time (days)"), default=0)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    supplier_sku = models.CharField(_("supplier's code"), max_length=64, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["product_id", "supplier_id", "min_quantity", "id"]
        verbose_name = _("supplier price")
        verbose_name_plural = _("supplier prices")
        indexes = [
            models.Index(fields=["product", "is_active"]),
            models.Index(fields=["supplier", "product"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="supplier_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(min_quantity__gt=0),
                name="supplier_price_min_quantity_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier_id}/{self.product_id} {self.price} {self.currency}"


class PurchaseOrder(TimeStampedModel):
    """An order to a supplier: confirmed, it waits as an incoming receipt in
    the warehouse; received goods are billed by the supplier's invoice."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CONFIRMED = "confirmed", _("Confirmed")
        PROCESSING = "processing", _("Processing")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Progress(models.TextChoices):
        NOTHING = "nothing", _("Nothing yet")
        PARTIAL = "partial", _("Partly")
        FULL = "full", _("Fully")
        NONE = "none", _("Not applicable")

    number = models.CharField(_("number"), max_length=32, blank=True)
    supplier = models.ForeignKey(
        Counterparty,
        on_delete=models.PROTECT,
        related_name="purchase_orders",
        verbose_name=_("supplier"),
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        on_delete=models.PROTECT,
        related_name="purchase_orders",
        verbose_name=_("warehouse"),
    )
    contract = models.ForeignKey(
        "billing.Contract",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="purchase_orders",
        verbose_name=_("contract"),
    )
    currency = models.CharField(_("currency"), max_length=3, default="IDR")
    order_date = models.DateField(_("order date"))
    expected_date = models.DateField(_("expected date"), null=True, blank=True)
    reference = models.CharField(_("supplier's reference"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.DRAFT
    )
    receipt_status = models.CharField(
        _("received"), max_length=8, choices=Progress.choices, default=Progress.NOTHING
    )
    bill_status = models.CharField(
        _("billed"), max_length=8, choices=Progress.choices, default=Progress.NOTHING
    )
    untaxed = AmountField(_("untaxed"), default=0)
    tax = AmountField(_("tax"), default=0)
    total = AmountField(_("total"), default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        permissions = [
            ("bill_purchaseorder", "Can bill purchase orders (supplier invoices)"),
        ]
        indexes = [
            models.Index(fields=["state", "-id"]),
            models.Index(fields=["supplier", "-id"]),
            models.Index(fields=["number"]),
        ]

    def __str__(self) -> str:
        return self.number or str(_("Draft purchase order %(id)s") % {"id": self.pk})


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    description = models.CharField(_("description"), max_length=255, blank=True)
    quantity = QuantityField(_("quantity"))
    unit_price = AmountField(_("unit price"))
    tax_rate = models.DecimalField(
        _("tax rate %"), max_digits=7, decimal_places=4, default=0
    )
    tax_inclusive = models.BooleanField(_("tax included"), default=False)
    untaxed = AmountField(_("untaxed"), default=0)
    tax = AmountField(_("tax"), default=0)
    total = AmountField(_("total"), default=0)
    received_quantity = QuantityField(_("received"), default=0)
    billed_quantity = QuantityField(_("billed"), default=0)
    cancelled_quantity = QuantityField(_("cancelled"), default=0)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order_id", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="po_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="po_line_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.product_id} × {self.quantity}"

    @property
    def is_service(self) -> bool:
        return self.product.kind != Product.Kind.GOODS

    @property
    def open_quantity(self):
        """Ordered, not cancelled, not yet received."""
        return self.quantity - self.cancelled_quantity - self.received_quantity


class ReorderPoint(TimeStampedModel):
    """Keep a product's available + incoming stock in a warehouse at least
    at `minimum`; propose buying up to `maximum` in multiples of `multiple`."""

    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="reorder_points",
        verbose_name=_("product"),
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        on_delete=models.PROTECT,
        related_name="reorder_points",
        verbose_name=_("warehouse"),
    )
    minimum = QuantityField(_("minimum"))
    maximum = QuantityField(_("maximum"))
    multiple = QuantityField(_("order in multiples of"), default=1)
    preferred_supplier = models.ForeignKey(
        Counterparty,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("preferred supplier"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["warehouse_id", "product_id"]
        verbose_name = _("reorder point")
        verbose_name_plural = _("reorder points")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "warehouse"], name="reorder_point_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(minimum__gte=0)
                & models.Q(maximum__gte=models.F("minimum"))
                & models.Q(multiple__gt=0),
                name="reorder_point_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id} {self.minimum}–{self.maximum}"
