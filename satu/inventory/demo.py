"""Demo warehouse: the main warehouse and the outlets (the loader passes
`satu.demo.data.COMPANY`; inventory may not import the demo package),
initial stock of every goods product through receipt transfers (one per
warehouse, posted through the services, so the ledger, balances and
valuation are exactly what users would create), a few write-offs and an
open internal transfer. Deterministic for a given seed.

Call from the demo loader after the catalog:
    inventory_demo.load(rng=rng, products=catalog_products, company=COMPANY,
                        progress=progress)
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone

from satu.catalog.models import Product
from satu.inventory import services
from satu.inventory.models import Warehouse, WriteOffReason


def _actor():
    for role in ("warehouse", "administrator"):
        group = Group.objects.filter(name=role).first()
        user = group.user_set.order_by("pk").first() if group else None
        if user is not None:
            return user
    raise RuntimeError("The demo needs a warehouse keeper or an administrator.")


def _lines(rng: random.Random, products, low: int, high: int, share: float, tag: str):
    lines = []
    for product in products:
        if rng.random() > share:
            continue
        if product.tracking == Product.Tracking.SERIAL:
            for n in range(1, rng.randint(2, 4) + 1):
                lines.append(
                    {
                        "product_id": product.pk,
                        "quantity": 1,
                        "lot_code": f"SN-{tag}-{product.pk:05d}-{n:02d}",
                    }
                )
            continue
        line = {"product_id": product.pk, "quantity": rng.randint(low, high)}
        if product.tracking == Product.Tracking.LOT:
            line["lot_code"] = f"LOT-{tag}-{rng.randint(100, 999)}"
            # Dated lots (a few already expired, some within a month), from
            # the product and warehouse so the random stream stays the same.
            offset = (product.pk * 37 + sum(map(ord, tag))) % 420 - 20
            line["lot_expires_on"] = timezone.localdate() + timedelta(days=offset)
        lines.append(line)
    return lines


MAIN = {"code": "WH", "name": "Main warehouse", "address": ""}


def load(*, rng: random.Random, products, progress=None, company=None) -> dict:
    """Create the warehouses of `company` ({"warehouses": [...], "outlets":
    [...]}, each {"code", "name", "address"}; default one main warehouse)
    and their opening stock; returns counts."""
    from satu.parties.queries import company_default

    data = company or {"warehouses": [MAIN], "outlets": []}

    progress = progress or (lambda message: None)
    actor = _actor()
    owner = company_default()
    goods = [
        p
        for p in sorted(products, key=lambda p: p.pk)
        if p.kind == Product.Kind.GOODS and p.is_active
    ]
    warehouses = []
    for spec in data.get("warehouses", []):
        warehouses.append(
            Warehouse.objects.filter(code=spec["code"]).first()
            or services.warehouse_create(
                actor=actor,
                code=spec["code"],
                name=spec["name"],
                address=spec.get("address", ""),
                company_id=owner.pk if owner else None,
            )
        )
    for spec in data.get("outlets", []):
        warehouses.append(
            Warehouse.objects.filter(code=spec["code"]).first()
            or services.warehouse_create(
                actor=actor,
                code=spec["code"],
                name=spec["name"],
                address=spec.get("address", ""),
                is_outlet=True,
                company_id=owner.pk if owner else None,
            )
        )
    progress(f"{len(warehouses)} warehouses")
    moves = 0
    for index, wh in enumerate(warehouses):
        main = index == 0
        lines = _lines(
            rng,
            goods,
            low=200 if main else 10,
            high=2000 if main else 150,
            share=1.0 if main else 0.6,
            tag=wh.code,
        )
        if not lines:
            continue
        receipt = services.transfer_create(
            actor=actor,
            kind="receipt",
            warehouse_id=wh.pk,
            lines=lines,
            reference="Opening stock",
        )
        services.transfer_done(actor=actor, transfer_id=receipt.pk)
        moves += len(lines)
    progress(f"opening stock: {moves} moves")
    # Some damage in the main warehouse, and goods on their way to an outlet.
    damaged = WriteOffReason.objects.filter(code="damaged").first()
    plain = [p for p in goods if p.tracking == Product.Tracking.NONE]
    write_offs = 0
    if damaged and plain and warehouses:
        for product in rng.sample(plain, min(5, len(plain))):
            t = services.transfer_create(
                actor=actor,
                kind="write_off",
                warehouse_id=warehouses[0].pk,
                reason_id=damaged.pk,
                lines=[{"product_id": product.pk, "quantity": rng.randint(1, 5)}],
                note="Damaged in handling",
            )
            services.transfer_done(actor=actor, transfer_id=t.pk)
            write_offs += 1
    internal = 0
    if len(warehouses) > 1 and plain:
        t = services.transfer_create(
            actor=actor,
            kind="internal",
            warehouse_id=warehouses[0].pk,
            destination_warehouse_id=warehouses[1].pk,
            lines=[
                {"product_id": p.pk, "quantity": Decimal(rng.randint(5, 20))}
                for p in rng.sample(plain, min(8, len(plain)))
            ],
            reference="Weekly replenishment",
        )
        services.transfer_done(actor=actor, transfer_id=t.pk)  # now in transit
        internal = 1
    return {
        "warehouses": len(warehouses),
        "stock_moves": moves,
        "write_offs": write_offs,
        "internal_transfers": internal,
    }
