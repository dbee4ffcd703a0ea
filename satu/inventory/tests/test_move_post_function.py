"""ADR 015: on PostgreSQL a plain stock move is posted by the database
function `inventory_move_post` (one statement); anything it does not handle
goes through the general path (`_post`). The two must agree to the last
decimal: the same moves are posted through both and compared."""

import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from satu.core.errors import FeatureDisabled
from satu.core.features import feature_set
from satu.inventory import queries, services
from satu.inventory.errors import InsufficientStock
from satu.inventory.models import Quant, StockLevel, StockMove
from satu.inventory.tests.factories import make_product, make_warehouse, receive

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the function is PostgreSQL's"
    ),
]


@pytest.fixture
def paths(monkeypatch):
    """Records what the function did: 'posted' or 'declined' per call; with
    `paths.general_only = True` the function is not called at all."""
    real = services._move_post_in_one
    calls: list[str] = []

    def spy(*args, **kwargs):
        if spy.general_only:
            return None
        move = real(*args, **kwargs)
        calls.append("declined" if move is None else "posted")
        return move

    spy.general_only = False
    spy.calls = calls
    monkeypatch.setattr(services, "_move_post_in_one", spy)
    return spy


def _script(seed: int, n: int):
    """A reproducible mix of receipts at odd costs, issues, moves inside a
    warehouse, between warehouses and write-offs, in odd quantities."""
    rng = random.Random(seed)
    kinds = ["receipt", "receipt", "issue", "issue", "inside", "across", "back", "loss"]
    for _ in range(n):
        qty = Decimal(rng.randint(1, 40000)) / 1000
        cost = Decimal(rng.randint(1, 999999)) / 10000
        yield rng.choice(kinds), qty, cost


def _run(keeper, product, wh, wh2, shelf, script):
    supplier = queries.virtual_location("supplier").pk
    customer = queries.virtual_location("customer").pk
    loss = queries.virtual_location("loss").pk
    routes = {
        "receipt": (supplier, wh.stock_location_id),
        "issue": (wh.stock_location_id, customer),
        "inside": (wh.stock_location_id, shelf.pk),
        "across": (wh.stock_location_id, wh2.stock_location_id),
        "back": (wh2.stock_location_id, wh.stock_location_id),
        "loss": (shelf.pk, loss),
    }
    outcomes = []
    for kind, qty, cost in script:
        source, destination = routes[kind]
        try:
            move = services.stock_move_post(
                actor=keeper,
                product_id=product.pk,
                quantity=qty,
                source_id=source,
                destination_id=destination,
                unit_cost=cost if kind == "receipt" else None,
                reference=kind,
            )
        except InsufficientStock:
            outcomes.append((kind, "short"))
        else:
            stored = StockMove.objects.get(pk=move.pk)
            assert (stored.unit_cost, stored.value) == (move.unit_cost, move.value)
            outcomes.append((kind, move.quantity, move.unit_cost, move.value))
    quants = sorted(
        Quant.objects.filter(product=product).values_list("location_id", "quantity")
    )
    levels = sorted(
        StockLevel.objects.filter(product=product).values_list(
            "warehouse_id", "on_hand", "reserved", "value"
        )
    )
    return outcomes, quants, levels


def test_function_and_general_path_agree(keeper, wh, wh2, paths, books_clean):
    shelf = services.location_create(
        actor=keeper, warehouse_id=wh.pk, name="Shelf A", code="A"
    )
    script = list(_script(seed=15, n=160))
    fast, general = make_product(), make_product()
    for product in (fast, general):
        receive(keeper, wh, product, 1, unit_cost="3.3333")
        receive(keeper, wh2, product, 1)
        services.stock_move_post(
            actor=keeper,
            product_id=product.pk,
            quantity=Decimal("0.001"),
            source_id=wh.stock_location_id,
            destination_id=shelf.pk,
        )
    paths.calls.clear()
    by_function = _run(keeper, fast, wh, wh2, shelf, script)
    assert paths.calls.count("posted") > 100, paths.calls
    paths.general_only = True
    by_general = _run(keeper, general, wh, wh2, shelf, script)
    assert by_function == by_general
    outcomes = by_function[0]
    assert any(o[1] == "short" for o in outcomes)  # refusals covered too
    # Rounding was exercised: values that are not quantity × a 2-decimal cost.
    cent = Decimal("0.01")
    assert any(o[1] != "short" and o[3] != o[3].quantize(cent) for o in outcomes)
    books_clean()


