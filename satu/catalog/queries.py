"""Public reads of the catalog: products, units, categories, price lists,
unit conversion and the price a client gets (`price_for`).

The catalog has no record rules beyond permissions: whoever holds
`catalog.view_product` sees every product, `catalog.view_pricelist` every
price list. Conversions and prices are computed with `fractions.Fraction`
and rounded once, at the end, per currency (ADR 007).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from django.db.models import Prefetch, Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext as _

from satu.catalog.errors import InexactConversion, NoPrice, UnknownUnit
from satu.catalog.models import (
    Category,
    KitComponent,
    PriceList,
    PriceListItem,
    Product,
    ProductUnit,
    Unit,
)
from satu.core import custom_fields, txcache
from satu.core.errors import DomainError, NotFound, ValidationFailed
from satu.core.fields import QUANTITY_PLACES
from satu.core.money import currency_valid, money_round
from satu.core.prepared import prepared

MAX_QUANTITY = Decimal("1e14")


# ---------------------------------------------------------------- input checks


def clean_quantity(value, *, field: str = "quantity", allow_zero: bool = False):
    """`value` as a positive Decimal with at most six decimals, or raise
    ValidationFailed keyed by `field`."""
    try:
        number = (
            Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
        )
    except (InvalidOperation, ValueError):
        raise ValidationFailed(fields={field: [_("Enter a number.")]}) from None
    if isinstance(value, (bool, float)) or not number.is_finite():
        raise ValidationFailed(fields={field: [_("Enter a number.")]})
    if number < 0 or (number == 0 and not allow_zero):
        raise ValidationFailed(
            fields={field: [_("The quantity must be greater than zero.")]}
        )
    if number >= MAX_QUANTITY:
        raise ValidationFailed(fields={field: [_("This quantity is too large.")]})
    if -number.normalize().as_tuple().exponent > QUANTITY_PLACES:
        raise ValidationFailed(
            fields={field: [_("At most %(n)d decimals.") % {"n": QUANTITY_PLACES}]}
        )
    return number


def clean_currency(value, *, field: str = "currency") -> str:
    code = str(value or "").strip().upper()
    if not currency_valid(code):
        raise ValidationFailed(fields={field: [_("Unknown currency code.")]})
    return code


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


def plain(number: Decimal) -> str:
    """A Decimal without trailing zeros or exponent: 100.000000 → "100"."""
    text = f"{Decimal(number).normalize():f}"
    return text


# ---------------------------------------------------------------- units, categories


def units(*, active_only: bool = True) -> QuerySet[Unit]:
    qs = Unit.objects.all()
    return qs.filter(is_active=True) if active_only else qs


def unit_by_code(code: str) -> Unit | None:
    return Unit.objects.filter(code=str(code or "").strip().lower()).first()


def categories() -> QuerySet[Category]:
    return Category.objects.select_related("parent").order_by(
        "parent__name", "name", "id"
    )


def category_tree_ids(category_id: int) -> list[int]:
    """The category and all its descendants (one query per level)."""
    ids, level = [category_id], [category_id]
    while level:
        level = list(
            Category.objects.filter(parent_id__in=level).values_list("id", flat=True)
        )
        ids += level
    return ids


# ---------------------------------------------------------------- products


def can_view_products(actor) -> bool:
    return bool(actor and actor.is_active and actor.has_perm("catalog.view_product"))


def products_visible_to(actor) -> QuerySet[Product]:
    qs = Product.objects.all()
    return qs if can_view_products(actor) else qs.none()


def product_list(
    *,
    actor,
    search: str = "",
    category_id: int | None = None,
    kind: str = "",
    archived: bool = False,
    custom: dict | None = None,
) -> QuerySet[Product]:
    """Products by name; `search` matches SKU, name or barcode (substring)."""
    qs = products_visible_to(actor).filter(is_active=not archived)
    text = search.strip()
    if text:
        qs = qs.filter(
            Q(sku__icontains=text) | Q(name__icontains=text) | Q(barcode=text)
        )
    if category_id:
        qs = qs.filter(category_id__in=category_tree_ids(category_id))
    if kind:
        qs = qs.filter(kind=kind)
    if custom:
        qs = custom_fields.filter_queryset(qs, "catalog.product", custom)
    return qs.select_related("base_unit", "category__parent").order_by("name", "id")


def product_get(*, actor, product_id) -> Product:
    try:
        pk = int(product_id)
    except (TypeError, ValueError):
        raise NotFound(_("Product not found.")) from None
    product = (
        products_visible_to(actor)
        .select_related("base_unit", "category__parent")
        .prefetch_related(
            Prefetch("units", queryset=ProductUnit.objects.select_related("unit")),
            Prefetch(
                "components",
                queryset=KitComponent.objects.select_related(
                    "component__base_unit"
                ).order_by("id"),
            ),
        )
        .filter(pk=pk)
        .first()
    )
    if product is None:
        raise NotFound(_("Product not found."))
    return product


def product_price_items(*, actor, product: Product) -> list[PriceListItem]:
    """The product's entries in price lists the actor may see."""
    if not actor.has_perm("catalog.view_pricelist"):
        return []
    return list(
        PriceListItem.objects.filter(product=product)
        .select_related("price_list__client_group", "unit")
        .order_by("price_list__name", "unit__code", "min_quantity", "id")
    )


