"""Invoices: drafts, taxes, posting with gapless numbers, cancelling."""

from datetime import date
from decimal import Decimal

import pytest

from satu.billing import services
from satu.billing.errors import BadState
from satu.billing.events import InvoiceCancelled, InvoicePosted
from satu.billing.models import Invoice
from satu.billing.tests.factories import ContractFactory
from satu.catalog.tests.factories import ProductFactory, TaxRuleFactory
from satu.core.errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
    VersionConflict,
)
from satu.core.models import AuditEntry
from satu.core.money import CurrencyMismatch
from satu.parties.models import TimelineEntry
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_draft_takes_the_product_tax_rule_and_rounds_per_currency(
    accountant, company, customer
):
    TaxRuleFactory(rate=Decimal("11"), applies_to="both")
    product = ProductFactory(name="Cable 10 m")

    invoice = services.invoice_create(
        actor=accountant,
        kind="customer_invoice",
        currency="IDR",
        client_id=customer.pk,
        issue_date=date(2026, 3, 1),
        lines=[
            {"product_id": product.pk, "quantity": "3", "unit_price": "33333.33"},
            {
                "description": "Delivery",
                "quantity": 1,
                "unit_price": 15000,
                "tax_rate": 0,
            },
        ],
    )

    assert invoice.state == Invoice.State.DRAFT
    assert invoice.number == ""
    first, second = invoice.lines.all()
    assert first.description == "Cable 10 m"
    assert (first.untaxed, first.tax, first.total) == (
        Decimal("100000"),
        Decimal("11000"),
        Decimal("111000"),
    )
    assert (second.untaxed, second.tax) == (Decimal("15000"), Decimal("0"))
    assert invoice.amount_untaxed == Decimal("115000")
    assert invoice.amount_tax == Decimal("11000")
    assert invoice.amount_total == Decimal("126000")
    assert invoice.due_date == date(2026, 3, 1)
    assert AuditEntry.objects.filter(action="created", object_id=invoice.pk).exists()


def test_tax_inclusive_price_and_usd_cents(accountant, company, customer):
    invoice = services.invoice_create(
        actor=accountant,
        kind="customer_invoice",
        currency="USD",
        client_id=customer.pk,
        lines=[
            {
                "description": "Licence",
                "quantity": 1,
                "unit_price": "111.00",
                "tax_rate": 11,
                "tax_inclusive": True,
            },
            {
                "description": "Support",
                "quantity": 3,
                "unit_price": "0.333",
                "tax_rate": 0,
            },
        ],
    )
    assert invoice.amount_untaxed == Decimal("101.00")
    assert invoice.amount_tax == Decimal("11.00")
    assert invoice.amount_total == Decimal("112.00")


def test_due_date_follows_the_contract_payment_days(accountant, company, customer):
    contract = ContractFactory(client=customer, payment_days=45, currency="IDR")
    invoice = services.invoice_create(
        actor=accountant,
        kind="customer_invoice",
        currency="IDR",
        contract_id=contract.pk,
        issue_date=date(2026, 3, 1),
        lines=[{"description": "Goods", "quantity": 1, "unit_price": 1000}],
    )
    assert invoice.due_date == date(2026, 4, 15)
    assert invoice.counterparty_id == contract.counterparty_id
    assert invoice.client_id == customer.pk


def test_currency_must_match_the_contract(accountant, company, customer):
    contract = ContractFactory(client=customer, currency="IDR")
    with pytest.raises(CurrencyMismatch) as caught:
        services.invoice_create(
            actor=accountant,
            kind="customer_invoice",
            currency="USD",
            contract_id=contract.pk,
            lines=[{"description": "Goods", "quantity": 1, "unit_price": 10}],
        )
    assert caught.value.code == "money.currency_mismatch"
    assert Invoice.objects.count() == 0


def test_bad_lines_name_each_field(accountant, company, customer):
    with pytest.raises(ValidationFailed) as caught:
        services.invoice_create(
            actor=accountant,
            kind="customer_invoice",
            currency="IDR",
            client_id=customer.pk,
            lines=[
                {"description": "", "quantity": 0, "unit_price": "1.123456"},
                {"description": "ok", "quantity": 1, "unit_price": -5},
            ],
        )
    assert set(caught.value.fields) == {
        "lines.0.description",
        "lines.0.quantity",
        "lines.0.unit_price",
        "lines.1.unit_price",
    }
    assert Invoice.objects.count() == 0


@pytest.mark.parametrize("company_id", ["abc", 999_999])
def test_unknown_company_is_a_field_error(accountant, company, customer, company_id):
    with pytest.raises(ValidationFailed) as caught:
        services.invoice_create(
            actor=accountant,
            kind="customer_invoice",
            currency="IDR",
            client_id=customer.pk,
            company_id=company_id,
            lines=[{"description": "Goods", "quantity": 1, "unit_price": 10}],
        )
    assert set(caught.value.fields) == {"company_id"}
    assert Invoice.objects.count() == 0


