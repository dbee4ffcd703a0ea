"""Quotes: from a deal or a client, PDF, sending by e-mail, decisions,
expiry, and the one-click order."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail

from satu.core.errors import ValidationFailed
from satu.crm.models import DealLine
from satu.crm.tests.factories import DealFactory
from satu.sales import queries, services
from satu.sales.errors import BadState
from satu.sales.models import AssortmentRule, Quote

pytestmark = pytest.mark.django_db


def _quote(manager, world, **kwargs):
    return services.quote_create(
        actor=manager,
        client_id=world["client"].pk,
        lines=[
            {"product_id": world["products"][0].pk, "quantity": 4},
            {
                "product_id": world["products"][1].pk,
                "quantity": 1,
                "discount_percent": "10",
            },
        ],
        **kwargs,
    )


def test_quote_numbers_prices_and_totals(manager, world):
    quote = _quote(manager, world)
    year = date.today().year
    assert quote.number == f"Q-{year}-0001"
    assert quote.currency == "USD"
    # 4 × 12.50 = 50.00; 25.00 − 10 % = 22.50; untaxed 72.50, tax 7.25
    assert (quote.untaxed, quote.tax, quote.total) == (
        Decimal("72.50"),
        Decimal("7.25"),
        Decimal("79.75"),
    )
    assert _quote(manager, world).number == f"Q-{year}-0002"


def test_quote_from_a_deal_takes_its_lines(manager, world):
    deal = DealFactory(client=world["client"], currency="USD")
    DealLine.objects.create(deal=deal, product=world["products"][1], quantity=3)
    DealLine.objects.create(deal=deal, description="free text", quantity=1)
    quote = services.quote_create(actor=manager, deal_id=deal.pk)
    lines = queries.quote_lines(quote=quote)
    assert quote.deal_id == deal.pk and quote.client_id == world["client"].pk
    assert [(ln.product_id, ln.quantity) for ln in lines] == [
        (world["products"][1].pk, Decimal("3"))
    ]
    assert quote.total == Decimal("82.50")
    assert queries.documents_for_deal(actor=manager, deal_id=deal.pk)["quotes"] == [
        quote
    ]


def test_outside_the_assortment_warns_but_saves(manager, world):
    AssortmentRule.objects.create(product=world["products"][0], warehouse=world["wh"])
    quote = _quote(manager, world, warehouse_id=world["wh"].pk)
    lines = queries.quote_lines(quote=quote)
    assert lines[0].assortment_warning == ""
    assert "P002 is not in the assortment" in lines[1].assortment_warning


def test_pdf_and_send_by_email(manager, world, django_capture_on_commit_callbacks):
    quote = _quote(manager, world)
    pdf = services.quote_pdf(quote=quote)
    assert pdf.startswith(b"%PDF")
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_send(
            actor=manager,
            quote_id=quote.pk,
            to="buyer@example.com",
            subject="Our offer",
            message="Hello",
        )
    quote.refresh_from_db()
    assert quote.state == "sent" and quote.sent_to == "buyer@example.com"
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.subject == "Our offer" and sent.to == ["buyer@example.com"]
    name, content, mimetype = sent.attachments[0]
    assert name == f"{quote.number}.pdf" and mimetype == "application/pdf"
    assert content.startswith(b"%PDF")


def test_send_to_a_bad_address_changes_nothing(
    manager, world, django_capture_on_commit_callbacks
):
    quote = _quote(manager, world)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ValidationFailed) as exc:
            services.quote_send(actor=manager, quote_id=quote.pk, to="not-mail")
    assert "to" in exc.value.fields
    quote.refresh_from_db()
    assert quote.state == "draft" and len(mail.outbox) == 0


def test_accept_then_order_in_one_click(manager, world):
    quote = _quote(manager, world)
    services.quote_accept(actor=manager, quote_id=quote.pk)
    order = services.quote_to_order(actor=manager, quote_id=quote.pk)
    assert order.quote_id == quote.pk and order.total == quote.total
    assert [ln.unit_price for ln in order.lines.order_by("position")] == [
        Decimal("12.50"),
        Decimal("25.00"),
    ]
    with pytest.raises(BadState):
        services.quote_to_order(actor=manager, quote_id=quote.pk)


def test_rejected_quote_cannot_become_an_order(manager, world):
    quote = _quote(manager, world)
    services.quote_reject(actor=manager, quote_id=quote.pk)
    with pytest.raises(BadState):
        services.quote_to_order(actor=manager, quote_id=quote.pk)


def test_expiry(manager, world):
    today = date.today()
    old = _quote(
        manager,
        world,
        issue_date=today - timedelta(days=40),
        valid_until=today - timedelta(days=10),
    )
    fresh = _quote(manager, world)
    assert list(queries.quote_list(actor=manager, expired=True)) == [old]
    with pytest.raises(BadState):
        services.quote_accept(actor=manager, quote_id=old.pk)
    assert services.quotes_expire(today) == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.state == Quote.State.EXPIRED and fresh.state == "draft"


def test_only_a_draft_is_edited(manager, world):
    quote = _quote(manager, world)
    services.quote_update(
        actor=manager,
        quote_id=quote.pk,
        version=quote.version,
        lines=[{"product_id": world["products"][0].pk, "quantity": 1}],
    )
    quote.refresh_from_db()
    assert quote.untaxed == Decimal("12.50")
    services.quote_accept(actor=manager, quote_id=quote.pk)
    with pytest.raises(BadState):
        services.quote_update(actor=manager, quote_id=quote.pk, note="x")
