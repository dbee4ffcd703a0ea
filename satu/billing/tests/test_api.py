"""The billing API: create, post, pay, credit, list (fixed query counts),
errors as {code, detail, fields} with 4xx and nothing changed."""

from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from satu.billing.models import Invoice, Payment
from satu.billing.tests.factories import CashAccountFactory, ContractFactory
from satu.parties.tests.factories import ClientFactory, CounterpartyFactory

pytestmark = pytest.mark.django_db


def _invoice_body(client, **kw):
    return {
        "kind": "customer_invoice",
        "currency": "IDR",
        "client_id": client.pk,
        "issue_date": "2026-03-01",
        "lines": [
            {
                "description": "Pump",
                "quantity": "2",
                "unit_price": "500000",
                "tax_rate": "11",
            }
        ],
        **kw,
    }


@pytest.fixture
def api(api_client, accountant):
    return api_client.as_user(accountant)


def test_invoice_lifecycle_through_the_api(api, company, bank, customer):
    created = api.post(
        "/api/v1/invoices", _invoice_body(customer), content_type="application/json"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["state"], body["number"], body["amount_total"]) == (
        "draft",
        "",
        "1110000",
    )
    posted = api.post(f"/api/v1/invoices/{body['id']}/post")
    assert posted.status_code == 200
    assert posted.json()["number"] == "INV-2026-0001"

    again = api.post(f"/api/v1/invoices/{body['id']}/post")
    assert again.status_code == 409
    assert again.json()["code"] == "billing.bad_state"

    paid = api.post(
        "/api/v1/payments",
        {
            "direction": "in",
            "cash_account_id": bank.pk,
            "amount": "1500000",
            "purpose": "sale",
            "client_id": customer.pk,
            "allocations": [{"invoice_id": body["id"], "amount": "1110000"}],
        },
        content_type="application/json",
    )
    assert paid.status_code == 201, paid.json()
    assert paid.json()["amount_unallocated"] == "390000"
    assert paid.json()["allocations"][0]["invoice_number"] == "INV-2026-0001"
    detail = api.get(f"/api/v1/invoices/{body['id']}").json()
    assert (detail["state"], detail["amount_due"]) == ("paid", "0")


