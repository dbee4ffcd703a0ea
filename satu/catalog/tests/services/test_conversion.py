"""quantity_convert: exact conversions between a product's units."""

from decimal import Decimal

import pytest

from satu.catalog import queries
from satu.catalog.errors import InexactConversion, UnknownUnit
from satu.catalog.tests.factories import ProductFactory, ProductUnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(pcs, box, kg):
    product = ProductFactory(base_unit=pcs)
    ProductUnitFactory(product=product, unit=box, factor=Decimal("12"))
    return product


@pytest.mark.parametrize(
    ("qty", "source", "target", "expected"),
    [
        ("2", "box", "pcs", "24"),
        ("24", "pcs", "box", "2"),
        ("3", "pcs", "box", "0.25"),
        ("1.5", "box", "pcs", "18"),
        ("7", "pcs", "pcs", "7"),
    ],
)
def test_converts_exactly(product, qty, source, target, expected):
    result = queries.quantity_convert(product, qty, source, target)

    assert result == Decimal(expected)
    assert str(result) == expected


def test_refuses_inexact_and_unknown_units(product):
    with pytest.raises(InexactConversion) as info:
        queries.quantity_convert(product, "1", "pcs", "box")  # 0.08333…
    assert info.value.code == "catalog.inexact_conversion"

    with pytest.raises(UnknownUnit) as info:
        queries.quantity_convert(product, "1", "kg", "pcs")
    assert info.value.code == "catalog.unknown_unit"
    assert "kg" in info.value.fields["from_unit"][0]
    assert "box, pcs" in info.value.fields["from_unit"][0]
