"""W2 "stock posting": 500 products with 1,000 units each (untimed setup),
then M single-line stock moves, each created and posted in its own
transaction through `inventory.services.stock_move_post` (timed), then the
checks of workload.md and `check-books` (untimed)."""

import argparse
import os
import sys
import time
from collections import defaultdict
from decimal import Decimal

from satu.bench import profiled
from satu.bench.workload_data import w2_data

EXPECTED = {
    8000: {
        "receipts": (4005, 22084),
        "issues": (3995, 22102),
        "lowest": 925,
        "total": 499982,
    },
    20000: {
        "receipts": (10042, 55182),
        "issues": (9958, 55093),
        "lowest": 867,
        "total": 500089,
    },
}
INITIAL = 1000


def setup(products):
    """Actor, warehouse, products and initial stock (untimed)."""
    from django.contrib.auth import get_user_model

    from satu.catalog import services as catalog
    from satu.catalog.models import Product, Unit
    from satu.inventory import queries, services
    from satu.inventory.models import Warehouse

    user_model = get_user_model()
    actor = user_model.objects.filter(username="bench").first()
    if actor is None:
        actor = user_model.objects.create_superuser("bench", "bench@satu.test", None)
    if Warehouse.objects.filter(code="W2").exists():
        raise SystemExit("The database already holds a W2 run: start from a fresh one.")
    if not Unit.objects.filter(code="unit").exists():
        catalog.unit_create(actor=actor, code="unit", name="Unit")
    wh = services.warehouse_create(actor=actor, code="W2", name="W2 warehouse")
    supplier = queries.virtual_location("supplier")
    ids = []
    for code, _list_price, cost in products:
        product = Product.objects.filter(sku=code).first() or catalog.product_create(
            actor=actor, sku=code, name=code, base_unit="unit", cost_price=cost
        )
        ids.append(product.pk)
        services.stock_move_post(
            actor=actor,
            product_id=product.pk,
            quantity=INITIAL,
            source_id=supplier.pk,
            destination_id=wh.stock_location_id,
            unit_cost=cost,
        )
    return actor, wh, ids


def verify(wh, ids, moves, expected) -> list[str]:
    """The checksums of workload.md, recomputed from what the database holds."""
    from satu.core.books import check_books
    from satu.inventory.models import Quant, StockMove

    problems = []
    by_pk = {pk: i for i, pk in enumerate(ids, start=1)}
    done = StockMove.objects.filter(reference="W2").order_by("id")
    running = defaultdict(lambda: INITIAL)
    lowest = INITIAL
    counts = {"receipts": [0, 0], "issues": [0, 0]}
    for product_id, source_id, qty in done.values_list(
        "product_id", "source_id", "quantity"
    ):
        issue = source_id == wh.stock_location_id
        kind = "issues" if issue else "receipts"
        counts[kind][0] += 1
        counts[kind][1] += int(qty)
        running[product_id] += -int(qty) if issue else int(qty)
        lowest = min(lowest, running[product_id])
    stock = {
        q.product_id: int(q.quantity)
        for q in Quant.objects.filter(location_id=wh.stock_location_id)
    }
    want = defaultdict(lambda: INITIAL)
    for p, kind, qty in moves:
        want[p] += qty if kind == "receipt" else -qty
    for pk, index in by_pk.items():
        if stock.get(pk) != want[index]:
            problems.append(f"P{index:04d}: stock {stock.get(pk)} != {want[index]}")
    total = sum(stock.values())
    summary = (
        f"receipts {counts['receipts'][0]} ({counts['receipts'][1]}), "
        f"issues {counts['issues'][0]} ({counts['issues'][1]}), "
        f"lowest {lowest}, total {total}"
    )
    print(f"W2 checks: {summary}")
    if expected:
        got = {
            "receipts": tuple(counts["receipts"]),
            "issues": tuple(counts["issues"]),
            "lowest": lowest,
            "total": total,
        }
        for key, value in expected.items():
            if got[key] != value:
                problems.append(f"{key}: {got[key]} != expected {value}")
    for name, diffs in check_books().items():
        problems.extend(f"check-books {name}: {d}" for d in diffs)
    return problems


def run_moves(post, actor, ids, costs, moves, supplier, customer, stock) -> None:
    """The timed part: one move after the other, each its own transaction."""
    for p, kind, qty in moves:
        if kind == "receipt":
            post(
                actor=actor,
                product_id=ids[p - 1],
                quantity=qty,
                source_id=supplier,
                destination_id=stock,
                unit_cost=costs[p - 1],
                reference="W2",
            )
        else:
            post(
                actor=actor,
                product_id=ids[p - 1],
                quantity=qty,
                source_id=stock,
                destination_id=customer,
                reference="W2",
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="satu bench W2")
    parser.add_argument("--moves", type=int, default=8000)
    parser.add_argument("--no-migrate", action="store_true")
    parser.add_argument(
        "--profile", metavar="FILE", help="write a cProfile of the timed part to FILE"
    )
    args = parser.parse_args(argv)

    from django.core.management import call_command
    from django.db import connection

    if not args.no_migrate:
        call_command("migrate", verbosity=0)
    from satu.inventory import queries, services

    data = w2_data(products=500, moves=args.moves)
    vendor = connection.vendor
    print(f"W2 on {vendor} ({os.environ.get('DATABASE_URL', 'default database')})")
    t0 = time.perf_counter()
    actor, wh, ids = setup(data["products"])
    print(f"setup: {time.perf_counter() - t0:.1f} s")
    supplier = queries.virtual_location("supplier").pk
    customer = queries.virtual_location("customer").pk
    stock = wh.stock_location_id
    costs = [Decimal(cost) for _c, _l, cost in data["products"]]
    post = services.stock_move_post
    load0 = os.getloadavg()
    cpu0 = time.process_time()
    start = time.perf_counter()
    with profiled(args.profile):
        run_moves(post, actor, ids, costs, data["moves"], supplier, customer, stock)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    load1 = os.getloadavg()
    n = len(data["moves"])
    print(f"W2: {n} moves in {elapsed:.2f} s = {n / elapsed:.0f} moves/s")
    print(
        f"client CPU {cpu:.2f} s ({100 * cpu / elapsed:.0f} % of wall); "
        f"load average {load0[0]:.2f} -> {load1[0]:.2f}"
    )
    problems = verify(wh, ids, data["moves"], EXPECTED.get(n))
    if problems:
        print("W2 FAILED:")
        for line in problems[:50]:
            print(f"  {line}")
        return 1
    print("W2 checks ok; check-books clean")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
