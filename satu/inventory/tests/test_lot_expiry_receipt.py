"""INV-4 expiry date on receipt: `stock_move_post(lot_expires_on=)`,
transfer lines' `lot_expires_on`, `transfer_done(lot_expires_on=)`; the
API fields and the web forms. A new lot takes the date; an existing lot
with another date is refused (validation_error naming the field), one
without a date takes it (audited); bad dates and dates on products not
tracked by lot are refused; a refusal changes nothing."""

import json
from datetime import date
from html import escape

import pytest
from django.urls import reverse

from satu.core.errors import ValidationFailed
from satu.core.models import AuditEntry
from satu.inventory import queries, services
from satu.inventory.errors import LotRequired
from satu.inventory.models import Lot, Quant, StockLevel, StockMove, Transfer
from satu.inventory.tests.factories import make_product

pytestmark = pytest.mark.django_db

JAN = date(2031, 1, 31)
FEB = date(2031, 2, 28)


@pytest.fixture
def tracked(db):
    return make_product(tracking="lot", sku="MILK-1", name="Milk")


@pytest.fixture
def serial(db):
    return make_product(tracking="serial", sku="SER-1", name="Scanner")


def receive(actor, wh, product, qty, lot_code="", **kw):
    return services.stock_move_post(
        actor=actor,
        product_id=product.pk,
        quantity=qty,
        source_id=queries.virtual_location("supplier").pk,
        destination_id=wh.stock_location_id,
        lot_code=lot_code,
        **kw,
    )


def snapshot():
    return (
        StockMove.objects.count(),
        sorted(Quant.objects.values_list("pk", "quantity")),
        sorted(StockLevel.objects.values_list("pk", "on_hand", "value")),
        sorted(Lot.objects.values_list("pk", "code", "expires_on")),
        Transfer.objects.count(),
        AuditEntry.objects.count(),
    )


def lot(product, code):
    return Lot.objects.get(product=product, code=code)


def receipt(keeper, wh, lines, **kw):
    return services.transfer_create(
        actor=keeper, kind="receipt", warehouse_id=wh.pk, lines=lines, **kw
    )


# ------------------------------------------------------------ stock_move_post


def test_receipt_move_dates_the_new_lot(keeper, wh, tracked, serial, books_clean):
    move = receive(keeper, wh, tracked, 5, "L-1", lot_expires_on=JAN)
    assert move.lot.expires_on == JAN
    assert lot(tracked, "L-1").expires_on == JAN
    # An ISO string is accepted too (forms and BPMN pass text).
    receive(keeper, wh, serial, 1, "SN-1", lot_expires_on=" 2031-02-28 ")
    assert lot(serial, "SN-1").expires_on == FEB
    # The date shows in the FEFO list right away.
    fefo = queries.lots_available(product_id=tracked.pk, warehouse_id=wh.pk)
    assert [(x.code, x.expires_on, x.quantity) for x in fefo] == [("L-1", JAN, 5)]
    books_clean()


def test_same_date_or_no_date_on_existing_lot_is_fine(keeper, wh, tracked):
    receive(keeper, wh, tracked, 5, "L-1", lot_expires_on=JAN)
    audits = AuditEntry.objects.count()
    receive(keeper, wh, tracked, 2, "L-1", lot_expires_on="2031-01-31")
    receive(keeper, wh, tracked, 1, "L-1")
    receive(keeper, wh, tracked, 1, "L-1", lot_expires_on="")
    receive(keeper, wh, tracked, 1, lot_id=lot(tracked, "L-1").pk, lot_expires_on=JAN)
    assert lot(tracked, "L-1").expires_on == JAN
    assert StockLevel.objects.get(product=tracked, warehouse=wh).on_hand == 10
    assert AuditEntry.objects.count() == audits  # nothing about the lot changed


