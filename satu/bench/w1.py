"""W1 "order-to-cash" (see /work/shared/bench/workload.md).

Untimed setup: our company (USD), 2,000 customers with an address, 500
goods with their list prices in a USD price list, one 10 % sales tax rule,
1,000 units of each in the warehouse. Timed, for each order, each step its
own transaction through the services the API and the screens call:
`sales_order_create` (5 lines, prices from the price list),
`sales_order_confirm` (reserves), `sales_order_ship` (one-step delivery,
done), `sales_order_invoice` (customer invoice posted). Untimed checks: the
workload's checksums, every order done, stock = 1,000 − shipped, and
`check-books`.

Tax: Satu rounds tax per line (half-even), the workload's table per order,
so the tax total may differ by a few cents; it is printed beside the
workload's figure, and the untaxed total must match exactly.
"""

import argparse
import os
import sys
import time
from decimal import Decimal

from satu.bench import profiled
from satu.bench.workload_data import w1_data, w1_expected

EXPECTED = {
    400: {
        "quantity": 5982,
        "untaxed": Decimal("297675.63"),
        "tax_per_order": Decimal("29767.62"),
        "products": 490,
        "max_shipped": 35,
    },
    2000: {
        "quantity": 30137,
        "untaxed": Decimal("1528896.83"),
        "tax_per_order": Decimal("152889.77"),
        "products": 500,
        "max_shipped": 111,
    },
}
INITIAL = 1000


def setup(data):
    """Company, customers, products, prices, tax and stock (untimed)."""
    from django.contrib.auth import get_user_model

    from satu.catalog import services as catalog
    from satu.catalog.models import Unit
    from satu.inventory import queries as inventory_queries
    from satu.inventory import services as inventory
    from satu.inventory.models import Warehouse
    from satu.parties import services as parties

    user_model = get_user_model()
    actor = user_model.objects.filter(username="bench").first()
    if actor is None:
        actor = user_model.objects.create_superuser("bench", "bench@satu.test", None)
    if Warehouse.objects.filter(code="W1").exists():
        raise SystemExit("The database already holds a W1 run: start from a fresh one.")
    parties.company_save(
        actor=actor,
        code="W1CO",
        name="W1 Company",
        legal_name="W1 Company Ltd",
        currency="USD",
        is_default=True,
    )
    if not Unit.objects.filter(code="unit").exists():
        catalog.unit_create(actor=actor, code="unit", name="Unit")
    catalog.tax_rule_create(actor=actor, name="Sales tax 10 %", rate=10)
    price_list = catalog.price_list_create(actor=actor, name="W1 list", currency="USD")
    wh = inventory.warehouse_create(actor=actor, code="W1", name="W1 warehouse")
    supplier = inventory_queries.virtual_location("supplier")
    product_ids = []
    for code, list_price, cost in data["products"]:
        product = catalog.product_create(
            actor=actor, sku=code, name=code, base_unit="unit", cost_price=cost
        )
        catalog.price_list_item_set(
            actor=actor,
            price_list_id=price_list.pk,
            product_id=product.pk,
            price=list_price,
        )
        inventory.stock_move_post(
            actor=actor,
            product_id=product.pk,
            quantity=INITIAL,
            source_id=supplier.pk,
            destination_id=wh.stock_location_id,
            unit_cost=cost,
        )
        product_ids.append(product.pk)
    client_ids = []
    for i, name in enumerate(data["customers"], start=1):
        client = parties.client_create(
            actor=actor,
            name=name,
            status="client",
            address=f"{i} Workload Street, Bench City",
            allow_duplicate=True,
        )
        client_ids.append(client.pk)
    return actor, wh, product_ids, client_ids


def run_orders(actor, wh, product_ids, client_ids, orders) -> list[int]:
    """The timed part: one order after the other, each step committed."""
    from satu.sales import services

    done = []
    for customer, lines in orders:
        order = services.sales_order_create(
            actor=actor,
            client_id=client_ids[customer - 1],
            warehouse_id=wh.pk,
            lines=[{"product_id": product_ids[p - 1], "quantity": q} for p, q in lines],
        )
        services.sales_order_confirm(actor=actor, order_id=order.pk)
        services.sales_order_ship(actor=actor, order_id=order.pk)
        services.sales_order_invoice(actor=actor, order_id=order.pk, post=True)
        done.append(order.pk)
    return done


