import random
from decimal import Decimal

from satu.inventory.tests.factories import make_product
from satu.purchasing import demo
from satu.purchasing.models import PurchaseOrder
from satu.purchasing.tests.factories import SupplierFactory


def test_demo_loads_orders_in_every_state(purchaser, accountant, wh):
    products = [make_product(cost_price=Decimal("1000")) for _ in range(12)]
    suppliers = [SupplierFactory() for _ in range(3)]
    result = demo.load(
        rng=random.Random(1), products=products, warehouses=[wh], suppliers=suppliers
    )
    assert result["purchase_orders"] == 10
    assert result["supplier_prices"] > 0 and result["reorder_points"] > 0
    states = set(PurchaseOrder.objects.values_list("state", flat=True))
    assert {"draft", "confirmed", "processing", "done", "cancelled"} <= states
