"""Cancelling a shipped and/or invoiced sales order: a confirm step
(`sales.reversal_required` with the plan), then customer returns at the
value the goods left with and posted credit notes for what is not yet
credited, all in one transaction; refusals change nothing. Service, API and
screens."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from satu.billing import queries as billing_queries
from satu.billing import services as billing_services
from satu.billing.models import Invoice, Payment
from satu.billing.tests.factories import CashAccountFactory
from satu.core import audit
from satu.core.books import check_books
from satu.core.errors import PermissionDenied, ValidationFailed
from satu.core.testing.helpers import make_user
from satu.inventory import queries as inventory_queries
from satu.inventory import services as inventory_services
from satu.inventory.models import Quant, StockLevel, StockMove, Transfer
from satu.inventory.tests.factories import make_product, receive
from satu.parties import queries as parties_queries
from satu.parties.models import Client, Company
from satu.sales import queries, services
from satu.sales.errors import BadState, CancelRefused, ReversalRequired
from satu.sales.models import SalesOrder
from satu.sales.tests.factories import make_order

pytestmark = pytest.mark.django_db

ORIGIN = "sales.order"


def _levels(world):
    """(on hand, reserved, value) per product in the order's warehouse."""
    return {
        lv.product_id: (lv.on_hand, lv.reserved, lv.value)
        for lv in StockLevel.objects.filter(warehouse=world["wh"])
    }


def _books_clean():
    assert check_books() == {name: [] for name in check_books()}


def _lines(order):
    return list(order.lines.order_by("position"))


def _snapshot(order):
    """Everything a refused cancel must leave as it was."""
    order.refresh_from_db()
    return (
        order.state,
        order.version,
        StockMove.objects.count(),
        Transfer.objects.filter(kind="return").count(),
        Invoice.objects.filter(kind="customer_credit_note").count(),
        Invoice.objects.filter(state="draft").count(),
        sorted(Transfer.objects.values_list("pk", "state")),
        sorted(
            (lv.product_id, lv.on_hand, lv.reserved, lv.value)
            for lv in StockLevel.objects.all()
        ),
        audit.entries_for(order).count(),
    )


@pytest.fixture
def costly(keeper, world):
    """A second receipt at another cost, so the average is not round:
    107 units worth 1079.10 of the first product."""
    receive(keeper, world["wh"], world["products"][0], 7, unit_cost="11.3")
    return world


def test_shipped_only_needs_confirm_then_returns_at_cost(manager, costly):
    world = costly
    before = _levels(world)
    order = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    delivery = services.sales_order_ship(actor=manager, order_id=order.pk)
    out_value = StockMove.objects.get(
        transfer=delivery, product=world["products"][0]
    ).value
    assert out_value == Decimal("30.2551")  # 1079.10 × 3 / 107
    untouched = _snapshot(order)

    # The confirm step: refused with the plan, nothing changed.
    with pytest.raises(ReversalRequired) as exc:
        services.sales_order_cancel(actor=manager, order_id=order.pk, reason="x")
    assert isinstance(exc.value, CancelRefused)
    assert exc.value.code == "sales.reversal_required"
    plan = exc.value.context["reversal"]
    assert sorted((r["sku"], r["quantity"]) for r in plan["returns"]) == [
        ("P001", "3"),
        ("P002", "2"),
    ]
    assert plan["credit_notes"] == []
    with pytest.raises(ValidationFailed) as exc:
        services.sales_order_cancel(actor=manager, order_id=order.pk, reverse=True)
    assert "reason" in exc.value.fields
    assert _snapshot(order) == untouched

    order = services.sales_order_cancel(
        actor=manager, order_id=order.pk, reverse=True, reason="Client refused"
    )
    assert order.state == SalesOrder.State.CANCELLED
    assert _levels(world) == before  # on hand, reserved and value exactly
    [ret] = Transfer.objects.filter(kind="return")
    assert ret.state == "done" and ret.reference == order.number
    assert ret.client_id == order.client_id and ret.origin_id == order.pk
    back = StockMove.objects.get(transfer=ret, product=world["products"][0])
    assert (
        back.value == out_value and back.destination_id == world["wh"].stock_location_id
    )
    moved = inventory_queries.moved_quantities(origin_type=ORIGIN, origin_id=order.pk)
    assert set(moved.values()) == {0}
    assert [line.shipped_quantity for line in _lines(order)] == [0, 0]
    assert order.shipping_status == "none"
    entry = audit.entries_for(order).filter(action="cancelled").get()
    assert entry.changes["returns"] == [ret.number]
    assert entry.changes["credit_notes"] == []
    assert entry.changes["reason"] == "Client refused"
    timeline = order.client.timeline.get(kind="sales.order_reversed")
    text = parties_queries.timeline_summary(timeline)
    assert ret.number in text and "Client refused" in text
    assert order.client.timeline.filter(kind="inventory.returned").count() == 1
    _books_clean()
    with pytest.raises(BadState):
        services.sales_order_cancel(
            actor=manager, order_id=order.pk, reverse=True, reason="again"
        )


