"""Billing through Chromium: an accountant writes an invoice and posts it,
records a partial payment from the invoice card, is refused an over-credit,
and reads the receivables with the payments chart."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from satu.billing import services
from satu.billing.models import Invoice, Payment
from satu.billing.tests.factories import CashAccountFactory, CompanyFactory
from satu.core.testing.helpers import make_user
from satu.parties.tests.factories import ClientFactory

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_invoice_to_payment_and_receivables(
    logged_in_page, live_server, browser_errors
):
    services.payment_purposes_seed()
    company = CompanyFactory()
    CashAccountFactory(company=company, name="BCA 2100")
    accountant = make_user("akuntan", role="accountant", password=PASSWORD)
    client = ClientFactory(name="Toko Maju Jaya", owner=accountant)
    browser_errors.allow("status of 422")

    page = logged_in_page(accountant)
    page.goto(f"{live_server.url}/invoices/")
    page.get_by_role("link", name="New invoice").click()
    page.get_by_label("Client", exact=True).select_option(str(client.pk))
    page.locator("input[name=lines-0-description]").fill("Pompa air 1 HP")
    page.locator("input[name=lines-0-quantity]").fill("2")
    page.locator("input[name=lines-0-unit_price]").fill("750000")
    page.locator("input[name=lines-0-tax_rate]").fill("11")
    page.get_by_role("button", name="Save and post").click()

    invoice = Invoice.objects.get()
    page.wait_for_url(f"{live_server.url}/invoices/{invoice.pk}/")
    expect(page.locator("h1")).to_contain_text(invoice.number)
    expect(page.locator("#invoice-totals")).to_contain_text("1,665,000")

    page.get_by_role("link", name="Record payment").click()
    page.get_by_label("Amount").fill("1000000")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/payments/\d+/$"))
    payment = Payment.objects.get()
    assert payment.amount_allocated == Decimal(1000000)
    expect(page.locator("#payment-allocations")).to_contain_text(invoice.number)

    page.goto(f"{live_server.url}/invoices/{invoice.pk}/credit/")
    page.locator(f"input[name=qty_{invoice.lines.get().pk}]").fill("3")
    page.get_by_role("button", name="Create and post").click()
    expect(page.locator("[data-error-message]")).to_contain_text(
        "At most 2 can still be credited."
    )

    page.goto(f"{live_server.url}/receivables/")
    row = page.locator("#ageing-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Toko Maju Jaya")
    expect(row).to_contain_text("665,000")
    expect(page.locator("[data-chart] svg")).to_have_count(1)
    invoice.refresh_from_db()
    assert invoice.amount_due == Decimal(665000)
