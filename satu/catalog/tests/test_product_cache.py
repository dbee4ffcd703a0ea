"""`catalog.queries.products_by_id` reads a product once per transaction:
later calls in the same transaction (other domains of the same step) take
it from `satu.core.txcache`; product and conversion writes forget it; a
new transaction reads again."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from satu.catalog import queries, services
from satu.catalog.models import Product
from satu.catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _read(ids):
    with CaptureQueriesContext(connection) as ctx:
        found = queries.products_by_id(ids)
    return found, len(ctx.captured_queries)


def test_a_transaction_reads_a_product_once(admin_user):
    a, b = ProductFactory(), ProductFactory()
    with transaction.atomic():
        found, n = _read([a.pk])
        assert (list(found), n) == ([a.pk], 1)
        found, n = _read([a.pk, b.pk])  # only b is read
        assert (sorted(found), n) == (sorted([a.pk, b.pk]), 1)
        again, n = _read([b.pk, a.pk])
        assert n == 0 and again[a.pk] is found[a.pk]
        assert again[a.pk].base_unit.code == a.base_unit.code  # joined
        # A write through the catalog forgets what was read.
        services.product_update(actor=admin_user, product_id=a.pk, name="Renamed")
        found, n = _read([a.pk])
        assert (found[a.pk].name, n) == ("Renamed", 1)
        # Unknown ids are simply missing (and asked again next time).
        assert _read([a.pk, 999_999]) == ({a.pk: found[a.pk]}, 1)


def test_remembered_products_are_not_read_again():
    product = Product.objects.select_related("base_unit").get(pk=ProductFactory().pk)
    with transaction.atomic():
        queries.remember_products([product])
        found, n = _read([product.pk])
        assert n == 0 and found[product.pk] is product


def test_units_come_with_the_cached_product_once(admin_user, box):
    product = ProductFactory()
    services.product_unit_set(
        actor=admin_user, product_id=product.pk, unit="box", factor=12
    )
    with transaction.atomic():
        with CaptureQueriesContext(connection) as first:
            units = queries.products_with_units([product.pk])[product.pk].units.all()
        with CaptureQueriesContext(connection) as second:
            queries.products_with_units([product.pk])
        assert [u.unit.code for u in units] == ["box"]
        assert (len(first), len(second)) == (2, 0)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_every_call_reads():
    product = ProductFactory()
    assert _read([product.pk])[1] == 1
    assert _read([product.pk])[1] == 1