def test_invoiced_before_delivery_gets_credit_note(manager, world):
    before = _levels(world)
    order = make_order(manager, world, invoice_before_delivery=True)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    invoice = services.sales_order_invoice(actor=manager, order_id=order.pk)
    assert _levels(world) != before  # reserved
    with pytest.raises(ReversalRequired) as exc:
        services.sales_order_cancel(actor=manager, order_id=order.pk)
    plan = exc.value.context["reversal"]
    assert plan["returns"] == []
    assert plan["credit_notes"] == [
        {
            "invoice_id": invoice.pk,
            "invoice": invoice.number,
            "amount": "96.25",
            "currency": "USD",
        }
    ]
    order = services.sales_order_cancel(
        actor=manager, order_id=order.pk, reverse=True, reason="Duplicate order"
    )
    assert order.state == "cancelled"
    assert _levels(world) == before  # reservations released
    [note] = Invoice.objects.filter(kind="customer_credit_note")
    assert note.state in ("posted", "paid") and note.number
    assert note.credited_invoice_id == invoice.pk
    assert note.amount_total == Decimal("96.25") and note.amount_due == 0
    invoice.refresh_from_db()
    assert invoice.amount_due == 0 and invoice.amount_offset == Decimal("96.25")
    assert [line.invoiced_quantity for line in _lines(order)] == [0, 0]
    assert order.invoice_status == "none" and order.invoiced_amount == 0
    assert not Transfer.objects.filter(kind="return").exists()
    entry = audit.entries_for(order).filter(action="cancelled").get()
    assert entry.changes["credit_notes"] == [note.number]
    assert entry.changes["returns"] == []
    balances = billing_queries.client_balance(client_id=order.client_id)
    assert all(b.receivable == 0 for b in balances)
    _books_clean()


def test_shipped_invoiced_partly_paid_done_order(manager, world):
    before = _levels(world)
    order = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    services.sales_order_ship(actor=manager, order_id=order.pk)
    invoice = services.sales_order_invoice(actor=manager, order_id=order.pk)
    order.refresh_from_db()
    assert order.state == "done"
    billing_services.payment_purposes_seed()
    bank = CashAccountFactory(
        company=Company.objects.get(is_default=True), currency="USD"
    )
    payment = billing_services.payment_create(
        actor=None,
        direction="in",
        cash_account_id=bank.pk,
        amount="40",
        client_id=order.client_id,
        allocations=[{"invoice_id": invoice.pk, "amount": "40"}],
    )
    order = services.sales_order_cancel(
        actor=manager, order_id=order.pk, reverse=True, reason="Wrong goods"
    )
    assert order.state == "cancelled"
    assert _levels(world) == before
    invoice.refresh_from_db()
    # Paid 40, the credit note settles the 56.25 still due.
    assert (invoice.amount_paid, invoice.amount_offset, invoice.amount_due) == (
        Decimal("40"),
        Decimal("56.25"),
        0,
    )
    [note] = Invoice.objects.filter(kind="customer_credit_note")
    assert note.state == "posted" and note.amount_total == Decimal("96.25")
    assert note.amount_due == Decimal("40")  # the client's credit
    payment.refresh_from_db()
    assert payment.amount_allocated == Decimal("40")
    assert payment.state == Payment.State.POSTED
    [balance] = billing_queries.client_balance(client_id=order.client_id)
    assert balance.receivable == Decimal("-40")
    assert [
        (line.shipped_quantity, line.invoiced_quantity) for line in _lines(order)
    ] == [(0, 0), (0, 0)]
    entry = audit.entries_for(order).filter(action="cancelled").get()
    assert entry.changes["credit_notes"] == [note.number]
    assert len(entry.changes["returns"]) == 1
    _books_clean()


