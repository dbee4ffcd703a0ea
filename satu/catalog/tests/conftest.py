import pytest

from satu.catalog.tests.factories import UnitFactory


@pytest.fixture
def pcs(db):
    return UnitFactory(code="pcs", name="Pieces")


@pytest.fixture
def box(db):
    return UnitFactory(code="box", name="Box")


@pytest.fixture
def kg(db):
    return UnitFactory(code="kg", name="Kilogram")
