"""/api/v1/products, /units, /product-categories and the price endpoint."""

import json
from datetime import date
from decimal import Decimal

import pytest

from satu.catalog.models import Product, ProductUnit
from satu.catalog.tests.factories import (
    CategoryFactory,
    PriceListFactory,
    PriceListItemFactory,
    ProductFactory,
    ProductUnitFactory,
)
from satu.core import custom_fields, features
from satu.parties.tests.factories import ClientFactory, ClientGroupFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/products"


def post_json(http, url, data):
    return http.post(url, json.dumps(data), content_type="application/json")


def patch_json(http, url, data):
    return http.patch(url, json.dumps(data), content_type="application/json")


def test_create_and_get_product(api_client, head_of_sales, pcs, box):
    category = CategoryFactory(name="Drinks", parent=CategoryFactory(name="Food"))
    http = api_client.as_user(head_of_sales)

    response = post_json(
        http,
        URL,
        {
            "sku": "TEH-500",
            "name": "Teh Botol 500 ml",
            "base_unit": "pcs",
            "category_id": category.pk,
            "barcode": "4006381333931",
            "units": [{"unit": "box", "factor": "24"}],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["sku"], body["base_unit"], body["kind"], body["version"]) == (
        "TEH-500",
        "pcs",
        "goods",
        1,
    )
    assert body["category"] == {"id": category.pk, "full_name": "Food / Drinks"}
    assert body["units"] == [{"unit": "box", "factor": "24"}]
    assert body["components"] == []
    got = http.get(f"{URL}/{body['id']}").json()
    assert got["barcode"] == "4006381333931"


def test_create_bad_input_is_422_with_fields_and_nothing_written(
    api_client, head_of_sales, pcs
):
    http = api_client.as_user(head_of_sales)

    response = post_json(
        http,
        URL,
        {"sku": "X-1", "name": "X", "base_unit": "crate", "barcode": "12345"},
    )

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body["fields"]) == {"base_unit", "barcode"}
    assert Product.objects.count() == 0


def test_sales_manager_reads_but_cannot_create(api_client, manager, pcs):
    ProductFactory(base_unit=pcs)
    http = api_client.as_user(manager)

    assert http.get(URL).status_code == 200
    response = post_json(http, URL, {"sku": "A", "name": "A", "base_unit": "pcs"})

    assert response.status_code == 403
    assert Product.objects.count() == 1


def test_list_search_filters_and_query_count(
    api_client, head_of_sales, pcs, django_assert_num_queries, admin_user
):
    custom_fields.custom_field_create(
        actor=admin_user,
        object_type="catalog.product",
        code="brand",
        label="Brand",
        field_type="text",
    )
    food = CategoryFactory(name="Food")
    snacks = CategoryFactory(name="Snacks", parent=food)
    ProductFactory(sku="TEH-1", name="Teh", base_unit=pcs, category=food)
    ProductFactory(
        sku="KRP-1",
        name="Keripik",
        base_unit=pcs,
        category=snacks,
        barcode="4006381333931",
        custom={"brand": "Chitato"},
    )
    for _ in range(8):
        ProductFactory(base_unit=pcs)
    http = api_client.as_user(head_of_sales)

    params = {"category_id": food.pk, "page_size": 50}
    http.get(URL, params)  # the token's first use writes last_used_at
    # auth and permissions, toggles, custom field definitions, two levels of
    # the category tree, count, page: not one more per product
    with django_assert_num_queries(8) as few:
        response = http.get(URL, params)
    assert [p["sku"] for p in response.json()["items"]] == ["KRP-1", "TEH-1"]
    for _ in range(5):
        ProductFactory(base_unit=pcs, category=snacks)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(http.get(URL, params).json()["items"]) == 7

    def skus(**params):
        return [p["sku"] for p in http.get(URL, params).json()["items"]]

    assert skus(search="teh") == ["TEH-1"]
    assert skus(search="4006381333931") == ["KRP-1"]
    assert skus(cf_brand="chit") == ["KRP-1"]
    assert len(skus()) == 15


def test_patch_with_version_conflict(api_client, head_of_sales, pcs):
    product = ProductFactory(name="Old", base_unit=pcs)
    http = api_client.as_user(head_of_sales)

    first = patch_json(http, f"{URL}/{product.pk}", {"name": "New", "version": 1})
    stale = patch_json(http, f"{URL}/{product.pk}", {"name": "Lost", "version": 1})

    assert first.status_code == 200
    assert first.json()["version"] == 2
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_conflict"
    product.refresh_from_db()
    assert product.name == "New"


