"""The screens: stock list, product card, warehouses, transfers, counts."""

import pytest
from django.urls import reverse

from satu.inventory import services
from satu.inventory.models import StockMove, Transfer, WriteOffReason
from satu.inventory.tests.factories import make_product, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client, keeper):
    client.force_login(keeper)
    return client


def test_stock_list_no_n_plus_one(web, keeper, wh, wh2, django_assert_max_num_queries):
    for _ in range(3):
        receive(keeper, wh, make_product(), 5)
    web.get(reverse("stock_list"))
    with django_assert_max_num_queries(14) as first:
        r = web.get(reverse("stock_list"))
    n = len(first.captured_queries)
    for _ in range(5):
        receive(keeper, wh2, make_product(), 2)
    with django_assert_max_num_queries(n):
        r = web.get(reverse("stock_list"))
    assert r.status_code == 200
    assert r.content.decode().count('href="/stock/product/') == 16  # 8 rows × 2 links
    r = web.get(reverse("stock_list"), {"warehouse": wh2.pk, "q": "Product"})
    assert r.content.decode().count('href="/stock/product/') == 10
    r = web.get(reverse("stock_export", args=["csv"]))
    assert r.status_code == 200
    assert b"On hand" in b"".join(r.streaming_content)


def test_product_card_shows_moves(web, keeper, wh, product):
    receive(keeper, wh, product, 5)
    r = web.get(reverse("stock_product", args=[product.pk]))
    assert r.status_code == 200
    assert "move-table" in r.content.decode()


def test_create_warehouse_and_location(web):
    r = web.post(reverse("warehouse_list"), {"code": "NEW", "name": "New one"})
    assert r.status_code == 302
    r = web.post(reverse("warehouse_list"), {"code": "NEW", "name": "Again"})
    assert r.status_code == 422
    assert "A warehouse with this code already exists." in r.content.decode()
    detail = reverse("warehouse_list")
    assert web.get(detail).status_code == 200


def test_write_off_form_and_done_with_partial(web, keeper, wh, product):
    receive(keeper, wh, product, 10)
    reason = WriteOffReason.objects.get(code="expired")
    r = web.post(
        reverse("transfer_create"),
        {
            "kind": "write_off",
            "warehouse": wh.pk,
            "reason": reason.pk,
            "product": product.pk,
            "quantity": "4",
        },
    )
    assert r.status_code == 302, r.content
    t = Transfer.objects.get(kind="write_off")
    assert web.get(reverse("transfer_detail", args=[t.pk])).status_code == 200
    line = t.lines.get()
    r = web.post(
        reverse("transfer_action", args=[t.pk, "done"]),
        {"version": t.version, f"qty_{line.pk}": "3"},
    )
    assert r.status_code == 302
    t.refresh_from_db()
    assert t.state == "done"
    assert StockMove.objects.filter(transfer=t).get().quantity == 3
    assert Transfer.objects.filter(backorder_of=t).count() == 1


def test_write_off_beyond_stock_shows_the_message(web, keeper, wh, product):
    receive(keeper, wh, product, 1)
    t = services.transfer_create(
        actor=keeper,
        kind="write_off",
        warehouse_id=wh.pk,
        reason_id=WriteOffReason.objects.get(code="lost").pk,
        lines=[{"product_id": product.pk, "quantity": 2}],
    )
    r = web.post(reverse("transfer_action", args=[t.pk, "done"]), follow=True)
    assert "Not enough stock" in r.content.decode()
    assert StockMove.objects.count() == 1


def test_transfer_list_no_n_plus_one(
    web, keeper, wh, product, django_assert_max_num_queries
):
    for _ in range(3):
        services.transfer_create(
            actor=keeper,
            kind="receipt",
            warehouse_id=wh.pk,
            lines=[{"product_id": product.pk, "quantity": 1}],
        )
    web.get(reverse("transfer_list"))
    with django_assert_max_num_queries(14) as first:
        web.get(reverse("transfer_list"))
    n = len(first.captured_queries)
    for _ in range(4):
        services.transfer_create(
            actor=keeper,
            kind="receipt",
            warehouse_id=wh.pk,
            lines=[{"product_id": product.pk, "quantity": 1}],
        )
    with django_assert_max_num_queries(n):
        r = web.get(reverse("transfer_list"))
    assert r.content.decode().count("GDG/IN/") == 7


def test_count_screens(web, keeper, wh, product):
    receive(keeper, wh, product, 10)
    r = web.post(reverse("count_list"), {"warehouse": wh.pk})
    assert r.status_code == 302
    count_url = r["Location"]
    page = web.get(count_url).content.decode()
    assert "count-lines" in page
    from satu.inventory.models import InventoryCount

    count = InventoryCount.objects.get()
    line = count.lines.get()
    r = web.post(
        count_url,
        {"version": count.version, f"counted_{line.pk}": "9", "validate": "1"},
    )
    assert r.status_code == 302
    count.refresh_from_db()
    assert count.state == "done"
    assert web.get(reverse("count_list")).status_code == 200


def test_sales_manager_views_stock_but_not_transfers_forms(client, manager, wh):
    client.force_login(manager)
    assert client.get(reverse("stock_list")).status_code == 200
    r = client.post(reverse("warehouse_list"), {"code": "X", "name": "X"})
    assert r.status_code == 422 or r.status_code == 403
