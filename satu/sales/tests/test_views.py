"""Sales screens: lists without N+1, the order form, actions and their
refusal messages (the same text as the API)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from satu.sales import services
from satu.sales.models import SalesOrder
from satu.sales.tests.factories import make_order

pytestmark = pytest.mark.django_db


def test_order_list_queries_do_not_grow(
    client, manager, world, django_assert_max_num_queries
):
    for _i in range(3):
        make_order(manager, world)
    client.force_login(manager)
    url = reverse("sales_order_list")
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        response = client.get(url)
    count = len(few.captured_queries)
    for _i in range(5):
        make_order(manager, world)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as more:
        response = client.get(url)
    assert response.status_code == 200
    assert len(more.captured_queries) == count
    assert response.content.count(b"SO-") >= 8


def test_quote_list_queries_do_not_grow(
    client, manager, world, django_assert_num_queries
):
    services.quote_create(
        actor=manager,
        client_id=world["client"].pk,
        lines=[{"product_id": world["products"][0].pk, "quantity": 1}],
    )
    client.force_login(manager)
    response = client.get(reverse("quote_list"))
    assert response.status_code == 200 and b"Q-" in response.content


def test_create_order_in_the_form(client, manager, world):
    client.force_login(manager)
    p1, p2 = world["products"]
    response = client.post(
        reverse("sales_order_create"),
        {
            "client": world["client"].pk,
            "warehouse": world["wh"].pk,
            "line_product": [p1.pk, p2.pk, ""],
            "line_quantity": ["2", "1", ""],
            "line_unit": ["", "", ""],
            "line_price": ["", "", ""],
            "line_discount": ["", "", ""],
        },
    )
    order = SalesOrder.objects.get()
    assert response.status_code == 302
    assert order.total == Decimal("55.00")  # (25 + 25) × 1.1


def test_form_shows_the_service_message(client, manager, world):
    client.force_login(manager)
    response = client.post(
        reverse("sales_order_create"),
        {
            "client": world["client"].pk,
            "warehouse": world["wh"].pk,
            "line_product": [world["products"][0].pk],
            "line_quantity": ["0"],
            "line_unit": [""],
            "line_price": ["1.999"],
            "line_discount": [""],
        },
    )
    assert response.status_code == 422
    assert "The quantity must be greater than zero." in response.content.decode()
    assert SalesOrder.objects.count() == 0


def test_over_shipment_message_on_the_page(client, manager, world):
    order = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    line = order.lines.order_by("position").first()
    client.force_login(manager)
    response = client.post(
        reverse("sales_order_ship", args=[order.pk]), {f"ship_{line.pk}": "5"}
    )
    assert response.status_code == 422
    assert "At most 3 pcs left to ship of P001." in response.content.decode()
    response = client.post(
        reverse("sales_order_ship", args=[order.pk]), {f"ship_{line.pk}": "1"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == "processing"


def test_order_detail_shows_availability(client, manager, world):
    order = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    client.force_login(manager)
    response = client.get(reverse("sales_order_detail", args=[order.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Available" in html and "97" in html


def test_other_managers_order_is_404(client, manager, other_manager, world):
    order = make_order(manager, world)
    client.force_login(other_manager)
    assert client.get(reverse("sales_order_detail", args=[order.pk])).status_code == 404


def test_live_totals_preview(client, manager, world):
    client.force_login(manager)
    response = client.post(
        reverse("sales_lines_preview"),
        {
            "client": world["client"].pk,
            "currency": "USD",
            "line_product": [world["products"][0].pk],
            "line_quantity": ["4"],
            "line_unit": [""],
            "line_price": [""],
            "line_discount": [""],
        },
    )
    html = response.content.decode()
    assert "Price list List USD" in html
    assert "55.00" in html  # 4 × 12.50 = 50 + 10 %


def test_edit_a_draft_order_and_stale_version(client, manager, world):
    order = make_order(manager, world)
    client.force_login(manager)
    url = reverse("sales_order_edit", args=[order.pk])
    assert client.get(url).status_code == 200
    data = {
        "client": world["client"].pk,
        "warehouse": world["wh"].pk,
        "version": order.version,
        "line_product": [world["products"][0].pk],
        "line_quantity": ["1"],
        "line_unit": [""],
        "line_price": ["10"],
        "line_discount": [""],
    }
    assert client.post(url, data).status_code == 302
    order.refresh_from_db()
    assert order.total == Decimal("11.00")
    response = client.post(url, data)  # the old version again
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()


def test_quote_screens_from_deal_to_order(
    client, manager, world, django_capture_on_commit_callbacks
):
    from django.core import mail

    from satu.crm.models import DealLine
    from satu.crm.tests.factories import DealFactory
    from satu.sales.models import Quote

    deal = DealFactory(client=world["client"], currency="USD")
    DealLine.objects.create(deal=deal, product=world["products"][0], quantity=2)
    client.force_login(manager)
    url = reverse("quote_create") + f"?deal={deal.pk}"
    page = client.get(url).content.decode()
    assert 'value="2"' in page  # the deal's line is pre-filled
    response = client.post(
        url,
        {
            "client": world["client"].pk,
            "currency": "USD",
            "deal": deal.pk,
            "line_product": [world["products"][0].pk],
            "line_quantity": ["2"],
            "line_unit": [""],
            "line_price": [""],
            "line_discount": [""],
        },
    )
    quote = Quote.objects.get()
    assert response.status_code == 302 and quote.deal_id == deal.pk
    assert quote.total == Decimal("27.50")
    detail = client.get(reverse("quote_detail", args=[quote.pk]))
    assert detail.status_code == 200 and quote.number in detail.content.decode()
    pdf = client.get(reverse("quote_pdf", args=[quote.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    response = client.post(
        reverse("quote_send", args=[quote.pk]), {"to": "nope", "subject": "x"}
    )
    assert response.status_code == 422
    assert "is not an e-mail address" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("quote_send", args=[quote.pk]),
            {"to": "buyer@example.com", "subject": "Offer", "message": "Hi"},
        )
    assert response.status_code == 302 and len(mail.outbox) == 1
    client.post(reverse("quote_accept", args=[quote.pk]))
    response = client.post(reverse("quote_to_order", args=[quote.pk]))
    order = SalesOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("sales_order_detail", args=[order.pk])
    # The deal page lists the deal's quotes and orders (crm's section registry).
    deal_page = client.get(reverse("deal_detail", args=[deal.pk])).content.decode()
    assert 'id="deal-documents"' in deal_page
    assert quote.number in deal_page and order.number in deal_page