# ---------------------------------------------------------------- conversion


_PRODUCTS = prepared(
    lambda ids: Product.objects.filter(pk__in=ids).select_related("base_unit")
)
_PRODUCT_UNITS = prepared(
    lambda ids: ProductUnit.objects.filter(product_id__in=ids).select_related("unit")
)


_TX_PRODUCTS = "catalog.products"


def products_by_id(ids) -> dict[int, Product]:
    """{id: product} (base unit joined) for the given ids, in one prepared
    statement; unknown ids are missing from the answer. Inside a transaction
    a product already read in it (here or handed to `remember_products`)
    is not read again (`satu.core.txcache`; product, unit and conversion
    writes forget them): the order's steps read their products once, not
    once per domain they call."""
    known = txcache.cached(_TX_PRODUCTS, dict)
    missing = [pk for pk in ids if pk not in known]
    if missing:
        for product in _PRODUCTS.all(ids=missing):
            known[product.pk] = product
    return {pk: known[pk] for pk in ids if pk in known}


def remember_products(products) -> None:
    """Products this transaction read with their base unit (joined to a
    document's lines, say): `products_by_id` answers from them."""
    known = txcache.cached(_TX_PRODUCTS, dict)
    for product in products:
        known.setdefault(product.pk, product)


def _forget_products(**_kwargs) -> None:
    txcache.forget(_TX_PRODUCTS)


for _model in (Product, ProductUnit, Unit):
    post_save.connect(
        _forget_products, sender=_model, dispatch_uid=f"tx.{_model.__name__}"
    )
    post_delete.connect(
        _forget_products, sender=_model, dispatch_uid=f"tx.{_model.__name__}"
    )


def products_with_units(ids) -> dict[int, Product]:
    """{id: product} with the base unit and the `units` conversions loaded
    (as `prefetch_related("units")`), in two short statements (fewer when
    the transaction has read them already) — for documents that price,
    convert and check their lines. Unknown ids are missing from the
    answer."""
    products = products_by_id(ids)
    need = [
        pk
        for pk, product in products.items()
        if "units" not in getattr(product, "_prefetched_objects_cache", {})
    ]
    if need:
        units: dict[int, list] = {pk: [] for pk in need}
        for pu in _PRODUCT_UNITS.all(ids=need):
            units[pu.product_id].append(pu)
        for pk in need:
            products[pk]._prefetched_objects_cache = {"units": units[pk]}
    return products


