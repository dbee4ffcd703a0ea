"""Catalog: units of measure, categories, products (goods, services, kits),
unit conversions per product, kit components, price lists with quantity
breaks and discounts. See docs/domains/catalog.md."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from satu.core.fields import AmountField, QuantityField
from satu.core.models import TimeStampedModel
from satu.parties.models import ClientGroup

PERCENT = {"max_digits": 7, "decimal_places": 4}


class Unit(models.Model):
    """A unit of measure ("pcs", "box", "kg"); how units relate is per product."""

    code = models.SlugField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=64)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")

    def __str__(self) -> str:
        return self.code


class Category(models.Model):
    """A product category (tree)."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent"),
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="catalog_category_name_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.parent} / {self.name}" if self.parent_id else self.name


class Product(TimeStampedModel):
    class Kind(models.TextChoices):
        GOODS = "goods", _("Goods")
        SERVICE = "service", _("Service")
        KIT = "kit", _("Kit")

    class Tracking(models.TextChoices):
        NONE = "none", _("No tracking")
        LOT = "lot", _("By lot")
        SERIAL = "serial", _("By serial number")

    class CostingMethod(models.TextChoices):
        AVERAGE = "average", _("Moving average")
        FIFO = "fifo", _("FIFO")

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=10, choices=Kind.choices, default=Kind.GOODS
    )
    base_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("base unit")
    )
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
        verbose_name=_("category"),
    )
    barcode = models.CharField(_("barcode"), max_length=14, blank=True)
    tracking = models.CharField(
        _("tracking"), max_length=10, choices=Tracking.choices, default=Tracking.NONE
    )
    tax_category = models.CharField(_("tax category"), max_length=32, blank=True)
    costing_method = models.CharField(
        _("costing method"),
        max_length=10,
        choices=CostingMethod.choices,
        default=CostingMethod.AVERAGE,
    )
    # Standard cost: the valuation of a receipt that names no price, and the
    # starting average before the first receipt (INV-2).
    cost_price = AmountField(_("cost price"), default=0)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    custom = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(
                fields=["barcode"],
                condition=~Q(barcode=""),
                name="catalog_product_barcode_unique",
            )
        ]
        indexes = [
            models.Index(fields=["is_active", "name", "id"]),
            models.Index(fields=["category", "is_active"]),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class ProductUnit(models.Model):
    """A unit a product is also counted in: one `unit` holds `factor` base units
    (1 box = 12 pcs)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="units")
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    factor = QuantityField(_("base units per unit"))

    class Meta:
        ordering = ["factor", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "unit"], name="catalog_product_unit_unique"
            ),
            models.CheckConstraint(
                condition=Q(factor__gt=0), name="catalog_product_unit_factor_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"1 {self.unit} = {self.factor} × base"


class KitComponent(models.Model):
    """A component of a kit, in the component's base unit."""

    kit = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="components"
    )
    component = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="in_kits"
    )
    quantity = QuantityField(_("quantity"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kit", "component"], name="catalog_kit_component_unique"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="catalog_kit_quantity_positive"
            ),
            models.CheckConstraint(
                condition=~Q(kit=F("component")), name="catalog_kit_not_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.component_id}"


class PriceList(TimeStampedModel):
    """Prices in one currency for one client group (or everyone), valid for
    a period; the list with the highest priority that has a price wins."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    client_group = models.ForeignKey(
        ClientGroup,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("client group"),
    )
    currency = models.CharField(_("currency"), max_length=3, default="IDR")
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    priority = models.IntegerField(pgettext_lazy("price list", "priority"), default=0)
    discount_percent = models.DecimalField(_("discount %"), default=0, **PERCENT)
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-priority", "name", "id"]
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=F("valid_from")),
                name="catalog_price_list_period_valid",
            )
        ]
        indexes = [models.Index(fields=["currency", "is_active"])]

    def __str__(self) -> str:
        return self.name


class PriceListItem(models.Model):
    """The price of a product per `unit` from `min_quantity` of that unit on
    (a quantity break); its own discount replaces the list's when set."""

    price_list = models.ForeignKey(
        PriceList, on_delete=models.CASCADE, related_name="items"
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="price_items"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    min_quantity = QuantityField(_("from quantity"), default=1)
    price = AmountField(_("price"))
    discount_percent = models.DecimalField(
        _("discount %"), null=True, blank=True, **PERCENT
    )

    class Meta:
        ordering = ["product", "unit", "min_quantity", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product", "unit", "min_quantity"],
                name="catalog_price_item_break_unique",
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0), name="catalog_price_item_price_positive"
            ),
        ]
        indexes = [models.Index(fields=["product", "price_list"])]

    def __str__(self) -> str:
        return f"{self.product_id} {self.min_quantity}+ {self.unit_id}: {self.price}"


class TaxRule(TimeStampedModel):
    """A tax as data (SAL-3): a rate, inclusive or exclusive, for sales,
    purchases or both, applying to products of one tax category code, or of
    one product category (and its sub-categories), or to everything (neither
    set). See `satu.catalog.taxes` for how a product finds its rule."""

    class AppliesTo(models.TextChoices):
        SALES = "sales", _("Sales")
        PURCHASES = "purchases", _("Purchases")
        BOTH = "both", _("Sales and purchases")

    name = models.CharField(_("name"), max_length=100)
    rate = models.DecimalField(_("rate %"), **PERCENT)
    inclusive = models.BooleanField(_("price includes tax"), default=False)
    applies_to = models.CharField(
        _("applies to"), max_length=10, choices=AppliesTo.choices, default="both"
    )
    tax_category = models.CharField(_("tax category"), max_length=32, blank=True)
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("product category"),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("tax rule")
        verbose_name_plural = _("tax rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lt=100), name="taxrule_rate_range"
            ),
            models.CheckConstraint(
                condition=Q(tax_category="") | Q(category__isnull=True),
                name="taxrule_one_target",
            ),
        ]

    def __str__(self) -> str:
        return self.name
