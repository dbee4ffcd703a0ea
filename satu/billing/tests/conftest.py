from datetime import date
from decimal import Decimal

import pytest

from satu.billing import services
from satu.billing.tests.factories import CashAccountFactory, CompanyFactory
from satu.core.testing.helpers import make_user
from satu.parties.tests.factories import ClientFactory


@pytest.fixture(autouse=True)
def _purposes(request):
    """The data migration's purposes, again if a transactional test of any
    app flushed the database before this one."""
    if "db" in request.fixturenames or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")
        services.payment_purposes_seed()


@pytest.fixture
def accountant(db):
    return make_user("accountant", role="accountant")


@pytest.fixture
def company(db):
    return CompanyFactory()


@pytest.fixture
def bank(company):
    return CashAccountFactory(company=company, name="BCA IDR")


@pytest.fixture
def customer(manager):
    return ClientFactory(owner=manager, name="Toko Maju")


@pytest.fixture
def make_invoice(accountant, company):
    """`make_invoice(client, amounts=[...], post=True, **kw)`: an invoice of
    one untaxed line per amount (quantity 1)."""

    def make(client=None, amounts=(Decimal("1000000"),), post=True, **kw):
        kw.setdefault("kind", "customer_invoice")
        kw.setdefault("currency", "IDR")
        kw.setdefault("issue_date", date(2026, 3, 1))
        invoice = services.invoice_create(
            actor=kw.pop("actor", accountant),
            client_id=client.pk if client is not None else None,
            lines=[
                {
                    "description": f"Item {i}",
                    "quantity": 1,
                    "unit_price": a,
                    "tax_rate": 0,
                }
                for i, a in enumerate(amounts)
            ],
            **kw,
        )
        if post:
            invoice = services.invoice_post(actor=accountant, invoice_id=invoice.pk)
        return invoice

    return make