def unit_factors(product: Product) -> dict[str, Fraction]:
    """Base units per unit for every unit of the product, keyed by code.

    Uses the prefetched `units` when present (product_get)."""
    factors = {product.base_unit.code: Fraction(1)}
    for pu in product.units.all():
        factors[pu.unit.code] = Fraction(pu.factor)
    return factors


def _unit_code(unit) -> str:
    if isinstance(unit, Unit):
        return unit.code
    return str(unit or "").strip().lower()


def _factor(factors: dict, unit, product: Product, field: str) -> Fraction:
    code = _unit_code(unit)
    if code not in factors:
        raise UnknownUnit(
            fields={
                field: [
                    _(
                        "%(product)s is not counted in “%(unit)s”; "
                        "use one of: %(units)s."
                    )
                    % {
                        "product": product.sku,
                        "unit": code,
                        "units": ", ".join(sorted(factors)),
                    }
                ]
            }
        )
    return factors[code]


def quantity_convert(product: Product, qty, from_unit, to_unit) -> Decimal:
    """`qty` of `from_unit` expressed in `to_unit` (units as codes or Unit).

    Exact: raises InexactConversion when the result needs more than six
    decimals (1 pcs in boxes of 12), UnknownUnit for a unit the product is
    not counted in, ValidationFailed for a bad quantity.
    """
    quantity = clean_quantity(qty)
    factors = unit_factors(product)
    source = _factor(factors, from_unit, product, "from_unit")
    target = _factor(factors, to_unit, product, "to_unit")
    result = Fraction(quantity) * source / target
    scaled = result * 10**QUANTITY_PLACES
    if scaled.denominator != 1:
        raise InexactConversion(fields={"to_unit": [InexactConversion.default_message]})
    return _decimal(result).quantize(Decimal(1).scaleb(-QUANTITY_PLACES)).normalize()


# ---------------------------------------------------------------- price lists


def can_view_price_lists(actor) -> bool:
    return bool(actor and actor.is_active and actor.has_perm("catalog.view_pricelist"))


def price_lists_visible_to(actor) -> QuerySet[PriceList]:
    qs = PriceList.objects.all()
    return qs if can_view_price_lists(actor) else qs.none()


def price_list_list(
    *, actor, search: str = "", currency: str = "", active: bool | None = None
) -> QuerySet[PriceList]:
    qs = price_lists_visible_to(actor).select_related("client_group")
    if search.strip():
        qs = qs.filter(name__icontains=search.strip())
    if currency:
        qs = qs.filter(currency=currency.upper())
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by("-priority", "name", "id")


def price_list_get(*, actor, price_list_id) -> PriceList:
    try:
        pk = int(price_list_id)
    except (TypeError, ValueError):
        raise NotFound(_("Price list not found.")) from None
    price_list = (
        price_lists_visible_to(actor)
        .select_related("client_group")
        .filter(pk=pk)
        .first()
    )
    if price_list is None:
        raise NotFound(_("Price list not found."))
    return price_list


def price_list_items(*, price_list: PriceList) -> QuerySet[PriceListItem]:
    return price_list.items.select_related("product", "unit").order_by(
        "product__name", "product_id", "unit__code", "min_quantity", "id"
    )


# ---------------------------------------------------------------- the price


@dataclass(frozen=True)
class PriceQuote:
    """The price a client gets, and why."""

    price: Decimal  # per requested unit, after discount, rounded to currency
    gross_price: Decimal  # per requested unit, before discount, rounded
    discount_percent: Decimal
    currency: str
    quantity: Decimal
    unit: str
    total: Decimal  # price × quantity, rounded
    price_list_id: int
    price_list_name: str
    item_id: int
    min_quantity: Decimal  # the break applied, in `break_unit`
    break_unit: str

    @property
    def explanation(self) -> str:
        parts = [_("Price list %(name)s") % {"name": self.price_list_name}]
        if self.min_quantity > 1:
            qty = plain(self.min_quantity)
            if self.break_unit != self.unit:
                qty = f"{qty} {self.break_unit}"
            parts.append(_("break %(qty)s+") % {"qty": qty})
        if self.discount_percent:
            parts.append(
                _("discount %(pct)s %%") % {"pct": plain(self.discount_percent)}
            )
        return ", ".join(parts)