def test_other_date_on_existing_lot_refused_nothing_changes(
    keeper, wh, tracked, books_clean
):
    receive(keeper, wh, tracked, 5, "L-1", lot_expires_on=JAN)
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        receive(keeper, wh, tracked, 3, "L-1", lot_expires_on=FEB)
    err = exc.value
    assert err.code == "validation_error" and err.http_status == 422
    assert list(err.fields) == ["lot_expires_on"]
    message = str(err)
    assert "L-1" in message and "MILK-1" in message
    assert "2031-01-31" in message and "2031-02-28" in message
    assert err.fields["lot_expires_on"] == [message]
    assert err.context == {
        "lot_id": lot(tracked, "L-1").pk,
        "lot_code": "L-1",
        "expires_on": "2031-01-31",
    }
    # By id the same.
    with pytest.raises(ValidationFailed) as exc:
        receive(
            keeper, wh, tracked, 3, lot_id=lot(tracked, "L-1").pk, lot_expires_on=FEB
        )
    assert "lot_expires_on" in exc.value.fields
    assert snapshot() == before
    books_clean()


def test_lot_without_date_takes_the_receipts_date_audited(keeper, wh, tracked):
    receive(keeper, wh, tracked, 5, "L-1")
    assert lot(tracked, "L-1").expires_on is None
    receive(keeper, wh, tracked, 2, "L-1", lot_expires_on=JAN)
    the_lot = lot(tracked, "L-1")
    assert the_lot.expires_on == JAN
    entry = AuditEntry.objects.get(object_id=the_lot.pk, action="updated")
    assert entry.changes == {"expires_on": [None, "2031-01-31"]}
    assert entry.actor == keeper
    # From now on another date is refused.
    with pytest.raises(ValidationFailed):
        receive(keeper, wh, tracked, 1, "L-1", lot_expires_on=FEB)


@pytest.mark.parametrize(
    "bad", ["soon", "2031-02-30", "31.01.2031", 20310131, "2031-01-31T10:00"]
)
def test_malformed_date_refused_nothing_changes(keeper, wh, tracked, bad):
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        receive(keeper, wh, tracked, 1, "L-NEW", lot_expires_on=bad)
    assert exc.value.code == "validation_error"
    assert exc.value.fields == {
        "lot_expires_on": ["Enter a valid expiry date (YYYY-MM-DD)."]
    }
    assert snapshot() == before
    assert not Lot.objects.filter(code="L-NEW").exists()


def test_date_on_untracked_product_refused(keeper, wh, product):
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        receive(keeper, wh, product, 1, lot_expires_on=JAN)
    assert list(exc.value.fields) == ["lot_expires_on"]
    assert "not tracked by lot" in exc.value.fields["lot_expires_on"][0]
    assert str(product.sku) in str(exc.value)
    # Even with a lot code (the date is checked first, nothing is created).
    with pytest.raises(ValidationFailed) as exc:
        receive(keeper, wh, product, 1, "L-X", lot_expires_on=JAN)
    assert list(exc.value.fields) == ["lot_expires_on"]
    assert snapshot() == before


def test_date_without_lot_on_tracked_product_needs_the_lot(keeper, wh, tracked):
    before = snapshot()
    with pytest.raises(LotRequired):
        receive(keeper, wh, tracked, 1, lot_expires_on=JAN)
    assert snapshot() == before


# ------------------------------------------------------------------ transfers


def test_transfer_lines_date_new_lots(keeper, wh, tracked, serial, books_clean):
    t = receipt(
        keeper,
        wh,
        [
            {"product_id": tracked.pk, "quantity": 4, "lot_code": "L-A",
             "lot_expires_on": JAN},
            {"product_id": serial.pk, "quantity": 1, "lot_code": "SN-9",
             "lot_expires_on": "2031-02-28"},
        ],
    )  # fmt: skip
    assert lot(tracked, "L-A").expires_on == JAN  # the lot exists from now on
    assert lot(serial, "SN-9").expires_on == FEB
    services.transfer_done(actor=keeper, transfer_id=t.pk)
    assert Transfer.objects.get(pk=t.pk).state == "done"
    # One step (done=True) as the API's and other apps' one-click receipts.
    receipt(
        keeper,
        wh,
        [{"product_id": tracked.pk, "quantity": 1, "lot_code": "L-B",
          "lot_expires_on": FEB}],
        done=True,
    )  # fmt: skip
    assert lot(tracked, "L-B").expires_on == FEB
    books_clean()


