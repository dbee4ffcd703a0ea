"""Demo data of purchasing: supplier prices (with quantity breaks), reorder
points in the main warehouse and purchase orders in every state, all made
through the services so numbers, receipts, valuation and invoices are real.

Called by `satu demo` after catalog, parties (suppliers), inventory
(warehouses and opening stock) and billing:

    from satu.purchasing import demo as purchasing_demo
    purchasing_demo.load(
        rng=random.Random(f"purchasing-{seed}"),
        products=products,          # catalog Products (goods are used)
        warehouses=warehouses,      # inventory Warehouses, the first is main
        suppliers=suppliers,        # parties Counterparties we buy from
        progress=progress,
    )
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone

from satu.catalog.models import Product
from satu.purchasing import services

ZERO = Decimal(0)


def _user(*roles):
    for role in roles:
        group = Group.objects.filter(name=role).first()
        user = (
            group.user_set.filter(is_active=True).order_by("pk").first()
            if group
            else None
        )
        if user is not None:
            return user
    return None


def _price(rng: random.Random, product: Product) -> Decimal:
    base = product.cost_price or Decimal(rng.randrange(5, 500) * 1000)
    factor = Decimal(rng.randrange(85, 106)) / 100
    return (base * factor).quantize(Decimal(100))


def load(*, rng: random.Random, products, warehouses, suppliers, progress=None) -> dict:
    """Create supplier prices for most goods, reorder points for some in the
    main warehouse, and ~10 purchase orders: drafts, confirmed (incoming),
    partly received, received and billed (done), cancelled. Returns counts."""
    progress = progress or (lambda message: None)
    purchaser = _user("warehouse", "administrator")
    biller = _user("accountant", "administrator")
    if purchaser is None:
        raise RuntimeError("The demo needs a warehouse keeper or an administrator.")
    suppliers = list(suppliers)
    warehouses = list(warehouses)
    goods = [
        p
        for p in sorted(products, key=lambda p: p.pk)
        if p.kind == Product.Kind.GOODS and p.is_active
    ]
    if not suppliers or not warehouses or not goods:
        return {"supplier_prices": 0, "reorder_points": 0, "purchase_orders": 0}
    main = warehouses[0]
    today = timezone.localdate()

    progress("purchasing: supplier prices")
    priced = []
    n_prices = 0
    for product in goods:
        if rng.random() > 0.7:
            continue
        chosen = rng.sample(suppliers, k=min(len(suppliers), rng.choice((1, 1, 2))))
        for supplier in chosen:
            price = _price(rng, product)
            services.supplier_price_create(
                actor=purchaser,
                supplier_id=supplier.pk,
                product_id=product.pk,
                price=price,
                currency="IDR",
                lead_time_days=rng.choice((2, 3, 5, 7, 14)),
                valid_from=today - timedelta(days=365),
            )
            n_prices += 1
            if rng.random() < 0.3:  # a quantity break
                services.supplier_price_create(
                    actor=purchaser,
                    supplier_id=supplier.pk,
                    product_id=product.pk,
                    price=(price * Decimal("0.92")).quantize(Decimal(100)),
                    currency="IDR",
                    min_quantity=rng.choice((50, 100, 200)),
                    lead_time_days=rng.choice((5, 7, 14)),
                )
                n_prices += 1
        priced.append((product, chosen))

    progress("purchasing: reorder points")
    n_points = 0
    for product, chosen in priced[: max(10, len(priced) // 4)]:
        minimum = Decimal(rng.randrange(10, 60))
        services.reorder_point_create(
            actor=purchaser,
            product_id=product.pk,
            warehouse_id=main.pk,
            minimum=minimum,
            maximum=minimum * rng.choice((2, 3, 4)),
            multiple=rng.choice((1, 1, 6, 10, 12)),
            preferred_supplier_id=chosen[0].pk if rng.random() < 0.3 else None,
        )
        n_points += 1

    progress("purchasing: purchase orders")
    plan = ["draft", "draft", "confirmed", "confirmed", "partial", "partial"]
    plan += ["done", "done", "billed_part", "cancelled"]
    counts: dict[str, int] = {}
    by_supplier: dict[int, list] = {}
    for product, chosen in priced:
        by_supplier.setdefault(chosen[0].pk, []).append(product)
    supplier_ids = sorted(by_supplier)
    for i, target in enumerate(plan):
        supplier_id = supplier_ids[i % len(supplier_ids)]
        items = by_supplier[supplier_id]
        lines = [
            {"product_id": p.pk, "quantity": rng.choice((10, 12, 20, 24, 50, 100))}
            for p in rng.sample(items, k=min(len(items), rng.randrange(1, 5)))
        ]
        order_date = today - timedelta(days=rng.randrange(1, 60))
        order = services.purchase_order_create(
            actor=purchaser,
            supplier_id=supplier_id,
            warehouse_id=main.pk,
            lines=lines,
            order_date=order_date,
            expected_date=order_date + timedelta(days=rng.randrange(3, 21)),
        )
        if target == "cancelled":
            services.purchase_order_cancel(actor=purchaser, order_id=order.pk)
        elif target != "draft":
            services.purchase_order_confirm(actor=purchaser, order_id=order.pk)
            order_lines = list(order.lines.order_by("pk"))
            if target == "partial":
                first = order_lines[0]
                services.purchase_order_receive(
                    actor=purchaser,
                    order_id=order.pk,
                    quantities={first.pk: (first.quantity / 2).quantize(Decimal(1))},
                )
            elif target in ("done", "billed_part"):
                services.purchase_order_receive(actor=purchaser, order_id=order.pk)
                if biller is not None:
                    quantities = (
                        {order_lines[0].pk: order_lines[0].quantity}
                        if target == "billed_part"
                        else None
                    )
                    services.purchase_order_bill(
                        actor=biller,
                        order_id=order.pk,
                        quantities=quantities,
                        reference=f"SUP-{order.number}",
                    )
        counts[target] = counts.get(target, 0) + 1
    return {
        "supplier_prices": n_prices,
        "reorder_points": n_points,
        "purchase_orders": len(plan),
        "orders_by_target": counts,
    }