def _applicable_lists(*, group_ids, on_date: date, currency: str):
    return PriceList.objects.filter(
        Q(client_group__isnull=True) | Q(client_group_id__in=group_ids),
        Q(valid_from__isnull=True) | Q(valid_from__lte=on_date),
        Q(valid_to__isnull=True) | Q(valid_to__gte=on_date),
        is_active=True,
        currency=currency,
    )


def price_for(
    *,
    client,
    product: Product,
    quantity,
    unit=None,
    on_date: date,
    currency: str,
) -> PriceQuote:
    """The unit price `client` (or None: anyone) pays for `quantity` of
    `product` in `unit` (default the base unit) on `on_date`.

    Among active lists in `currency` valid on the date, for everyone or for
    one of the client's groups, the one with the highest priority that has
    a price wins (a group's list before a general one at equal priority).
    Within it the highest quantity break reached applies, a price in the
    requested unit before one converted from another unit. The item's
    discount, or else the list's, is taken off; the result is rounded to
    the currency. Raises ValidationFailed (quantity, currency), UnknownUnit,
    NoPrice (`catalog.no_price`).
    """
    qty = clean_quantity(quantity)
    currency = clean_currency(currency)
    group_ids = client_group_ids(client) if client else []
    items = (
        PriceListItem.objects.filter(
            product=product,
            price_list__in=_applicable_lists(
                group_ids=group_ids, on_date=on_date, currency=currency
            ),
        )
        .select_related("price_list", "unit")
        .order_by("id")
    )
    return _best_price(product, qty, unit, list(items), on_date, currency)


def _best_price(product, qty, unit, items, on_date, currency) -> PriceQuote:
    """The rule of `price_for` applied to the product's candidate items."""
    factors = unit_factors(product)
    unit_code = _unit_code(unit) if unit else product.base_unit.code
    requested = _factor(factors, unit_code, product, "unit")
    best, best_key = None, None
    for item in items:
        item_factor = factors.get(item.unit.code)
        if item_factor is None:  # a conversion removed after the price was set
            continue
        qty_in_item_unit = Fraction(qty) * requested / item_factor
        if qty_in_item_unit < Fraction(item.min_quantity):
            continue
        plist = item.price_list
        key = (
            plist.priority,
            plist.client_group_id is not None,
            -plist.pk,
            item.unit.code == unit_code,
            Fraction(item.min_quantity) * item_factor,
            -item.pk,
        )
        if best_key is None or key > best_key:
            best, best_key = item, key
    if best is None:
        raise NoPrice(
            _("No price list in %(currency)s has a price for %(sku)s on %(date)s.")
            % {"currency": currency, "sku": product.sku, "date": on_date.isoformat()},
            product_id=product.pk,
        )
    plist = best.price_list
    discount = (
        best.discount_percent
        if best.discount_percent is not None
        else plist.discount_percent
    )
    gross = Fraction(best.price) * requested / factors[best.unit.code]
    net = gross * (1 - Fraction(discount) / 100)
    price = money_round(_decimal(net), currency)
    return PriceQuote(
        price=price,
        gross_price=money_round(_decimal(gross), currency),
        discount_percent=Decimal(discount).normalize(),
        currency=currency,
        quantity=qty,
        unit=unit_code,
        total=money_round(price * qty, currency),
        price_list_id=plist.pk,
        price_list_name=plist.name,
        item_id=best.pk,
        min_quantity=best.min_quantity,
        break_unit=best.unit.code,
    )


