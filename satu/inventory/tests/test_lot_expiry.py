"""INV-3 lot expiry: expired lots do not leave their warehouse (except
write-offs and count adjustments), FEFO suggestions, the expiring-lots
screen and export, editing a lot's expiry (service, API, screen)."""

import json
from datetime import timedelta
from decimal import Decimal
from html import escape

import pytest
from django.urls import reverse
from django.utils import timezone

from satu.core.errors import NotFound, PermissionDenied, ValidationFailed
from satu.core.models import AuditEntry
from satu.core.testing.helpers import make_user
from satu.inventory import queries, services
from satu.inventory.errors import LotExpired
from satu.inventory.models import (
    Lot,
    Quant,
    StockLevel,
    StockMove,
    Transfer,
    WriteOffReason,
)
from satu.inventory.tests.factories import issue, make_product, receive

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


def days(n):
    return today() + timedelta(days=n)


@pytest.fixture
def tracked(db):
    return make_product(tracking="lot")


def stock_lot(keeper, wh, product, code, qty, expires_on=None):
    """Receive `qty` of lot `code` into wh's stock and set its expiry."""
    receive(keeper, wh, product, qty, lot_code=code)
    lot = Lot.objects.get(product=product, code=code)
    if expires_on is not None:
        Lot.objects.filter(pk=lot.pk).update(expires_on=expires_on)
        lot.refresh_from_db()
    return lot


def on_hand(product, wh):
    return StockLevel.objects.get(product=product, warehouse=wh).on_hand


def lot_qty(lot, location_id):
    q = Quant.objects.filter(lot=lot, location_id=location_id).first()
    return q.quantity if q else Decimal(0)


def snapshot():
    return (
        StockMove.objects.count(),
        sorted(Quant.objects.values_list("pk", "quantity")),
        sorted(StockLevel.objects.values_list("pk", "on_hand", "value")),
    )


# ------------------------------------------------------------------ services


def test_issue_of_expired_lot_refused_with_code_and_message(
    keeper, wh, tracked, books_clean
):
    lot = stock_lot(keeper, wh, tracked, "L-OLD", 5, expires_on=days(-1))
    before = snapshot()
    with pytest.raises(LotExpired) as exc:
        issue(keeper, wh, tracked, 2, lot_code="L-OLD")
    assert exc.value.code == "inventory.lot_expired"
    assert exc.value.http_status == 422
    message = str(exc.value)
    assert "L-OLD" in message
    assert days(-1).isoformat() in message
    assert tracked.sku in message
    assert exc.value.context["lot_id"] == lot.pk
    assert snapshot() == before
    # The supplier takes expired goods back.
    issue(keeper, wh, tracked, 1, lot_code="L-OLD", destination="supplier")
    books_clean()


def test_lot_expiring_today_or_without_date_still_ships(keeper, wh, tracked):
    stock_lot(keeper, wh, tracked, "L-TODAY", 2, expires_on=today())
    stock_lot(keeper, wh, tracked, "L-NONE", 2)
    issue(keeper, wh, tracked, 1, lot_code="L-TODAY")
    issue(keeper, wh, tracked, 1, lot_code="L-NONE")
    assert on_hand(tracked, wh) == 2


def test_delivery_of_expired_lot_refused_nothing_changes(
    keeper, wh, tracked, books_clean
):
    stock_lot(keeper, wh, tracked, "L1", 5, expires_on=days(-3))
    t = services.transfer_create(
        actor=keeper,
        kind="delivery",
        warehouse_id=wh.pk,
        lines=[{"product_id": tracked.pk, "quantity": 2, "lot_code": "L1"}],
    )
    before = snapshot()
    with pytest.raises(LotExpired, match="L1"):
        services.transfer_done(actor=keeper, transfer_id=t.pk)
    t.refresh_from_db()
    assert t.state == Transfer.State.CONFIRMED
    assert t.lines.get().done_quantity == 0
    assert snapshot() == before
    books_clean()


