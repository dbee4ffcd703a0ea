"""The deal kanban driven through Chromium: drag a card between stages."""

import pytest
from playwright.sync_api import expect

from satu.core.testing.helpers import make_user
from satu.crm import services
from satu.crm.models import Deal
from satu.crm.tests.factories import StageRuleFactory, pipeline
from satu.parties.tests.factories import ClientFactory

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_kanban_drag_moves_a_deal_and_a_refused_move_snaps_back(
    logged_in_page, live_server, browser_errors
):
    sales = make_user("sari", role="sales_manager", password=PASSWORD)
    kind, (lead, offer, _contract) = pipeline()
    StageRuleFactory(stage=lead, field_name="amount")
    client = ClientFactory(owner=sales, name="PT Maju")
    ready = services.deal_create(
        actor=sales, client_id=client.pk, kind_id=kind.pk, title="Pumps", amount="10"
    )
    blocked = services.deal_create(
        actor=sales, client_id=client.pk, kind_id=kind.pk, title="Valves"
    )
    browser_errors.allow("status of 409")

    page = logged_in_page(sales)
    page.locator("#mainnav a[data-nav='deal_board']").click()
    lead_col = page.locator(f".kanban-col[data-stage='{lead.pk}']")
    offer_col = page.locator(f".kanban-col[data-stage='{offer.pk}']")
    expect(lead_col.locator(".kanban-card")).to_have_count(2)

    # Refused: the rule of Lead wants an amount. The toast names the rule.
    page.locator(f"#deal-{blocked.pk}").drag_to(offer_col)
    expect(page.locator("#toasts .toast")).to_contain_text("“Lead”: fill in “amount”.")
    expect(lead_col.locator(f"#deal-{blocked.pk}")).to_be_visible()
    expect(offer_col.locator(".kanban-card")).to_have_count(0)

    # Allowed: the card stays in Offer, and so does the deal after a reload.
    page.locator(f"#deal-{ready.pk}").drag_to(offer_col)
    expect(offer_col.locator(f"#deal-{ready.pk}")).to_be_visible()
    page.wait_for_function(
        f"() => !document.querySelector('#deal-{ready.pk}.htmx-request')"
    )
    page.reload()
    expect(offer_col.locator(f"#deal-{ready.pk}")).to_be_visible()
    assert Deal.objects.get(pk=ready.pk).stage_id == offer.pk
    assert Deal.objects.get(pk=blocked.pk).stage_id == lead.pk
