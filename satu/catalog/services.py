"""Public writes of the catalog: units, categories, products, conversions,
kit components, price lists and their items. Every function is one
transaction; invalid input raises a DomainError before anything is written.

Units are referred to by code ("pcs", "box") everywhere, like currencies.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumError

from satu.catalog import queries
from satu.catalog.errors import ProductArchived
from satu.catalog.events import PricesChanged, ProductCreated
from satu.catalog.events import ProductArchived as ProductArchivedEvent
from satu.catalog.models import (
    Category,
    KitComponent,
    PriceList,
    PriceListItem,
    Product,
    ProductUnit,
    TaxRule,
    Unit,
)
from satu.core import audit, custom_fields, features
from satu.core.errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
    VersionConflict,
)
from satu.core.events import publish_on_commit
from satu.core.money import currency_precision
from satu.parties.models import ClientGroup

PRODUCT_FIELDS = [
    "sku",
    "name",
    "kind",
    "base_unit",
    "category_id",
    "barcode",
    "tracking",
    "tax_category",
    "description",
    "costing_method",
    "cost_price",
]
PRICE_LIST_FIELDS = [
    "name",
    "client_group_id",
    "currency",
    "valid_from",
    "valid_to",
    "priority",
    "discount_percent",
    "is_active",
]
TEXT_LIMITS = {
    "sku": 64,
    "name": 200,
    "tax_category": 32,
    "description": 10000,
}


def _begin(actor, perm: str) -> None:
    features.require("catalog")
    if not actor.has_perm(perm):
        raise PermissionDenied()


def _check_version(obj, version: int | None) -> None:
    if version is not None and version != obj.version:
        raise VersionConflict()


def _unit(code, errors: dict, field: str) -> Unit | None:
    unit = queries.unit_by_code(code)
    if unit is None:
        errors[field] = [_("Unknown unit “%(code)s”.") % {"code": code}]
    return unit


def _percent(value, errors: dict, field: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        errors[field] = [_("Enter a number.")]
        return None
    if not number.is_finite() or number < 0 or number > 100:
        errors[field] = [_("Enter a percentage from 0 to 100.")]
        return None
    if -number.normalize().as_tuple().exponent > 4:
        errors[field] = [_("At most %(n)d decimals.") % {"n": 4}]
        return None
    return number


def _validation(errors: dict) -> None:
    if errors:
        raise ValidationFailed(fields=errors)


def _quantity(value, errors: dict, field: str) -> Decimal | None:
    try:
        return queries.clean_quantity(value, field=field)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        return None


# ---------------------------------------------------------------- units, categories


@transaction.atomic
def unit_create(*, actor, code: str, name: str) -> Unit:
    """Define a unit of measure. Raises ValidationFailed (bad or taken code)."""
    _begin(actor, "catalog.add_unit")
    code = str(code or "").strip().lower()
    name = str(name or "").strip()
    errors = {}
    if (
        not code
        or len(code) > 16
        or not code.replace("-", "").replace("_", "").isalnum()
    ):
        errors["code"] = [_("Use up to 16 letters, digits, - or _.")]
    elif Unit.objects.filter(code=code).exists():
        errors["code"] = [_("A unit with this code already exists.")]
    if not name or len(name) > 64:
        errors["name"] = [_("Enter a name of at most 64 characters.")]
    _validation(errors)
    unit = Unit.objects.create(code=code, name=name)
    audit.record(actor=actor, subject=unit, action="created")
    return unit


@transaction.atomic
def category_create(*, actor, name: str, parent_id: int | None = None) -> Category:
    """Add a product category, optionally under `parent_id`."""
    _begin(actor, "catalog.add_category")
    name = str(name or "").strip()
    errors = {}
    if not name or len(name) > 100:
        errors["name"] = [_("Enter a name of at most 100 characters.")]
    if parent_id is not None and not Category.objects.filter(pk=parent_id).exists():
        errors["parent_id"] = [_("Unknown category.")]
    if not errors and Category.objects.filter(parent_id=parent_id, name=name).exists():
        errors["name"] = [_("This category already exists here.")]
    _validation(errors)
    category = Category.objects.create(name=name, parent_id=parent_id)
    audit.record(actor=actor, subject=category, action="created")
    return category


# ---------------------------------------------------------------- products


def _clean_barcode(value: str, errors: dict) -> str:
    text = str(value or "").strip().replace(" ", "").replace("-", "")
    if not text:
        return ""
    try:
        return ean.validate(text)
    except StdnumError:
        errors["barcode"] = [_("Not a valid EAN/GTIN barcode (check digit).")]
        return text


def _clean_product(data: dict, *, product: Product | None) -> dict:
    """Validate and normalise product fields; raise ValidationFailed."""
    errors: dict[str, list] = {}
    for key, limit in TEXT_LIMITS.items():
        if key in data and data[key] is not None:
            data[key] = str(data[key]).strip()
            if len(data[key]) > limit:
                errors[key] = [_("At most %(n)d characters.") % {"n": limit}]
    for key in ("sku", "name"):
        if (product is None or key in data) and not data.get(key):
            errors[key] = [_("This field is required.")]
    if data.get("sku") and "sku" not in errors:
        taken = Product.objects.filter(sku__iexact=data["sku"])
        if product is not None:
            taken = taken.exclude(pk=product.pk)
        if taken.exists():
            errors["sku"] = [_("Another product has this SKU.")]
    if "kind" in data and data["kind"] not in Product.Kind.values:
        errors["kind"] = [
            _("Choose one of: %(c)s.") % {"c": ", ".join(Product.Kind.values)}
        ]
    if "tracking" in data and data["tracking"] not in Product.Tracking.values:
        errors["tracking"] = [
            _("Choose one of: %(c)s.") % {"c": ", ".join(Product.Tracking.values)}
        ]
    kind = data.get("kind", product.kind if product else Product.Kind.GOODS)
    tracking = data.get("tracking", product.tracking if product else "none")
    if kind != Product.Kind.GOODS and tracking != Product.Tracking.NONE:
        errors["tracking"] = [_("Only goods can be tracked by lot or serial number.")]
    if "base_unit" in data:
        unit = _unit(data["base_unit"], errors, "base_unit")
        data["base_unit"] = unit
        if unit and product is not None and unit.pk != product.base_unit_id:
            if product.units.exists() or product.price_items.exists():
                errors["base_unit"] = [
                    _(
                        "The base unit cannot change once the product has unit "
                        "conversions or prices."
                    )
                ]
    if data.get("category_id") is not None:
        if not Category.objects.filter(pk=data["category_id"]).exists():
            errors["category_id"] = [_("Unknown category.")]
    if "barcode" in data:
        data["barcode"] = _clean_barcode(data["barcode"], errors)
        if data["barcode"] and "barcode" not in errors:
            taken = Product.objects.filter(barcode=data["barcode"])
            if product is not None:
                taken = taken.exclude(pk=product.pk)
            if taken.exists():
                errors["barcode"] = [_("Another product has this barcode.")]
    if "costing_method" in data and (
        data["costing_method"] not in Product.CostingMethod.values
    ):
        errors["costing_method"] = [
            _("Choose one of: %(c)s.") % {"c": ", ".join(Product.CostingMethod.values)}
        ]
    if "cost_price" in data:
        data["cost_price"] = _cost_price(data["cost_price"], errors)
    if product is not None and "kind" in data and data["kind"] != product.kind:
        if product.kind == Product.Kind.KIT and product.components.exists():
            errors["kind"] = [_("Remove the kit's components first.")]
    _validation(errors)
    return data


def _cost_price(value, errors: dict) -> Decimal:
    """A standard cost ≥ 0 with at most four decimals (0 when empty)."""
    if value is None or value == "":
        return Decimal(0)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors["cost_price"] = [_("Enter a number.")]
        return Decimal(0)
    if isinstance(value, (bool, float)) or not number.is_finite() or number < 0:
        errors["cost_price"] = [_("Enter an amount of zero or more.")]
    elif -number.normalize().as_tuple().exponent > 4:
        errors["cost_price"] = [_("At most %(n)d decimals.") % {"n": 4}]
    elif number >= Decimal("1e15"):
        errors["cost_price"] = [_("This amount is too large.")]
    return number


def _clean_units(base_unit: Unit, conversions, errors: dict) -> list[tuple]:
    result, seen = [], {base_unit.code}
    for index, row in enumerate(conversions or []):
        field = f"units.{index}"
        unit = _unit(row.get("unit"), errors, f"{field}.unit")
        factor = _quantity(row.get("factor"), errors, f"{field}.factor")
        if unit is None or factor is None:
            continue
        if unit.code in seen:
            errors[f"{field}.unit"] = [_("This unit is already defined.")]
            continue
        seen.add(unit.code)
        result.append((unit, factor))
    return result


@transaction.atomic
def product_create(
    *,
    actor,
    sku: str,
    name: str,
    base_unit: str,
    kind: str = Product.Kind.GOODS,
    category_id: int | None = None,
    barcode: str = "",
    tracking: str = Product.Tracking.NONE,
    tax_category: str = "",
    description: str = "",
    units: list[dict] | None = None,
    custom: dict | None = None,
    costing_method: str = Product.CostingMethod.AVERAGE,
    cost_price=0,
) -> Product:
    """Create a product counted in `base_unit` (a unit code), with optional
    conversions `units=[{"unit": "box", "factor": 12}]` (1 box = 12 base).

    Raises ValidationFailed (missing/duplicate SKU, bad barcode, unknown
    unit or category, lot tracking on a service...), PermissionDenied
    without `catalog.add_product`, FeatureDisabled.
    """
    _begin(actor, "catalog.add_product")
    data = _clean_product(
        {
            "sku": sku,
            "name": name,
            "kind": kind,
            "base_unit": base_unit,
            "category_id": category_id,
            "barcode": barcode,
            "tracking": tracking,
            "tax_category": tax_category,
            "description": description,
            "costing_method": costing_method,
            "cost_price": cost_price,
        },
        product=None,
    )
    errors: dict = {}
    conversions = _clean_units(data["base_unit"], units, errors)
    try:
        cleaned_custom = custom_fields.clean_values("catalog.product", custom)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    _validation(errors)
    try:
        with transaction.atomic():
            product = Product.objects.create(**data, custom=cleaned_custom)
    except IntegrityError:  # a concurrent create took the SKU or barcode
        raise ValidationFailed(
            fields={"sku": [_("Another product has this SKU or barcode.")]}
        ) from None
    ProductUnit.objects.bulk_create(
        ProductUnit(product=product, unit=unit, factor=factor)
        for unit, factor in conversions
    )
    audit.record(actor=actor, subject=product, action="created")
    publish_on_commit(ProductCreated(product_id=product.pk))
    return product


def _editable_product(actor, product_id) -> Product:
    _begin(actor, "catalog.change_product")
    try:
        pk = int(product_id)
    except (TypeError, ValueError):
        raise NotFound(_("Product not found.")) from None
    product = (
        Product.objects.select_for_update(of=("self",))
        .select_related("base_unit")
        .filter(pk=pk)
        .first()
    )
    if product is None:
        raise NotFound(_("Product not found."))
    return product


def _audit_fields():
    return [f if f != "base_unit" else "base_unit_id" for f in PRODUCT_FIELDS] + [
        "custom"
    ]


@transaction.atomic
def product_update(
    *, actor, product_id: int, version: int | None = None, **changes
) -> Product:
    """Change the given fields of a product (partial update; `custom` merges
    into the stored values). Locks the product row.

    Raises VersionConflict for a stale `version`, ProductArchived, NotFound,
    ValidationFailed (as product_create; the base unit is fixed once the
    product has conversions or prices).
    """
    product = _editable_product(actor, product_id)
    _check_version(product, version)
    if not product.is_active:
        raise ProductArchived()
    unknown = set(changes) - set(PRODUCT_FIELDS) - {"custom"}
    _validation({k: [_("Unknown field.")] for k in unknown})
    custom = changes.pop("custom", None)
    data = _clean_product(dict(changes), product=product)
    if custom is not None:
        data["custom"] = custom_fields.clean_values(
            "catalog.product", custom, existing=product.custom, partial=True
        )
    before = audit.snapshot(product, _audit_fields())
    for key, value in data.items():
        setattr(product, key, value)
    after = audit.snapshot(product, _audit_fields())
    changed = audit.diff(before, after)
    if changed:
        product.version += 1
        product.save()
        audit.record(actor=actor, subject=product, action="updated", changes=changed)
    return product


@transaction.atomic
def product_archive(*, actor, product_id: int, archived: bool = True) -> Product:
    """Hide a product from lists and pricing (or bring it back). Locks it."""
    product = _editable_product(actor, product_id)
    if product.is_active == (not archived):
        return product
    product.is_active = not archived
    product.version += 1
    product.save(update_fields=["is_active", "version", "updated_at"])
    audit.record(
        actor=actor, subject=product, action="archived" if archived else "restored"
    )
    publish_on_commit(ProductArchivedEvent(product_id=product.pk, archived=archived))
    return product


@transaction.atomic
def product_unit_set(*, actor, product_id: int, unit: str, factor) -> ProductUnit:
    """Count the product also in `unit`: one `unit` holds `factor` base units.

    Changing the factor of a unit that prices use is refused (the prices
    would silently change meaning)."""
    product = _editable_product(actor, product_id)
    errors: dict = {}
    unit_obj = _unit(unit, errors, "unit")
    factor = _quantity(factor, errors, "factor")
    if unit_obj is not None and unit_obj.pk == product.base_unit_id:
        errors["unit"] = [_("This is the product's base unit.")]
    _validation(errors)
    existing = ProductUnit.objects.filter(product=product, unit=unit_obj).first()
    if existing is not None:
        if (
            existing.factor != factor
            and product.price_items.filter(unit=unit_obj).exists()
        ):
            raise ValidationFailed(
                fields={"factor": [_("Prices use this unit; remove them first.")]}
            )
        existing.factor = factor
        existing.save(update_fields=["factor"])
        row = existing
    else:
        row = ProductUnit.objects.create(product=product, unit=unit_obj, factor=factor)
    audit.record(
        actor=actor,
        subject=product,
        action="updated",
        changes={f"unit {unit_obj.code}": [None, str(factor)]},
    )
    return row


@transaction.atomic
def kit_components_set(*, actor, product_id: int, components: list[dict]) -> Product:
    """Replace a kit's components: `[{"product_id": 5, "quantity": "2"}]`,
    quantities in each component's base unit. Components are goods or
    services, never kits (no cycles). Locks the kit."""
    product = _editable_product(actor, product_id)
    errors: dict = {}
    if product.kind != Product.Kind.KIT:
        errors["components"] = [_("Only a kit has components.")]
        _validation(errors)
    ids = [row.get("product_id") for row in components]
    found = {p.pk: p for p in Product.objects.filter(pk__in=[i for i in ids if i])}
    rows, seen = [], set()
    for index, row in enumerate(components):
        field = f"components.{index}"
        component = found.get(row.get("product_id"))
        quantity = _quantity(row.get("quantity"), errors, f"{field}.quantity")
        if component is None:
            errors[f"{field}.product_id"] = [_("Unknown product.")]
            continue
        if component.kind == Product.Kind.KIT or component.pk == product.pk:
            errors[f"{field}.product_id"] = [_("A kit cannot contain a kit.")]
            continue
        if component.pk in seen:
            errors[f"{field}.product_id"] = [_("This product is listed twice.")]
            continue
        seen.add(component.pk)
        if quantity is not None:
            rows.append(
                KitComponent(kit=product, component=component, quantity=quantity)
            )
    _validation(errors)
    before = sorted(
        f"{c.component_id}×{c.quantity.normalize()}" for c in product.components.all()
    )
    product.components.all().delete()
    KitComponent.objects.bulk_create(rows)
    after = sorted(f"{c.component_id}×{c.quantity.normalize()}" for c in rows)
    product.version += 1
    product.save(update_fields=["version", "updated_at"])
    audit.record(
        actor=actor,
        subject=product,
        action="updated",
        changes={"components": [before, after]},
    )
    return product


# ---------------------------------------------------------------- price lists


def _clean_price_list(data: dict, *, price_list: PriceList | None) -> dict:
    errors: dict[str, list] = {}
    if "name" in data:
        data["name"] = str(data["name"] or "").strip()
        if not data["name"] or len(data["name"]) > 100:
            errors["name"] = [_("Enter a name of at most 100 characters.")]
        else:
            taken = PriceList.objects.filter(name__iexact=data["name"])
            if price_list is not None:
                taken = taken.exclude(pk=price_list.pk)
            if taken.exists():
                errors["name"] = [_("Another price list has this name.")]
    if "currency" in data:
        try:
            data["currency"] = queries.clean_currency(data["currency"])
        except ValidationFailed as exc:
            errors.update(exc.fields)
        else:
            if (
                price_list is not None
                and data["currency"] != price_list.currency
                and price_list.items.exists()
            ):
                errors["currency"] = [
                    _("The currency cannot change while the list has prices.")
                ]
    if data.get("client_group_id") is not None:
        if not ClientGroup.objects.filter(pk=data["client_group_id"]).exists():
            errors["client_group_id"] = [_("Unknown client group.")]
    if "discount_percent" in data:
        data["discount_percent"] = _percent(
            data["discount_percent"] or 0, errors, "discount_percent"
        )
    if "priority" in data:
        try:
            data["priority"] = int(data["priority"] or 0)
        except (TypeError, ValueError):
            errors["priority"] = [_("Enter a whole number.")]
        else:
            if abs(data["priority"]) > 1_000_000:
                errors["priority"] = [_("Enter a number from -1000000 to 1000000.")]
    start = data.get("valid_from", price_list.valid_from if price_list else None)
    end = data.get("valid_to", price_list.valid_to if price_list else None)
    if start and end and end < start:
        errors["valid_to"] = [_("The end date is before the start date.")]
    _validation(errors)
    return data


@transaction.atomic
def price_list_create(
    *,
    actor,
    name: str,
    currency: str = "IDR",
    client_group_id: int | None = None,
    valid_from: date | None = None,
    valid_to: date | None = None,
    priority: int = 0,
    discount_percent=0,
    is_active: bool = True,
) -> PriceList:
    """Create a price list for a client group (None: everyone).

    Raises ValidationFailed (name taken, unknown currency or group, end
    before start, discount outside 0–100), PermissionDenied without
    `catalog.add_pricelist`."""
    _begin(actor, "catalog.add_pricelist")
    data = _clean_price_list(
        {
            "name": name,
            "currency": currency,
            "client_group_id": client_group_id,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "priority": priority,
            "discount_percent": discount_percent,
            "is_active": bool(is_active),
        },
        price_list=None,
    )
    price_list = PriceList.objects.create(**data)
    audit.record(actor=actor, subject=price_list, action="created")
    return price_list


def _editable_price_list(actor, price_list_id) -> PriceList:
    _begin(actor, "catalog.change_pricelist")
    try:
        pk = int(price_list_id)
    except (TypeError, ValueError):
        raise NotFound(_("Price list not found.")) from None
    price_list = PriceList.objects.select_for_update().filter(pk=pk).first()
    if price_list is None:
        raise NotFound(_("Price list not found."))
    return price_list


@transaction.atomic
def price_list_update(
    *, actor, price_list_id: int, version: int | None = None, **changes
) -> PriceList:
    """Change the given fields of a price list; locks it; VersionConflict on a
    stale `version`. The currency is fixed once the list has prices."""
    price_list = _editable_price_list(actor, price_list_id)
    _check_version(price_list, version)
    unknown = set(changes) - set(PRICE_LIST_FIELDS)
    _validation({k: [_("Unknown field.")] for k in unknown})
    data = _clean_price_list(dict(changes), price_list=price_list)
    before = audit.snapshot(price_list, PRICE_LIST_FIELDS)
    for key, value in data.items():
        setattr(price_list, key, value)
    changed = audit.diff(before, audit.snapshot(price_list, PRICE_LIST_FIELDS))
    if changed:
        price_list.version += 1
        price_list.save()
        audit.record(actor=actor, subject=price_list, action="updated", changes=changed)
        publish_on_commit(PricesChanged(price_list_id=price_list.pk))
    return price_list


@transaction.atomic
def price_list_item_set(
    *,
    actor,
    price_list_id: int,
    product_id: int,
    price,
    unit: str | None = None,
    min_quantity=1,
    discount_percent=None,
) -> PriceListItem:
    """Set the price of a product per `unit` (default its base unit) from
    `min_quantity` on (a quantity break); replaces the same break's price.

    The price may not have more decimals than the list's currency allows
    (IDR none, USD two). Locks the price list. Raises ValidationFailed
    (price, unit not defined for the product, quantity ≤ 0, discount).
    """
    price_list = _editable_price_list(actor, price_list_id)
    errors: dict = {}
    product = Product.objects.select_related("base_unit").filter(pk=product_id).first()
    if product is None:
        errors["product_id"] = [_("Unknown product.")]
    elif not product.is_active:
        errors["product_id"] = [_("This product is archived.")]
    unit_obj = None
    if product is not None:
        code = str(unit or product.base_unit.code).strip().lower()
        if code not in queries.unit_factors(product):
            errors["unit"] = [
                _("%(sku)s is not counted in “%(unit)s”.")
                % {"sku": product.sku, "unit": code}
            ]
        else:
            unit_obj = queries.unit_by_code(code)
    min_qty = _quantity(min_quantity, errors, "min_quantity")
    try:
        amount = Decimal(str(price))
    except InvalidOperation:
        errors["price"] = [_("Enter a number.")]
    else:
        places = currency_precision(price_list.currency)
        if isinstance(price, float) or not amount.is_finite() or amount < 0:
            errors["price"] = [_("Enter a price of zero or more.")]
        elif amount >= Decimal("1e15"):
            errors["price"] = [_("This price is too large.")]
        elif -amount.normalize().as_tuple().exponent > places:
            errors["price"] = [
                _("%(currency)s prices have at most %(n)d decimals.")
                % {"currency": price_list.currency, "n": places}
            ]
    discount = _percent(discount_percent, errors, "discount_percent")
    _validation(errors)
    item, created = PriceListItem.objects.update_or_create(
        price_list=price_list,
        product=product,
        unit=unit_obj,
        min_quantity=min_qty,
        defaults={"price": amount, "discount_percent": discount},
    )
    audit.record(
        actor=actor,
        subject=price_list,
        action="updated",
        changes={
            f"{product.sku} {min_qty.normalize():f}+ {unit_obj.code}": [
                None,
                f"{amount:f}" + (f" −{discount:f}%" if discount else ""),
            ]
        },
    )
    publish_on_commit(PricesChanged(price_list_id=price_list.pk))
    return item


@transaction.atomic
def price_list_item_remove(*, actor, price_list_id: int, item_id: int) -> None:
    """Remove one price (break) from a list. Locks the list."""
    price_list = _editable_price_list(actor, price_list_id)
    item = price_list.items.select_related("product", "unit").filter(pk=item_id).first()
    if item is None:
        raise NotFound(_("Price not found."))
    label = f"{item.product.sku} {item.min_quantity.normalize():f}+ {item.unit.code}"
    item.delete()
    audit.record(
        actor=actor,
        subject=price_list,
        action="updated",
        changes={label: [f"{item.price:f}", None]},
    )
    publish_on_commit(PricesChanged(price_list_id=price_list.pk))


# ---------------------------------------------------------------- tax rules
# Taxes as data (SAL-3): documents copy the rule's name, rate and
# inclusiveness onto their lines, so changing or archiving a rule never
# rewrites an issued document. See `satu.catalog.taxes` for the lookup.

TAX_RULE_FIELDS = [
    "name",
    "rate",
    "inclusive",
    "applies_to",
    "tax_category",
    "category_id",
    "valid_from",
    "valid_to",
]


def _clean_tax_rule(data: dict, *, rule: TaxRule | None) -> dict:
    errors: dict = {}
    if "name" in data or rule is None:
        data["name"] = str(data.get("name") or "").strip()
        if not data["name"] or len(data["name"]) > 100:
            errors["name"] = [_("Enter a name of at most 100 characters.")]
    if "rate" in data or rule is None:
        rate = _percent(data.get("rate"), errors, "rate")
        if rate is None and "rate" not in errors:
            errors["rate"] = [_("This field is required.")]
        elif rate is not None and rate >= 100:
            errors["rate"] = [_("Enter a rate below 100 %.")]
        data["rate"] = rate
    if "applies_to" in data and data["applies_to"] not in TaxRule.AppliesTo.values:
        errors["applies_to"] = [
            _("Choose one of: %(c)s.") % {"c": ", ".join(TaxRule.AppliesTo.values)}
        ]
    if "tax_category" in data:
        data["tax_category"] = str(data["tax_category"] or "").strip()
        if len(data["tax_category"]) > 32:
            errors["tax_category"] = [_("At most %(n)d characters.") % {"n": 32}]
    if data.get("category_id") is not None:
        if not Category.objects.filter(pk=data["category_id"]).exists():
            errors["category_id"] = [_("Unknown category.")]
    tax_category = data.get(
        "tax_category", rule.tax_category if rule is not None else ""
    )
    category_id = data.get(
        "category_id", rule.category_id if rule is not None else None
    )
    if tax_category and category_id:
        errors["tax_category"] = [
            _("A rule applies to a tax category or a product category, not both.")
        ]
    start = data.get("valid_from", rule.valid_from if rule is not None else None)
    end = data.get("valid_to", rule.valid_to if rule is not None else None)
    if start and end and end < start:
        errors["valid_to"] = [_("The end is before the start.")]
    _validation(errors)
    return data


@transaction.atomic
def tax_rule_create(
    *,
    actor,
    name: str,
    rate,
    inclusive: bool = False,
    applies_to: str = TaxRule.AppliesTo.BOTH,
    tax_category: str = "",
    category_id: int | None = None,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> TaxRule:
    """Add a tax rule: `rate` % (0 ≤ rate < 100, four decimals), prices
    including it or not, for sales, purchases or both, applying to one tax
    category code, or one product category (with sub-categories), or to
    everything. Raises ValidationFailed, PermissionDenied without
    `catalog.add_taxrule`."""
    _begin(actor, "catalog.add_taxrule")
    data = _clean_tax_rule(
        {
            "name": name,
            "rate": rate,
            "inclusive": bool(inclusive),
            "applies_to": applies_to,
            "tax_category": tax_category,
            "category_id": category_id,
            "valid_from": valid_from,
            "valid_to": valid_to,
        },
        rule=None,
    )
    rule = TaxRule.objects.create(**data)
    audit.record(actor=actor, subject=rule, action="created")
    return rule


def _editable_tax_rule(actor, tax_rule_id) -> TaxRule:
    _begin(actor, "catalog.change_taxrule")
    try:
        pk = int(tax_rule_id)
    except (TypeError, ValueError):
        raise NotFound(_("Tax rule not found.")) from None
    rule = TaxRule.objects.select_for_update(of=("self",)).filter(pk=pk).first()
    if rule is None:
        raise NotFound(_("Tax rule not found."))
    return rule


@transaction.atomic
def tax_rule_update(*, actor, tax_rule_id: int, **changes) -> TaxRule:
    """Change the given fields of a tax rule (documents already issued keep
    their copied rate). Locks the rule. Raises ValidationFailed, NotFound."""
    rule = _editable_tax_rule(actor, tax_rule_id)
    unknown = set(changes) - set(TAX_RULE_FIELDS)
    _validation({k: [_("Unknown field.")] for k in unknown})
    if "inclusive" in changes:
        changes["inclusive"] = bool(changes["inclusive"])
    data = _clean_tax_rule(dict(changes), rule=rule)
    before = audit.snapshot(rule, TAX_RULE_FIELDS)
    for key, value in data.items():
        setattr(rule, key, value)
    changed = audit.diff(before, audit.snapshot(rule, TAX_RULE_FIELDS))
    if changed:
        rule.save()
        audit.record(actor=actor, subject=rule, action="updated", changes=changed)
    return rule


@transaction.atomic
def tax_rule_archive(*, actor, tax_rule_id: int, archived: bool = True) -> TaxRule:
    """Stop applying a rule to new documents (or apply it again)."""
    rule = _editable_tax_rule(actor, tax_rule_id)
    if rule.is_active == (not archived):
        return rule
    rule.is_active = not archived
    rule.save(update_fields=["is_active", "updated_at"])
    audit.record(
        actor=actor, subject=rule, action="archived" if archived else "restored"
    )
    return rule
