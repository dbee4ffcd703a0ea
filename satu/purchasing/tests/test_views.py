"""Screens of purchasing: lists without N+1, the order form with line rows,
receive and bill forms with partial quantities, the reorder screen."""

from decimal import Decimal

import pytest
from django.urls import reverse

from satu.billing.models import Invoice
from satu.inventory.models import StockMove
from satu.purchasing import services
from satu.purchasing.models import PurchaseOrder, ReorderPoint
from satu.purchasing.tests.factories import SupplierPriceFactory, make_order

D = Decimal


@pytest.fixture
def web(client, purchaser):
    client.force_login(purchaser)
    return client


def test_order_list_queries(
    web, purchaser, supplier, wh, goods, django_assert_num_queries
):
    for _ in range(3):
        make_order(purchaser, supplier, wh, [(goods, 1, 1)])
    web.get(reverse("purchase_order_list"))  # warm session/permission caches
    with django_assert_num_queries(7):
        r = web.get(reverse("purchase_order_list"))
    assert r.status_code == 200
    assert r.content.count(b"PO-") >= 3
    for _ in range(3):
        make_order(purchaser, supplier, wh, [(goods, 1, 1)])
    with django_assert_num_queries(7):  # same count with twice the rows
        web.get(reverse("purchase_order_list"))


def test_other_lists_queries(
    web, purchaser, supplier, wh, goods, goods2, django_assert_num_queries
):
    SupplierPriceFactory(supplier=supplier, product=goods)
    SupplierPriceFactory(supplier=supplier, product=goods2)
    ReorderPoint.objects.create(product=goods, warehouse=wh, minimum=5, maximum=9)
    ReorderPoint.objects.create(product=goods2, warehouse=wh, minimum=5, maximum=9)
    for name in (
        "supplier_price_list",
        "supplier_list",
        "reorder_point_list",
        "reorder",
    ):
        web.get(reverse(name))
        with django_assert_num_queries(8 if name == "reorder" else 7):
            r = web.get(reverse(name))
        assert r.status_code == 200, name