def test_delivery_refused_when_expired_lot_named_at_done(keeper, wh, tracked):
    stock_lot(keeper, wh, tracked, "L1", 5, expires_on=days(-1))
    stock_lot(keeper, wh, tracked, "L2", 5, expires_on=days(30))
    t = services.transfer_create(
        actor=keeper,
        kind="delivery",
        warehouse_id=wh.pk,
        lines=[{"product_id": tracked.pk, "quantity": 2}],
    )
    line = t.lines.get()
    with pytest.raises(LotExpired):
        services.transfer_done(actor=keeper, transfer_id=t.pk, lots={line.pk: "L1"})
    assert Transfer.objects.get(pk=t.pk).state == "confirmed"
    services.transfer_done(actor=keeper, transfer_id=t.pk, lots={line.pk: "L2"})
    assert Transfer.objects.get(pk=t.pk).state == "done"
    assert on_hand(tracked, wh) == 8


def test_internal_transfer_of_expired_lot_refused(keeper, wh, wh2, tracked):
    stock_lot(keeper, wh, tracked, "L1", 5, expires_on=days(-1))
    t = services.transfer_create(
        actor=keeper,
        kind="internal",
        warehouse_id=wh.pk,
        destination_warehouse_id=wh2.pk,
        lines=[{"product_id": tracked.pk, "quantity": 2, "lot_code": "L1"}],
    )
    before = snapshot()
    with pytest.raises(LotExpired):
        services.transfer_done(actor=keeper, transfer_id=t.pk)
    assert Transfer.objects.get(pk=t.pk).state == "confirmed"
    assert snapshot() == before
    # Straight from one warehouse's stock into another's is refused too.
    with pytest.raises(LotExpired):
        services.stock_move_post(
            actor=keeper,
            product_id=tracked.pk,
            quantity=1,
            source_id=wh.stock_location_id,
            destination_id=wh2.stock_location_id,
            lot_code="L1",
        )
    assert snapshot() == before


def test_goods_in_transit_are_received_after_expiry(
    keeper, wh, wh2, tracked, books_clean
):
    lot = stock_lot(keeper, wh, tracked, "L1", 5, expires_on=days(10))
    t = services.transfer_create(
        actor=keeper,
        kind="internal",
        warehouse_id=wh.pk,
        destination_warehouse_id=wh2.pk,
        lines=[{"product_id": tracked.pk, "quantity": 2, "lot_code": "L1"}],
    )
    services.transfer_done(actor=keeper, transfer_id=t.pk)  # sent
    Lot.objects.filter(pk=lot.pk).update(expires_on=days(-1))
    services.transfer_done(actor=keeper, transfer_id=t.pk)  # received
    assert Transfer.objects.get(pk=t.pk).state == "done"
    assert lot_qty(lot, wh2.stock_location_id) == 2
    books_clean()


def test_write_off_of_expired_lot_allowed(keeper, wh, tracked, books_clean):
    lot = stock_lot(keeper, wh, tracked, "L1", 5, expires_on=days(-10))
    reason = WriteOffReason.objects.get(code="expired")
    t = services.transfer_create(
        actor=keeper,
        kind="write_off",
        warehouse_id=wh.pk,
        reason_id=reason.pk,
        lines=[{"product_id": tracked.pk, "quantity": 3, "lot_id": lot.pk}],
    )
    services.transfer_done(actor=keeper, transfer_id=t.pk)
    assert Transfer.objects.get(pk=t.pk).state == "done"
    issue(keeper, wh, tracked, 1, lot_code="L1", destination="loss")
    assert lot_qty(lot, wh.stock_location_id) == 1
    books_clean()


