"""Receiving a purchase order with the lots' expiry dates
(`purchase_order_receive(lot_expires_on={order line id: date})`, the API
field and the receive form): a new lot takes the date, an existing lot
with another date is refused naming the order line, bad input changes
nothing."""

import json
from datetime import date
from decimal import Decimal
from html import escape

import pytest
from django.urls import reverse

from satu.core.errors import ValidationFailed
from satu.inventory import services as inv_services
from satu.inventory.models import Lot, Quant, StockMove, Transfer
from satu.inventory.queries import virtual_location
from satu.inventory.tests.factories import make_product
from satu.purchasing import services
from satu.purchasing.models import PurchaseOrder
from satu.purchasing.tests.factories import make_order

pytestmark = pytest.mark.django_db

D = Decimal
JAN = date(2031, 1, 31)
FEB = date(2031, 2, 28)


@pytest.fixture
def order(purchaser, supplier, wh, lot_goods, goods):
    """Confirmed: 5 × Glue (lot-tracked) and 3 × Paper A4 (not tracked)."""
    o = make_order(
        purchaser, supplier, wh, [(lot_goods, D("5"), D("10")), (goods, D("3"), D("2"))]
    )
    return services.purchase_order_confirm(actor=purchaser, order_id=o.pk)


def lines(order, lot_goods):
    glue = order.lines.get(product=lot_goods)
    return glue, order.lines.exclude(pk=glue.pk).get()


def snapshot():
    return (
        StockMove.objects.count(),
        sorted(Quant.objects.values_list("pk", "quantity")),
        sorted(Lot.objects.values_list("pk", "code", "expires_on")),
        sorted(Transfer.objects.values_list("pk", "state")),
        sorted(PurchaseOrder.objects.values_list("pk", "state", "version")),
    )


def stock_lot(purchaser, wh, product, code, expires_on):
    inv_services.stock_move_post(
        actor=purchaser,
        product_id=product.pk,
        quantity=1,
        source_id=virtual_location("supplier").pk,
        destination_id=wh.stock_location_id,
        lot_code=code,
        lot_expires_on=expires_on,
    )


# ------------------------------------------------------------------ services


def test_receive_dates_the_new_lot(purchaser, order, lot_goods):
    glue, _paper = lines(order, lot_goods)
    services.purchase_order_receive(
        actor=purchaser,
        order_id=order.pk,
        lots={glue.pk: "G-1"},
        lot_expires_on={glue.pk: JAN},
    )
    move = StockMove.objects.get(origin_type="purchasing.order", product=lot_goods)
    assert move.lot.code == "G-1" and move.lot.expires_on == JAN
    assert PurchaseOrder.objects.get(pk=order.pk).receipt_status == "full"


def test_receive_partial_then_rest_same_lot_same_date(purchaser, order, lot_goods):
    glue, paper = lines(order, lot_goods)
    services.purchase_order_receive(
        actor=purchaser,
        order_id=order.pk,
        quantities={glue.pk: "2", paper.pk: "0"},
        lots={str(glue.pk): "G-1"},
        lot_expires_on={str(glue.pk): "2031-01-31"},
    )
    # The backorder receipt: same lot, same date (or none) passes.
    services.purchase_order_receive(
        actor=purchaser,
        order_id=order.pk,
        quantities={glue.pk: "2"},
        lots={glue.pk: "G-1"},
        lot_expires_on={glue.pk: JAN},
    )
    services.purchase_order_receive(
        actor=purchaser,
        order_id=order.pk,
        quantities={glue.pk: "1"},
        lots={glue.pk: "G-1"},
    )
    assert Lot.objects.get(product=lot_goods, code="G-1").expires_on == JAN
    glue.refresh_from_db()
    assert glue.received_quantity == D("5")


def test_receive_other_date_refused_naming_the_order_line(
    purchaser, order, wh, lot_goods
):
    stock_lot(purchaser, wh, lot_goods, "G-OLD", JAN)
    glue, _paper = lines(order, lot_goods)
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        services.purchase_order_receive(
            actor=purchaser,
            order_id=order.pk,
            lots={glue.pk: "G-OLD"},
            lot_expires_on={glue.pk: FEB},
        )
    err = exc.value
    assert err.code == "validation_error"
    assert list(err.fields) == [f"lot_expires_on.{glue.pk}"]
    assert "G-OLD" in str(err) and "2031-01-31" in str(err)
    assert snapshot() == before
    assert Lot.objects.get(code="G-OLD").expires_on == JAN


