"""Concurrent claim creation never duplicates or skips a number (PostgreSQL)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from satu.crm import services
from satu.crm.models import Claim
from satu.crm.tests.factories import ClaimCategoryFactory
from satu.parties.tests.factories import ClientFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL"
    ),
]


def test_concurrent_creations_get_distinct_gapless_numbers(manager):
    client = ClientFactory(owner=manager)
    category = ClaimCategoryFactory()
    start = threading.Barrier(4)
    errors = []

    def work():
        try:
            start.wait()
            services.claim_create(
                actor=manager,
                client_id=client.pk,
                category_id=category.pk,
                description="Same moment",
                deadline=timezone.localdate() + timedelta(days=1),
            )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    year = timezone.localdate().year
    assert errors == []
    assert sorted(Claim.objects.values_list("number", flat=True)) == [
        f"CLM-{year}-000{i}" for i in range(1, 5)
    ]
