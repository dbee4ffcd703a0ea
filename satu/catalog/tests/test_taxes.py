"""Tax rules as data and line amounts (satu.catalog.taxes)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from satu.catalog import taxes
from satu.catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    TaxRuleFactory,
)

pytestmark = pytest.mark.django_db
ON = date(2026, 11, 27)


def test_the_most_specific_rule_wins_code_then_category_chain_then_default():
    parent = CategoryFactory(name="Food")
    child = CategoryFactory(name="Rice", parent=parent)
    default = TaxRuleFactory(name="VAT 11", rate=Decimal("11"))
    food = TaxRuleFactory(name="Food 5", rate=Decimal("5"), category=parent)
    exempt = TaxRuleFactory(name="Exempt", rate=Decimal("0"), tax_category="EXEMPT")
    rice = ProductFactory(category=child)
    exempt_rice = ProductFactory(category=child, tax_category="EXEMPT")
    tool = ProductFactory(category=None)

    with CaptureQueriesContext(connection) as queries:
        found = taxes.taxes_for([rice, exempt_rice, tool], on=ON)
    assert len(queries) == 2
    assert found[rice.pk].rule_id == food.pk
    assert found[exempt_rice.pk].rule_id == exempt.pk
    assert found[tool.pk] == taxes.AppliedTax(
        rule_id=default.pk, name="VAT 11", rate=Decimal("11"), inclusive=False
    )


def test_inactive_expired_and_purchase_only_rules_do_not_apply_to_sales():
    TaxRuleFactory(rate=Decimal("11"), is_active=False)
    TaxRuleFactory(rate=Decimal("12"), valid_to=date(2026, 1, 1))
    TaxRuleFactory(rate=Decimal("13"), applies_to="purchases")
    product = ProductFactory()
    assert taxes.tax_for(product, on=ON) == taxes.AppliedTax.none()
    assert taxes.tax_for(product, on=ON, kind="purchases").rate == Decimal("13")


def test_exclusive_line_rounds_untaxed_then_tax_per_line():
    amounts = taxes.line_amounts(
        quantity=Decimal("3"),
        unit_price=Decimal("10.335"),
        currency="USD",
        rate=Decimal("11"),
        discount_percent=Decimal("10"),
    )
    # 3 × 10.335 × 0.9 = 27.9045 → 27.90; 11 % = 3.069 → 3.07
    assert amounts == taxes.LineAmounts(
        untaxed=Decimal("27.90"), tax=Decimal("3.07"), total=Decimal("30.97")
    )


def test_inclusive_line_splits_the_rounded_total():
    amounts = taxes.line_amounts(
        quantity=2, unit_price=Decimal("55500"), currency="IDR", rate=11, inclusive=True
    )
    # IDR has no decimals: 111000 / 1.11 = 100000
    assert amounts == taxes.LineAmounts(
        untaxed=Decimal("100000"), tax=Decimal("11000"), total=Decimal("111000")
    )


def test_document_totals_are_sums_of_rounded_lines():
    lines = [
        taxes.line_amounts(quantity=1, unit_price="0.05", currency="USD", rate=10),
        taxes.line_amounts(quantity=1, unit_price="0.05", currency="USD", rate=10),
    ]
    # each line's 0.005 tax rounds half-even to 0.00
    assert taxes.totals(lines) == taxes.LineAmounts(
        untaxed=Decimal("0.10"), tax=Decimal("0.00"), total=Decimal("0.10")
    )
