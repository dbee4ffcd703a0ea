"""Platform screens driven through Chromium, as a user would."""

import re

import pytest
from playwright.sync_api import expect

from satu.core.models import CustomField, User
from satu.parties.tests.factories import ClientFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_log_in_through_the_form(logged_in_page, administrator):
    page = logged_in_page(administrator)

    expect(page.locator(".topbar")).to_be_visible()
    expect(page.locator(".user-menu summary")).to_contain_text("Boss")
    expect(page.locator("h1")).to_contain_text("Welcome")


def test_wrong_password_shows_the_error(page, live_server, administrator):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()

    expect(page.locator("[data-error-message]")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/login/")


def test_switch_contacts_off_and_on(logged_in_page, administrator, live_server):
    page = logged_in_page(administrator)
    nav_contacts = page.locator("#mainnav a[data-nav='contact_list']")
    expect(nav_contacts).to_have_count(1)
    page.locator("summary", has_text="Settings").click()
    page.get_by_role("link", name="Modules").click()
    switch = page.locator("tr[data-feature='contacts'] button.switch")
    expect(switch).to_have_attribute("aria-checked", "true")

    switch.click()

    expect(page.locator("tr[data-feature='contacts'] button.switch")).to_have_attribute(
        "aria-checked", "false"
    )
    expect(nav_contacts).to_have_count(0)
    assert page.request.get(f"{live_server.url}/contacts/").status == 404
    page.reload()
    expect(nav_contacts).to_have_count(0)

    page.locator("tr[data-feature='contacts'] button.switch").click()

    expect(nav_contacts).to_have_count(1)
    assert page.request.get(f"{live_server.url}/contacts/").status == 200


def test_create_a_custom_field(logged_in_page, administrator, live_server):
    page = logged_in_page(administrator)
    page.goto(f"{live_server.url}/settings/custom-fields/")
    page.get_by_role("link", name="New field").click()

    page.get_by_label("Code", exact=True).fill("tier")
    page.get_by_label("Label", exact=True).fill("Tier")
    page.get_by_label("Type", exact=True).select_option("choice")
    page.get_by_label("Choices").fill("Gold\nSilver")
    page.get_by_role("button", name="Create field").click()

    expect(page.locator(".messages")).to_contain_text("Custom field “Tier” created.")
    expect(page.locator("tr[data-code='tier']")).to_contain_text("Gold, Silver")
    field = CustomField.objects.get(code="tier")
    assert (field.object_type, field.field_type, field.choices) == (
        "parties.client",
        "choice",
        ["Gold", "Silver"],
    )


def test_custom_field_errors_are_shown_next_to_the_field(
    logged_in_page, administrator, live_server, browser_errors
):
    # Bad input answers 422 with the form; Chromium logs that status.
    browser_errors.allow("status of 422")
    page = logged_in_page(administrator)
    page.goto(f"{live_server.url}/settings/custom-fields/new/")

    page.get_by_label("Code", exact=True).fill("Not Valid")
    page.get_by_label("Label", exact=True).fill("X")
    page.get_by_role("button", name="Create field").click()

    expect(page.locator(".field-code .errorlist")).to_contain_text("lower-case letters")
    assert CustomField.objects.count() == 0


def test_change_language_to_indonesian(logged_in_page, administrator, live_server):
    page = logged_in_page(administrator)
    page.locator(".user-menu summary").click()
    page.get_by_role("link", name="Profile").click()

    page.get_by_label("Language").select_option("id")
    page.get_by_role("button", name="Save").click()

    expect(page.locator("html")).to_have_attribute("lang", "id")
    assert User.objects.get(pk=administrator.pk).language == "id"


def test_global_search_dropdown_and_results_page(
    logged_in_page, administrator, live_server
):
    ClientFactory(name="Sinar Jaya", search_text="sinar jaya")
    page = logged_in_page(administrator)
    search = page.locator("#global-search")

    search.fill("sinar")

    expect(page.locator("#search-results")).to_contain_text("Sinar Jaya")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=sinar$"))
    expect(page.locator("main")).to_contain_text("Sinar Jaya")


def test_menu_collapses_on_a_phone(logged_in_page, administrator, page):
    page.set_viewport_size({"width": 390, "height": 800})
    logged_in_page(administrator)
    nav = page.locator("#mainnav")
    expect(nav).to_be_hidden()

    page.locator(".nav-toggle").click()

    expect(nav).to_be_visible()
    expect(nav.locator("a[data-nav='home']")).to_be_visible()


def test_job_progress_polls_and_shows_server_errors_in_a_toast(
    logged_in_page, administrator, live_server, browser_errors
):
    from satu.core.models import Job

    # Chromium itself logs the 404 of the poll; htmx must not add its own error.
    browser_errors.allow("status of 404")
    job = Job.objects.create(
        kind="test",
        title="Import clients",
        created_by=administrator,
        state=Job.State.RUNNING,
        progress=10,
        message="Row 1",
    )
    page = logged_in_page(administrator)
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    expect(page.locator(".job-message")).to_have_text("Row 1")

    Job.objects.filter(pk=job.pk).update(progress=60, message="Row 6")
    expect(page.locator(".job-message")).to_have_text("Row 6")
    expect(page.locator(".progress")).to_have_attribute("aria-valuenow", "60")

    Job.objects.filter(pk=job.pk).delete()
    expect(page.locator("#toasts .toast")).to_contain_text("Job not found.")
    page.wait_for_timeout(2500)
    expect(page.locator("#toasts .toast")).to_have_count(1)  # polling stopped
    expect(page.locator(".job-message")).to_have_text("Row 6")
    assert all("status of 404" in error for error in browser_errors)
