"""Leads and marketing through Chromium: a visitor sends the public form,
the manager qualifies the lead, a marketer reads the ROI chart, and the deal
page's product lines are edited with htmx."""

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from satu.core.testing.helpers import make_user
from satu.crm import services
from satu.crm.models import Lead
from satu.crm.tests.factories import pipeline
from satu.parties.tests.factories import ChannelFactory

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_public_form_to_qualified_lead(page, logged_in_page, live_server):
    cache.clear()
    sales = make_user("sari", role="sales_manager", password=PASSWORD)
    head = make_user("hadi", role="head_of_sales", password=PASSWORD)
    channel = ChannelFactory(name="Website")
    services.lead_form_create(
        actor=head,
        key="site",
        name="Contact us",
        channel_id=channel.pk,
        owner_id=sales.pk,
    )

    page.goto(f"{live_server.url}/public/lead-form/site/")
    page.get_by_label("Your name").fill("Rina Wijaya")
    page.get_by_label("Company").fill("CV Rina Tani")
    page.get_by_label("Email").fill("rina@tani.id")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#thanks")).to_be_visible()
    lead = Lead.objects.get()
    assert (lead.owner, lead.channel) == (sales, channel)

    page.context.clear_cookies()
    logged_in_page(sales)
    page.goto(f"{live_server.url}/leads/")
    page.get_by_role("link", name="CV Rina Tani").click()
    page.get_by_role("link", name="Qualify").click()
    page.get_by_role("button", name="Qualify").click()
    expect(page.locator("#lead-state")).to_have_text("Qualified")
    lead.refresh_from_db()
    assert lead.client.name == "CV Rina Tani"


def test_roi_chart_and_deal_lines(page, logged_in_page, live_server):
    marketer = make_user("mira", role="marketer", password=PASSWORD)
    sales = make_user("sari", role="sales_manager", password=PASSWORD)
    from django.utils import timezone

    from satu.parties.tests.factories import ClientFactory

    channel = ChannelFactory(name="Radio")
    services.marketing_cost_create(
        actor=marketer,
        channel_id=channel.pk,
        amount="100000",
        date=timezone.localdate(),
    )
    kind, _stages = pipeline()
    deal = services.deal_create(
        actor=sales,
        client_id=ClientFactory(owner=sales).pk,
        kind_id=kind.pk,
        title="Pumps",
    )

    logged_in_page(marketer)
    page.goto(f"{live_server.url}/marketing/roi/")
    expect(page.locator("#roi-channels")).to_contain_text("Radio")
    expect(
        page.locator("[data-chart='roi-channel-chart'][data-chart-ready='1'] svg")
    ).to_have_count(1)

    page.context.clear_cookies()
    logged_in_page(sales)
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    lines = page.locator("#deal-lines")
    expect(lines).to_contain_text("No product lines yet.")
    lines.get_by_label("Description").fill("Pump 5 kW")
    lines.get_by_label("Quantity").fill("2")
    lines.get_by_role("button", name="Add line").click()
    expect(page.locator("#deal-lines-table")).to_contain_text("Pump 5 kW")
    assert [x.description for x in deal.lines.all()] == ["Pump 5 kW"]
