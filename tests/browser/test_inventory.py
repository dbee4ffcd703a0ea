"""The warehouse through Chromium: find stock, ship part of a delivery,
write something off."""

import pytest
from playwright.sync_api import expect

from satu.core.testing.helpers import make_user
from satu.inventory import services
from satu.inventory.models import Transfer
from satu.inventory.tests.factories import make_product, make_warehouse, receive

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_stock_screen_and_partial_delivery(logged_in_page, live_server):
    keeper = make_user("gudang", role="warehouse", password=PASSWORD)
    wh = make_warehouse(keeper, "GDG")
    teh = make_product(sku="TEH-500", name="Teh Botol 500 ml")
    make_product(sku="SAB-1", name="Sabun Mandi")
    receive(keeper, wh, teh, 10)
    delivery = services.transfer_create(
        actor=keeper,
        kind="delivery",
        warehouse_id=wh.pk,
        lines=[{"product_id": teh.pk, "quantity": 6}],
    )

    page = logged_in_page(keeper)
    page.goto(f"{live_server.url}/stock/")
    expect(page.locator("#stock-table tbody tr")).to_have_count(1)
    page.fill("#id_q", "sabun")
    expect(page.locator("#stock-results .empty")).to_be_visible()
    page.fill("#id_q", "teh")
    expect(page.locator("#stock-table tbody tr")).to_have_count(1)

    page.goto(f"{live_server.url}/transfers/{delivery.pk}/")
    page.get_by_role("button", name="Picked").click()
    expect(page.locator("#transfer-state")).to_have_text("Picked")
    line = delivery.lines.get()
    page.fill(f"input[name=qty_{line.pk}]", "4")
    page.get_by_role("button", name="Done").click()
    expect(page.locator("#transfer-state")).to_have_text("Done")
    assert Transfer.objects.filter(backorder_of=delivery).count() == 1

    page.goto(f"{live_server.url}/stock/product/{teh.pk}/")
    expect(page.locator("#availability")).to_contain_text("6")


def test_write_off_from_the_form(logged_in_page, live_server):
    keeper = make_user("gudang", role="warehouse", password=PASSWORD)
    wh = make_warehouse(keeper, "GDG")
    teh = make_product(sku="TEH-500", name="Teh Botol 500 ml")
    receive(keeper, wh, teh, 3)
    services.write_off_reason_create(actor=keeper, code="broken", name="Broken")

    page = logged_in_page(keeper)
    page.goto(f"{live_server.url}/transfers/new/?kind=write_off")
    page.select_option("#id_warehouse", label=str(wh))
    page.select_option("#id_reason", label="Broken")
    page.select_option("#id_product", label=str(teh))
    page.fill("#id_quantity", "2")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#transfer-state")).to_have_text("Confirmed")
    page.get_by_role("button", name="Done").click()
    expect(page.locator("#transfer-state")).to_have_text("Done")