def test_ties_round_half_even_on_both_paths(keeper, wh, paths):
    """Value 0.0001 over 2 units: one unit is worth 0.00005, a tie — half-even
    gives 0.0000 (PostgreSQL's round() would give 0.0001); 0.0003 over 2
    gives 0.0002 either way."""
    customer = queries.virtual_location("customer").pk
    results = []
    for general_only in (False, True):
        paths.general_only = general_only
        product = make_product(cost_price=0)
        receive(keeper, wh, product, 1, unit_cost="0.0001")
        receive(keeper, wh, product, 1, unit_cost="0")
        first = services.stock_move_post(
            actor=keeper,
            product_id=product.pk,
            quantity=1,
            source_id=wh.stock_location_id,
            destination_id=customer,
        )
        receive(keeper, wh, product, 1, unit_cost="0.0003")
        second = services.stock_move_post(
            actor=keeper,
            product_id=product.pk,
            quantity=1,
            source_id=wh.stock_location_id,
            destination_id=customer,
        )
        results.append([(m.value, m.unit_cost) for m in (first, second)])
    assert paths.calls.count("posted") == 4  # the first receipt is declined
    assert (
        results[0]
        == results[1]
        == [
            (Decimal("0.0000"), Decimal("0.0000")),
            (Decimal("0.0002"), Decimal("0.0002")),
        ]
    )


def test_plain_move_is_one_statement_in_its_transaction(keeper, wh, product):
    receive(keeper, wh, product, 5)
    customer = queries.virtual_location("customer")
    with CaptureQueriesContext(connection) as ctx:
        move = services.stock_move_post(
            actor=keeper,
            product_id=product.pk,
            quantity=2,
            source_id=wh.stock_location_id,
            destination_id=customer.pk,
        )
    # Inside the test's transaction: the service's savepoint around it.
    assert [q["sql"].split()[0] for q in ctx.captured_queries] == [
        "SAVEPOINT",
        "SELECT",
        "RELEASE",
    ]
    assert move.value == Decimal("20.0000")
    level = StockLevel.objects.get(product=product, warehouse=wh)
    assert (level.on_hand, level.value) == (3, Decimal("30.0000"))


@pytest.mark.django_db(transaction=True)
def test_plain_move_outside_a_transaction_is_one_round_trip(keeper, wh, product):
    receive(keeper, wh, product, 5)
    customer = queries.virtual_location("customer")
    with CaptureQueriesContext(connection) as ctx:
        services.stock_move_post(
            actor=keeper,
            product_id=product.pk,
            quantity=1,
            source_id=wh.stock_location_id,
            destination_id=customer.pk,
        )
    assert len(ctx.captured_queries) == 1, ctx.captured_queries
    assert StockLevel.objects.get(product=product, warehouse=wh).on_hand == 4


def test_what_the_function_declines_the_general_path_handles(
    keeper, wh, paths, books_clean
):
    customer = queries.virtual_location("customer").pk
    plain, fifo = make_product(), make_product(costing_method="fifo")
    # First receipt of a product: no balance rows yet.
    receive(keeper, wh, plain, 3)
    assert paths.calls == ["declined"]
    receive(keeper, wh, plain, 2, unit_cost="20")
    assert paths.calls[-1] == "posted"
    # FIFO valuation is the general path's.
    receive(keeper, wh, fifo, 2, unit_cost="1")
    receive(keeper, wh, fifo, 2, unit_cost="3")
    move = services.stock_move_post(
        actor=keeper,
        product_id=fifo.pk,
        quantity=3,
        source_id=wh.stock_location_id,
        destination_id=customer,
    )
    assert paths.calls[-1] == "declined"
    assert move.value == Decimal("5.0000")  # 2 × 1 + 1 × 3
    # Going negative: declined, then refused with nothing written.
    before = StockMove.objects.count()
    with pytest.raises(InsufficientStock):
        services.stock_move_post(
            actor=keeper,
            product_id=plain.pk,
            quantity=6,
            source_id=wh.stock_location_id,
            destination_id=customer,
        )
    assert paths.calls[-1] == "declined"
    assert StockMove.objects.count() == before
    level = StockLevel.objects.get(product=plain, warehouse=wh)
    assert (level.on_hand, level.value) == (5, Decimal("70.0000"))
    books_clean()


def test_negative_stock_where_allowed_goes_the_general_way(keeper, paths, books_clean):
    wh = make_warehouse(keeper, "NEG", allow_negative=True)
    product = make_product()
    receive(keeper, wh, product, 1)
    move = services.stock_move_post(
        actor=keeper,
        product_id=product.pk,
        quantity=3,
        source_id=wh.stock_location_id,
        destination_id=queries.virtual_location("customer").pk,
    )
    assert paths.calls[-1] == "declined"
    assert move.quantity == 3
    assert StockLevel.objects.get(product=product, warehouse=wh).on_hand == -2
    books_clean()


def test_switched_off_inventory_is_refused(keeper, admin_user, wh, product, paths):
    receive(keeper, wh, product, 2)
    feature_set(code="inventory", enabled=False, actor=admin_user)
    with pytest.raises(FeatureDisabled):
        services.stock_move_post(
            actor=keeper,
            product_id=product.pk,
            quantity=1,
            source_id=wh.stock_location_id,
            destination_id=queries.virtual_location("customer").pk,
        )
    assert paths.calls[-1] == "declined"
    assert StockLevel.objects.get(product=product, warehouse=wh).on_hand == 2