def verify(wh, product_ids, order_ids, data, expected) -> list[str]:
    from django.db.models import Count, Sum

    from satu.billing.models import Invoice
    from satu.core.books import check_books
    from satu.inventory import queries as inventory_queries
    from satu.sales.models import SalesOrder

    problems = []
    want = w1_expected(data)
    states = dict(
        SalesOrder.objects.filter(pk__in=order_ids)
        .values("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    if states != {"done": len(order_ids)}:
        problems.append(f"order states {states}, expected all done")
    invoices = Invoice.objects.filter(
        origin_type="sales.order", origin_id__in=order_ids
    )
    posted = invoices.filter(state="posted").count()
    if posted != len(order_ids):
        problems.append(f"{posted} posted invoices for {len(order_ids)} orders")
    sums = invoices.aggregate(u=Sum("amount_untaxed"), t=Sum("amount_tax"))
    untaxed, tax = sums["u"] or Decimal(0), sums["t"] or Decimal(0)
    stock = inventory_queries.stock_availability(
        product_ids=product_ids, warehouse_id=wh.pk
    )
    shipped_total, touched, max_shipped = 0, 0, 0
    for index, pk in enumerate(product_ids, start=1):
        shipped = want["shipped"].get(index, 0)
        if stock[pk].on_hand != INITIAL - shipped:
            problems.append(
                f"P{index:04d}: on hand {stock[pk].on_hand} != {INITIAL - shipped}"
            )
        if stock[pk].reserved:
            problems.append(f"P{index:04d}: {stock[pk].reserved} still reserved")
        shipped_now = INITIAL - int(stock[pk].on_hand)
        shipped_total += shipped_now
        touched += 1 if shipped_now else 0
        max_shipped = max(max_shipped, shipped_now)
    print(
        f"W1 checks: quantity shipped {shipped_total:,}, untaxed {untaxed:,.2f}, "
        f"tax {tax:,.2f} (per line), products touched {touched}, "
        f"max shipped for one product {max_shipped}"
    )
    if untaxed != want["untaxed"]:
        problems.append(f"untaxed {untaxed} != generator's {want['untaxed']}")
    if expected:
        got = {
            "quantity": shipped_total,
            "untaxed": untaxed,
            "products": touched,
            "max_shipped": max_shipped,
        }
        for key, value in got.items():
            if value != expected[key]:
                problems.append(f"{key}: {value} != expected {expected[key]}")
        print(
            f"tax: {tax:,.2f} rounded per line; the workload's per-order figure "
            f"is {expected['tax_per_order']:,.2f} "
            f"(difference {tax - expected['tax_per_order']:+.2f})"
        )
    for name, diffs in check_books().items():
        problems.extend(f"check-books {name}: {d}" for d in diffs)
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="satu bench W1")
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--no-migrate", action="store_true")
    parser.add_argument(
        "--profile", metavar="FILE", help="write a cProfile of the timed part to FILE"
    )
    args = parser.parse_args(argv)

    from django.core.management import call_command
    from django.db import connection

    if not args.no_migrate:
        call_command("migrate", verbosity=0)
    data = w1_data(orders=args.orders)
    where = os.environ.get("DATABASE_URL", "default database")
    print(f"W1 on {connection.vendor} ({where})")
    t0 = time.perf_counter()
    actor, wh, product_ids, client_ids = setup(data)
    print(f"setup: {time.perf_counter() - t0:.1f} s")
    load0 = os.getloadavg()
    cpu0 = time.process_time()
    start = time.perf_counter()
    with profiled(args.profile):
        order_ids = run_orders(actor, wh, product_ids, client_ids, data["orders"])
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    load1 = os.getloadavg()
    n = len(order_ids)
    print(f"W1: {n} orders in {elapsed:.1f} s = {n / elapsed:.1f} orders/s")
    print(
        f"client CPU {cpu:.2f} s ({100 * cpu / elapsed:.0f} % of wall); "
        f"load average {load0[0]:.2f} -> {load1[0]:.2f}"
    )
    problems = verify(wh, product_ids, order_ids, data, EXPECTED.get(n))
    if problems:
        print("W1 FAILED:")
        for line in problems[:50]:
            print(f"  {line}")
        return 1
    print("W1 checks ok; check-books clean")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
