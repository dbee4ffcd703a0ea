"""Assortment, quotes and sales orders (SAL-1 assortment, SAL-2, SAL-3).
See docs/domains/sales.md."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from satu.core.fields import AmountField, QuantityField
from satu.core.models import TimeStampedModel

PERCENT = {"max_digits": 7, "decimal_places": 4}


class AssortmentRule(TimeStampedModel):
    """Which products (one product, or a category and its sub-categories) are
    offered in which warehouse/outlet (or all) to which client group (or all).

    When no active rule exists the assortment is not in use and nothing warns;
    once one exists, a quote or order line that no rule covers warns."""

    product = models.ForeignKey(
        "catalog.Product",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("product"),
    )
    category = models.ForeignKey(
        "catalog.Category",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("product category"),
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("warehouse or outlet"),
    )
    client_group = models.ForeignKey(
        "parties.ClientGroup",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("client group"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("assortment rule")
        verbose_name_plural = _("assortment rules")
        constraints = [
            models.CheckConstraint(
                condition=(Q(product__isnull=False) & Q(category__isnull=True))
                | (Q(product__isnull=True) & Q(category__isnull=False)),
                name="sales_assortment_one_target",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"


class Totals(models.Model):
    currency = models.CharField(_("currency"), max_length=3)
    untaxed = AmountField(_("untaxed"), default=0)
    tax = AmountField(_("tax"), default=0)
    total = AmountField(_("total"), default=0)

    class Meta:
        abstract = True


class DocumentLine(models.Model):
    """What quote and order lines share: a product in a unit, its price,
    discount and the tax copied from the rule at the time."""

    position = models.PositiveIntegerField(default=1)
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("product"),
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = QuantityField(_("quantity"))
    unit = models.CharField(_("unit"), max_length=16)
    # Base units in one `unit` (1 box = 12 pcs): stock moves in base units.
    factor = QuantityField(default=1)
    unit_price = AmountField(_("unit price"))
    discount_percent = models.DecimalField(_("discount %"), default=0, **PERCENT)
    tax_rule_id = models.BigIntegerField(null=True, blank=True)
    tax_name = models.CharField(_("tax"), max_length=100, blank=True)
    tax_rate = models.DecimalField(_("tax rate %"), default=0, **PERCENT)
    tax_inclusive = models.BooleanField(default=False)
    untaxed = AmountField(default=0)
    tax = AmountField(default=0)
    total = AmountField(default=0)
    price_explanation = models.CharField(max_length=300, blank=True)
    assortment_warning = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.description or str(self.product_id)


class Quote(Totals, TimeStampedModel):
    """A commercial proposal (SAL-2)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")

    number = models.CharField(_("number"), max_length=32, unique=True)
    client = models.ForeignKey(
        "parties.Client",
        on_delete=models.PROTECT,
        related_name="sales_quotes",
        verbose_name=_("client"),
    )
    deal = models.ForeignKey(
        "crm.Deal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sales_quotes",
        verbose_name=_("deal"),
    )
    company = models.ForeignKey(
        "parties.Company",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("warehouse"),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.DRAFT
    )
    issue_date = models.DateField(_("date"))
    valid_until = models.DateField(_("valid until"))
    note = models.TextField(_("note"), blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.CharField(max_length=254, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-issue_date", "-id"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        indexes = [
            models.Index(fields=["state", "valid_until"]),
            models.Index(fields=["client", "state"]),
        ]

    def __str__(self) -> str:
        return self.number


class QuoteLine(DocumentLine):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    class Meta(DocumentLine.Meta):
        verbose_name = _("quote line")


class SalesOrder(Totals, TimeStampedModel):
    """A sales order (SAL-3). `state` is the life cycle; the shipping,
    invoice and payment statuses are derived from inventory's and billing's
    ledgers and cached here for lists (refreshed by every service and by
    the TransferDone handler)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CONFIRMED = "confirmed", _("Confirmed")
        PROCESSING = "processing", _("Processing")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Progress(models.TextChoices):
        NONE = "none", _("Not yet")
        PARTIAL = "partial", _("Partly")
        FULL = "full", _("Fully")

    number = models.CharField(_("number"), max_length=32, unique=True)
    client = models.ForeignKey(
        "parties.Client",
        on_delete=models.PROTECT,
        related_name="sales_orders",
        verbose_name=_("client"),
    )
    deal = models.ForeignKey(
        "crm.Deal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sales_orders",
        verbose_name=_("deal"),
    )
    quote = models.ForeignKey(
        Quote,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("quote"),
    )
    contract = models.ForeignKey(
        "billing.Contract",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("contract"),
    )
    company = models.ForeignKey(
        "parties.Company",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("warehouse"),
    )
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.DRAFT
    )
    order_date = models.DateField(_("date"))
    # The delivery date promised to (or requested by) the client; a line may
    # carry its own (empty: this one). See "Delivery dates" in the docs.
    delivery_date = models.DateField(_("delivery date"), null=True, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    invoice_before_delivery = models.BooleanField(
        _("invoice before delivery"), default=False
    )
    without_reservation = models.BooleanField(
        _("confirmed without reservation"), default=False
    )
    credit_override_reason = models.TextField(blank=True)
    note = models.TextField(_("note"), blank=True)
    shipping_status = models.CharField(
        _("shipped"), max_length=8, choices=Progress.choices, default="none"
    )
    invoice_status = models.CharField(
        _("invoiced"), max_length=8, choices=Progress.choices, default="none"
    )
    invoiced_amount = AmountField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-order_date", "-id"]
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        permissions = [
            ("override_credit", "Can confirm an order over the credit limit")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="sales_order_external_id_unique",
            )
        ]
        indexes = [
            models.Index(fields=["state", "order_date"]),
            models.Index(fields=["client", "state"]),
            # The list's "late" filter and delivery-date sort.
            models.Index(fields=["state", "delivery_date"]),
        ]

    def __str__(self) -> str:
        return self.number


class SalesOrderLine(DocumentLine):
    order = models.ForeignKey(
        SalesOrder, on_delete=models.CASCADE, related_name="lines"
    )
    # Caches of the ledgers (in the line's unit), refreshed with the statuses.
    shipped_quantity = QuantityField(default=0)
    invoiced_quantity = QuantityField(default=0)
    # Empty: the order's delivery date.
    delivery_date = models.DateField(_("delivery date"), null=True, blank=True)

    class Meta(DocumentLine.Meta):
        verbose_name = _("sales order line")
        indexes = [
            # The "late" subquery: an order's lines by delivery date.
            models.Index(fields=["order", "delivery_date"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="sales_order_line_qty_positive"
            )
        ]