def test_count_adjustment_of_expired_lot_allowed(keeper, wh, tracked, books_clean):
    lot = stock_lot(keeper, wh, tracked, "L1", 5, expires_on=days(-2))
    count = services.inventory_count_create(
        actor=keeper, warehouse_id=wh.pk, product_ids=[tracked.pk]
    )
    line = count.lines.get(lot=lot)
    services.inventory_count_set(actor=keeper, count_id=count.pk, counted={line.pk: 1})
    services.inventory_count_validate(actor=keeper, count_id=count.pk)
    assert lot_qty(lot, wh.stock_location_id) == 1
    books_clean()


def test_expired_lot_moves_between_locations_of_its_warehouse(keeper, wh, tracked):
    lot = stock_lot(keeper, wh, tracked, "L1", 5, expires_on=days(-1))
    quarantine = services.location_create(
        actor=keeper, warehouse_id=wh.pk, name="Quarantine"
    )
    services.stock_move_post(
        actor=keeper,
        product_id=tracked.pk,
        quantity=5,
        source_id=wh.stock_location_id,
        destination_id=quarantine.pk,
        lot_id=lot.pk,
    )
    assert lot_qty(lot, quarantine.pk) == 5
    # ...but not out of it to a customer.
    with pytest.raises(LotExpired):
        services.stock_move_post(
            actor=keeper,
            product_id=tracked.pk,
            quantity=1,
            source_id=quarantine.pk,
            destination_id=queries.virtual_location("customer").pk,
            lot_id=lot.pk,
        )


def test_lot_update_sets_and_clears_expiry_audited(keeper, wh, tracked):
    lot = stock_lot(keeper, wh, tracked, "L1", 1)
    services.lot_update(actor=keeper, lot_id=lot.pk, expires_on=days(5))
    lot.refresh_from_db()
    assert lot.expires_on == days(5)
    entry = AuditEntry.objects.filter(object_id=lot.pk, action="updated").get()
    assert entry.changes == {"expires_on": [None, days(5).isoformat()]}
    services.lot_update(actor=keeper, lot_id=lot.pk, expires_on="")
    lot.refresh_from_db()
    assert lot.expires_on is None
    services.lot_update(actor=keeper, lot_id=lot.pk, expires_on=days(7).isoformat())
    assert Lot.objects.get(pk=lot.pk).expires_on == days(7)
    assert AuditEntry.objects.filter(object_id=lot.pk, action="updated").count() == 3


def test_lot_update_refusals(keeper, wh, tracked):
    lot = stock_lot(keeper, wh, tracked, "L1", 1, expires_on=days(5))
    with pytest.raises(ValidationFailed) as exc:
        services.lot_update(actor=keeper, lot_id=lot.pk, expires_on="31.12.2026")
    assert "expires_on" in exc.value.fields
    with pytest.raises(NotFound):
        services.lot_update(actor=keeper, lot_id=lot.pk + 999, expires_on=None)
    seller = make_user("seller", role="sales_manager")
    with pytest.raises(PermissionDenied):
        services.lot_update(actor=seller, lot_id=lot.pk, expires_on=None)
    assert Lot.objects.get(pk=lot.pk).expires_on == days(5)
    assert not AuditEntry.objects.filter(object_id=lot.pk, action="updated").exists()


# ------------------------------------------------------------------- queries


