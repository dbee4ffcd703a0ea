"""The catalog through Chromium: find a product, check a client's price."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from satu.catalog.tests.factories import (
    PriceListFactory,
    PriceListItemFactory,
    ProductFactory,
    UnitFactory,
)
from satu.core.testing.helpers import make_user
from satu.parties.tests.factories import ClientFactory, ClientGroupFactory

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_product_and_check_a_wholesale_price(
    logged_in_page, live_server, browser_errors
):
    head = make_user("hana", role="head_of_sales", password=PASSWORD)
    pcs = UnitFactory(code="pcs", name="Pieces")
    product = ProductFactory(sku="TEH-500", name="Teh Botol 500 ml", base_unit=pcs)
    ProductFactory(sku="SAB-1", name="Sabun Mandi", base_unit=pcs)
    group = ClientGroupFactory(name="Wholesale")
    wholesale = PriceListFactory(
        name="Wholesale 2026", client_group=group, priority=5, discount_percent=5
    )
    PriceListItemFactory(price_list=wholesale, product=product, price=4500)
    PriceListItemFactory(
        price_list=wholesale, product=product, min_quantity=Decimal(100), price=4200
    )
    buyer = ClientFactory(name="Toko Maju", owner=head)
    buyer.groups.add(group)
    browser_errors.allow("status of 422")

    page = logged_in_page(head)
    page.locator("#mainnav a[data-nav='product_list']").click()
    page.fill("#id_q", "teh")
    expect(page.locator("#product-table tbody tr")).to_have_count(1)
    page.locator("#product-table a", has_text="Teh Botol 500 ml").click()

    form = page.locator(".price-check-form")
    form.locator("select[name=client]").select_option(label="Toko Maju")
    form.locator("input[name=quantity]").fill("150")
    form.locator("button[type=submit]").click()
    expect(page.locator("#price-check [data-explanation]")).to_have_text(
        "Price list Wholesale 2026, break 100+, discount 5 %"
    )
    expect(page.locator("#price-check .price-result")).to_contain_text("3,990")

    form.locator("input[name=quantity]").fill("0")
    form.locator("button[type=submit]").click()
    expect(page.locator("#price-check [data-error-message]")).to_contain_text(
        "The quantity must be greater than zero."
    )
