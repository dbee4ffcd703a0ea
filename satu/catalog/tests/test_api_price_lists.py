"""/api/v1/price-lists and their items."""

import json
from decimal import Decimal

import pytest

from satu.catalog.models import PriceList, PriceListItem
from satu.catalog.tests.factories import (
    PriceListFactory,
    PriceListItemFactory,
    ProductFactory,
)
from satu.parties.tests.factories import ClientGroupFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/price-lists"


def post_json(http, url, data):
    return http.post(url, json.dumps(data), content_type="application/json")


def test_create_get_and_patch_price_list(api_client, head_of_sales):
    group = ClientGroupFactory(name="Wholesale")
    http = api_client.as_user(head_of_sales)

    created = post_json(
        http,
        URL,
        {
            "name": "Wholesale 2026",
            "currency": "IDR",
            "client_group_id": group.pk,
            "valid_from": "2026-01-01",
            "valid_to": "2026-12-31",
            "priority": 10,
            "discount_percent": "5",
        },
    )
    body = created.json()
    patched = http.patch(
        f"{URL}/{body['id']}",
        json.dumps({"priority": 20, "version": 1}),
        content_type="application/json",
    )

    assert created.status_code == 201, created.content
    assert body["client_group"] == {"id": group.pk, "name": "Wholesale"}
    assert (body["discount_percent"], body["valid_to"]) == ("5", "2026-12-31")
    assert patched.status_code == 200
    assert (patched.json()["priority"], patched.json()["version"]) == (20, 2)


def test_create_refuses_unknown_currency(api_client, head_of_sales):
    response = post_json(
        api_client.as_user(head_of_sales), URL, {"name": "X", "currency": "XYZ"}
    )

    assert response.status_code == 422
    assert "currency" in response.json()["fields"]
    assert PriceList.objects.count() == 0


def test_sales_manager_cannot_create(api_client, manager):
    response = post_json(api_client.as_user(manager), URL, {"name": "X"})

    assert response.status_code == 403
    assert PriceList.objects.count() == 0


def test_items_add_list_and_delete(api_client, head_of_sales, pcs):
    price_list = PriceListFactory(name="Retail", currency="USD")
    product = ProductFactory(sku="TEH", base_unit=pcs)
    http = api_client.as_user(head_of_sales)

    added = post_json(
        http,
        f"{URL}/{price_list.pk}/items",
        {"product_id": product.pk, "min_quantity": "100", "price": "1.25"},
    )
    listed = http.get(f"{URL}/{price_list.pk}/items").json()
    deleted = http.delete(f"{URL}/{price_list.pk}/items/{added.json()['id']}")

    assert added.status_code == 201, added.content
    assert listed["items"] == [
        {
            "id": added.json()["id"],
            "product_id": product.pk,
            "sku": "TEH",
            "product_name": product.name,
            "unit": "pcs",
            "min_quantity": "100",
            "price": "1.25",
            "discount_percent": None,
        }
    ]
    assert deleted.status_code == 204
    assert PriceListItem.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"price": "1.255"}, "price"),
        ({"price": "1", "min_quantity": "0"}, "min_quantity"),
        ({"price": "1", "min_quantity": "-2"}, "min_quantity"),
        ({"price": "1", "unit": "kg"}, "unit"),
    ],
)
def test_item_bad_input_is_422(api_client, head_of_sales, pcs, payload, field):
    price_list = PriceListFactory(currency="USD")
    product = ProductFactory(base_unit=pcs)

    response = post_json(
        api_client.as_user(head_of_sales),
        f"{URL}/{price_list.pk}/items",
        {"product_id": product.pk, **payload},
    )

    assert response.status_code == 422
    assert field in response.json()["fields"]
    assert PriceListItem.objects.count() == 0


def test_list_query_counts_do_not_grow(
    api_client, head_of_sales, pcs, django_assert_num_queries
):
    group = ClientGroupFactory()
    price_list = PriceListFactory(client_group=group)
    PriceListItemFactory(price_list=price_list, product=ProductFactory(base_unit=pcs))
    http = api_client.as_user(head_of_sales)
    http.get(URL)
    with django_assert_num_queries(6) as lists:
        assert len(http.get(URL).json()["items"]) == 1
    with django_assert_num_queries(7) as items:
        assert len(http.get(f"{URL}/{price_list.pk}/items").json()["items"]) == 1

    for n in range(3):
        PriceListFactory(client_group=ClientGroupFactory())
        PriceListItemFactory(
            price_list=price_list,
            product=ProductFactory(base_unit=pcs),
            price=Decimal(100 + n),
        )

    with django_assert_num_queries(len(lists.captured_queries)):
        assert len(http.get(URL).json()["items"]) == 4
    with django_assert_num_queries(len(items.captured_queries)):
        assert len(http.get(f"{URL}/{price_list.pk}/items").json()["items"]) == 4
