from decimal import Decimal

import pytest

from satu.catalog.models import Product
from satu.core.testing.helpers import make_user
from satu.inventory.tests.factories import make_product, make_warehouse
from satu.parties.models import Company
from satu.purchasing.tests.factories import SupplierFactory, make_order


@pytest.fixture
def company(db):
    return Company.objects.create(
        code="SATU", name="Satu", legal_name="PT Satu", is_default=True
    )


@pytest.fixture
def purchaser(db, company):
    """A purchaser works in the warehouse role."""
    return make_user("purchaser", role="warehouse")


@pytest.fixture
def accountant(db, company):
    return make_user("accountant", role="accountant")


@pytest.fixture
def admin(db, company):
    return make_user("admin", role="administrator")


@pytest.fixture
def wh(purchaser):
    return make_warehouse(purchaser, "GDG")


@pytest.fixture
def supplier(db):
    return SupplierFactory(legal_name="PT Sumber Makmur")


@pytest.fixture
def goods(db):
    return make_product(name="Paper A4", cost_price=Decimal("0"))


@pytest.fixture
def goods2(db):
    return make_product(name="Toner", cost_price=Decimal("0"))


@pytest.fixture
def lot_goods(db):
    return make_product(name="Glue", tracking=Product.Tracking.LOT)


@pytest.fixture
def service_product(db):
    return make_product(name="Delivery", kind=Product.Kind.SERVICE)


@pytest.fixture
def draft(purchaser, supplier, wh, goods, goods2):
    """A draft order: 10 × goods at 1000 and 4 × goods2 at 2500."""
    return make_order(
        purchaser,
        supplier,
        wh,
        [
            (goods, Decimal("10"), Decimal("1000")),
            (goods2, Decimal("4"), Decimal("2500")),
        ],
    )


@pytest.fixture
def confirmed(draft, purchaser):
    from satu.purchasing import services

    return services.purchase_order_confirm(actor=purchaser, order_id=draft.pk)
