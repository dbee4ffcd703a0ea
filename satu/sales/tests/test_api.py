"""Sales API: orders (idempotent by external id, actions, errors as
{"code", "detail", "fields"}), quotes, assortment, lists without N+1."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from satu.sales.models import SalesOrder
from satu.sales.tests.factories import make_order, make_world

pytestmark = pytest.mark.django_db


def _body(world, **extra):
    return {
        "client_id": world["client"].pk,
        "warehouse_id": world["wh"].pk,
        "lines": [
            {"product_id": world["products"][0].pk, "quantity": "3"},
            {"product_id": world["products"][1].pk, "quantity": "2"},
        ],
        **extra,
    }


def test_create_confirm_ship_invoice(api_client, manager, world):
    api = api_client.as_user(manager)
    response = api.post(
        "/api/v1/sales-orders", _body(world), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["total"] == "96.25" and order["state"] == "draft"
    assert order["lines"][0]["price_explanation"] == "Price list List USD"
    url = f"/api/v1/sales-orders/{order['id']}"
    response = api.post(
        f"{url}/confirm", {"version": order["version"]}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    confirmed = response.json()
    assert confirmed["state"] == "confirmed"
    first = confirmed["lines"][0]["id"]
    availability = {a["line_id"]: a for a in confirmed["availability"]}
    assert availability[first]["reserved_for_line"] == "3"
    response = api.post(
        f"{url}/ship",
        {"quantities": {str(first): "5"}},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "sales.over_shipment"
    assert f"quantities.{first}" in response.json()["fields"]
    response = api.post(
        f"{url}/ship",
        {"quantities": {str(first): "1"}},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["order"]["shipping_status"] == "partial"
    response = api.post(
        f"{url}/invoice",
        {"quantities": {str(first): "2"}},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "sales.over_invoicing"
    response = api.post(f"{url}/invoice", {}, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["invoice_state"] == "posted"
    assert body["order"]["invoice_status"] == "partial"


def test_bad_input_answers_4xx(api_client, manager, world):
    api = api_client.as_user(manager)
    line = {"product_id": world["products"][0].pk, "quantity": "1"}
    for bad, code in [
        ({**line, "quantity": "0"}, "validation_error"),
        ({**line, "quantity": "-2"}, "validation_error"),
        ({**line, "unit": "crate"}, "validation_error"),
        ({**line, "unit_price": "1.001"}, "sales.invalid_price"),
    ]:
        response = api.post(
            "/api/v1/sales-orders",
            _body(world, lines=[bad]),
            content_type="application/json",
        )
        assert response.status_code == 422, bad
        assert response.json()["code"] == code
    assert SalesOrder.objects.count() == 0


def test_stale_version_409_and_cancelled_confirm_409(api_client, manager, world):
    api = api_client.as_user(manager)
    order = make_order(manager, world)
    url = f"/api/v1/sales-orders/{order.pk}"
    response = api.post(
        f"{url}/confirm", {"version": 99}, content_type="application/json"
    )
    assert response.status_code == 409 and response.json()["code"] == "version_conflict"
    assert (
        api.post(f"{url}/cancel", {}, content_type="application/json").status_code
        == 200
    )
    response = api.post(f"{url}/confirm", {}, content_type="application/json")
    assert response.status_code == 409 and response.json()["code"] == "sales.bad_state"


def test_external_id_second_post_returns_200(api_client, manager, world):
    api = api_client.as_user(manager)
    body = _body(world, external_id="SHOP-77")
    first = api.post("/api/v1/sales-orders", body, content_type="application/json")
    again = api.post("/api/v1/sales-orders", body, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert SalesOrder.objects.count() == 1


def test_list_queries_do_not_grow(
    api_client, manager, world, django_assert_num_queries
):
    api = api_client.as_user(manager)
    make_order(manager, world)
    api.get("/api/v1/sales-orders")
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        api.get("/api/v1/sales-orders")
    for _i in range(4):
        make_order(manager, world)
    with django_assert_num_queries(len(one)):
        response = api.get("/api/v1/sales-orders")
    assert response.json()["count"] == 5


def test_quote_api_pdf_and_warning(api_client, manager, world):
    api = api_client.as_user(manager)
    from satu.sales.models import AssortmentRule

    AssortmentRule.objects.create(product=world["products"][0])
    response = api.post(
        "/api/v1/quotes",
        {
            "client_id": world["client"].pk,
            "lines": [{"product_id": world["products"][1].pk, "quantity": "1"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    quote = response.json()
    assert quote["warnings"] and "P002" in quote["warnings"][0]
    pdf = api.get(f"/api/v1/quotes/{quote['id']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    response = api.post(
        f"/api/v1/quotes/{quote['id']}/accept", {}, content_type="application/json"
    )
    assert response.json()["state"] == "accepted"
    response = api.post(
        f"/api/v1/quotes/{quote['id']}/order", {}, content_type="application/json"
    )
    assert response.status_code == 201 and response.json()["quote_id"] == quote["id"]


def test_other_managers_order_is_404(api_client, manager, other_manager, world):
    order = make_order(manager, world)
    response = api_client.as_user(other_manager).get(f"/api/v1/sales-orders/{order.pk}")
    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_two_concurrent_posts_with_one_external_id(keeper, manager):
    from satu.sales import services

    world = make_world(keeper=keeper, manager=manager)
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def run(i):
        try:
            barrier.wait()
            order = services.sales_order_create(
                actor=manager,
                client_id=world["client"].pk,
                warehouse_id=world["wh"].pk,
                external_id="RACE-1",
                lines=[{"product_id": world["products"][0].pk, "quantity": 1}],
            )
            results[i] = (order.pk, order.created)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion
            results[i] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, tuple) for r in results), results
    assert results[0][0] == results[1][0]
    assert sorted(r[1] for r in results) == [False, True]
    assert SalesOrder.objects.filter(external_id="RACE-1").count() == 1
    order = SalesOrder.objects.get()
    assert order.total == Decimal("13.75")
