"""Assortment rules: which products are offered where and to whom."""

import pytest
from django.urls import reverse

from satu.catalog.tests.factories import CategoryFactory
from satu.core.errors import ValidationFailed
from satu.parties.tests.factories import ClientGroupFactory
from satu.sales import services
from satu.sales.models import AssortmentRule

pytestmark = pytest.mark.django_db


def test_no_rules_means_no_warning(world):
    assert (
        services.assortment_check(
            client=world["client"],
            warehouse_id=world["wh"].pk,
            products=world["products"],
        )
        == {}
    )


def test_rules_by_product_category_warehouse_and_group(head_of_sales, world):
    p1, p2 = world["products"]
    parent = CategoryFactory(name="Drinks")
    child = CategoryFactory(name="Tea", parent=parent)
    p2.category = child
    p2.save()
    group = ClientGroupFactory(name="Wholesale")
    services.assortment_rule_create(
        actor=head_of_sales, product_id=p1.pk, warehouse_id=world["wh"].pk
    )
    services.assortment_rule_create(
        actor=head_of_sales, category_id=parent.pk, client_group_id=group.pk
    )
    check = services.assortment_check(
        client=world["client"], warehouse_id=world["wh"].pk, products=[p1, p2]
    )
    assert list(check) == [p2.pk]
    world["client"].groups.add(group)
    assert (
        services.assortment_check(
            client=world["client"], warehouse_id=world["wh"].pk, products=[p1, p2]
        )
        == {}
    )
    assert services.assortment_check(
        client=world["client"], warehouse_id=None, products=[p1, p2]
    ) == {p1.pk: check[p2.pk].replace("P002", "P001")}


def test_rule_needs_exactly_one_target(head_of_sales, world):
    with pytest.raises(ValidationFailed):
        services.assortment_rule_create(actor=head_of_sales)
    assert AssortmentRule.objects.count() == 0


def test_screen_and_api(client, api_client, head_of_sales, world):
    client.force_login(head_of_sales)
    url = reverse("assortment_list")
    response = client.post(url, {"product": world["products"][0].pk})
    assert response.status_code == 302
    response = client.post(url, {})
    assert response.status_code == 422
    assert "Choose either a product or a category." in response.content.decode()
    rule = AssortmentRule.objects.get()
    assert b"P001" in client.get(url).content
    api = api_client.as_user(head_of_sales)
    assert api.get("/api/v1/assortment").json()["count"] == 1
    assert api.delete(f"/api/v1/assortment/{rule.pk}").status_code == 204
    rule.refresh_from_db()
    assert rule.is_active is False


def test_client_card_shows_open_orders(client, manager, world):
    from satu.sales.tests.factories import make_order

    order = make_order(manager, world)
    client.force_login(manager)
    response = client.get(reverse("client_detail", args=[world["client"].pk]))
    assert response.status_code == 200
    assert order.number in response.content.decode()
