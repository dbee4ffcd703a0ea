"""The web form for moves between locations of one warehouse: it posts
through services.stock_move_post (as POST /api/v1/stock-moves) and shows the
service's errors, with the API's messages, on the form."""

import json
from html import escape

import pytest
from django.urls import reverse

from satu.core.testing.helpers import make_user
from satu.inventory import services
from satu.inventory.models import Lot, Quant, StockLevel, StockMove
from satu.inventory.tests.factories import make_product, receive

pytestmark = pytest.mark.django_db

URL = "/stock/move/"


@pytest.fixture
def web(client, keeper):
    client.force_login(keeper)
    return client


@pytest.fixture
def shelf(keeper, wh):
    return services.location_create(actor=keeper, warehouse_id=wh.pk, name="Shelf A")


def qty(product, location_id, lot=None):
    q = Quant.objects.filter(product=product, location_id=location_id, lot=lot).first()
    return q.quantity if q else 0


def api_detail(api_client, keeper, data) -> dict:
    """What the API answers for the same move (to compare messages)."""
    http = api_client.as_user(keeper)
    payload = {
        "product_id": data["product"],
        "quantity": data["quantity"],
        "source_id": data["source"],
        "destination_id": data["destination"],
        "lot_code": data.get("lot_code", ""),
    }
    r = http.post(
        "/api/v1/stock-moves", json.dumps(payload), content_type="application/json"
    )
    assert r.status_code >= 400, r.content
    return r.json()


def test_url_and_navigation(web):
    assert reverse("location_move") == URL
    html = web.get(reverse("stock_list")).content.decode()
    assert 'id="nav-location-move"' in html
    assert URL in web.get(reverse("transfer_list")).content.decode()


def test_form_renders_with_locations_of_warehouses(web, wh, wh2, shelf, product):
    r = web.get(URL, {"product": product.pk})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="location-move-form"' in html
    assert "GDG · GDG/Shelf A" in html and "OUT · OUT/Stock" in html
    assert "Transit" not in html  # only internal locations
    assert f'<option value="{product.pk}" selected>' in html


def test_refused_without_the_right(client, wh):
    client.force_login(make_user("nobody"))
    assert client.get(URL).status_code == 403
    client.force_login(make_user("seller", role="sales_manager"))
    assert client.get(URL).status_code == 403  # sales view stock, move none
    r = client.post(URL, {})
    assert r.status_code == 403


def test_move_between_locations(web, keeper, wh, shelf, product, books_clean):
    receive(keeper, wh, product, 10)
    r = web.post(
        URL,
        {
            "product": product.pk,
            "quantity": "4",
            "source": wh.stock_location_id,
            "destination": shelf.pk,
            "reference": "restock",
        },
    )
    assert r.status_code == 302, r.content.decode()
    assert r.url == reverse("stock_product", args=[product.pk])
    move = StockMove.objects.get(destination=shelf)
    assert move.quantity == 4 and move.reference == "restock"
    assert move.created_by == keeper
    assert qty(product, wh.stock_location_id) == 6
    assert qty(product, shelf.pk) == 4
    # Same warehouse: on hand and value do not change.
    level = StockLevel.objects.get(product=product, warehouse=wh)
    assert level.on_hand == 10
    html = web.get(r.url).content.decode()
    assert "Moved 4 from GDG/Stock to GDG/Shelf A." in html
    books_clean()


def test_move_of_a_lot_with_fefo_suggestions(web, keeper, wh, shelf):
    tracked = make_product(tracking="lot")
    receive(keeper, wh, tracked, 3, lot_code="L-1")
    receive(keeper, wh, tracked, 2, lot_code="L-2")
    Lot.objects.filter(code="L-2").update(expires_on="2020-01-01")  # expired
    r = web.get(URL, {"product": tracked.pk, "source": wh.stock_location_id})
    html = r.content.decode()
    # Expired lots may move inside their warehouse: they are suggested first.
    assert 'list="lot-choices"' in html
    assert html.index("L-2") < html.index("L-1")
    r = web.get(
        reverse("lot_suggestions"),
        {"product": tracked.pk, "source": shelf.pk, "kind": "move"},
    )
    assert "L-1" not in r.content.decode()  # nothing on the shelf yet
    data = {
        "product": tracked.pk,
        "quantity": "2",
        "source": wh.stock_location_id,
        "destination": shelf.pk,
        "lot_code": "L-2",
    }
    assert web.post(URL, data).status_code == 302
    lot = Lot.objects.get(code="L-2")
    assert qty(tracked, shelf.pk, lot) == 2


def test_errors_shown_with_the_api_messages(web, api_client, keeper, wh, shelf):
    product = make_product()
    tracked = make_product(tracking="lot")
    receive(keeper, wh, product, 2)
    receive(keeper, wh, tracked, 2, lot_code="L-1")
    moves = StockMove.objects.count()
    cases = [
        # not enough stock
        {
            "product": product.pk,
            "quantity": "5",
            "source": wh.stock_location_id,
            "destination": shelf.pk,
        },
        # same location
        {
            "product": product.pk,
            "quantity": "1",
            "source": shelf.pk,
            "destination": shelf.pk,
        },
        # quantity zero
        {
            "product": product.pk,
            "quantity": "0",
            "source": wh.stock_location_id,
            "destination": shelf.pk,
        },
        # too many decimals
        {
            "product": product.pk,
            "quantity": "1.1234567",
            "source": wh.stock_location_id,
            "destination": shelf.pk,
        },
        # tracked product without a lot
        {
            "product": tracked.pk,
            "quantity": "1",
            "source": wh.stock_location_id,
            "destination": shelf.pk,
        },
        # lot on an untracked product
        {
            "product": product.pk,
            "quantity": "1",
            "source": wh.stock_location_id,
            "destination": shelf.pk,
            "lot_code": "X",
        },
    ]
    for data in cases:
        body = api_detail(api_client, keeper, data)
        r = web.post(URL, data)
        assert r.status_code == 422, data
        html = r.content.decode()
        messages = [body["detail"]] + [m for ms in body["fields"].values() for m in ms]
        shown = [m for m in messages if escape(m) in html and m]
        assert shown, (data, messages)
        if body["fields"]:
            assert "errorlist" in html
        assert 'id="location-move-form"' in html
    assert StockMove.objects.count() == moves
    assert qty(product, wh.stock_location_id) == 2


def test_locations_of_two_warehouses_refused(web, keeper, wh, wh2, product):
    receive(keeper, wh, product, 2)
    r = web.post(
        URL,
        {
            "product": product.pk,
            "quantity": "1",
            "source": wh.stock_location_id,
            "destination": wh2.stock_location_id,
        },
    )
    assert r.status_code == 422
    assert "Pick a location of the same warehouse as the source." in (
        r.content.decode()
    )
    assert qty(product, wh2.stock_location_id) == 0


def test_missing_fields_and_unknown_choices(web, wh, shelf, product):
    r = web.post(URL, {"product": product.pk, "source": "999999"})
    assert r.status_code == 422
    html = r.content.decode()
    assert html.count('class="errorlist"') >= 3  # source, destination, quantity
    assert not StockMove.objects.exists()
