"""Taxes as data: which rule a product falls under, and a line's amounts.

Every document that sells or buys (quotes, sales orders, invoices, purchase
orders) computes its lines here, so a quote, the order made from it and the
invoice of that order agree to the cent.

Rule lookup for a product, on a date, for sales or purchases (first match):
1. an active rule whose `tax_category` equals the product's tax category;
2. an active rule for the product's category, else its parent's, ... up;
3. an active rule with neither (the default rule);
4. none: the line is untaxed.
Among several rules at one level the newest (highest id) wins.

Line amounts are rounded per line to the currency (banker's rounding, as
`satu.core.money`) and a document's totals are the sums of its lines:
- exclusive: untaxed = round(qty × price × (1 − discount)); tax =
  round(untaxed × rate); total = untaxed + tax;
- inclusive: total = round(qty × price × (1 − discount)); untaxed =
  round(total / (1 + rate)); tax = total − untaxed.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q

from satu.catalog.models import Category, Product, TaxRule
from satu.core.money import money_round
from satu.core.prepared import prepared

HUNDRED = Decimal(100)
ZERO = Decimal(0)


@dataclass(frozen=True)
class LineAmounts:
    untaxed: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True)
class AppliedTax:
    """What a line is taxed with (copied onto the document line, so later
    rule changes do not rewrite issued documents)."""

    rule_id: int | None
    name: str
    rate: Decimal
    inclusive: bool

    @classmethod
    def none(cls) -> "AppliedTax":
        return cls(rule_id=None, name="", rate=ZERO, inclusive=False)


_RULES = prepared(
    lambda on, kind: TaxRule.objects.filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=on),
        Q(valid_to__isnull=True) | Q(valid_to__gte=on),
        is_active=True,
        applies_to__in=["both", kind],
    ).order_by("-id")
)


def _rules(on: date, kind: str) -> list[TaxRule]:
    return _RULES.all(on=on, kind=kind)


def taxes_for(
    products: list[Product], *, on: date, kind: str = "sales"
) -> dict[int, AppliedTax]:
    """The tax of each product (keyed by product id), in two queries whatever
    the number of products. `kind` is "sales" or "purchases"."""
    if kind not in ("sales", "purchases"):
        raise ValueError(kind)
    if not products:
        return {}
    rules = _rules(on, kind)
    by_code: dict[str, TaxRule] = {}
    by_category: dict[int, TaxRule] = {}
    default = None
    for rule in rules:  # newest first: setdefault keeps the newest
        if rule.tax_category:
            by_code.setdefault(rule.tax_category, rule)
        elif rule.category_id:
            by_category.setdefault(rule.category_id, rule)
        elif default is None:
            default = rule
    parents = (
        dict(Category.objects.values_list("id", "parent_id")) if by_category else {}
    )
    result = {}
    for product in products:
        rule = by_code.get(product.tax_category) if product.tax_category else None
        category_id = product.category_id
        seen = set()
        while rule is None and category_id and category_id not in seen:
            seen.add(category_id)
            rule = by_category.get(category_id)
            category_id = parents.get(category_id)
        rule = rule or default
        result[product.pk] = (
            AppliedTax(
                rule_id=rule.pk,
                name=rule.name,
                rate=rule.rate,
                inclusive=rule.inclusive,
            )
            if rule
            else AppliedTax.none()
        )
    return result


def tax_for(product: Product, *, on: date, kind: str = "sales") -> AppliedTax:
    return taxes_for([product], on=on, kind=kind)[product.pk]


def line_amounts(
    *,
    quantity,
    unit_price,
    currency: str,
    rate=ZERO,
    inclusive: bool = False,
    discount_percent=ZERO,
) -> LineAmounts:
    """A line's untaxed, tax and total amounts, rounded to `currency`."""
    gross = Decimal(quantity) * Decimal(unit_price)
    gross = gross * (HUNDRED - Decimal(discount_percent)) / HUNDRED
    share = Decimal(rate) / HUNDRED
    if inclusive:
        total = money_round(gross, currency)
        untaxed = money_round(total / (1 + share), currency)
        return LineAmounts(untaxed=untaxed, tax=total - untaxed, total=total)
    untaxed = money_round(gross, currency)
    tax = money_round(untaxed * share, currency)
    return LineAmounts(untaxed=untaxed, tax=tax, total=untaxed + tax)


def totals(lines) -> LineAmounts:
    """Sum of LineAmounts (or of objects with untaxed/tax/total)."""
    untaxed = sum((line.untaxed for line in lines), ZERO)
    tax = sum((line.tax for line in lines), ZERO)
    return LineAmounts(untaxed=untaxed, tax=tax, total=untaxed + tax)