def test_units_and_categories(api_client, head_of_sales, pcs):
    http = api_client.as_user(head_of_sales)

    created = post_json(http, "/api/v1/units", {"code": "Box", "name": "Box"})
    duplicate = post_json(http, "/api/v1/units", {"code": "box", "name": "Box"})
    category = post_json(http, "/api/v1/product-categories", {"name": "Household"})

    assert created.status_code == 201
    assert created.json() == {"code": "box", "name": "Box", "is_active": True}
    assert duplicate.status_code == 422
    assert "code" in duplicate.json()["fields"]
    assert category.status_code == 201
    codes = [u["code"] for u in http.get("/api/v1/units").json()["items"]]
    assert codes == ["box", "pcs"]
    names = http.get("/api/v1/product-categories").json()["items"]
    assert [c["full_name"] for c in names] == ["Household"]


def test_conversion_and_kit_components(api_client, head_of_sales, pcs, box):
    kit = ProductFactory(kind="kit", base_unit=pcs)
    part = ProductFactory(sku="SOAP", base_unit=pcs)
    http = api_client.as_user(head_of_sales)

    unit = post_json(http, f"{URL}/{part.pk}/units", {"unit": "box", "factor": "12"})
    components = http.put(
        f"{URL}/{kit.pk}/components",
        json.dumps({"components": [{"product_id": part.pk, "quantity": "2"}]}),
        content_type="application/json",
    )

    assert unit.status_code == 201
    assert unit.json()["units"] == [{"unit": "box", "factor": "12"}]
    assert components.status_code == 200
    assert components.json()["components"] == [
        {
            "product_id": part.pk,
            "sku": "SOAP",
            "name": part.name,
            "quantity": "2",
            "unit": "pcs",
        }
    ]


@pytest.fixture
def priced(pcs, box):
    product = ProductFactory(sku="TEH-500", base_unit=pcs)
    ProductUnitFactory(product=product, unit=box, factor=Decimal("12"))
    group = ClientGroupFactory(name="Wholesale")
    wholesale = PriceListFactory(
        name="Wholesale 2026",
        client_group=group,
        priority=10,
        discount_percent=Decimal("5"),
        valid_from=date(2026, 1, 1),
    )
    PriceListItemFactory(price_list=wholesale, product=product, price=4500)
    PriceListItemFactory(
        price_list=wholesale, product=product, min_quantity=100, price=4200
    )
    return product, group


def test_price_with_explanation(api_client, head_of_sales, priced):
    product, group = priced
    client = ClientFactory(owner=head_of_sales)
    client.groups.add(group)
    http = api_client.as_user(head_of_sales)

    response = http.get(
        f"{URL}/{product.pk}/price",
        {"client_id": client.pk, "quantity": "150", "date": "2026-06-01"},
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "price": "3990",
        "gross_price": "4200",
        "discount_percent": "5",
        "currency": "IDR",
        "quantity": "150",
        "unit": "pcs",
        "total": "598500",
        "price_list": {
            "id": product.price_items.first().price_list_id,
            "name": "Wholesale 2026",
        },
        "min_quantity": "100",
        "break_unit": "pcs",
        "explanation": "Price list Wholesale 2026, break 100+, discount 5 %",
    }


@pytest.mark.parametrize(
    ("params", "status", "code", "field"),
    [
        ({"quantity": "0"}, 422, "validation_error", "quantity"),
        ({"quantity": "-1"}, 422, "validation_error", "quantity"),
        ({"unit": "kg"}, 422, "catalog.unknown_unit", "unit"),
        ({"currency": "USD"}, 404, "catalog.no_price", None),
        ({"date": "2025-06-01"}, 404, "catalog.no_price", None),
    ],
)
def test_price_failures(api_client, head_of_sales, priced, params, status, code, field):
    product, group = priced
    client = ClientFactory(owner=head_of_sales)
    client.groups.add(group)
    http = api_client.as_user(head_of_sales)

    response = http.get(
        f"{URL}/{product.pk}/price",
        {"client_id": client.pk, "date": "2026-06-01", **params},
    )

    assert response.status_code == status
    assert response.json()["code"] == code
    if field:
        assert field in response.json()["fields"]


def test_price_for_invisible_client_is_404(api_client, manager, other_manager, priced):
    product, _group = priced
    foreign = ClientFactory(owner=other_manager)

    response = api_client.as_user(manager).get(
        f"{URL}/{product.pk}/price", {"client_id": foreign.pk}
    )

    assert response.status_code == 404


def test_switched_off_module_answers_404(api_client, head_of_sales, admin_user, pcs):
    features.feature_set(code="catalog", enabled=False, actor=admin_user)

    response = api_client.as_user(head_of_sales).get(URL)

    assert response.status_code == 404
    assert response.json()["code"] == "feature_disabled"
    assert ProductUnit.objects.count() == 0
