import random

import pytest

from satu.catalog.models import Product
from satu.inventory import demo
from satu.inventory.books import check_inventory
from satu.inventory.models import StockLevel, Warehouse
from satu.inventory.tests.factories import make_product

pytestmark = pytest.mark.django_db


def test_demo_creates_warehouses_and_stock(keeper):
    products = [make_product() for _ in range(20)]
    products.append(make_product(tracking="lot"))
    products.append(make_product(tracking="serial"))
    products.append(make_product(kind="service"))
    from satu.demo.data import COMPANY

    result = demo.load(rng=random.Random(7), products=products, company=COMPANY)
    assert result["warehouses"] == 3
    assert Warehouse.objects.filter(is_outlet=True).count() == 2
    main = Warehouse.objects.get(code="WH-CKR")
    goods = Product.objects.filter(kind="goods").count()
    assert StockLevel.objects.filter(warehouse=main, on_hand__gt=0).count() == goods
    assert check_inventory() == []