def test_posting_numbers_per_company_kind_and_year_without_gaps(
    accountant,
    company,
    customer,
    make_invoice,
    captured_events,
    django_capture_on_commit_callbacks,
):
    supplier = ContractFactory().counterparty
    with django_capture_on_commit_callbacks(execute=True):
        first = make_invoice(customer)
        draft = make_invoice(customer, post=False)
        services.invoice_delete(actor=accountant, invoice_id=draft.pk)
        second = make_invoice(customer)
        bill = make_invoice(None, kind="supplier_invoice", counterparty_id=supplier.pk)
        next_year = make_invoice(customer, issue_date=date(2027, 1, 5))

    assert [first.number, second.number] == ["INV-2026-0001", "INV-2026-0002"]
    assert bill.number == "BILL-2026-0001"
    assert next_year.number == "INV-2027-0001"
    assert first.state == Invoice.State.POSTED
    assert first.amount_due == Decimal("1000000")
    posted = [e for e in captured_events if isinstance(e, InvoicePosted)]
    assert [e.number for e in posted] == [
        "INV-2026-0001",
        "INV-2026-0002",
        "BILL-2026-0001",
        "INV-2027-0001",
    ]
    assert posted[0].amount_total == Decimal("1000000")
    assert posted[0].client_id == customer.pk
    entry = TimelineEntry.objects.get(client=customer, subject_id=first.pk)
    assert entry.kind == "invoice.posted"
    assert "INV-2026-0001" in entry.summary


def test_posting_twice_is_refused(accountant, customer, make_invoice):
    invoice = make_invoice(customer)
    with pytest.raises(BadState) as caught:
        services.invoice_post(actor=accountant, invoice_id=invoice.pk)
    assert caught.value.code == "billing.bad_state"
    invoice.refresh_from_db()
    assert invoice.number == "INV-2026-0001"


def test_stale_version_is_a_conflict(accountant, customer, make_invoice):
    draft = make_invoice(customer, post=False)
    services.invoice_update(
        actor=accountant, invoice_id=draft.pk, version=draft.version, reference="PO-1"
    )
    with pytest.raises(VersionConflict):
        services.invoice_update(
            actor=accountant, invoice_id=draft.pk, version=draft.version, notes="x"
        )
    draft.refresh_from_db()
    assert (draft.reference, draft.notes, draft.version) == ("PO-1", "", 2)


def test_update_replaces_lines_and_totals(accountant, customer, make_invoice):
    draft = make_invoice(customer, post=False)
    services.invoice_update(
        actor=accountant,
        invoice_id=draft.pk,
        lines=[
            {"description": "New", "quantity": 2, "unit_price": 500, "tax_rate": 10}
        ],
    )
    draft.refresh_from_db()
    assert draft.amount_total == Decimal("1100")
    assert [line.description for line in draft.lines.all()] == ["New"]


def test_posted_invoice_cannot_be_edited(accountant, customer, make_invoice):
    invoice = make_invoice(customer)
    with pytest.raises(BadState):
        services.invoice_update(actor=accountant, invoice_id=invoice.pk, notes="x")


def test_cancel_keeps_the_number_and_publishes(
    accountant,
    customer,
    make_invoice,
    captured_events,
    django_capture_on_commit_callbacks,
):
    invoice = make_invoice(customer)
    with django_capture_on_commit_callbacks(execute=True):
        services.invoice_cancel(actor=accountant, invoice_id=invoice.pk, reason="typo")
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.CANCELLED
    assert invoice.number == "INV-2026-0001"
    assert invoice.amount_due == 0
    cancelled = [e for e in captured_events if isinstance(e, InvoiceCancelled)]
    assert cancelled[0].amount_total == Decimal("1000000")
    assert make_invoice(customer).number == "INV-2026-0002"


def test_cancel_refuses_drafts_and_cancelled(accountant, customer, make_invoice):
    draft = make_invoice(customer, post=False)
    with pytest.raises(BadState):
        services.invoice_cancel(actor=accountant, invoice_id=draft.pk)
    invoice = make_invoice(customer)
    services.invoice_cancel(actor=accountant, invoice_id=invoice.pk)
    with pytest.raises(BadState):
        services.invoice_cancel(actor=accountant, invoice_id=invoice.pk)


def test_sales_manager_issues_for_own_clients_only(
    manager, other_manager, director, company, customer
):
    lines = [{"description": "Goods", "quantity": 1, "unit_price": 1000}]
    invoice = services.invoice_create(
        actor=manager,
        kind="customer_invoice",
        currency="IDR",
        client_id=customer.pk,
        lines=lines,
        origin_type="sales.order",
        origin_id=7,
    )
    services.invoice_post(actor=manager, invoice_id=invoice.pk)
    with pytest.raises(NotFound):
        services.invoice_create(
            actor=other_manager,
            kind="customer_invoice",
            currency="IDR",
            client_id=customer.pk,
            lines=lines,
        )
    with pytest.raises(PermissionDenied):
        services.invoice_cancel(actor=director, invoice_id=invoice.pk)


def test_director_cannot_create(director, company):
    with pytest.raises(PermissionDenied):
        services.invoice_create(
            actor=director,
            kind="customer_invoice",
            currency="IDR",
            client_id=ClientFactory().pk,
            lines=[{"description": "x", "quantity": 1, "unit_price": 1}],
        )


def test_switched_off_module_refuses_work(accountant, admin_user, customer, api_client):
    from satu.core import features
    from satu.core.errors import FeatureDisabled

    features.feature_set(code="billing", enabled=False, actor=admin_user)
    with pytest.raises(FeatureDisabled):
        services.invoice_create(
            actor=accountant,
            kind="customer_invoice",
            currency="IDR",
            client_id=customer.pk,
            lines=[{"description": "x", "quantity": 1, "unit_price": 1}],
        )
    assert api_client.as_user(accountant).get("/api/v1/invoices").status_code == 404
    assert Invoice.objects.count() == 0