def test_receive_bad_dates_refused_nothing_changes(
    purchaser, order, lot_goods, service_product, supplier, wh
):
    glue, paper = lines(order, lot_goods)
    before = snapshot()
    cases = [
        ({glue.pk: "2031-02-30"}, glue, "Enter a valid expiry date (YYYY-MM-DD)."),
        ({glue.pk: 20310131}, glue, "Enter a valid expiry date (YYYY-MM-DD)."),
        ({paper.pk: "2031-01-31"}, paper, "it takes no expiry date"),
    ]
    for dates, line, text in cases:
        with pytest.raises(ValidationFailed) as exc:
            services.purchase_order_receive(
                actor=purchaser,
                order_id=order.pk,
                lots={glue.pk: "G-1"},
                lot_expires_on=dates,
            )
        assert exc.value.code == "validation_error"
        assert list(exc.value.fields) == [f"lot_expires_on.{line.pk}"]
        assert text in exc.value.fields[f"lot_expires_on.{line.pk}"][0]
        assert text in str(exc.value)
    with pytest.raises(ValidationFailed) as exc:  # not a line of this order
        services.purchase_order_receive(
            actor=purchaser,
            order_id=order.pk,
            lots={glue.pk: "G-1"},
            lot_expires_on={999999: JAN},
        )
    assert list(exc.value.fields) == ["lot_expires_on"]
    assert snapshot() == before
    assert not Lot.objects.filter(code="G-1").exists()
    # A service line takes no date either.
    o = make_order(
        purchaser,
        supplier,
        wh,
        [(lot_goods, D("1"), D("1")), (service_product, D("1"), D("1"))],
    )
    services.purchase_order_confirm(actor=purchaser, order_id=o.pk)
    svc = o.lines.get(product=service_product)
    with pytest.raises(ValidationFailed) as exc:
        services.purchase_order_receive(
            actor=purchaser, order_id=o.pk, lot_expires_on={svc.pk: JAN}
        )
    assert list(exc.value.fields) == [f"lot_expires_on.{svc.pk}"]


def test_receive_date_of_a_serial(purchaser, supplier, wh):
    scanner = make_product(name="Scanner", tracking="serial")
    o = make_order(purchaser, supplier, wh, [(scanner, D("1"), D("100"))])
    services.purchase_order_confirm(actor=purchaser, order_id=o.pk)
    line = o.lines.get()
    services.purchase_order_receive(
        actor=purchaser,
        order_id=o.pk,
        lots={line.pk: "SN-1"},
        lot_expires_on={line.pk: FEB},
    )
    assert Lot.objects.get(product=scanner, code="SN-1").expires_on == FEB


# ----------------------------------------------------------------------- API


def post(http, url, body):
    return http.post(url, json.dumps(body), content_type="application/json")


def test_api_receive_with_expiry(api_client, purchaser, order, wh, lot_goods):
    http = api_client.as_user(purchaser)
    glue, paper = lines(order, lot_goods)
    url = f"/api/v1/purchase-orders/{order.pk}/receive"
    stock_lot(purchaser, wh, lot_goods, "G-OLD", JAN)
    before = snapshot()
    r = post(
        http,
        url,
        {
            "lots": {str(glue.pk): "G-OLD"},
            "lot_expires_on": {str(glue.pk): "2031-02-28"},
        },
    )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation_error"
    assert list(body["fields"]) == [f"lot_expires_on.{glue.pk}"]
    assert "2031-01-31" in body["detail"]
    r = post(
        http, url, {"lots": {glue.pk: "G-NEW"}, "lot_expires_on": {glue.pk: "soon"}}
    )
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert any("lot_expires_on" in k for k in r.json()["fields"])
    r = post(
        http,
        url,
        {"lots": {glue.pk: "G-NEW"}, "lot_expires_on": {paper.pk: "2031-02-28"}},
    )
    assert r.status_code == 422
    assert list(r.json()["fields"]) == [f"lot_expires_on.{paper.pk}"]
    assert snapshot() == before
    r = post(
        http,
        url,
        {"lots": {glue.pk: "G-NEW"}, "lot_expires_on": {glue.pk: "2031-02-28"}},
    )
    assert r.status_code == 200, r.content
    assert Lot.objects.get(code="G-NEW").expires_on == FEB
    transfer = http.get(f"/api/v1/transfers/{r.json()['transfer_id']}").json()
    dated = [x for x in transfer["lines"] if x["lot_code"] == "G-NEW"]
    assert dated[0]["lot_expires_on"] == "2031-02-28"


# --------------------------------------------------------------------- views


@pytest.fixture
def web(client, purchaser):
    client.force_login(purchaser)
    return client


def test_receive_form_has_expiry_beside_lot(web, purchaser, order, wh, lot_goods):
    glue, paper = lines(order, lot_goods)
    url = reverse("purchase_order_receive", args=[order.pk])
    html = web.get(url).content.decode()
    assert f'name="lot_{glue.pk}"' in html and f'name="expires_{glue.pk}"' in html
    assert f'name="expires_{paper.pk}"' not in html  # not tracked
    stock_lot(purchaser, wh, lot_goods, "G-OLD", JAN)
    before = snapshot()
    data = {
        "version": order.version,
        f"qty_{glue.pk}": "5",
        f"qty_{paper.pk}": "3",
        f"lot_{glue.pk}": "G-OLD",
        f"expires_{glue.pk}": "2031-02-28",
    }
    r = web.post(url, data)
    assert r.status_code == 422
    html = r.content.decode()
    assert escape("already expires on 2031-01-31") in html
    assert 'value="2031-02-28"' in html  # what was typed stays in the form
    r = web.post(url, data | {f"expires_{glue.pk}": "31/01/2031"})
    assert r.status_code == 422
    assert "Enter a valid expiry date (YYYY-MM-DD)." in r.content.decode()
    assert snapshot() == before
    r = web.post(url, data | {f"lot_{glue.pk}": "G-NEW"})
    assert r.status_code == 302
    assert Lot.objects.get(code="G-NEW").expires_on == FEB
    assert PurchaseOrder.objects.get(pk=order.pk).receipt_status == "full"
