"""REST API of purchasing: lists (no N+1), creation, actions, bad input."""

import json
from decimal import Decimal

import pytest

from satu.billing.models import Invoice
from satu.inventory.models import StockMove
from satu.purchasing.models import PurchaseOrder, SupplierPrice
from satu.purchasing.tests.factories import SupplierPriceFactory, make_order

D = Decimal


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def api(api_client, purchaser):
    return api_client.as_user(purchaser)


def test_create_confirm_receive_bill(
    api, api_client, purchaser, accountant, supplier, wh, goods
):
    SupplierPriceFactory(supplier=supplier, product=goods, price=D("1500"))
    r = post(
        api,
        "/api/v1/purchase-orders",
        {
            "supplier_id": supplier.pk,
            "warehouse_id": wh.pk,
            "lines": [{"product_id": goods.pk, "quantity": "10"}],
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["state"] == "draft" and body["number"].startswith("PO-")
    assert body["lines"][0]["unit_price"] == "1500.0000"
    order_id, line_id = body["id"], body["lines"][0]["id"]
    r = post(api, f"/api/v1/purchase-orders/{order_id}/confirm", {"version": 1})
    assert r.status_code == 200 and r.json()["state"] == "confirmed"
    r = post(
        api,
        f"/api/v1/purchase-orders/{order_id}/receive",
        {"quantities": {str(line_id): "11"}},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "purchasing.over_receipt"
    assert not StockMove.objects.exists()
    r = post(
        api,
        f"/api/v1/purchase-orders/{order_id}/receive",
        {"quantities": {str(line_id): "6"}},
    )
    assert r.status_code == 200, r.content
    assert r.json()["order"]["receipt_status"] == "partial"
    acc = api_client.as_user(accountant)
    r = post(
        acc,
        f"/api/v1/purchase-orders/{order_id}/bill",
        {"quantities": {str(line_id): "7"}},
    )
    assert r.status_code == 422 and r.json()["code"] == "purchasing.over_billing"
    assert not Invoice.objects.exists()
    r = post(acc, f"/api/v1/purchase-orders/{order_id}/bill", {"reference": "S-1"})
    assert r.status_code == 200, r.content
    assert r.json()["order"]["bill_status"] == "partial"
    assert Invoice.objects.get().amount_total == D("9000")


@pytest.mark.parametrize(
    "line,field",
    [
        ({"quantity": "0", "unit_price": "1"}, "lines.0.quantity"),
        ({"quantity": "-3", "unit_price": "1"}, "lines.0.quantity"),
        ({"quantity": "1", "unit_price": "1.23456"}, "lines.0.unit_price"),
    ],
)
def test_create_bad_lines(api, supplier, wh, goods, line, field):
    r = post(
        api,
        "/api/v1/purchase-orders",
        {
            "supplier_id": supplier.pk,
            "warehouse_id": wh.pk,
            "lines": [{"product_id": goods.pk} | line],
        },
    )
    assert r.status_code == 422
    assert field in r.json()["fields"]
    assert not PurchaseOrder.objects.exists()


def test_currency_mismatch_with_contract(api, purchaser, company, supplier, wh, goods):
    from datetime import date

    from satu.billing.models import Contract

    contract = Contract.objects.create(
        number="K-1",
        kind="purchase",
        company=company,
        counterparty=supplier,
        currency="USD",
        valid_from=date(2026, 1, 1),
        state="active",
    )
    r = post(
        api,
        "/api/v1/purchase-orders",
        {
            "supplier_id": supplier.pk,
            "warehouse_id": wh.pk,
            "currency": "IDR",
            "contract_id": contract.pk,
            "lines": [{"product_id": goods.pk, "quantity": "1", "unit_price": "1"}],
        },
    )
    assert r.status_code == 422
    assert r.json()["code"] == "purchasing.currency_mismatch"
    assert not PurchaseOrder.objects.exists()
    r = post(
        api,
        "/api/v1/purchase-orders",
        {
            "supplier_id": supplier.pk,
            "warehouse_id": wh.pk,
            "contract_id": contract.pk,
            "lines": [{"product_id": goods.pk, "quantity": "1", "unit_price": "1"}],
        },
    )
    assert r.status_code == 201 and r.json()["currency"] == "USD"


def test_stale_version_409(api, draft):
    r = patch(api, f"/api/v1/purchase-orders/{draft.pk}", {"version": 99, "note": "x"})
    assert r.status_code == 409 and r.json()["code"] == "version_conflict"
    r = post(api, f"/api/v1/purchase-orders/{draft.pk}/confirm", {"version": 99})
    assert r.status_code == 409
    draft.refresh_from_db()
    assert (draft.state, draft.note) == ("draft", "")


def test_confirm_cancelled_409(api, draft):
    assert post(api, f"/api/v1/purchase-orders/{draft.pk}/cancel").status_code == 200
    r = post(api, f"/api/v1/purchase-orders/{draft.pk}/confirm")
    assert r.status_code == 409 and r.json()["code"] == "purchasing.bad_state"


def test_lot_missing(api, purchaser, supplier, wh, lot_goods):
    order = make_order(purchaser, supplier, wh, [(lot_goods, 2, 5)])
    post(api, f"/api/v1/purchase-orders/{order.pk}/confirm")
    r = post(api, f"/api/v1/purchase-orders/{order.pk}/receive", {})
    assert r.status_code == 422 and r.json()["code"] == "inventory.lot_required"
    assert not StockMove.objects.exists()


def test_order_list_queries(
    api, purchaser, supplier, wh, goods, django_assert_num_queries
):
    for _ in range(3):
        make_order(purchaser, supplier, wh, [(goods, 1, 1)])
    with django_assert_num_queries(7):  # auth+token, perms, count, page
        r = api.get("/api/v1/purchase-orders?state=draft")
    assert r.status_code == 200 and r.json()["count"] == 3


def test_supplier_prices_api(api, supplier, goods, django_assert_num_queries):
    r = post(
        api,
        "/api/v1/supplier-prices",
        {"supplier_id": supplier.pk, "product_id": goods.pk, "price": "1.123456"},
    )
    assert r.status_code == 422 and "price" in r.json()["fields"]
    r = post(
        api,
        "/api/v1/supplier-prices",
        {"supplier_id": supplier.pk, "product_id": goods.pk, "price": "99.5"},
    )
    assert r.status_code == 201
    SupplierPriceFactory(supplier=supplier, product=goods, price=D("120"))
    with django_assert_num_queries(6):
        r = api.get("/api/v1/supplier-prices")
    assert r.json()["count"] == 2
    r = api.get(f"/api/v1/supplier-prices/best?product_id={goods.pk}&quantity=5")
    assert r.status_code == 200 and r.json()["price"] == "99.5000"
    r = api.get("/api/v1/supplier-prices/suppliers")
    assert [s["legal_name"] for s in r.json()["items"]] == ["PT Sumber Makmur"]
    price = SupplierPrice.objects.order_by("pk").first()
    r = patch(api, f"/api/v1/supplier-prices/{price.pk}", {"version": 7, "price": "1"})
    assert r.status_code == 409


def test_reorder_api(api, purchaser, wh, goods, supplier, django_assert_num_queries):
    SupplierPriceFactory(supplier=supplier, product=goods, price=D("10"))
    r = post(
        api,
        "/api/v1/reorder-points",
        {"product_id": goods.pk, "warehouse_id": wh.pk, "minimum": "5", "maximum": "3"},
    )
    assert r.status_code == 422 and "maximum" in r.json()["fields"]
    r = post(
        api,
        "/api/v1/reorder-points",
        {
            "product_id": goods.pk,
            "warehouse_id": wh.pk,
            "minimum": "5",
            "maximum": "20",
        },
    )
    assert r.status_code == 201
    point_id = r.json()["id"]
    with django_assert_num_queries(6):
        r = api.get("/api/v1/reorder-points")
    assert r.json()["count"] == 1
    r = api.get("/api/v1/reorder-points/proposals")
    [p] = r.json()
    assert p["quantity"] == "20.000000" and p["supplier_id"] == supplier.pk
    r = post(
        api,
        "/api/v1/reorder-points/proposals/orders",
        {"selections": [{"reorder_point_id": point_id}]},
    )
    assert r.status_code == 201 and len(r.json()) == 1
    assert PurchaseOrder.objects.get().lines.get().quantity == D("20")


def test_director_reads_but_cannot_write(api_client, director, draft):
    c = api_client.as_user(director)
    assert c.get(f"/api/v1/purchase-orders/{draft.pk}").status_code == 200
    assert post(c, f"/api/v1/purchase-orders/{draft.pk}/confirm").status_code == 403


def test_sales_manager_sees_nothing(api_client, manager, draft):
    c = api_client.as_user(manager)
    assert c.get(f"/api/v1/purchase-orders/{draft.pk}").status_code == 404
    assert c.get("/api/v1/purchase-orders").status_code == 403


def test_switched_off_module(api, admin, draft, purchaser):
    from satu.core import features
    from satu.core.errors import FeatureDisabled
    from satu.purchasing import services

    features.feature_set(code="purchasing", enabled=False, actor=admin)
    r = api.get("/api/v1/purchase-orders")
    assert r.status_code == 404
    with pytest.raises(FeatureDisabled):
        services.purchase_order_confirm(actor=purchaser, order_id=draft.pk)