def _price_items(product_ids, group_ids, on_date, currency, price_list_id):
    lists = _applicable_lists(group_ids=group_ids, on_date=on_date, currency=currency)
    if price_list_id is not None:
        lists = PriceList.objects.filter(
            Q(pk__in=lists) | Q(pk=price_list_id, currency=currency)
        )
    return (
        PriceListItem.objects.filter(product_id__in=product_ids, price_list__in=lists)
        .select_related("price_list", "unit")
        .order_by("id")
    )


_PRICE_ITEMS = prepared(_price_items)


def client_group_ids(client) -> list[int]:
    """Ids of the client's groups: from its prefetched `groups` when the
    caller loaded them (no query), else one query."""
    cached = getattr(client, "_prefetched_objects_cache", {}).get("groups")
    if cached is not None:
        return [group.pk for group in cached]
    return list(client.groups.values_list("id", flat=True))


def prices_for(
    *,
    client,
    requests: list[tuple],
    on_date: date,
    currency: str,
    price_list_id: int | None = None,
) -> list:
    """`price_for` for many lines at once, in two queries whatever their
    number: `requests` is [(product, quantity, unit)], the answer one
    PriceQuote per request — or the DomainError `price_for` would raise
    for it (NoPrice, UnknownUnit, ValidationFailed), so the caller can show
    it on that line. Products should come with their `units` prefetched.
    With `price_list_id` (a contract's list) a product priced in that list
    takes its price from it; the others follow the usual rule."""
    currency = clean_currency(currency)
    group_ids = client_group_ids(client) if client else []
    by_product: dict[int, list] = {}
    product_ids = {product.pk for product, _q, _u in requests}
    if product_ids:
        for item in _PRICE_ITEMS.all(
            product_ids=sorted(product_ids),
            group_ids=sorted(group_ids),
            on_date=on_date,
            currency=currency,
            price_list_id=price_list_id,
        ):
            by_product.setdefault(item.product_id, []).append(item)
        if price_list_id is not None:
            for pid, items in by_product.items():
                own = [i for i in items if i.price_list_id == price_list_id]
                if own:
                    by_product[pid] = own
    answers = []
    for product, quantity, unit in requests:
        try:
            qty = clean_quantity(quantity)
            answers.append(
                _best_price(
                    product,
                    qty,
                    unit,
                    by_product.get(product.pk, []),
                    on_date,
                    currency,
                )
            )
        except DomainError as exc:
            answers.append(exc)
    return answers


# ---------------------------------------------------------------- tax rules


def tax_rule_list(*, actor, archived: bool = False):
    """Tax rules by name (`catalog.view_taxrule`)."""
    from satu.catalog.models import TaxRule

    if not (actor and actor.is_active and actor.has_perm("catalog.view_taxrule")):
        return TaxRule.objects.none()
    return (
        TaxRule.objects.filter(is_active=not archived)
        .select_related("category__parent")
        .order_by("name", "id")
    )


def tax_rule_get(*, actor, tax_rule_id):
    try:
        pk = int(tax_rule_id)
    except (TypeError, ValueError):
        raise NotFound(_("Tax rule not found.")) from None
    from satu.catalog.models import TaxRule

    if not (actor and actor.is_active and actor.has_perm("catalog.view_taxrule")):
        raise NotFound(_("Tax rule not found."))
    rule = TaxRule.objects.select_related("category__parent").filter(pk=pk).first()
    if rule is None:
        raise NotFound(_("Tax rule not found."))
    return rule


def kit_components(kit_ids) -> dict[int, list]:
    """{kit id: [KitComponent with its component product]} for the given
    kits, in one query (kits without components map to an empty list)."""
    result: dict[int, list] = {int(pk): [] for pk in kit_ids}
    if result:
        for row in KitComponent.objects.filter(kit_id__in=result).select_related(
            "component"
        ):
            result[row.kit_id].append(row)
    return result
