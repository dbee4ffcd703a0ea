"""The billing screens: lists with fixed query counts, forms showing the
services' messages, actions, PDF, the statement import wizard."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from satu.billing import services
from satu.billing.models import Invoice, Payment
from satu.billing.tests.factories import ContractFactory
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

CSV = (Path(__file__).parent / "data" / "bca_statement.csv").read_bytes()


@pytest.fixture
def web(client, accountant):
    client.force_login(accountant)
    return client


def _count(web, url):
    with CaptureQueriesContext(connection) as captured:
        response = web.get(url)
    assert response.status_code == 200, url
    return len(captured)


def test_lists_do_not_grow_with_rows(web, accountant, bank, make_invoice):
    def add():
        client = ClientFactory()
        invoice = make_invoice(client)
        services.payment_create(
            actor=accountant,
            direction="in",
            cash_account_id=bank.pk,
            amount=1000000,
            client_id=client.pk,
            allocations=[{"invoice_id": invoice.pk, "amount": 1000000}],
        )
        ContractFactory()

    add()
    urls = [
        "/invoices/",
        "/payments/",
        "/contracts/",
        "/receivables/",
        "/cash-accounts/",
        "/settings/payment-purposes/",
        "/bank-statements/",
    ]
    before = {url: _count(web, url) for url in urls}
    add()
    add()
    assert {url: _count(web, url) for url in urls} == before


def test_new_invoice_form_creates_and_posts(web, customer, company):
    response = web.post(
        "/invoices/new/",
        {
            "kind": "customer_invoice",
            "client": customer.pk,
            "currency": "IDR",
            "issue_date": "2026-03-01",
            "lines-TOTAL_FORMS": "2",
            "lines-INITIAL_FORMS": "0",
            "lines-0-description": "Pump",
            "lines-0-quantity": "2",
            "lines-0-unit_price": "500000",
            "lines-0-tax_rate": "11",
            "lines-1-description": "",
            "post": "1",
        },
    )
    invoice = Invoice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/invoices/{invoice.pk}/"
    assert (invoice.number, invoice.amount_total) == ("INV-2026-0001", 1110000)
    page = web.get(response["Location"])
    assert b"INV-2026-0001" in page.content


def test_invoice_form_shows_the_service_message(web, customer, company):
    contract = ContractFactory(client=customer, currency="IDR")
    response = web.post(
        "/invoices/new/",
        {
            "kind": "customer_invoice",
            "contract": contract.pk,
            "currency": "USD",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-description": "Pump",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "10",
        },
    )
    assert response.status_code == 422
    assert "The contract is in IDR, the invoice in USD." in response.content.decode()
    assert Invoice.objects.count() == 0


def test_post_twice_and_cancel_from_the_card(web, customer, make_invoice):
    draft = make_invoice(customer, post=False)
    web.post(f"/invoices/{draft.pk}/post/", {"version": draft.version})
    again = web.post(f"/invoices/{draft.pk}/post/", follow=True)
    assert "This invoice is already posted." in again.content.decode()
    web.post(f"/invoices/{draft.pk}/cancel/")
    draft.refresh_from_db()
    assert draft.state == "cancelled"


def test_stale_version_on_the_card(web, customer, make_invoice):
    draft = make_invoice(customer, post=False)
    response = web.post(
        f"/invoices/{draft.pk}/post/", {"version": draft.version + 1}, follow=True
    )
    assert "changed by someone else" in response.content.decode()
    draft.refresh_from_db()
    assert draft.state == "draft"


def test_credit_page_refuses_over_credit(web, customer, make_invoice):
    invoice = make_invoice(customer)
    line = invoice.lines.get()
    response = web.post(f"/invoices/{invoice.pk}/credit/", {f"qty_{line.pk}": "2"})
    assert response.status_code == 422
    assert "At most 1 can still be credited." in response.content.decode()
    ok = web.post(
        f"/invoices/{invoice.pk}/credit/", {f"qty_{line.pk}": "1", "post": "1"}
    )
    assert ok.status_code == 302
    invoice.refresh_from_db()
    assert invoice.state == "paid"


def test_pdf_view(web, customer, make_invoice):
    invoice = make_invoice(customer)
    response = web.get(f"/invoices/{invoice.pk}/pdf/?download=1")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="INV-2026-0001.pdf"'
    )
    assert response.content.startswith(b"%PDF")


def test_payment_form_pays_an_invoice_and_shows_errors(
    web, bank, customer, make_invoice
):
    invoice = make_invoice(customer, amounts=[Decimal(400000)])
    form = web.get(f"/payments/new/?invoice={invoice.pk}")
    assert form.status_code == 200
    purpose = services.PaymentPurpose.objects.get(code="sale")
    bad = web.post(
        "/payments/new/",
        {
            "direction": "in",
            "cash_account": bank.pk,
            "purpose": purpose.pk,
            "amount": "100.5",
            "client": customer.pk,
            "invoice": invoice.pk,
        },
    )
    assert bad.status_code == 422
    assert "IDR amounts have at most 0 decimals." in bad.content.decode()
    assert Payment.objects.count() == 0
    good = web.post(
        "/payments/new/",
        {
            "direction": "in",
            "cash_account": bank.pk,
            "purpose": purpose.pk,
            "amount": "500000",
            "date": "2026-03-05",
            "client": customer.pk,
            "invoice": invoice.pk,
        },
    )
    payment = Payment.objects.get()
    assert good["Location"] == f"/payments/{payment.pk}/"
    assert payment.amount_allocated == Decimal(400000)
    invoice.refresh_from_db()
    assert invoice.state == "paid"


def test_allocate_an_advance_from_the_payment_card(
    web, accountant, bank, customer, make_invoice
):
    payment = services.payment_create(
        actor=accountant,
        direction="in",
        cash_account_id=bank.pk,
        amount=300000,
        client_id=customer.pk,
    )
    invoice = make_invoice(customer, amounts=[Decimal(200000)])
    card = web.get(f"/payments/{payment.pk}/")
    assert f'name="amount_{invoice.pk}"'.encode() in card.content
    too_much = web.post(
        f"/payments/{payment.pk}/allocate/", {f"amount_{invoice.pk}": "250000"}
    )
    assert too_much.status_code == 302
    invoice.refresh_from_db()
    assert invoice.amount_paid == 0
    web.post(f"/payments/{payment.pk}/allocate/", {f"amount_{invoice.pk}": "200000"})
    invoice.refresh_from_db()
    assert invoice.state == "paid"


def test_statement_import_wizard(web, bank, make_invoice):
    toko = ClientFactory(name="Toko Maju")
    invoice = make_invoice(toko, amounts=[Decimal(1110000)])
    columns = web.post(
        "/bank-statements/import/",
        {
            "step": "upload",
            "cash_account": bank.pk,
            "decimal_separator": ",",
            "file": SimpleUploadedFile("bca.csv", CSV, content_type="text/csv"),
        },
    )
    assert columns.status_code == 200
    content = columns.context["content"]
    assert columns.context["columns"]["date"].initial == "Tanggal"
    common = {
        "content": content,
        "cash_account": bank.pk,
        "decimal_separator": ",",
        "filename": "bca.csv",
        "date": "Tanggal",
        "amount": "Jumlah",
        "description": "Keterangan",
        "counterparty_name": "Nama",
    }
    preview = web.post("/bank-statements/import/", {**common, "step": "columns"})
    assert preview.status_code == 200
    items = preview.context["items"]
    assert items[0]["invoice_id"] == invoice.pk
    done = web.post(
        "/bank-statements/import/",
        {**common, "step": "confirm", "invoice_2": str(invoice.pk), "skip_5": "1"},
    )
    assert done.status_code == 302, done.content.decode()[:2000]
    assert Payment.objects.count() == 3
    invoice.refresh_from_db()
    assert invoice.state == "paid"


def test_sales_manager_sees_own_invoices_and_no_settings(
    client, manager, customer, make_invoice
):
    mine = make_invoice(customer)
    other = make_invoice(ClientFactory())
    client.force_login(manager)
    assert client.get(f"/invoices/{mine.pk}/").status_code == 200
    assert client.get(f"/invoices/{other.pk}/").status_code == 404
    assert client.get("/cash-accounts/").status_code == 403


def test_client_card_shows_the_receivable(client, manager, customer, make_invoice):
    make_invoice(customer, amounts=[Decimal(1250000)], due_date=date(2099, 1, 1))
    client.force_login(manager)
    page = client.get(f"/clients/{customer.pk}/").content.decode()
    assert "Receivable" in page
    assert 'id="billing-balance"' in page


def test_payment_card_shows_refusals(web, accountant, bank, customer, make_invoice):
    payment = services.payment_create(
        actor=accountant,
        direction="in",
        cash_account_id=bank.pk,
        amount=300000,
        client_id=customer.pk,
    )
    invoice = make_invoice(customer, amounts=[Decimal(200000)])
    cancelled = make_invoice(customer, amounts=[Decimal(100000)])
    services.invoice_cancel(actor=accountant, invoice_id=cancelled.pk)

    over = web.post(
        f"/payments/{payment.pk}/allocate/",
        {f"amount_{invoice.pk}": "250000"},
        follow=True,
    ).content.decode()
    assert "Invoice INV-2026-0001 has only 200000 IDR due." in over
    refused = web.post(
        f"/payments/{payment.pk}/allocate/",
        {f"amount_{cancelled.pk}": "1000"},
        follow=True,
    ).content.decode()
    assert "Invoice INV-2026-0002 is cancelled; it cannot be paid." in refused
    payment.refresh_from_db()
    assert payment.amount_allocated == 0


def test_send_from_the_card(
    web, customer, make_invoice, django_capture_on_commit_callbacks
):
    from django.core import mail

    invoice = make_invoice(customer)
    with django_capture_on_commit_callbacks(execute=True):
        web.post(
            f"/invoices/{invoice.pk}/send/",
            {
                "to": "a@toko.test, b@toko.test",
                "subject": "",
                "message": "Terima kasih",
            },
        )
    assert [m.to for m in mail.outbox] == [["a@toko.test", "b@toko.test"]]
    assert mail.outbox[0].body == "Terima kasih"
    assert mail.outbox[0].attachments[0][0] == "INV-2026-0001.pdf"