def test_payment_errors_answer_4xx_and_change_nothing(
    api, company, bank, customer, make_invoice
):
    invoice = make_invoice(customer, amounts=[Decimal("100000")])
    cancelled = make_invoice(customer)
    api.post(f"/api/v1/invoices/{cancelled.pk}/cancel")

    def pay(**kw):
        body = {
            "direction": "in",
            "cash_account_id": bank.pk,
            "amount": "100000",
            "client_id": customer.pk,
            **kw,
        }
        return api.post("/api/v1/payments", body, content_type="application/json")

    cases = [
        (
            pay(
                allocations=[{"invoice_id": invoice.pk, "amount": "150000"}],
                amount="150000",
            ),
            422,
            "billing.over_allocation",
        ),
        (
            pay(allocations=[{"invoice_id": cancelled.pk, "amount": "100"}]),
            409,
            "billing.invoice_cancelled",
        ),
        (pay(currency="USD"), 422, "money.currency_mismatch"),
        (pay(amount="100.5"), 422, "money.too_many_decimals"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.json()
        assert response.json()["code"] == code
        assert response.json()["detail"]
    assert Payment.objects.count() == 0
    invoice.refresh_from_db()
    assert invoice.amount_due == Decimal("100000")


def test_credit_note_over_credit_and_stale_version(
    api, company, customer, make_invoice
):
    invoice = make_invoice(customer, amounts=[Decimal("300000")])
    line = invoice.lines.get()
    over = api.post(
        f"/api/v1/invoices/{invoice.pk}/credit-notes",
        {"lines": [{"line_id": line.pk, "quantity": "2"}]},
        content_type="application/json",
    )
    assert over.status_code == 422
    assert over.json()["code"] == "billing.over_credit"
    assert "lines.0.quantity" in over.json()["fields"]
    note = api.post(
        f"/api/v1/invoices/{invoice.pk}/credit-notes",
        {"post": True},
        content_type="application/json",
    )
    assert note.status_code == 201
    assert note.json()["kind"] == "customer_credit_note"
    assert note.json()["credited_invoice_id"] == invoice.pk

    draft = make_invoice(customer, post=False)
    stale = api.patch(
        f"/api/v1/invoices/{draft.pk}",
        {"version": draft.version + 5, "reference": "X"},
        content_type="application/json",
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_conflict"


def test_lists_run_a_fixed_number_of_queries(
    api, company, bank, customer, make_invoice, django_assert_num_queries
):
    for _ in range(3):
        invoice = make_invoice(ClientFactory())
        api.post(
            "/api/v1/payments",
            {
                "direction": "in",
                "cash_account_id": bank.pk,
                "amount": "1000000",
                "client_id": invoice.client_id,
                "allocations": [{"invoice_id": invoice.pk, "amount": "1000000"}],
            },
            content_type="application/json",
        )
    ContractFactory()
    counts = {}
    for url in [
        "/api/v1/invoices",
        "/api/v1/payments",
        "/api/v1/contracts",
        "/api/v1/receivables",
        "/api/v1/cash-accounts",
        "/api/v1/payment-purposes",
        "/api/v1/bank-statements",
    ]:
        with CaptureQueriesContext(connection) as captured:
            response = api.get(url)
        assert response.status_code == 200, (url, response.json())
        counts[url] = len(captured)
    for _ in range(3):
        invoice = make_invoice(ClientFactory())
    ContractFactory()
    for url, count in counts.items():
        with django_assert_num_queries(count):
            api.get(url)


def test_sales_manager_sees_only_own_clients_invoices(
    api_client, manager, company, customer, make_invoice
):
    mine = make_invoice(customer)
    make_invoice(ClientFactory())
    body = api_client.as_user(manager).get("/api/v1/invoices").json()
    assert [row["id"] for row in body["items"]] == [mine.pk]
    other = Invoice.objects.exclude(pk=mine.pk).get()
    assert api_client.get(f"/api/v1/invoices/{other.pk}").status_code == 404


def test_contract_create_and_patch(api, company):
    counterparty = CounterpartyFactory()
    created = api.post(
        "/api/v1/contracts",
        {
            "number": "K-2026-01",
            "kind": "sale",
            "counterparty_id": counterparty.pk,
            "currency": "IDR",
            "valid_from": "2026-01-01",
            "payment_days": 30,
            "credit_limit": "50000000",
            "overdue_days_allowed": 15,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["credit_limit"] == "50000000"
    patched = api.patch(
        f"/api/v1/contracts/{body['id']}",
        {"version": body["version"], "payment_days": 45},
        content_type="application/json",
    )
    assert patched.json()["payment_days"] == 45
    stale = api.patch(
        f"/api/v1/contracts/{body['id']}",
        {"version": body["version"], "payment_days": 60},
        content_type="application/json",
    )
    assert stale.status_code == 409


def test_pdf_and_email(
    api, company, bank, customer, make_invoice, django_capture_on_commit_callbacks
):
    invoice = make_invoice(customer, amounts=[Decimal("1250000")])
    pdf = api.get(f"/api/v1/invoices/{invoice.pk}/pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    with django_capture_on_commit_callbacks(execute=True):
        sent = api.post(
            f"/api/v1/invoices/{invoice.pk}/send",
            {"to": ["buyer@toko.test"]},
            content_type="application/json",
        )
    assert sent.status_code == 202
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["buyer@toko.test"]
    assert message.subject == "Invoice INV-2026-0001"
    ((name, content, mimetype),) = message.attachments
    assert (name, mimetype) == ("INV-2026-0001.pdf", "application/pdf")
    assert content.startswith(b"%PDF")

    bad = api.post(
        f"/api/v1/invoices/{invoice.pk}/send",
        {"to": ["not-an-address"]},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert "to" in bad.json()["fields"]


def test_cash_accounts_and_purposes(api, company):
    created = api.post(
        "/api/v1/cash-accounts",
        {"kind": "cash", "name": "Cash desk Kelapa Gading", "currency": "IDR"},
        content_type="application/json",
    )
    assert created.status_code == 201
    codes = [p["code"] for p in api.get("/api/v1/payment-purposes").json()["items"]]
    assert set(codes) >= {"sale", "advance", "refund", "loan", "salary", "tax", "other"}
    dup = api.post(
        "/api/v1/payment-purposes",
        {"code": "sale", "name": "Sale again"},
        content_type="application/json",
    )
    assert dup.status_code == 422
    assert CashAccountFactory._meta.model.objects.filter(kind="cash").count() == 1


def test_receivables_endpoints(api, accountant, bank, customer, make_invoice):
    invoice = make_invoice(customer, amounts=[Decimal(500000)])
    api.post(
        "/api/v1/payments",
        {
            "direction": "in",
            "cash_account_id": bank.pk,
            "amount": "200000",
            "date": "2026-03-10",
            "client_id": customer.pk,
            "allocations": [{"invoice_id": invoice.pk, "amount": "200000"}],
        },
        content_type="application/json",
    )
    ageing = api.get("/api/v1/receivables?as_of=2026-03-20").json()["items"]
    assert [(r["name"], r["total"], r["current"]) for r in ageing] == [
        ("Toko Maju", "300000", "0")
    ]
    assert ageing[0]["d1_30"] == "300000"
    dynamics = api.get(
        "/api/v1/receivables/payment-dynamics?date_from=2026-02-01&date_to=2026-03-31"
    ).json()
    assert dynamics == [
        {"month": "2026-02", "received": "0", "paid": "0"},
        {"month": "2026-03", "received": "200000", "paid": "0"},
    ]
    split = api.get(
        "/api/v1/receivables/payment-split?date_from=2026-01-01&date_to=2026-12-31"
    ).json()
    assert split["by_cash_account"][0]["received"] == "200000"
    assert split["by_purpose"][0]["name"] == "Other"