def test_lots_available_first_expiry_first_out(keeper, wh, wh2, tracked):
    late = stock_lot(keeper, wh, tracked, "A-LATE", 3, expires_on=days(40))
    soon = stock_lot(keeper, wh, tracked, "B-SOON", 2, expires_on=days(3))
    never = stock_lot(keeper, wh, tracked, "C-NEVER", 4)
    old = stock_lot(keeper, wh, tracked, "D-OLD", 1, expires_on=days(-5))
    gone = stock_lot(keeper, wh, tracked, "E-GONE", 1, expires_on=days(1))
    issue(keeper, wh, tracked, 1, lot_code="E-GONE")
    stock_lot(keeper, wh2, tracked, "F-ELSEWHERE", 9, expires_on=days(2))
    shelf = services.location_create(actor=keeper, warehouse_id=wh.pk, name="Shelf")
    services.stock_move_post(
        actor=keeper,
        product_id=tracked.pk,
        quantity=1,
        source_id=wh.stock_location_id,
        destination_id=shelf.pk,
        lot_id=late.pk,
    )
    lots = queries.lots_available(product_id=tracked.pk, warehouse_id=wh.pk)
    assert [(x.code, x.quantity, x.expired) for x in lots] == [
        ("D-OLD", 1, True),
        ("B-SOON", 2, False),
        ("A-LATE", 3, False),  # stock and shelf together
        ("C-NEVER", 4, False),
    ]
    assert lots[1].lot_id == soon.pk and lots[1].expires_on == days(3)
    assert lots[3].expires_on is None and lots[3].lot_id == never.pk
    assert old.pk not in [
        x.lot_id
        for x in queries.lots_available(
            product_id=tracked.pk, warehouse_id=wh.pk, include_expired=False
        )
    ]
    assert gone.pk not in [x.lot_id for x in lots]
    on_shelf = queries.lots_available(
        product_id=tracked.pk, warehouse_id=wh.pk, location_id=shelf.pk
    )
    assert [(x.code, x.quantity) for x in on_shelf] == [("A-LATE", 1)]
    assert (
        queries.lots_available(product_id=make_product().pk, warehouse_id=wh.pk) == []
    )


def test_expiring_lots_window_and_warehouse(keeper, wh, wh2, tracked):
    stock_lot(keeper, wh, tracked, "SOON", 2, expires_on=days(5))
    stock_lot(keeper, wh, tracked, "LATER", 2, expires_on=days(45))
    stock_lot(keeper, wh, tracked, "OLD", 1, expires_on=days(-1))
    stock_lot(keeper, wh, tracked, "NONE", 1)
    gone = stock_lot(keeper, wh, tracked, "GONE", 1, expires_on=days(2))
    issue(keeper, wh, tracked, 1, lot_code=gone.code, destination="loss")
    stock_lot(keeper, wh2, tracked, "SOON", 3)  # same lot, other warehouse
    rows = list(queries.expiring_lots())
    assert [(r["code"], r["warehouse_code"], r["on_hand"]) for r in rows] == [
        ("OLD", "GDG", 1),
        ("SOON", "GDG", 2),
        ("SOON", "OUT", 3),
    ]
    assert [r["code"] for r in queries.expiring_lots(days=60)] == [
        "OLD",
        "SOON",
        "SOON",
        "LATER",
    ]
    assert [r["code"] for r in queries.expiring_lots(days=0)] == ["OLD"]
    only_wh2 = list(queries.expiring_lots(warehouse_id=wh2.pk))
    assert [(r["code"], r["on_hand"]) for r in only_wh2] == [("SOON", 3)]
    assert list(queries.expiring_lots(search="nothing-like-this")) == []


# ----------------------------------------------------------------------- API


def post_json(http, url, data):
    return http.post(url, json.dumps(data), content_type="application/json")


def patch_json(http, url, data):
    return http.patch(url, json.dumps(data), content_type="application/json")