def test_transfer_line_conflict_names_the_line_nothing_created(keeper, wh, tracked):
    receive(keeper, wh, tracked, 1, "L-A", lot_expires_on=JAN)
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        receipt(
            keeper,
            wh,
            [
                {"product_id": tracked.pk, "quantity": 1, "lot_code": "L-NEW",
                 "lot_expires_on": FEB},
                {"product_id": tracked.pk, "quantity": 1, "lot_code": "L-A",
                 "lot_expires_on": FEB},
            ],
        )  # fmt: skip
    assert list(exc.value.fields) == ["lines.1.lot_expires_on"]
    assert "2031-01-31" in str(exc.value)
    assert snapshot() == before  # L-NEW rolled back with the rest


def test_transfer_line_bad_input_names_the_field(keeper, wh, tracked, product):
    ok = {"product_id": tracked.pk, "quantity": 1, "lot_code": "OK"}
    cases = [
        # a malformed date on the second line
        [ok, {"product_id": tracked.pk, "quantity": 1, "lot_code": "L",
              "lot_expires_on": "x"}],
        # a date on a product not tracked by lot
        [{"product_id": product.pk, "quantity": 1, "lot_expires_on": JAN}, ok],
        # a date without the lot it belongs to
        [{"product_id": tracked.pk, "quantity": 1, "lot_expires_on": JAN}],
    ]  # fmt: skip
    fields = ["lines.1.lot_expires_on", "lines.0.lot_expires_on"]
    fields.append("lines.0.lot_expires_on")
    before = snapshot()
    for lines, field in zip(cases, fields, strict=True):
        with pytest.raises(ValidationFailed) as exc:
            receipt(keeper, wh, lines)
        assert list(exc.value.fields) == [field], lines
        assert str(exc.value) == exc.value.fields[field][0]
    assert snapshot() == before


def test_transfer_update_lines_take_dates(keeper, wh, tracked):
    t = receipt(keeper, wh, [{"product_id": tracked.pk, "quantity": 1}])
    services.transfer_update(
        actor=keeper,
        transfer_id=t.pk,
        version=t.version,
        lines=[{"product_id": tracked.pk, "quantity": 2, "lot_code": "L-U",
                "lot_expires_on": JAN}],
    )  # fmt: skip
    assert lot(tracked, "L-U").expires_on == JAN


def test_transfer_done_dates_lots_named_at_done(keeper, wh, tracked, books_clean):
    t = receipt(
        keeper,
        wh,
        [
            {"product_id": tracked.pk, "quantity": 3},
            {"product_id": tracked.pk, "quantity": 2},
        ],
    )
    first, second = t.lines.order_by("pk")
    services.transfer_done(
        actor=keeper,
        transfer_id=t.pk,
        lots={first.pk: "L-D1", second.pk: "L-D2"},
        lot_expires_on={first.pk: JAN, str(second.pk): "2031-02-28"},
    )
    assert lot(tracked, "L-D1").expires_on == JAN
    assert lot(tracked, "L-D2").expires_on == FEB
    assert Transfer.objects.get(pk=t.pk).state == "done"
    books_clean()


def test_transfer_done_conflict_and_bad_input_change_nothing(
    keeper, wh, tracked, product
):
    receive(keeper, wh, tracked, 1, "L-A", lot_expires_on=JAN)
    t = receipt(
        keeper,
        wh,
        [
            {"product_id": tracked.pk, "quantity": 3},
            {"product_id": product.pk, "quantity": 1},
        ],
    )
    line, plain = t.lines.order_by("pk")
    before = snapshot()
    attempts = [
        ({line.pk: "L-A"}, {line.pk: FEB}, f"lot_expires_on.{line.pk}"),
        ({line.pk: "L-NEW"}, {line.pk: "31/12/2031"}, f"lot_expires_on.{line.pk}"),
        ({line.pk: "L-NEW"}, {plain.pk: JAN}, f"lot_expires_on.{plain.pk}"),
    ]
    for lots, dates, field in attempts:
        with pytest.raises(ValidationFailed) as exc:
            services.transfer_done(
                actor=keeper, transfer_id=t.pk, lots=lots, lot_expires_on=dates
            )
        assert exc.value.code == "validation_error"
        assert list(exc.value.fields) == [field]
    with pytest.raises(ValidationFailed):  # a line of another transfer
        services.transfer_done(
            actor=keeper,
            transfer_id=t.pk,
            lots={line.pk: "L"},
            lot_expires_on={999999: JAN},
        )
    assert snapshot() == before
    assert Transfer.objects.get(pk=t.pk).state == "confirmed"
    # The same date passes.
    services.transfer_done(
        actor=keeper,
        transfer_id=t.pk,
        lots={line.pk: "L-A"},
        lot_expires_on={line.pk: JAN},
    )
    assert Transfer.objects.get(pk=t.pk).state == "done"


