"""Purchasing through Chromium: what to buy → draft order → add a line with
htmx → confirm → a refused over-receipt, then a partial receipt."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from satu.core.testing.helpers import make_user
from satu.inventory.tests.factories import make_product, make_warehouse
from satu.parties.models import Company
from satu.purchasing import services
from satu.purchasing.models import PurchaseOrder
from satu.purchasing.tests.factories import SupplierFactory, SupplierPriceFactory

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reorder_to_partial_receipt(logged_in_page, live_server, browser_errors):
    Company.objects.create(code="S", name="Satu", legal_name="PT Satu", is_default=True)
    keeper = make_user("gudang", role="warehouse", password=PASSWORD)
    wh = make_warehouse(keeper, "GDG")
    paper = make_product(name="Kertas A4", cost_price=Decimal("0"))
    toner = make_product(name="Toner Hitam", cost_price=Decimal("0"))
    supplier = SupplierFactory(legal_name="PT Kertas Jaya")
    SupplierPriceFactory(supplier=supplier, product=paper, price=Decimal("45000"))
    SupplierPriceFactory(supplier=supplier, product=toner, price=Decimal("300000"))
    services.reorder_point_create(
        actor=keeper, product_id=paper.pk, warehouse_id=wh.pk, minimum=10, maximum=40
    )
    browser_errors.allow("status of 422")

    page = logged_in_page(keeper)
    page.goto(f"{live_server.url}/reorder/")
    row = page.locator("#reorder-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("PT Kertas Jaya")
    row.locator("input[name^=qty_]").fill("30")
    page.locator("#create-orders").click()
    page.wait_for_url(f"{live_server.url}/purchase-orders/")
    order = PurchaseOrder.objects.get()
    page.locator("#purchase-order-table a", has_text=order.number).click()

    page.get_by_role("link", name="Edit").click()
    page.get_by_role("button", name="Add line").click()
    expect(page.locator("#po-lines tr")).to_have_count(2)
    new_row = page.locator("#po-lines tr").nth(1)
    new_row.locator("select[name=line_product]").select_option(str(toner.pk))
    new_row.locator("input[name=line_quantity]").fill("2")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#order-lines tbody tr")).to_have_count(2)

    page.locator("#confirm-order").click()
    expect(page.locator("#order-state")).to_have_attribute("data-state", "confirmed")

    page.locator("#receive-order").click()
    paper_line = order.lines.get(product=paper)
    toner_line = order.lines.get(product=toner)
    page.fill(f"input[name=qty_{paper_line.pk}]", "31")
    page.fill(f"input[name=qty_{toner_line.pk}]", "0")
    page.get_by_role("button", name="Receive").click()
    expect(page.locator("[data-error-message]")).to_contain_text(
        "at most 30 can still be received"
    )
    page.fill(f"input[name=qty_{paper_line.pk}]", "12")
    page.get_by_role("button", name="Receive").click()
    expect(page.locator("#order-state")).to_have_attribute("data-state", "processing")
    expect(
        page.locator(f"tr[data-line='{paper_line.pk}'] [data-received]")
    ).to_have_text("12")
