"""Real threads, each with its own PostgreSQL connection, racing for the
last units: exactly what is available ships, the rest is refused with
InsufficientStock, no deadlock or serialisation error reaches the caller."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from satu.inventory import queries, services
from satu.inventory.books import check_inventory
from satu.inventory.errors import InsufficientStock
from satu.inventory.models import Reservation, StockLevel, StockMove
from satu.inventory.tests.factories import make_product, make_warehouse, receive

THREADS = 20

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL"
    ),
]


def race(work):
    """Run work(i) in THREADS threads started together; outcomes by kind."""
    barrier = threading.Barrier(THREADS)
    outcomes: list = [None] * THREADS

    def run(i):
        try:
            barrier.wait()
            work(i)
            outcomes[i] = "ok"
        except InsufficientStock:
            outcomes[i] = "short"
        except Exception as exc:  # noqa: BLE001 - the test reports what leaked
            outcomes[i] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


@pytest.fixture
def keeper(db):
    from satu.core.testing.helpers import make_user

    return make_user("keeper", role="warehouse")


def test_deliveries_race_for_the_last_units(keeper):
    wh = make_warehouse(keeper, "GDG")
    product = make_product()
    receive(keeper, wh, product, 7)
    transfers = [
        services.transfer_create(
            actor=keeper,
            kind="delivery",
            warehouse_id=wh.pk,
            lines=[{"product_id": product.pk, "quantity": 1}],
        )
        for _ in range(THREADS // 2)
    ]
    customer = queries.virtual_location("customer").pk

    def work(i):
        if i % 2 == 0:
            services.transfer_done(actor=keeper, transfer_id=transfers[i // 2].pk)
        else:
            services.stock_move_post(
                actor=keeper,
                product_id=product.pk,
                quantity=1,
                source_id=wh.stock_location_id,
                destination_id=customer,
            )

    outcomes = race(work)
    assert sorted(set(outcomes)) == ["ok", "short"], outcomes
    assert outcomes.count("ok") == 7
    assert outcomes.count("short") == THREADS - 7
    level = StockLevel.objects.get(product=product, warehouse=wh)
    assert level.on_hand == 0
    assert StockMove.objects.filter(destination_id=customer).count() == 7
    assert check_inventory() == []


def test_first_receipts_of_a_new_product_race_to_create_balances(keeper):
    wh = make_warehouse(keeper, "GDG")
    product = make_product()
    outcomes = race(lambda i: receive(keeper, wh, product, 1))
    assert outcomes == ["ok"] * THREADS
    assert StockLevel.objects.get(product=product).on_hand == THREADS
    assert check_inventory() == []


def test_reservations_race_for_the_last_units(keeper):
    wh = make_warehouse(keeper, "GDG")
    product, other = make_product(), make_product()
    receive(keeper, wh, product, 5)
    receive(keeper, wh, other, 100)

    def work(i):
        # Lines in both orders: pk-ordered locks keep this deadlock-free.
        lines = [
            {"product_id": product.pk, "warehouse_id": wh.pk, "quantity": 1},
            {"product_id": other.pk, "warehouse_id": wh.pk, "quantity": 2},
        ]
        services.reservation_create(
            actor=keeper,
            origin_type="sales.order",
            origin_id=i,
            lines=lines if i % 2 else lines[::-1],
        )

    outcomes = race(work)
    assert outcomes.count("ok") == 5, outcomes
    assert outcomes.count("short") == THREADS - 5
    assert StockLevel.objects.get(product=product).reserved == 5
    assert StockLevel.objects.get(product=other).reserved == 10
    assert Reservation.objects.filter(state="active").count() == 10
    assert sum(
        r.quantity for r in Reservation.objects.filter(product=product)
    ) == Decimal(5)
    assert check_inventory() == []


def test_plain_moves_race_both_ways_between_warehouses(keeper):
    """Moves wh → wh2 and wh2 → wh lock both levels: in pk order, whichever
    way they go (one statement each, `inventory_move_post`), so none
    deadlocks; issues race for the last units of wh."""
    wh, wh2 = make_warehouse(keeper, "GDG"), make_warehouse(keeper, "OUT")
    product = make_product()
    receive(keeper, wh, product, 10)
    receive(keeper, wh2, product, 100)
    customer = queries.virtual_location("customer").pk

    def work(i):
        routes = [
            (wh.stock_location_id, customer),
            (wh.stock_location_id, wh2.stock_location_id),
            (wh2.stock_location_id, wh.stock_location_id),
            (wh.stock_location_id, customer),
        ]
        source, destination = routes[i % 4]
        services.stock_move_post(
            actor=keeper,
            product_id=product.pk,
            quantity=2,
            source_id=source,
            destination_id=destination,
        )

    outcomes = race(work)
    assert set(outcomes) <= {"ok", "short"}, outcomes
    on_hand = {
        level.warehouse_id: level.on_hand
        for level in StockLevel.objects.filter(product=product)
    }
    assert on_hand[wh.pk] >= 0
    assert on_hand[wh.pk] + on_hand[wh2.pk] == 110 - 2 * (
        StockMove.objects.filter(product=product, destination_id=customer).count()
    )
    assert check_inventory() == []