def test_transfer_done_dates_the_lot_already_on_the_line(keeper, wh, tracked):
    t = receipt(
        keeper, wh, [{"product_id": tracked.pk, "quantity": 1, "lot_code": "L-0"}]
    )
    line = t.lines.get()
    services.transfer_done(
        actor=keeper, transfer_id=t.pk, lot_expires_on={line.pk: JAN}
    )
    assert lot(tracked, "L-0").expires_on == JAN
    t2 = receipt(
        keeper, wh, [{"product_id": tracked.pk, "quantity": 1, "lot_code": "L-0"}]
    )
    line2 = t2.lines.get()
    with pytest.raises(ValidationFailed) as exc:
        services.transfer_done(
            actor=keeper, transfer_id=t2.pk, lot_expires_on={line2.pk: FEB}
        )
    assert list(exc.value.fields) == [f"lot_expires_on.{line2.pk}"]
    assert Transfer.objects.get(pk=t2.pk).state == "confirmed"


# ------------------------------------------------------------------------ API


def post_json(http, url, data):
    return http.post(url, json.dumps(data), content_type="application/json")


def test_api_stock_move_with_expiry(api_client, keeper, wh, tracked, product):
    http = api_client.as_user(keeper)
    body = {
        "product_id": tracked.pk,
        "quantity": "2",
        "source_id": queries.virtual_location("supplier").pk,
        "destination_id": wh.stock_location_id,
        "lot_code": "L-API",
        "lot_expires_on": "2031-01-31",
    }
    r = post_json(http, "/api/v1/stock-moves", body)
    assert r.status_code == 201, r.content
    assert lot(tracked, "L-API").expires_on == JAN
    moves = StockMove.objects.count()
    r = post_json(http, "/api/v1/stock-moves", body | {"lot_expires_on": "2031-02-28"})
    assert r.status_code == 422
    err = r.json()
    assert err["code"] == "validation_error"
    assert list(err["fields"]) == ["lot_expires_on"]
    assert "2031-01-31" in err["detail"] and err["expires_on"] == "2031-01-31"
    r = post_json(http, "/api/v1/stock-moves", body | {"lot_expires_on": "2031-13-01"})
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error"
    assert "lot_expires_on" in r.json()["fields"]
    r = post_json(
        http,
        "/api/v1/stock-moves",
        body | {"product_id": product.pk, "lot_code": ""},
    )
    assert r.status_code == 422 and list(r.json()["fields"]) == ["lot_expires_on"]
    assert StockMove.objects.count() == moves
    assert lot(tracked, "L-API").expires_on == JAN


