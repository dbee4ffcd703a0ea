"""Catalog screens: product list, card with price check, forms, price lists."""

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from satu.catalog.models import PriceListItem, Product
from satu.catalog.tests.factories import (
    CategoryFactory,
    PriceListFactory,
    PriceListItemFactory,
    ProductFactory,
    ProductUnitFactory,
)
from satu.core import features
from satu.parties.tests.factories import ClientFactory, ClientGroupFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client, head_of_sales):
    client.force_login(head_of_sales)
    return client


def test_product_list_filters_and_query_count(web, pcs, django_assert_num_queries):
    food = CategoryFactory(name="Food")
    ProductFactory(sku="TEH-1", name="Teh Botol", base_unit=pcs, category=food)
    ProductFactory(sku="SAB-1", name="Sabun", base_unit=pcs)
    web.get("/products/")

    with django_assert_num_queries(11) as few:
        response = web.get("/products/", {"category": food.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Teh Botol" in html and "Sabun" not in html
    for _ in range(5):
        ProductFactory(base_unit=pcs, category=food)
    with django_assert_num_queries(len(few.captured_queries)):
        web.get("/products/", {"category": food.pk})

    found = web.get(
        "/products/",
        {"q": "sab"},
        headers={"HX-Request": "true", "HX-Target": "product-results"},
    )
    assert found.status_code == 200
    assert "Sabun" in found.content.decode()
    assert "<html" not in found.content.decode()


def test_sales_manager_sees_list_but_no_new_button(client, manager, pcs):
    client.force_login(manager)
    ProductFactory(base_unit=pcs)

    response = client.get("/products/")

    assert response.status_code == 200
    assert "/products/new/" not in response.content.decode()
    assert client.get("/products/new/").status_code == 403


def test_export_csv_and_xlsx(web, pcs):
    ProductFactory(sku="TEH-1", name="Teh Botol", base_unit=pcs)

    csv = web.get("/products/export.csv")
    xlsx = web.get("/products/export.xlsx")

    text = b"".join(csv.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[1].startswith(
        f"{Product.objects.get().pk},TEH-1,Teh Botol,Goods,pcs"
    )
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert [c.value for c in sheet[2]][1:3] == ["TEH-1", "Teh Botol"]


def test_create_product_through_form(web, pcs):
    response = web.post(
        "/products/new/",
        {
            "sku": "KOPI-1",
            "name": "Kopi Bubuk 200 g",
            "kind": "goods",
            "base_unit": "pcs",
            "tracking": "lot",
            "barcode": "",
        },
    )

    product = Product.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/products/{product.pk}/"
    assert (product.sku, product.tracking) == ("KOPI-1", "lot")


def test_form_shows_service_errors_and_writes_nothing(web, pcs):
    response = web.post(
        "/products/new/",
        {
            "sku": "KOPI-1",
            "name": "Kopi",
            "kind": "service",
            "base_unit": "pcs",
            "tracking": "lot",
            "barcode": "12345678",
        },
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "Not a valid EAN/GTIN barcode" in html
    assert "Only goods can be tracked" in html
    assert Product.objects.count() == 0


def test_edit_with_stale_version_is_refused(web, pcs):
    product = ProductFactory(name="Old", base_unit=pcs, version=2)

    response = web.post(
        f"/products/{product.pk}/edit/",
        {
            "sku": product.sku,
            "name": "New",
            "kind": "goods",
            "base_unit": "pcs",
            "tracking": "none",
            "version": 1,
        },
    )

    assert response.status_code == 409
    product.refresh_from_db()
    assert product.name == "Old"


def test_card_shows_units_prices_and_price_check(web, pcs, box):
    product = ProductFactory(sku="TEH-500", name="Teh", base_unit=pcs)
    ProductUnitFactory(product=product, unit=box, factor=Decimal("24"))
    group = ClientGroupFactory(name="Wholesale")
    wholesale = PriceListFactory(
        name="Wholesale 2026", client_group=group, discount_percent=5, priority=5
    )
    PriceListItemFactory(price_list=wholesale, product=product, price=4500)
    PriceListItemFactory(
        price_list=wholesale, product=product, min_quantity=100, price=4200
    )
    buyer = ClientFactory(name="Toko Maju")
    buyer.groups.add(group)

    card = web.get(f"/products/{product.pk}/")
    check = web.get(
        f"/products/{product.pk}/",
        {
            "check": "1",
            "client": buyer.pk,
            "quantity": "150",
            "unit": "pcs",
            "currency": "IDR",
            "on_date": "2026-06-01",
        },
        headers={"HX-Request": "true", "HX-Target": "price-check"},
    )
    bad = web.get(
        f"/products/{product.pk}/",
        {"check": "1", "quantity": "0", "unit": "pcs", "currency": "IDR"},
    )

    html = card.content.decode()
    assert "1 box = 24 pcs" in html
    assert "Wholesale 2026" in html and "100+ pcs" in html
    assert check.status_code == 200
    fragment = check.content.decode()
    assert "Price list Wholesale 2026, break 100+, discount 5 %" in fragment
    assert "3,990" in fragment
    assert "<html" not in fragment
    assert bad.status_code == 422
    assert "The quantity must be greater than zero." in bad.content.decode()


def test_switched_off_catalog_is_404(web, admin_user):
    features.feature_set(code="catalog", enabled=False, actor=admin_user)

    assert web.get("/products/").status_code == 404
    assert web.get("/price-lists/").status_code == 404


def test_price_list_screens_and_item_add(web, pcs):
    price_list = PriceListFactory(
        name="Retail", currency="IDR", valid_from=date(2026, 1, 1)
    )
    product = ProductFactory(sku="TEH", base_unit=pcs)

    listing = web.get("/price-lists/")
    added = web.post(
        f"/price-lists/{price_list.pk}/",
        {"product": product.pk, "min_quantity": "10", "price": "5000"},
    )
    refused = web.post(
        f"/price-lists/{price_list.pk}/",
        {"product": product.pk, "min_quantity": "1", "price": "5000.5"},
    )
    detail = web.get(f"/price-lists/{price_list.pk}/")

    assert "Retail" in listing.content.decode()
    assert added.status_code == 302
    assert refused.status_code == 422
    assert "IDR prices have at most 0 decimals." in refused.content.decode()
    assert list(PriceListItem.objects.values_list("min_quantity", "price")) == [
        (Decimal("10"), Decimal("5000"))
    ]
    assert "10+ pcs" in detail.content.decode()


def test_price_list_create_form(web):
    response = web.post(
        "/price-lists/new/",
        {
            "name": "Distributor",
            "currency": "IDR",
            "priority": "3",
            "discount_percent": "2",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    refused = web.post(
        "/price-lists/new/",
        {"name": "X", "currency": "ZZZ", "priority": "0", "discount_percent": "0"},
    )
    assert refused.status_code == 422
    assert "Unknown currency code." in refused.content.decode()


def test_kit_card_component_conversion_and_archive_forms(web, pcs, box):
    kit = ProductFactory(sku="HAMPER", kind="kit", base_unit=pcs)
    soap = ProductFactory(sku="SOAP", name="Soap", base_unit=pcs)

    card = web.get(f"/products/{kit.pk}/")
    added = web.post(
        f"/products/{kit.pk}/components/", {"component": soap.pk, "quantity": "2"}
    )
    converted = web.post(f"/products/{soap.pk}/units/", {"unit": "box", "factor": "12"})
    refused = web.post(f"/products/{soap.pk}/units/", {"unit": "pcs", "factor": "2"})
    archived = web.post(f"/products/{soap.pk}/archive/", {"archived": "1"})

    assert card.status_code == 200
    assert "Kit components" in card.content.decode()
    assert added.status_code == converted.status_code == 302
    assert list(kit.components.values_list("component__sku", "quantity")) == [
        ("SOAP", Decimal("2"))
    ]
    followed = web.get(refused["Location"]).content.decode()
    assert "This is the product&#x27;s base unit." in followed
    assert "1 box = 12 pcs" in followed
    assert archived.status_code == 302
    soap.refresh_from_db()
    assert soap.is_active is False
