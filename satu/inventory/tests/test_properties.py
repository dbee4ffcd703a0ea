"""Property tests: random sequences of receipts, issues, internal transfers,
reservations and releases keep the ledger and every balance in agreement,
and stock never goes negative where the warehouse forbids it."""

from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from satu.inventory import services
from satu.inventory.books import check_inventory
from satu.inventory.errors import InsufficientStock
from satu.inventory.models import StockLevel
from satu.inventory.tests.factories import issue, make_product, make_warehouse, receive

pytestmark = pytest.mark.django_db

op = st.one_of(
    st.tuples(
        st.just("receive"), st.integers(0, 1), st.integers(0, 2), st.integers(1, 9)
    ),
    st.tuples(
        st.just("issue"), st.integers(0, 1), st.integers(0, 2), st.integers(1, 9)
    ),
    st.tuples(st.just("move"), st.integers(0, 1), st.integers(0, 2), st.integers(1, 9)),
    st.tuples(
        st.just("reserve"), st.integers(0, 1), st.integers(0, 2), st.integers(1, 9)
    ),
    st.tuples(
        st.just("release"), st.integers(0, 1), st.integers(0, 2), st.integers(0, 9)
    ),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(op, min_size=1, max_size=25))
def test_ledger_and_balances_always_agree(keeper, ops):
    with transaction.atomic():
        run(keeper, ops)
        transaction.set_rollback(True)


def run(keeper, ops):
    # Warehouse 2 allows negative stock; 0 and 1 forbid it.
    whs = [
        make_warehouse(keeper, "A"),
        make_warehouse(keeper, "B"),
        make_warehouse(keeper, "NEG", allow_negative=True),
    ]
    products = [make_product(), make_product(costing_method="fifo")]
    on_hand = defaultdict(Decimal)
    reserved = defaultdict(Decimal)
    reservations = []
    for n, (kind, pi, wi, qty) in enumerate(ops):
        p, wh = products[pi], whs[wi]
        key = (pi, wi)
        if kind == "receive":
            receive(keeper, wh, p, qty, unit_cost=str(qty))
            on_hand[key] += qty
        elif kind == "issue":
            allowed = wh.allow_negative or on_hand[key] >= qty
            try:
                issue(keeper, wh, p, qty)
                assert allowed
                on_hand[key] -= qty
            except InsufficientStock:
                assert not allowed
        elif kind == "move":
            target = (wi + 1) % 3
            allowed = wh.allow_negative or on_hand[key] >= qty
            try:
                t = services.transfer_create(
                    actor=keeper,
                    kind="internal",
                    warehouse_id=wh.pk,
                    destination_warehouse_id=whs[target].pk,
                    lines=[{"product_id": p.pk, "quantity": qty}],
                )
                services.transfer_done(actor=keeper, transfer_id=t.pk)
                services.transfer_done(actor=keeper, transfer_id=t.pk)
                assert allowed
                on_hand[key] -= qty
                on_hand[(pi, target)] += qty
            except InsufficientStock:
                assert not allowed
        elif kind == "reserve":
            allowed = wh.allow_negative or on_hand[key] - reserved[key] >= qty
            try:
                services.reservation_create(
                    actor=keeper,
                    origin_type="test.doc",
                    origin_id=n,
                    lines=[
                        {"product_id": p.pk, "warehouse_id": wh.pk, "quantity": qty}
                    ],
                )
                assert allowed
                reserved[key] += qty
                reservations.append((n, key, qty))
            except InsufficientStock:
                assert not allowed
        elif kind == "release" and reservations:
            origin, rkey, rqty = reservations.pop(qty % len(reservations))
            released = services.reservation_release(
                actor=keeper, origin_type="test.doc", origin_id=origin
            )
            assert released == 1
            reserved[rkey] -= rqty
        for (i, j), want in on_hand.items():
            level = StockLevel.objects.filter(
                product=products[i], warehouse=whs[j]
            ).first()
            assert (level.on_hand if level else 0) == want
            assert (level.reserved if level else 0) == reserved[(i, j)]
            if not whs[j].allow_negative:
                assert want >= 0
    assert check_inventory() == []