def test_api_transfer_lines_and_done_with_expiry(api_client, keeper, wh, tracked):
    http = api_client.as_user(keeper)
    r = post_json(
        http,
        "/api/v1/transfers",
        {
            "kind": "receipt",
            "warehouse_id": wh.pk,
            "lines": [
                {"product_id": tracked.pk, "quantity": "2", "lot_code": "L-T",
                 "lot_expires_on": "2031-01-31"},
                {"product_id": tracked.pk, "quantity": "1"},
            ],
        },
    )  # fmt: skip
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["lines"][0]["lot_expires_on"] == "2031-01-31"
    assert body["lines"][1]["lot_expires_on"] is None
    first, second = body["lines"][0]["id"], body["lines"][1]["id"]
    url = f"/api/v1/transfers/{body['id']}/done"
    r = post_json(
        http,
        url,
        {"lots": {str(second): "L-T"}, "lot_expires_on": {second: "2031-02-28"}},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error"
    assert list(r.json()["fields"]) == [f"lot_expires_on.{second}"]
    r = post_json(http, url, {"lots": {second: "L-U"}, "lot_expires_on": {second: "x"}})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert Transfer.objects.get(pk=body["id"]).state == "confirmed"
    assert not Lot.objects.filter(code="L-U").exists()
    r = post_json(
        http, url, {"lots": {second: "L-U"}, "lot_expires_on": {second: "2031-02-28"}}
    )
    assert r.status_code == 200, r.content
    out = {line["id"]: line for line in r.json()["lines"]}
    assert out[first]["lot_expires_on"] == "2031-01-31"
    assert out[second]["lot_code"] == "L-U"
    assert out[second]["lot_expires_on"] == "2031-02-28"
    r = post_json(
        http,
        "/api/v1/transfers",
        {
            "kind": "receipt",
            "warehouse_id": wh.pk,
            "lines": [{"product_id": tracked.pk, "quantity": "1", "lot_code": "L-V",
                       "lot_expires_on": "31-01-2031"}],
        },
    )  # fmt: skip
    assert r.status_code == 422
    assert "lines.0.lot_expires_on" in r.json()["fields"]
    assert not Lot.objects.filter(code="L-V").exists()


# ---------------------------------------------------------------------- views


@pytest.fixture
def web(client, keeper):
    client.force_login(keeper)
    return client


def test_new_transfer_form_takes_expiry(web, keeper, wh, tracked, product):
    html = web.get(reverse("transfer_create"), {"kind": "receipt"}).content.decode()
    assert 'name="lot_expires_on"' in html and 'type="date"' in html
    data = {
        "kind": "receipt",
        "warehouse": wh.pk,
        "product": tracked.pk,
        "quantity": "3",
        "lot_code": "L-W",
        "lot_expires_on": "2031-01-31",
    }
    r = web.post(reverse("transfer_create"), data)
    assert r.status_code == 302
    t = Transfer.objects.get(kind="receipt")
    assert t.lines.get().lot.expires_on == JAN
    before = snapshot()
    r = web.post(reverse("transfer_create"), data | {"lot_expires_on": "2031-02-28"})
    assert r.status_code == 422
    html = r.content.decode()
    assert 'id="id_lot_expires_on_error"' in html
    assert escape("already expires on 2031-01-31") in html
    r = web.post(reverse("transfer_create"), data | {"lot_expires_on": "tomorrow"})
    assert r.status_code == 422
    assert "Enter a valid expiry date (YYYY-MM-DD)." in r.content.decode()
    r = web.post(
        reverse("transfer_create"), data | {"product": product.pk, "lot_code": ""}
    )
    assert r.status_code == 422
    assert "it takes no expiry date" in r.content.decode()
    assert snapshot() == before


def test_done_form_of_receipt_takes_expiry(web, keeper, wh, tracked):
    receive(keeper, wh, tracked, 1, "L-OLD", lot_expires_on=JAN)
    t = receipt(keeper, wh, [{"product_id": tracked.pk, "quantity": 2}])
    line = t.lines.get()
    html = web.get(reverse("transfer_detail", args=[t.pk])).content.decode()
    assert f'name="expires_{line.pk}"' in html
    url = reverse("transfer_action", args=[t.pk, "done"])
    data = {"version": t.version, f"expires_{line.pk}": "2031-02-28"}
    r = web.post(url, data | {f"lot_{line.pk}": "L-OLD"}, follow=True)
    assert escape("Lot L-OLD of MILK-1 Milk already expires on 2031-01-31") in (
        r.content.decode()
    )
    assert Transfer.objects.get(pk=t.pk).state == "confirmed"
    r = web.post(url, data | {f"lot_{line.pk}": "L-NEW"})
    assert r.status_code == 302
    assert Transfer.objects.get(pk=t.pk).state == "done"
    assert lot(tracked, "L-NEW").expires_on == FEB
    html = web.get(reverse("transfer_detail", args=[t.pk])).content.decode()
    assert "2031-02-28" in html and f'name="expires_{line.pk}"' not in html


def test_delivery_done_form_has_no_expiry_input(web, keeper, wh, tracked):
    receive(keeper, wh, tracked, 2, "L-1")
    t = services.transfer_create(
        actor=keeper,
        kind="delivery",
        warehouse_id=wh.pk,
        lines=[{"product_id": tracked.pk, "quantity": 1}],
    )
    line = t.lines.get()
    html = web.get(reverse("transfer_detail", args=[t.pk])).content.decode()
    assert f'name="lot_{line.pk}"' in html
    assert f'name="expires_{line.pk}"' not in html