def test_partial_shipment_open_delivery_and_earlier_credit(manager, world):
    before = _levels(world)
    order = make_order(manager, world)
    first, second = _lines(order)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    services.sales_order_ship(
        actor=manager, order_id=order.pk, quantities={str(first.pk): "2"}
    )
    open_delivery = services.sales_order_ship(
        actor=manager,
        order_id=order.pk,
        quantities={str(second.pk): "2"},
        one_step=False,
    )
    invoice = services.sales_order_invoice(actor=manager, order_id=order.pk)
    assert invoice.amount_total == Decimal("27.50")
    [inv_line] = invoice.lines.all()
    earlier = billing_services.credit_note_create(
        actor=manager,
        invoice_id=invoice.pk,
        lines=[{"line_id": inv_line.pk, "quantity": "1"}],
        post=True,
    )
    billing_services.credit_note_create(
        actor=manager,
        invoice_id=invoice.pk,
        lines=[{"line_id": inv_line.pk, "quantity": "0.5"}],
    )  # a draft: deleted by the cancel
    plan = queries.sales_order_cancel_plan(order=order)
    assert [(r.sku, r.quantity) for r in plan.returns] == [("P001", 2)]
    assert [c["amount"] for c in plan.credit_notes] == [Decimal("13.75")]
    assert [t[1] for t in plan.open_deliveries] == [open_delivery.number]
    assert plan.reservations and len(plan.draft_invoices) == 1

    order = services.sales_order_cancel(
        actor=manager, order_id=order.pk, reverse=True, reason="Stop"
    )
    assert _levels(world) == before
    open_delivery.refresh_from_db()
    assert open_delivery.state == "cancelled"
    notes = Invoice.objects.filter(kind="customer_credit_note").order_by("id")
    assert [(n.pk == earlier.pk, n.state) for n in notes] == [
        (True, "paid"),
        (False, "paid"),
    ]
    last = notes.last()
    assert last.amount_total == Decimal("13.75")
    assert [line.quantity for line in last.lines.all()] == [Decimal(1)]
    invoice.refresh_from_db()
    assert invoice.amount_due == 0 and invoice.amount_offset == Decimal("27.50")
    assert [
        (line.shipped_quantity, line.invoiced_quantity) for line in _lines(order)
    ] == [(0, 0), (0, 0)]
    entry = audit.entries_for(order).filter(action="cancelled").get()
    assert entry.changes["deliveries_cancelled"] == [open_delivery.number]
    assert entry.changes["drafts_deleted"] == 1
    assert entry.changes["credit_notes"] == [last.number]
    _books_clean()


