"""/api/v1/warehouses, locations, stock, stock-moves, transfers, counts."""

import json

import pytest

from satu.inventory import queries
from satu.inventory.models import StockMove
from satu.inventory.tests.factories import make_product, receive

pytestmark = pytest.mark.django_db


def post_json(http, url, data):
    return http.post(url, json.dumps(data), content_type="application/json")


def test_warehouse_create_and_list(api_client, keeper, django_assert_num_queries):
    http = api_client.as_user(keeper)
    r = post_json(http, "/api/v1/warehouses", {"code": "gdg", "name": "Gudang"})
    assert r.status_code == 201, r.content
    assert r.json()["code"] == "GDG"
    post_json(http, "/api/v1/warehouses", {"code": "OUT", "name": "Outlet"})
    r = post_json(http, "/api/v1/warehouses", {"code": "gdg", "name": "Again"})
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error"
    http.get("/api/v1/warehouses")  # warm the permission cache
    with django_assert_num_queries(6):
        r = http.get("/api/v1/warehouses")
    assert [w["code"] for w in r.json()["items"]] == ["GDG", "OUT"]


def test_post_move_and_refusal(api_client, keeper, wh, product):
    http = api_client.as_user(keeper)
    supplier = queries.virtual_location("supplier").pk
    customer = queries.virtual_location("customer").pk
    r = post_json(
        http,
        "/api/v1/stock-moves",
        {
            "product_id": product.pk,
            "quantity": "5",
            "source_id": supplier,
            "destination_id": wh.stock_location_id,
            "unit_cost": "2.5",
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["value"] == "12.5"
    r = post_json(
        http,
        "/api/v1/stock-moves",
        {
            "product_id": product.pk,
            "quantity": "6",
            "source_id": wh.stock_location_id,
            "destination_id": customer,
        },
    )
    assert r.status_code == 409
    assert r.json()["code"] == "inventory.insufficient_stock"
    assert StockMove.objects.count() == 1
    r = post_json(
        http,
        "/api/v1/stock-moves",
        {
            "product_id": product.pk,
            "quantity": "0",
            "source_id": wh.stock_location_id,
            "destination_id": customer,
        },
    )
    assert r.status_code == 422
    assert r.json()["code"] == "inventory.invalid_quantity"


def test_stock_lists_and_availability(
    api_client, keeper, wh, wh2, django_assert_num_queries
):
    products = [make_product() for _ in range(3)]
    for p in products:
        receive(keeper, wh, p, 4)
        receive(keeper, wh2, p, 1)
    http = api_client.as_user(keeper)
    http.get("/api/v1/stock")
    with django_assert_num_queries(6):
        r = http.get("/api/v1/stock")
    assert r.json()["count"] == 6
    ids = ",".join(str(p.pk) for p in products)
    with django_assert_num_queries(6):
        r = http.get(f"/api/v1/stock/availability?product_ids={ids}")
    assert r.json()[0]["on_hand"] == "5"
    with django_assert_num_queries(6):
        r = http.get(f"/api/v1/stock-moves?warehouse_id={wh.pk}")
    assert r.json()["count"] == 3


def test_transfer_flow_over_the_api(api_client, keeper, wh, product):
    receive(keeper, wh, product, 10)
    http = api_client.as_user(keeper)
    r = post_json(
        http,
        "/api/v1/transfers",
        {
            "kind": "delivery",
            "warehouse_id": wh.pk,
            "lines": [{"product_id": product.pk, "quantity": "4"}],
        },
    )
    assert r.status_code == 201, r.content
    t = r.json()
    line_id = t["lines"][0]["id"]
    r = post_json(http, f"/api/v1/transfers/{t['id']}/pick", {"version": 99})
    assert r.status_code == 409 and r.json()["code"] == "version_conflict"
    r = post_json(
        http,
        f"/api/v1/transfers/{t['id']}/done",
        {"quantities": {str(line_id): "3"}, "version": t["version"]},
    )
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "done"
    assert r.json()["lines"][0]["done_quantity"] == "3"
    r = post_json(http, f"/api/v1/transfers/{t['id']}/cancel", {})
    assert r.status_code == 409 and r.json()["code"] == "inventory.bad_state"
    r = http.get("/api/v1/transfers?state=confirmed")
    assert r.json()["count"] == 1  # the backorder


def test_inventory_count_over_the_api(api_client, keeper, wh, product):
    receive(keeper, wh, product, 10)
    http = api_client.as_user(keeper)
    r = post_json(http, "/api/v1/inventory-counts", {"warehouse_id": wh.pk})
    assert r.status_code == 201, r.content
    count = r.json()
    line = count["lines"][0]
    assert line["expected"] == "10"
    r = post_json(
        http,
        f"/api/v1/inventory-counts/{count['id']}/counts",
        {"counted": {str(line["id"]): "7"}, "version": count["version"]},
    )
    assert r.status_code == 200, r.content
    r = post_json(http, f"/api/v1/inventory-counts/{count['id']}/validate", {})
    assert r.json()["state"] == "done"
    assert r.json()["lines"][0]["difference"] == "-3"


def test_sales_manager_sees_stock_but_cannot_move_it(api_client, manager, wh, product):
    http = api_client.as_user(manager)
    assert http.get("/api/v1/stock").status_code == 200
    r = post_json(
        http,
        "/api/v1/stock-moves",
        {
            "product_id": product.pk,
            "quantity": "1",
            "source_id": queries.virtual_location("supplier").pk,
            "destination_id": wh.stock_location_id,
        },
    )
    assert r.status_code == 403