def test_api_available_expiring_and_patch(api_client, keeper, wh, tracked):
    lot = stock_lot(keeper, wh, tracked, "L1", 2, expires_on=days(3))
    stock_lot(keeper, wh, tracked, "L0", 1, expires_on=days(-1))
    stock_lot(keeper, wh, tracked, "L9", 5)
    http = api_client.as_user(keeper)
    r = http.get(
        "/api/v1/lots/available",
        {"product_id": tracked.pk, "warehouse_id": wh.pk},
    )
    assert r.status_code == 200, r.content
    assert [(x["code"], x["quantity"], x["expired"]) for x in r.json()] == [
        ("L0", "1", True),
        ("L1", "2", False),
        ("L9", "5", False),
    ]
    assert r.json()[1]["expires_on"] == days(3).isoformat()
    r = http.get(
        "/api/v1/lots/available",
        {"product_id": tracked.pk, "warehouse_id": wh.pk, "include_expired": "false"},
    )
    assert [x["code"] for x in r.json()] == ["L1", "L9"]
    assert http.get("/api/v1/lots/available").status_code == 422
    r = http.get("/api/v1/lots/expiring", {"days": 7})
    assert r.status_code == 200, r.content
    assert [(x["code"], x["on_hand"]) for x in r.json()["items"]] == [
        ("L0", "1"),
        ("L1", "2"),
    ]
    assert http.get("/api/v1/lots/expiring", {"days": -1}).status_code == 422

    r = patch_json(http, f"/api/v1/lots/{lot.pk}", {"expires_on": "2031-01-31"})
    assert r.status_code == 200, r.content
    assert r.json()["expires_on"] == "2031-01-31"
    assert http.get(f"/api/v1/lots/{lot.pk}").json()["expires_on"] == "2031-01-31"
    r = patch_json(http, f"/api/v1/lots/{lot.pk}", {"expires_on": None})
    assert r.status_code == 200 and r.json()["expires_on"] is None
    r = patch_json(http, f"/api/v1/lots/{lot.pk}", {"expires_on": "soon"})
    assert r.status_code == 422
    assert (
        patch_json(http, "/api/v1/lots/999999", {"expires_on": None}).status_code == 404
    )
    assert Lot.objects.get(pk=lot.pk).expires_on is None


def test_api_refuses_expired_lot_and_roles(api_client, keeper, wh, tracked):
    lot = stock_lot(keeper, wh, tracked, "L1", 2, expires_on=days(-1))
    http = api_client.as_user(keeper)
    moves = StockMove.objects.count()
    r = post_json(
        http,
        "/api/v1/stock-moves",
        {
            "product_id": tracked.pk,
            "quantity": "1",
            "source_id": wh.stock_location_id,
            "destination_id": queries.virtual_location("customer").pk,
            "lot_id": lot.pk,
        },
    )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "inventory.lot_expired"
    assert "L1" in body["detail"] and days(-1).isoformat() in body["detail"]
    assert body["lot_id"] == lot.pk
    assert StockMove.objects.count() == moves
    nobody = make_user("nobody")
    other = api_client.as_user(nobody)
    url = "/api/v1/lots/available"
    params = {"product_id": tracked.pk, "warehouse_id": wh.pk}
    assert other.get(url, params).status_code == 403
    assert other.get("/api/v1/lots/expiring").status_code == 403
    seller = api_client.as_user(make_user("seller", role="sales_manager"))
    assert seller.get(url, params).status_code == 200  # sales view lots
    r = patch_json(seller, f"/api/v1/lots/{lot.pk}", {"expires_on": None})
    assert r.status_code == 403
    assert Lot.objects.get(pk=lot.pk).expires_on == days(-1)


# --------------------------------------------------------------------- views


@pytest.fixture
def web(client, keeper):
    client.force_login(keeper)
    return client