def test_lot_comes_back_to_its_lot(manager, keeper, world):
    p = make_product(sku="LOT1", tracking="lot")
    receive(keeper, world["wh"], p, 5, unit_cost="4", lot_code="L-9")
    order = services.sales_order_create(
        actor=manager,
        client_id=world["client"].pk,
        warehouse_id=world["wh"].pk,
        lines=[{"product_id": p.pk, "quantity": 2, "unit_price": "5"}],
    )
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    [line] = _lines(order)
    services.sales_order_ship(actor=manager, order_id=order.pk, lots={line.pk: "L-9"})
    services.sales_order_cancel(
        actor=manager, order_id=order.pk, reverse=True, reason="Damaged box"
    )
    quant = Quant.objects.get(product=p, location_id=world["wh"].stock_location_id)
    assert (quant.lot.code, quant.quantity) == ("L-9", 5)
    _books_clean()


def _clerk(world):
    """Changes orders, ships and invoices — but may not issue credit notes
    (no `billing.change_invoice`)."""
    clerk = make_user("clerk")
    codes = [
        ("sales", "view_salesorder"),
        ("sales", "change_salesorder"),
        ("inventory", "add_reservation"),
        ("inventory", "add_transfer"),
        ("inventory", "change_transfer"),
        ("billing", "view_invoice"),
        ("billing", "add_invoice"),
    ]
    for app, codename in codes:
        clerk.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )
    Client.objects.filter(pk=world["client"].pk).update(owner=clerk)
    return type(clerk).objects.get(pk=clerk.pk)  # fresh permission cache


def test_reversal_without_credit_permission_changes_nothing(manager, world):
    order = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    services.sales_order_ship(actor=manager, order_id=order.pk)
    clerk = _clerk(world)
    untouched = _snapshot(order)
    with pytest.raises(PermissionDenied):
        services.sales_order_cancel(
            actor=clerk, order_id=order.pk, reverse=True, reason="no right"
        )
    assert _snapshot(order) == untouched
    assert check_books(["inventory"]) == {"inventory": []}
    # With the credit-note permission the same user may reverse.
    clerk = _clerk_with_credit(clerk)
    services.sales_order_cancel(
        actor=clerk, order_id=order.pk, reverse=True, reason="now allowed"
    )
    order.refresh_from_db()
    assert order.state == "cancelled"


def _clerk_with_credit(clerk):
    clerk.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="billing", codename="change_invoice"
        )
    )
    return type(clerk).objects.get(pk=clerk.pk)


def test_archived_warehouse_cannot_take_goods_back(manager, keeper, world):
    order = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    services.sales_order_ship(actor=manager, order_id=order.pk)
    inventory_services.warehouse_update(
        actor=keeper, warehouse_id=world["wh"].pk, is_active=False
    )
    untouched = _snapshot(order)
    with pytest.raises(CancelRefused) as exc:
        services.sales_order_cancel(
            actor=manager, order_id=order.pk, reverse=True, reason="x"
        )
    assert exc.value.code == "sales.cancel_refused"
    assert "GDG" in str(exc.value)
    assert _snapshot(order) == untouched


def test_plain_cancel_deletes_draft_invoice(manager, world):
    order = make_order(manager, world, invoice_before_delivery=True)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    services.sales_order_invoice(actor=manager, order_id=order.pk, post=False)
    services.sales_order_cancel(actor=manager, order_id=order.pk, reason="client")
    order.refresh_from_db()
    assert order.state == "cancelled"
    assert not Invoice.objects.filter(origin_id=order.pk).exists()
    assert order.client.timeline.filter(kind="sales.order_cancelled").count() == 1
    _books_clean()


# ------------------------------------------------------------------ API


