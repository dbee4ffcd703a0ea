import pytest

from satu.core.testing.helpers import make_user
from satu.sales.tests.factories import make_world


@pytest.fixture
def keeper(db):
    return make_user("keeper", role="warehouse")


@pytest.fixture
def world(keeper, manager):
    return make_world(keeper=keeper, manager=manager)