def test_expiring_lots_screen_filters_and_export(web, keeper, wh, wh2, tracked):
    stock_lot(keeper, wh, tracked, "SOON-1", 2, expires_on=days(5))
    stock_lot(keeper, wh2, tracked, "SOON-2", 3, expires_on=days(6))
    stock_lot(keeper, wh, tracked, "LATE-1", 4, expires_on=days(50))
    stock_lot(keeper, wh, tracked, "OLD-1", 1, expires_on=days(-2))
    r = web.get(reverse("stock_list"))
    assert reverse("expiring_lots") in r.content.decode()
    r = web.get(reverse("expiring_lots"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "SOON-1" in html and "SOON-2" in html and "OLD-1" in html
    assert "LATE-1" not in html
    assert "expired" in html
    html = web.get(reverse("expiring_lots"), {"days": 60, "warehouse": wh.pk}).content
    html = html.decode()
    assert "LATE-1" in html and "SOON-1" in html and "SOON-2" not in html
    r = web.get(reverse("expiring_lots"), {"days": "-4"})
    assert r.status_code == 422
    r = web.get(
        reverse("expiring_lots"),
        {"days": 60},
        headers={"HX-Request": "true", "HX-Target": "lot-results"},
    )
    assert r.status_code == 200
    assert "<html" not in r.content.decode() and "LATE-1" in r.content.decode()
    r = web.get(reverse("expiring_lots_export", args=["csv"]), {"days": 10})
    assert r.status_code == 200
    csv_text = b"".join(r.streaming_content).decode("utf-8-sig")
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("SKU,Product,Lot / serial,Expires on")
    assert len(lines) == 4  # header + OLD-1, SOON-1, SOON-2
    assert days(-2).isoformat() in lines[1] and "OLD-1" in lines[1]
    r = web.get(reverse("expiring_lots_export", args=["xlsx"]))
    assert r.status_code == 200
    assert web.get(reverse("expiring_lots_export", args=["pdf"])).status_code == 404


def test_lot_screens_refused_without_inventory_role(client, keeper, wh, tracked):
    lot = stock_lot(keeper, wh, tracked, "L1", 1, expires_on=days(5))
    client.force_login(make_user("nobody"))
    assert client.get(reverse("expiring_lots")).status_code == 403
    assert client.get(reverse("expiring_lots_export", args=["csv"])).status_code == 403
    assert client.get(reverse("lot_detail", args=[lot.pk])).status_code == 403
    r = client.get(
        reverse("lot_suggestions"), {"product": tracked.pk, "warehouse": wh.pk}
    )
    assert r.status_code == 403


def test_lot_detail_edits_expiry(web, keeper, wh, tracked):
    lot = stock_lot(keeper, wh, tracked, "L1", 2, expires_on=days(-1))
    r = web.get(reverse("lot_detail", args=[lot.pk]))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="lot-expired"' in html and 'id="lot-quants"' in html
    assert f'value="{days(-1).isoformat()}"' in html
    r = web.post(reverse("lot_detail", args=[lot.pk]), {"expires_on": "2031-05-01"})
    assert r.status_code == 302
    assert Lot.objects.get(pk=lot.pk).expires_on.isoformat() == "2031-05-01"
    assert AuditEntry.objects.filter(object_id=lot.pk, action="updated").exists()
    r = web.post(reverse("lot_detail", args=[lot.pk]), {"expires_on": "not a date"})
    assert r.status_code == 422
    assert "errorlist" in r.content.decode()
    assert Lot.objects.get(pk=lot.pk).expires_on.isoformat() == "2031-05-01"
    assert web.get(reverse("lot_detail", args=[999999])).status_code == 404
    # The product card links its lots.
    html = web.get(reverse("stock_product", args=[tracked.pk])).content.decode()
    assert reverse("lot_detail", args=[lot.pk]) in html


def test_lot_detail_read_only_for_sales(client, keeper, wh, tracked):
    lot = stock_lot(keeper, wh, tracked, "L1", 2, expires_on=days(3))
    client.force_login(make_user("seller", role="sales_manager"))
    r = client.get(reverse("lot_detail", args=[lot.pk]))
    assert r.status_code == 200
    assert 'id="lot-form"' not in r.content.decode()
    r = client.post(reverse("lot_detail", args=[lot.pk]), {"expires_on": ""})
    assert r.status_code == 403
    assert Lot.objects.get(pk=lot.pk).expires_on == days(3)


def test_transfer_forms_suggest_lots_fefo(web, keeper, wh, tracked):
    stock_lot(keeper, wh, tracked, "LATE", 3, expires_on=days(40))
    stock_lot(keeper, wh, tracked, "SOON", 2, expires_on=days(3))
    stock_lot(keeper, wh, tracked, "OLD", 1, expires_on=days(-3))
    # The htmx partial: outgoing kinds leave expired lots out, a write-off
    # lists them first.
    url = reverse("lot_suggestions")
    html = web.get(
        url, {"product": tracked.pk, "warehouse": wh.pk, "kind": "delivery"}
    ).content.decode()
    assert html.index("SOON") < html.index("LATE") and "OLD" not in html
    assert days(3).isoformat() in html
    html = web.get(
        url, {"product": tracked.pk, "warehouse": wh.pk, "kind": "write_off"}
    ).content.decode()
    assert html.index("OLD") < html.index("SOON") < html.index("LATE")
    assert 'id="lot-choices"' in html
    html = web.get(
        url, {"product": tracked.pk, "warehouse": wh.pk, "kind": "receipt"}
    ).content.decode()
    assert "SOON" not in html
    html = web.get(url, {"product": "x", "warehouse": wh.pk, "list": "<b>"}).content
    assert b"<b>" not in html
    # The new-transfer form (bound with product and warehouse) shows them.
    r = web.post(
        reverse("transfer_create"),
        {
            "kind": "internal",
            "warehouse": wh.pk,
            "product": tracked.pk,
            "quantity": "1",
        },
    )
    assert r.status_code == 422  # no destination warehouse
    html = r.content.decode()
    assert 'list="lot-choices"' in html and "SOON" in html and "OLD" not in html
    # A delivery's done form suggests lots for a line without one.
    t = services.transfer_create(
        actor=keeper,
        kind="delivery",
        warehouse_id=wh.pk,
        lines=[{"product_id": tracked.pk, "quantity": 1}],
    )
    line = t.lines.get()
    html = web.get(reverse("transfer_detail", args=[t.pk])).content.decode()
    assert f'list="lots-{line.pk}"' in html
    assert html.index("SOON") < html.index("LATE") and "OLD" not in html


def test_done_with_expired_lot_shows_message(web, keeper, wh, tracked):
    stock_lot(keeper, wh, tracked, "OLD", 2, expires_on=days(-3))
    t = services.transfer_create(
        actor=keeper,
        kind="delivery",
        warehouse_id=wh.pk,
        lines=[{"product_id": tracked.pk, "quantity": 1}],
    )
    line = t.lines.get()
    r = web.post(
        reverse("transfer_action", args=[t.pk, "done"]),
        {"version": t.version, f"lot_{line.pk}": "OLD"},
        follow=True,
    )
    html = r.content.decode()
    assert escape(f"Lot OLD of {tracked}") in html
    assert days(-3).isoformat() in html
    assert Transfer.objects.get(pk=t.pk).state == "confirmed"


def test_sales_order_ship_form_loads_fefo_lots(client, keeper, manager):
    from satu.sales import services as sales_services
    from satu.sales.tests.factories import make_world

    world = make_world(keeper=keeper, manager=manager, products=1)
    tracked = make_product(tracking="lot")
    stock_lot(keeper, world["wh"], tracked, "L-LATE", 5, expires_on=days(90))
    stock_lot(keeper, world["wh"], tracked, "L-SOON", 5, expires_on=days(9))
    order = sales_services.sales_order_create(
        actor=manager,
        client_id=world["client"].pk,
        warehouse_id=world["wh"].pk,
        lines=[{"product_id": tracked.pk, "quantity": 2, "unit_price": "5"}],
    )
    sales_services.sales_order_confirm(actor=manager, order_id=order.pk)
    line = order.lines.get()
    client.force_login(manager)
    html = client.get(reverse("sales_order_detail", args=[order.pk])).content.decode()
    assert f'list="lots-{line.pk}"' in html
    assert reverse("lot_suggestions") in html
    # What htmx loads there for the manager: a datalist, soonest first.
    r = client.get(
        reverse("lot_suggestions"),
        {
            "product": tracked.pk,
            "warehouse": world["wh"].pk,
            "list": f"lots-{line.pk}",
            "show": "none",
            "kind": "delivery",
        },
    )
    html = r.content.decode()
    assert f'<datalist id="lots-{line.pk}">' in html and "<table" not in html
    assert html.index("L-SOON") < html.index("L-LATE")
