"""Importing clients through Chromium: upload, preview, import, result."""

import pytest
from playwright.sync_api import expect

from satu.core.testing.helpers import make_user
from satu.parties.models import Client

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "Nama;Telepon;Wilayah\n"
    "PT Satu Jaya;021 555 0101;Jakarta\n"
    "PT Dua Abadi;12;Bandung\n"
    "CV Tiga Sekawan;021 555 0103;Surabaya\n"
)


def test_import_valid_rows_from_the_preview(logged_in_page, live_server, tmp_path):
    manager = make_user("sari", role="sales_manager", password=PASSWORD)
    upload = tmp_path / "klien.csv"
    upload.write_text(CSV, encoding="utf-8")
    page = logged_in_page(manager)

    page.goto(f"{live_server.url}/clients/import/")
    page.get_by_label("File").set_input_files(str(upload))
    page.get_by_role("button", name="Check the file").click()

    # The check ran as a job (on commit in tests); the preview lists the error.
    expect(page.locator(".import-columns")).to_contain_text("Telepon")
    expect(page.locator("#import-errors")).to_contain_text("Enter a valid phone number")
    expect(page.locator("[data-invalid-rows]")).to_have_text("1")
    assert Client.objects.count() == 0

    page.get_by_label("Import valid rows").check()
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".job-status")).to_contain_text("Done")
    page.locator(".job-result").click()

    expect(page.locator(".import-outcome")).to_contain_text(
        "2 rows imported. 1 row with errors was skipped."
    )
    expect(page.locator("#import-errors")).to_contain_text("Telepon")
    assert sorted(Client.objects.values_list("name", flat=True)) == [
        "CV Tiga Sekawan",
        "PT Satu Jaya",
    ]
