"""Clients, counterparties and contact persons driven through Chromium."""

import re

import pytest
from playwright.sync_api import expect

from satu.core import custom_fields
from satu.core.testing.helpers import make_user
from satu.parties.models import Client, ClientCounterparty, ContactRole
from satu.parties.tests.factories import ClientFactory

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NPWP = "013000666091000"


@pytest.fixture
def sales(db):
    """A sales manager with a custom "Tier" field defined on clients."""
    admin = make_user("root", superuser=True, password=PASSWORD)
    custom_fields.custom_field_create(
        actor=admin,
        object_type="parties.client",
        code="tier",
        label="Tier",
        field_type="choice",
        choices=["Gold", "Silver"],
    )
    user = make_user("sari", role="sales_manager", password=PASSWORD)
    ClientFactory(owner=user, name="CV Lain Sekali")
    return user


def test_client_with_counterparty_and_contact_found_by_phone(
    logged_in_page, sales, live_server
):
    page = logged_in_page(sales)
    page.locator("#mainnav a[data-nav='client_list']").click()
    page.get_by_role("link", name="New client").click()

    # Create the client, choosing a custom field value on the same form.
    page.get_by_label("Name", exact=True).fill("PT Maju Jaya")
    page.get_by_label("Status").select_option("client")
    page.get_by_label("Tier").select_option("Gold")
    page.get_by_role("button", name="Create client").click()

    expect(page.locator("h1")).to_contain_text("PT Maju Jaya")
    expect(page.locator(".messages")).to_contain_text("Client “PT Maju Jaya” created.")
    expect(page.locator("#details")).to_contain_text("Gold")
    client = Client.objects.get(name="PT Maju Jaya")

    # A counterparty with a valid NPWP and a bank account.
    page.locator("#counterparties").get_by_role("link", name="New counterparty").click()
    page.get_by_label("Legal name").fill("PT Maju Jaya Tbk")
    page.get_by_label("Tax id").fill(NPWP)
    page.get_by_label("Registration address").fill("Jl. Sudirman 1, Jakarta")
    page.get_by_label("Bank", exact=True).fill("BCA")
    page.get_by_label("Account number").fill("123-456-7890")
    page.get_by_role("button", name="Create counterparty").click()

    counterparties = page.locator("#counterparties")
    expect(counterparties).to_contain_text("PT Maju Jaya Tbk")
    expect(counterparties).to_contain_text("01.300.066.6-091.000")
    expect(counterparties.locator("tr.current")).to_have_count(1)
    assert ClientCounterparty.objects.filter(client=client).count() == 1

    # A contact person with a phone.
    page.locator("#contacts").get_by_role("link", name="New contact").click()
    page.get_by_label("First name").fill("Dewi")
    page.get_by_label("Last name").fill("Lestari")
    page.get_by_label("Role at the client").fill("Purchaser")
    page.get_by_label("Phones").fill("0812 1111 2222")
    page.get_by_role("button", name="Create contact").click()

    contacts = page.locator("#contacts")
    expect(contacts).to_contain_text("Dewi Lestari")
    expect(contacts).to_contain_text("+62 812-1111-2222")
    assert ContactRole.objects.get(client=client).role == "Purchaser"
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Contact person Dewi Lestari added")
    expect(timeline).to_contain_text("Trades through PT Maju Jaya Tbk")

    # Find the client by the contact's phone: the table updates as one types.
    page.locator("#mainnav a[data-nav='client_list']").click()
    rows = page.locator("#client-table tbody tr")
    expect(rows).to_have_count(2)
    page.locator("#client-filters").get_by_label("Search").fill("0812-1111-2222")

    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("PT Maju Jaya")
    expect(page).to_have_url(re.compile(r"/clients/\?.*q=0812-1111-2222"))

    # Edit the custom field value on the client.
    rows.first.get_by_role("link", name="PT Maju Jaya").click()
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Tier").select_option("Silver")
    page.get_by_role("button", name="Save changes").click()

    expect(page.locator(".messages")).to_contain_text("Changes saved.")
    expect(page.locator("#details")).to_contain_text("Silver")
    client.refresh_from_db()
    assert client.custom == {"tier": "Silver"}
    expect(page.locator("#audit")).to_contain_text("Gold → Silver")


def test_timeline_filter_and_load_more(logged_in_page, sales, live_server):
    from datetime import timedelta

    from django.utils import timezone

    from satu.parties.tests.factories import TimelineEntryFactory

    client = ClientFactory(owner=sales, name="PT Sejarah")
    start = timezone.now() - timedelta(days=60)
    for i in range(35):
        TimelineEntryFactory(
            client=client,
            kind="note",
            summary=f"Note {i:02d}",
            at=start + timedelta(hours=i),
        )
    TimelineEntryFactory(
        client=client,
        kind="call",
        summary="Called the buyer",
        at=start - timedelta(days=1),
    )
    page = logged_in_page(sales)
    page.goto(f"{live_server.url}/clients/{client.pk}/")
    items = page.locator("#timeline .timeline-item")
    expect(items).to_have_count(20)
    expect(items.first).to_contain_text("Note 34")

    page.get_by_role("link", name="Load more").click()

    expect(items).to_have_count(36)
    expect(items.last).to_contain_text("Called the buyer")
    expect(page.get_by_role("link", name="Load more")).to_have_count(0)

    page.locator("#timeline a.chip[data-kind='call']").click()

    expect(items).to_have_count(1)
    expect(page.locator("#timeline a.chip.active")).to_have_attribute(
        "data-kind", "call"
    )