def test_api_cancel_plan_and_confirm_step(api_client, manager, world):
    order = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    services.sales_order_ship(actor=manager, order_id=order.pk)
    invoice = services.sales_order_invoice(actor=manager, order_id=order.pk)
    api = api_client.as_user(manager)
    url = f"/api/v1/sales-orders/{order.pk}"
    plan = api.get(f"{url}/cancel-plan").json()
    assert plan["needs_reversal"] is True and plan["blockers"] == []
    assert [c["invoice"] for c in plan["credit_notes"]] == [invoice.number]
    assert sorted(r["sku"] for r in plan["returns"]) == ["P001", "P002"]

    response = api.post(f"{url}/cancel", {}, content_type="application/json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "sales.reversal_required"
    assert body["reversal"]["credit_notes"][0]["amount"] == "96.25"
    response = api.post(
        f"{url}/cancel", {"reverse": True}, content_type="application/json"
    )
    assert response.status_code == 422
    assert "reason" in response.json()["fields"]
    order.refresh_from_db()
    assert order.state == "done"

    response = api.post(
        f"{url}/cancel",
        {"reverse": True, "reason": "Client changed mind", "version": order.version},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "cancelled"
    assert {line["shipped_quantity"] for line in body["lines"]} == {"0"}
    assert {line["invoiced_quantity"] for line in body["lines"]} == {"0"}
    plan = api.get(f"{url}/cancel-plan").json()
    assert plan["needs_reversal"] is False
    _books_clean()


def test_api_reversal_forbidden_without_credit_permission(api_client, manager, world):
    order = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    services.sales_order_ship(actor=manager, order_id=order.pk)
    clerk = _clerk(world)
    response = api_client.as_user(clerk).post(
        f"/api/v1/sales-orders/{order.pk}/cancel",
        {"reverse": True, "reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    order.refresh_from_db()
    assert order.state == "processing"
    assert not Transfer.objects.filter(kind="return").exists()


# ------------------------------------------------------------------ screens


def test_screen_cancel_button_leads_to_confirm_page(client, manager, world):
    order = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    services.sales_order_ship(actor=manager, order_id=order.pk)
    invoice = services.sales_order_invoice(
        actor=manager, order_id=order.pk, quantities={str(_lines(order)[0].pk): "1"}
    )
    client.force_login(manager)
    page = client.get(reverse("sales_order_detail", args=[order.pk])).content.decode()
    cancel_url = reverse("sales_order_cancel", args=[order.pk])
    assert f'id="cancel-link" href="{cancel_url}"' in page

    response = client.get(cancel_url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="cancel-returns"' in html and "P001" in html and "P002" in html
    assert invoice.number in html and "13.75" in html
    assert 'name="reverse" value="1"' in html
    assert "required" in html.split('id="cancel-reason"')[1].split(">")[0]

    # No reason: the confirm page again with the message, nothing changed.
    response = client.post(cancel_url, {"reverse": "1", "reason": " "})
    assert response.status_code == 422
    assert 'id="cancel-errors"' in response.content.decode()
    order.refresh_from_db()
    assert order.state == "processing"
    # A plain POST (no confirm) on a shipped order shows the confirm page.
    response = client.post(cancel_url, {"reason": "x"})
    assert response.status_code == 409
    assert 'id="cancel-form"' in response.content.decode()

    response = client.post(
        cancel_url,
        {"reverse": "1", "reason": "Client refused", "version": order.version},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == "cancelled"
    page = client.get(reverse("sales_order_detail", args=[order.pk])).content.decode()
    assert "Client refused" in page
    ret = Transfer.objects.get(kind="return")
    assert ret.number in page
    _books_clean()


def test_screen_without_credit_permission_shows_no_form(client, manager, world):
    order = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    services.sales_order_ship(actor=manager, order_id=order.pk)
    clerk = _clerk(world)
    client.force_login(clerk)
    url = reverse("sales_order_cancel", args=[order.pk])
    html = client.get(url).content.decode()
    assert 'id="cancel-no-permission"' in html and 'id="cancel-form"' not in html
    response = client.post(url, {"reverse": "1", "reason": "x"})
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.state == "processing"


def test_screen_unshipped_order_cancels_in_one_click(client, manager, world):
    order = make_order(manager, world)
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    client.force_login(manager)
    page = client.get(reverse("sales_order_detail", args=[order.pk])).content.decode()
    assert 'id="cancel-link"' not in page
    response = client.post(reverse("sales_order_cancel", args=[order.pk]), {})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == "cancelled"
