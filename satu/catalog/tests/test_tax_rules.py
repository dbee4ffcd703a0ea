"""Tax rules as data: services, the settings screen and the API; the
product's costing method and cost price on the form and in the API."""

from decimal import Decimal

import pytest
from django.urls import reverse

from satu.catalog import services
from satu.catalog.models import Product, TaxRule
from satu.catalog.tests.factories import CategoryFactory, ProductFactory
from satu.core.errors import PermissionDenied, ValidationFailed
from satu.core.testing.helpers import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db):
    return make_user("taxadmin", role="administrator")


def test_create_update_archive(admin):
    rule = services.tax_rule_create(actor=admin, name="PPN", rate="11")
    assert (rule.rate, rule.applies_to, rule.is_active) == (Decimal("11"), "both", True)
    services.tax_rule_update(
        actor=admin, tax_rule_id=rule.pk, rate="12", inclusive=True
    )
    rule.refresh_from_db()
    assert (rule.rate, rule.inclusive) == (Decimal("12"), True)
    services.tax_rule_archive(actor=admin, tax_rule_id=rule.pk)
    rule.refresh_from_db()
    assert rule.is_active is False


@pytest.mark.parametrize(
    "fields, key",
    [
        ({"name": "", "rate": "10"}, "name"),
        ({"name": "X", "rate": "100"}, "rate"),
        ({"name": "X", "rate": "-1"}, "rate"),
        ({"name": "X", "rate": "1.12345"}, "rate"),
        ({"name": "X", "rate": "5", "applies_to": "nobody"}, "applies_to"),
        (
            {"name": "X", "rate": "5", "tax_category": "food", "category_id": -1},
            "category_id",
        ),
    ],
)
def test_bad_rules_refused(admin, fields, key):
    with pytest.raises(ValidationFailed) as exc:
        services.tax_rule_create(actor=admin, **fields)
    assert key in exc.value.fields
    assert TaxRule.objects.count() == 0


def test_one_target_only(admin):
    category = CategoryFactory()
    with pytest.raises(ValidationFailed) as exc:
        services.tax_rule_create(
            actor=admin, name="X", rate=5, tax_category="food", category_id=category.pk
        )
    assert "tax_category" in exc.value.fields


def test_manager_may_not_create(manager):
    with pytest.raises(PermissionDenied):
        services.tax_rule_create(actor=manager, name="X", rate=5)


def test_settings_screen(client, admin, django_assert_max_num_queries):
    client.force_login(admin)
    url = reverse("tax_rule_list")
    response = client.post(url, {"name": "VAT", "rate": "10", "applies_to": "sales"})
    assert response.status_code == 302
    response = client.post(url, {"name": "Bad", "rate": "150", "applies_to": "sales"})
    assert response.status_code == 422
    assert TaxRule.objects.count() == 1
    for i in range(3):
        TaxRule.objects.create(name=f"T{i}", rate=1)
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert b"VAT" in response.content and b"T2" in response.content
    rule = TaxRule.objects.get(name="VAT")
    client.post(reverse("tax_rule_archive", args=[rule.pk]))
    rule.refresh_from_db()
    assert not rule.is_active


def test_api(api_client, admin, manager, django_assert_num_queries):
    api = api_client.as_user(admin)
    response = api.post(
        "/api/v1/tax-rules",
        {"name": "PPN", "rate": "11", "inclusive": True},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    rule = response.json()
    assert (rule["rate"], rule["inclusive"]) == ("11", True)
    response = api.patch(
        f"/api/v1/tax-rules/{rule['id']}",
        {"rate": "101"},
        content_type="application/json",
    )
    assert response.status_code == 422 and "rate" in response.json()["fields"]
    api.get("/api/v1/tax-rules")
    TaxRule.objects.create(name="Other", rate=5)
    response = api.get("/api/v1/tax-rules")
    assert response.json()["count"] == 2
    response = api_client.as_user(manager).post(
        "/api/v1/tax-rules", {"name": "X", "rate": "1"}, content_type="application/json"
    )
    assert response.status_code == 403


def test_costing_on_product_api_and_form(api_client, admin, client):
    api = api_client.as_user(admin)
    from satu.catalog.tests.factories import UnitFactory

    UnitFactory(code="pcs", name="Pieces")
    response = api.post(
        "/api/v1/products",
        {
            "sku": "C-1",
            "name": "Costed",
            "base_unit": "pcs",
            "costing_method": "fifo",
            "cost_price": "12.3456",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["costing_method"], body["cost_price"]) == ("fifo", "12.3456")
    response = api.patch(
        f"/api/v1/products/{body['id']}",
        {"cost_price": "1.23456"},
        content_type="application/json",
    )
    assert response.status_code == 422 and "cost_price" in response.json()["fields"]
    product = ProductFactory(sku="F-1")
    client.force_login(admin)
    response = client.post(
        reverse("product_edit", args=[product.pk]),
        {
            "sku": "F-1",
            "name": "Form product",
            "kind": "goods",
            "base_unit": product.base_unit.code,
            "tracking": "none",
            "costing_method": "fifo",
            "cost_price": "7.5",
            "version": product.version,
        },
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.costing_method, product.cost_price) == (
        Product.CostingMethod.FIFO,
        Decimal("7.5"),
    )
    assert (
        "FIFO"
        in client.get(reverse("product_detail", args=[product.pk])).content.decode()
    )
