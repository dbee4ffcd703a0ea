"""A sales order through Chromium: enter it with live totals, confirm it,
try to ship more than ordered (refused with the reason), ship part."""

import pytest
from playwright.sync_api import expect

from satu.core.testing.helpers import make_user
from satu.sales.models import SalesOrder
from satu.sales.tests.factories import make_world

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_confirm_and_ship_part_of_an_order(
    logged_in_page, live_server, browser_errors
):
    manager = make_user("maya", role="sales_manager", password=PASSWORD)
    keeper = make_user("keeper", role="warehouse")
    make_world(keeper=keeper, manager=manager, stock=20)
    browser_errors.allow("status of 422")

    page = logged_in_page(manager)
    page.locator("#mainnav a[data-nav='sales_order_list']").click()
    page.get_by_role("link", name="New order").click()
    page.locator("#id_client").select_option(label="Toko Maju")
    rows = page.locator("#line-rows tr")
    rows.nth(0).locator("select[name=line_product]").select_option(
        label="P001 · Product 1"
    )
    rows.nth(0).locator("input[name=line_quantity]").fill("5")
    rows.nth(0).locator("input[name=line_quantity]").dispatch_event("change")
    # Live totals: 5 × 12.50 = 62.50 + 10 % tax.
    expect(page.locator("#live-totals")).to_contain_text("68.75")
    page.get_by_role("button", name="Create order").click()

    expect(page.locator("h1")).to_contain_text("Sales order SO-")
    expect(page.locator("#order-state")).to_have_text("Draft")
    page.locator("#confirm-form button[type=submit]").click()
    expect(page.locator("#order-state")).to_have_text("Confirmed")

    order = SalesOrder.objects.get()
    line = order.lines.get()
    ship = page.locator(f"input[name=ship_{line.pk}]")
    ship.fill("7")
    page.locator("#ship-button").click()
    expect(page.locator("#action-errors")).to_contain_text(
        "At most 5 pcs left to ship of P001."
    )
    expect(page.locator("#order-state")).to_have_text("Confirmed")

    page.locator(f"input[name=ship_{line.pk}]").fill("2")
    page.locator("#ship-button").click()
    expect(page.locator("#order-state")).to_have_text("Processing")
    expect(page.locator("#shipping-status")).to_have_text("Partly")
    expect(page.locator(f"tr[data-line='{line.pk}'] [data-shipped]")).to_have_text("2")
