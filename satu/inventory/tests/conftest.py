import pytest

from satu.core.testing.helpers import make_user
from satu.inventory.tests.factories import make_product, make_warehouse


@pytest.fixture
def keeper(db):
    """A warehouse keeper: does everything in inventory."""
    return make_user("keeper", role="warehouse")


@pytest.fixture
def wh(keeper):
    return make_warehouse(keeper, "GDG")


@pytest.fixture
def wh2(keeper):
    return make_warehouse(keeper, "OUT", is_outlet=True)


@pytest.fixture
def product(db):
    return make_product()


@pytest.fixture
def books_clean():
    """Call at the end of a test: every balance ties out with the ledger."""
    from satu.inventory.books import check_inventory

    def check():
        assert check_inventory() == []

    return check
