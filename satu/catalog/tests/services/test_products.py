"""Products: create, update with version check, archive, conversions, kits."""

from decimal import Decimal

import pytest

from satu.catalog import services
from satu.catalog.events import ProductCreated
from satu.catalog.models import KitComponent, Product, ProductUnit
from satu.catalog.tests.factories import CategoryFactory, ProductFactory
from satu.core import audit, custom_fields, features
from satu.core.errors import (
    FeatureDisabled,
    PermissionDenied,
    ValidationFailed,
    VersionConflict,
)
from satu.core.models import AuditEntry

pytestmark = pytest.mark.django_db
EAN = "4006381333931"  # a valid EAN-13


def test_create_product_with_conversion_barcode_and_custom_field(
    head_of_sales,
    pcs,
    box,
    captured_events,
    admin_user,
    django_capture_on_commit_callbacks,
):
    category = CategoryFactory(name="Beverages")
    custom_fields.custom_field_create(
        actor=admin_user,
        object_type="catalog.product",
        code="brand",
        label="Brand",
        field_type="text",
    )

    with django_capture_on_commit_callbacks(execute=True):
        product = services.product_create(
            actor=head_of_sales,
            sku=" TEH-500 ",
            name="Teh Botol 500 ml",
            base_unit="PCS",
            category_id=category.pk,
            barcode="4006-381-333931",
            units=[{"unit": "box", "factor": "24"}],
            custom={"brand": "Sosro"},
        )

    product.refresh_from_db()
    assert (product.sku, product.base_unit.code, product.barcode) == (
        "TEH-500",
        "pcs",
        EAN,
    )
    assert (product.kind, product.tracking, product.version) == ("goods", "none", 1)
    assert product.custom == {"brand": "Sosro"}
    assert list(product.units.values_list("unit__code", "factor")) == [
        ("box", Decimal("24.000000"))
    ]
    assert list(audit.entries_for(product).values_list("action", flat=True)) == [
        "created"
    ]
    assert captured_events == [ProductCreated(product_id=product.pk)]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sku": "  "}, "sku"),
        ({"sku": "sku-00001"}, "sku"),  # taken, case-insensitive
        ({"barcode": "4006381333932"}, "barcode"),  # bad check digit
        ({"base_unit": "crate"}, "base_unit"),
        ({"kind": "service", "tracking": "lot"}, "tracking"),
        ({"kind": "bundle"}, "kind"),
        ({"category_id": 999999}, "category_id"),
        ({"units": [{"unit": "box", "factor": "0"}]}, "units.0.factor"),
        ({"units": [{"unit": "pcs", "factor": "2"}]}, "units.0.unit"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(
    head_of_sales, pcs, box, changes, field
):
    ProductFactory(sku="SKU-00001", base_unit=pcs)
    args = {"sku": "NEW-1", "name": "New", "base_unit": "pcs", **changes}

    with pytest.raises(ValidationFailed) as info:
        services.product_create(actor=head_of_sales, **args)

    assert field in info.value.fields
    assert info.value.http_status == 422
    assert Product.objects.count() == 1
    assert ProductUnit.objects.count() == 0
    assert not AuditEntry.objects.filter(action="created").exists()  # noqa: RUF100


def test_create_needs_permission_and_feature(manager, head_of_sales, admin_user, pcs):
    with pytest.raises(PermissionDenied):
        services.product_create(actor=manager, sku="A", name="A", base_unit="pcs")
    features.feature_set(code="catalog", enabled=False, actor=admin_user)
    with pytest.raises(FeatureDisabled):
        services.product_create(actor=head_of_sales, sku="A", name="A", base_unit="pcs")
    assert Product.objects.count() == 0


def test_update_with_version_check(head_of_sales, pcs):
    product = ProductFactory(sku="A-1", name="Old", base_unit=pcs)

    services.product_update(
        actor=head_of_sales, product_id=product.pk, version=1, name="New name"
    )
    with pytest.raises(VersionConflict):
        services.product_update(
            actor=head_of_sales, product_id=product.pk, version=1, name="Lost"
        )

    product.refresh_from_db()
    assert (product.name, product.version) == ("New name", 2)
    entry = AuditEntry.objects.get(action="updated", object_id=product.pk)
    assert entry.changes == {"name": ["Old", "New name"]}


def test_base_unit_fixed_once_conversions_exist(head_of_sales, pcs, box, kg):
    product = ProductFactory(base_unit=pcs)
    ProductUnit.objects.create(product=product, unit=box, factor=12)

    with pytest.raises(ValidationFailed) as info:
        services.product_update(
            actor=head_of_sales, product_id=product.pk, base_unit="kg"
        )

    assert "base_unit" in info.value.fields
    product.refresh_from_db()
    assert (product.base_unit_id, product.version) == (pcs.pk, 1)


def test_archive_and_restore(head_of_sales, pcs):
    product = ProductFactory(base_unit=pcs)

    services.product_archive(actor=head_of_sales, product_id=product.pk)
    product.refresh_from_db()
    assert product.is_active is False
    services.product_archive(actor=head_of_sales, product_id=product.pk, archived=False)
    product.refresh_from_db()
    assert (product.is_active, product.version) == (True, 3)


def test_kit_components_replace_and_refuse_nested_kits(head_of_sales, pcs):
    kit = ProductFactory(kind="kit", base_unit=pcs, sku="KIT")
    soap, towel = ProductFactory(base_unit=pcs), ProductFactory(base_unit=pcs)
    other_kit = ProductFactory(kind="kit", base_unit=pcs)

    services.kit_components_set(
        actor=head_of_sales,
        product_id=kit.pk,
        components=[
            {"product_id": soap.pk, "quantity": "2"},
            {"product_id": towel.pk, "quantity": "1"},
        ],
    )
    with pytest.raises(ValidationFailed) as info:
        services.kit_components_set(
            actor=head_of_sales,
            product_id=kit.pk,
            components=[{"product_id": other_kit.pk, "quantity": "1"}],
        )

    assert "components.0.product_id" in info.value.fields
    assert sorted(
        KitComponent.objects.filter(kit=kit).values_list("component_id", "quantity")
    ) == [(soap.pk, Decimal("2")), (towel.pk, Decimal("1"))]


def test_components_only_on_kits(head_of_sales, pcs):
    product, part = ProductFactory(base_unit=pcs), ProductFactory(base_unit=pcs)
    with pytest.raises(ValidationFailed) as info:
        services.kit_components_set(
            actor=head_of_sales,
            product_id=product.pk,
            components=[{"product_id": part.pk, "quantity": "1"}],
        )
    assert "components" in info.value.fields
    assert KitComponent.objects.count() == 0


def test_product_unit_set_and_refusals(head_of_sales, pcs, box):
    product = ProductFactory(base_unit=pcs)

    row = services.product_unit_set(
        actor=head_of_sales, product_id=product.pk, unit="box", factor="12"
    )
    assert row.factor == Decimal("12")
    for unit, factor, field in [("pcs", "2", "unit"), ("box", "-1", "factor")]:
        with pytest.raises(ValidationFailed) as info:
            services.product_unit_set(
                actor=head_of_sales, product_id=product.pk, unit=unit, factor=factor
            )
        assert field in info.value.fields
    assert list(ProductUnit.objects.values_list("factor", flat=True)) == [Decimal("12")]
