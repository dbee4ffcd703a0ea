"""Retries, feature toggle, events."""

from decimal import Decimal

import pytest
from django.db import OperationalError

from satu.core.errors import FeatureDisabled
from satu.core.models import FeatureToggle
from satu.inventory import services
from satu.inventory.events import StockMovePosted, TransferDone
from satu.inventory.models import StockMove
from satu.inventory.tests.factories import receive

pytestmark = pytest.mark.django_db


class Serialization(Exception):
    sqlstate = "40001"


def _failing(times):
    calls = {"n": 0}

    def fn():
        calls["n"] += 1
        if calls["n"] <= times:
            try:
                raise Serialization()
            except Serialization as cause:
                raise OperationalError("could not serialize access") from cause
        return calls["n"]

    return fn


def test_retry_on_serialisation_failure(monkeypatch):
    monkeypatch.setattr(services.time, "sleep", lambda s: None)
    monkeypatch.setattr(services, "_in_transaction", lambda: False)
    assert services._atomic_retry(_failing(3))() == 4
    with pytest.raises(OperationalError):
        services._atomic_retry(_failing(10))()


def test_other_operational_errors_are_not_retried(monkeypatch):
    monkeypatch.setattr(services, "_in_transaction", lambda: False)
    calls = []

    def boom():
        calls.append(1)
        raise OperationalError("disk full")

    with pytest.raises(OperationalError):
        services._atomic_retry(boom)()
    assert calls == [1]


def test_switched_off_module_refuses_work(keeper, wh, product):
    FeatureToggle.objects.create(code="inventory", enabled=False)
    with pytest.raises(FeatureDisabled):
        receive(keeper, wh, product, 1)
    with pytest.raises(FeatureDisabled):
        services.transfer_create(
            actor=keeper,
            kind="receipt",
            warehouse_id=wh.pk,
            lines=[{"product_id": product.pk, "quantity": 1}],
        )
    assert StockMove.objects.count() == 0


def test_events_carry_values(
    keeper, wh, product, captured_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        receive(keeper, wh, product, 4, unit_cost="2.5")
        t = services.transfer_create(
            actor=keeper,
            kind="delivery",
            warehouse_id=wh.pk,
            origin_type="sales.order",
            origin_id=5,
            lines=[{"product_id": product.pk, "quantity": 3, "origin_line_id": 50}],
        )
        services.transfer_done(actor=keeper, transfer_id=t.pk)
    posted = [e for e in captured_events if isinstance(e, StockMovePosted)]
    assert [e.value for e in posted] == [Decimal("10.0000"), Decimal("7.5000")]
    done = [e for e in captured_events if isinstance(e, TransferDone)]
    assert done == [
        TransferDone(
            transfer_id=t.pk,
            kind="delivery",
            origin_type="sales.order",
            origin_id=5,
            lines=((50, product.pk, Decimal("3.000000"), Decimal("7.5000")),),
            warehouse_id=wh.pk,
            leg="",
        )
    ]