def test_create_order_through_the_form(web, supplier, wh, goods, goods2):
    SupplierPriceFactory(supplier=supplier, product=goods, price=D("700"))
    r = web.get(reverse("purchase_order_line_row"))
    assert b'name="line_product"' in r.content
    r = web.post(
        reverse("purchase_order_create"),
        {
            "supplier": supplier.pk,
            "warehouse": wh.pk,
            "line_product": [goods.pk, goods2.pk, ""],
            "line_quantity": ["3", "2", ""],
            "line_price": ["", "15", ""],
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    order = PurchaseOrder.objects.get()
    assert order.total == D("2130")
    r = web.get(r["Location"])
    assert order.number.encode() in r.content


def test_form_shows_service_errors(web, supplier, wh, goods):
    r = web.post(
        reverse("purchase_order_create"),
        {
            "supplier": supplier.pk,
            "warehouse": wh.pk,
            "line_product": [goods.pk],
            "line_quantity": ["-2"],
            "line_price": ["1.123456"],
        },
    )
    assert r.status_code == 422
    assert (
        "Enter a quantity greater than zero with at most 6 decimals."
        in r.content.decode()
    )
    assert not PurchaseOrder.objects.exists()


def test_form_stale_version(web, draft):
    r = web.post(
        reverse("purchase_order_edit", args=[draft.pk]),
        {
            "version": draft.version + 1,
            "supplier": draft.supplier_id,
            "warehouse": draft.warehouse_id,
            "line_product": [draft.lines.first().product_id],
            "line_quantity": ["1"],
            "line_price": ["1"],
        },
    )
    assert r.status_code == 409
    assert "changed by someone else" in r.content.decode()
    assert PurchaseOrder.objects.get().version == draft.version


def test_confirm_receive_partially_and_over_receipt(web, draft, goods):
    r = web.post(
        reverse("purchase_order_confirm", args=[draft.pk]), {"version": draft.version}
    )
    assert r.status_code == 302
    draft.refresh_from_db()
    assert draft.state == "confirmed"
    url = reverse("purchase_order_receive", args=[draft.pk])
    r = web.get(url)
    assert r.status_code == 200
    line = draft.lines.get(product=goods)
    other = draft.lines.exclude(pk=line.pk).get()
    r = web.post(url, {f"qty_{line.pk}": "12", f"qty_{other.pk}": "0"})
    assert r.status_code == 422
    assert "at most 10 can still be received" in r.content.decode()
    assert not StockMove.objects.exists()
    r = web.post(url, {f"qty_{line.pk}": "4", f"qty_{other.pk}": "0"})
    assert r.status_code == 302
    line.refresh_from_db()
    assert line.received_quantity == D("4")


def test_confirm_cancelled_shows_message(web, draft, purchaser):
    services.purchase_order_cancel(actor=purchaser, order_id=draft.pk)
    r = web.post(reverse("purchase_order_confirm", args=[draft.pk]), follow=True)
    assert "Only a draft order can be confirmed" in r.content.decode()


def test_bill_form(client, confirmed, purchaser, accountant, goods):
    line = confirmed.lines.get(product=goods)
    services.purchase_order_receive(
        actor=purchaser, order_id=confirmed.pk, quantities={line.pk: "4"}
    )
    client.force_login(accountant)
    url = reverse("purchase_order_bill", args=[confirmed.pk])
    other = confirmed.lines.exclude(pk=line.pk).get()
    r = client.post(url, {f"qty_{line.pk}": "5", f"qty_{other.pk}": "0"})
    assert r.status_code == 422
    assert "at most 4 can be billed" in r.content.decode()
    assert not Invoice.objects.exists()
    r = client.post(
        url, {f"qty_{line.pk}": "3", f"qty_{other.pk}": "0", "reference": "INV-9"}
    )
    assert r.status_code == 302
    assert Invoice.objects.get().reference == "INV-9"


def test_reorder_screen_creates_orders(web, purchaser, company, wh, goods, supplier):
    SupplierPriceFactory(supplier=supplier, product=goods, price=D("10"))
    point = services.reorder_point_create(
        actor=purchaser, product_id=goods.pk, warehouse_id=wh.pk, minimum=5, maximum=20
    )
    r = web.get(reverse("reorder"))
    assert goods.name.encode() in r.content
    r = web.post(reverse("reorder"), {"select": [point.pk], f"qty_{point.pk}": "0"})
    assert r.status_code == 422
    assert not PurchaseOrder.objects.exists()
    r = web.post(reverse("reorder"), {"select": [point.pk], f"qty_{point.pk}": "24"})
    assert r.status_code == 302
    assert PurchaseOrder.objects.get().lines.get().quantity == D("24")


def test_supplier_price_form(web, supplier, goods):
    data = {
        "supplier": supplier.pk,
        "product": goods.pk,
        "price": "1.000001",
        "currency": "IDR",
        "min_quantity": "1",
        "lead_time_days": "0",
    }
    r = web.post(reverse("supplier_price_create"), data)
    assert r.status_code == 422
    assert "at most 4 decimals" in r.content.decode()
    r = web.post(reverse("supplier_price_create"), data | {"price": "5"})
    assert r.status_code == 302


def test_sales_manager_forbidden(client, manager, draft):
    client.force_login(manager)
    assert client.get(reverse("purchase_order_list")).status_code == 403


def test_every_form_opens(web, client, accountant, confirmed, supplier, goods, wh):
    from satu.purchasing.tests.factories import SupplierPriceFactory as SPF

    sp = SPF(supplier=supplier, product=goods)
    point = ReorderPoint.objects.create(
        product=goods, warehouse=wh, minimum=1, maximum=2
    )
    for url in (
        reverse("purchase_order_create"),
        reverse("purchase_order_detail", args=[confirmed.pk]),
        reverse("purchase_order_receive", args=[confirmed.pk]),
        reverse("supplier_price_create"),
        reverse("supplier_price_edit", args=[sp.pk]),
        reverse("reorder_point_create"),
        reverse("reorder_point_edit", args=[point.pk]),
    ):
        assert web.get(url).status_code == 200, url
    client.force_login(accountant)
    r = client.get(reverse("purchase_order_bill", args=[confirmed.pk]))
    assert r.status_code == 200
    r = client.get(reverse("purchase_order_detail", args=[confirmed.pk]))
    assert b"receive-order" not in r.content  # the accountant does not receive


def test_edit_reorder_point_stale(web, wh, goods):
    point = ReorderPoint.objects.create(
        product=goods, warehouse=wh, minimum=1, maximum=2
    )
    r = web.post(
        reverse("reorder_point_edit", args=[point.pk]),
        {
            "version": 5,
            "minimum": "1",
            "maximum": "3",
            "multiple": "1",
            "is_active": "on",
        },
    )
    assert r.status_code == 409
    point.refresh_from_db()
    assert point.maximum == 2
