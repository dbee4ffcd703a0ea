"""Building a rule segment in the UI and seeing its members, in Chromium."""

import pytest
from playwright.sync_api import expect

from satu.core.testing.helpers import make_user
from satu.parties.models import ClientGroup
from satu.parties.tests.factories import ClientFactory

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def htmx_idle(page) -> None:
    """Wait until htmx has swapped and processed the last response: a change
    made to freshly swapped-in controls before that is not listened to."""
    page.wait_for_function(
        "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def test_build_a_rule_segment_and_see_its_members(logged_in_page, live_server):
    head = make_user("hana", role="head_of_sales", password=PASSWORD)
    ClientFactory(owner=head, name="Toko Bali Jaya", status="client", region="Bali")
    ClientFactory(owner=head, name="Toko Jawa Makmur", status="client", region="Jawa")
    ClientFactory(owner=head, name="Calon Bali", status="lead", region="Bali")

    page = logged_in_page(head)
    page.goto(f"{live_server.url}/clients/")
    page.get_by_role("link", name="Segments").click()
    page.get_by_role("link", name="New segment").click()
    page.get_by_label("Name").fill("Bali clients")

    # The first condition is "Status is Client": two clients match now.
    preview = page.locator("#segment-preview")
    expect(preview).to_contain_text("2 clients match now")

    # Add a second condition (and): region contains "bali".
    page.get_by_role("button", name="+ Condition (and)").click()
    second_field = page.locator("select[name='c1_field']")
    expect(second_field).to_be_visible()
    htmx_idle(page)
    second_field.select_option(label="Region")
    expect(page.locator("select[name='c1_operator']")).to_have_value("contains")
    value = page.locator("input[name='c1_value']")
    htmx_idle(page)
    value.fill("bali")
    value.press("Tab")
    expect(preview).to_contain_text("1 client matches now")

    # A third row, then removed again: the count stays.
    page.get_by_role("button", name="+ Group (or)").click()
    expect(page.locator("tr.condition")).to_have_count(3)
    htmx_idle(page)
    page.locator("tr.condition[data-row='2'] button").click()
    expect(page.locator("tr.condition")).to_have_count(2)
    expect(preview).to_contain_text("1 client matches now")
    htmx_idle(page)

    page.get_by_role("button", name="Create segment").click()

    members = page.locator("#member-table")
    expect(members).to_contain_text("Toko Bali Jaya")
    expect(members).not_to_contain_text("Toko Jawa Makmur")
    expect(members).not_to_contain_text("Calon Bali")
    segment = ClientGroup.objects.get(name="Bali clients")
    assert segment.kind == "rule" and segment.member_count == 1

    # The client list cut by the segment shows the same member.
    page.locator(f"a[href='/clients/?segment={segment.pk}']").click()
    expect(page.locator("#client-table")).to_contain_text("Toko Bali Jaya")
    expect(page.locator("#client-table")).not_to_contain_text("Toko Jawa Makmur")
