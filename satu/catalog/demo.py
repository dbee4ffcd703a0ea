"""Demo catalog: ~500 products of an Indonesian FMCG and office-supplies
trader, units with conversions, and three price lists (Retail, Wholesale
with quantity breaks, Distributor with a list discount).

Units, categories and products go through the services (audit trail,
validation); price items are bulk-inserted because 2,000 rows one service
call at a time would make `satu demo` noticeably slower. Deterministic for
a given seed.
"""

import random
from datetime import date
from decimal import Decimal

from stdnum import ean

from satu.catalog import services
from satu.catalog.models import PriceListItem, Product, Unit
from satu.core import custom_fields

UNITS = [
    ("pcs", "Pieces"),
    ("box", "Box"),
    ("ctn", "Carton"),
    ("pack", "Pack"),
    ("kg", "Kilogram"),
    ("ream", "Ream"),
    ("hour", "Hour"),
    ("set", "Set"),
]

# category -> subcategory -> (sku prefix, base unit, [(unit, factor)],
# brands, items, sizes, retail price range in IDR)
CATALOG = {
    "Food & beverage": {
        "Beverages": (
            "BEV",
            "pcs",
            [("box", 24), ("ctn", 48)],
            ["Sosro", "Aqua", "Pocari", "Teh Pucuk", "Floridina", "Fruit Tea"],
            [
                "Teh Botol",
                "Mineral Water",
                "Isotonic Drink",
                "Orange Juice",
                "Green Tea",
            ],
            ["330 ml", "500 ml", "600 ml", "1.5 l"],
            (3000, 15000),
        ),
        "Coffee & tea": (
            "COF",
            "pcs",
            [("box", 12), ("ctn", 48)],
            ["Kapal Api", "ABC", "Torabika", "Sariwangi", "Tong Tji"],
            ["Ground Coffee", "Coffee Mix", "Black Tea", "Jasmine Tea"],
            ["10 sachets", "165 g", "200 g", "25 bags"],
            (8000, 45000),
        ),
        "Instant food": (
            "INS",
            "pcs",
            [("box", 40)],
            ["Indomie", "Sedaap", "Sarimi", "Pop Mie"],
            ["Fried Noodles", "Chicken Soup Noodles", "Curry Noodles", "Cup Noodles"],
            ["75 g", "85 g", "2 × 80 g"],
            (2500, 9000),
        ),
        "Snacks": (
            "SNK",
            "pcs",
            [("box", 20)],
            ["Chitato", "Qtela", "Taro", "Good Time", "Oreo", "Tango"],
            ["Potato Chips", "Cassava Chips", "Cookies", "Wafer"],
            ["68 g", "120 g", "185 g"],
            (5000, 25000),
        ),
        "Staples": (
            "STP",
            "kg",
            [("pack", 5)],
            ["Rojolele", "Gulaku", "Bimoli", "Sania", "Segitiga Biru"],
            ["Rice", "Sugar", "Flour"],
            ["premium", "medium"],
            (12000, 18000),
        ),
    },
    "Household": {
        "Cleaning": (
            "CLN",
            "pcs",
            [("box", 12)],
            ["Sunlight", "Wipol", "Super Pell", "Vixal", "Mama Lemon"],
            ["Dish Soap", "Floor Cleaner", "Bathroom Cleaner", "Glass Cleaner"],
            ["400 ml", "780 ml", "1.6 l"],
            (9000, 38000),
        ),
        "Laundry": (
            "LND",
            "pcs",
            [("box", 12)],
            ["Rinso", "Attack", "So Klin", "Molto", "Downy"],
            ["Detergent Powder", "Liquid Detergent", "Fabric Softener"],
            ["800 g", "1.8 kg", "900 ml"],
            (15000, 60000),
        ),
        "Kitchen": (
            "KIT",
            "pcs",
            [("box", 6)],
            ["Lion Star", "Maspion", "Claris"],
            ["Food Container", "Plastic Plate", "Water Jug", "Cutting Board"],
            ["small", "medium", "large"],
            (12000, 85000),
        ),
    },
    "Personal care": {
        "Bath & body": (
            "BTH",
            "pcs",
            [("box", 36)],
            ["Lifebuoy", "Lux", "Nuvo", "Dettol", "Biore"],
            ["Bar Soap", "Body Wash"],
            ["85 g", "250 ml", "450 ml"],
            (4000, 40000),
        ),
        "Oral care": (
            "ORL",
            "pcs",
            [("box", 24)],
            ["Pepsodent", "Formula", "Close Up", "Sensodyne"],
            ["Toothpaste", "Toothbrush", "Mouthwash"],
            ["75 g", "190 g", "soft"],
            (6000, 55000),
        ),
        "Hair care": (
            "HAR",
            "pcs",
            [("box", 24)],
            ["Sunsilk", "Pantene", "Clear", "Dove"],
            ["Shampoo", "Conditioner"],
            ["70 ml", "170 ml", "340 ml"],
            (9000, 60000),
        ),
    },
    "Office supplies": {
        "Paper": (
            "PAP",
            "ream",
            [("box", 5)],
            ["Sinar Dunia", "PaperOne", "Bola Dunia"],
            ["Copy Paper A4", "Copy Paper F4", "Copy Paper A3"],
            ["70 gsm", "80 gsm"],
            (42000, 95000),
        ),
        "Writing": (
            "WRT",
            "pcs",
            [("box", 12), ("pack", 3)],
            ["Standard", "Pilot", "Faber-Castell", "Snowman", "Joyko"],
            [
                "Ballpoint Pen",
                "Gel Pen",
                "Pencil 2B",
                "Whiteboard Marker",
                "Highlighter",
            ],
            ["black", "blue", "red"],
            (2500, 22000),
        ),
        "Filing": (
            "FIL",
            "pcs",
            [("box", 10)],
            ["Bantex", "Kenko", "Joyko"],
            ["Lever Arch File", "Clear Holder", "Stapler", "Staples No. 10"],
            ["A4", "F4"],
            (3000, 45000),
        ),
    },
}
SERVICES = [
    ("SRV-DLV-JKT", "Delivery within Jabodetabek", "hour", 150000),
    ("SRV-DLV-JAWA", "Delivery outside Jabodetabek (Java)", "hour", 350000),
    ("SRV-MERCH", "Merchandising visit", "hour", 120000),
    ("SRV-PRINT", "Custom label printing", "hour", 250000),
]
TARGET_PRODUCTS = 500


def _barcode(rng: random.Random, used: set) -> str:
    while True:
        body = "899" + "".join(str(rng.randrange(10)) for _ in range(9))
        code = body + ean.calc_check_digit(body)
        if code not in used:
            used.add(code)
            return code


def _round_price(value: float) -> Decimal:
    return Decimal(int(round(value / 100.0)) * 100)


def load(*, actor, seed: int, client_groups: dict, products: int = TARGET_PRODUCTS):
    """Create units, categories, ~`products` products, 3 price lists.

    `client_groups` maps group names (Wholesale, Distributor) to ClientGroup
    rows. Returns {"products": n, "price_items": n}."""
    rng = random.Random(f"catalog-{seed}")
    for code, name in UNITS:
        services.unit_create(actor=actor, code=code, name=name)
    custom_fields.custom_field_create(
        actor=actor,
        object_type="catalog.product",
        code="brand",
        label="Brand",
        field_type="text",
        position=1,
    )
    candidates = []
    for top_name, subs in CATALOG.items():
        top = services.category_create(actor=actor, name=top_name)
        for sub_name, spec in subs.items():
            sub = services.category_create(actor=actor, name=sub_name, parent_id=top.pk)
            prefix, base, conversions, brands, items, sizes, (low, high) = spec
            for brand in brands:
                for item in items:
                    for size in sizes:
                        candidates.append(
                            (
                                sub,
                                prefix,
                                base,
                                conversions,
                                brand,
                                item,
                                size,
                                low,
                                high,
                            )
                        )
    rng.shuffle(candidates)
    chosen = sorted(
        candidates[: max(0, products - len(SERVICES) - 5)],
        key=lambda c: (c[1], c[4], c[5], c[6]),
    )
    used_barcodes: set[str] = set()
    counters: dict[str, int] = {}
    rows = []  # (product, retail price, conversions)
    for sub, prefix, base, conversions, brand, item, size, low, high in chosen:
        counters[prefix] = counters.get(prefix, 0) + 1
        tracking = (
            "lot" if prefix in {"COF", "STP", "BTH"} and rng.random() < 0.3 else "none"
        )
        product = services.product_create(
            actor=actor,
            sku=f"{prefix}-{counters[prefix]:04d}",
            name=f"{brand} {item} {size}",
            base_unit=base,
            category_id=sub.pk,
            barcode=_barcode(rng, used_barcodes),
            tracking=tracking,
            tax_category="VAT11",
            units=[{"unit": u, "factor": f} for u, f in conversions],
            custom={"brand": brand},
        )
        rows.append((product, _round_price(rng.uniform(low, high)), conversions))
    for sku, name, unit, price in SERVICES:
        product = services.product_create(
            actor=actor,
            sku=sku,
            name=name,
            kind=Product.Kind.SERVICE,
            base_unit=unit,
            tax_category="VAT11",
        )
        rows.append((product, Decimal(price), []))
    goods = [p for p, _price, _c in rows if p.kind == Product.Kind.GOODS]
    hampers = ["Basic", "Family", "Premium", "Office", "Deluxe"]
    for index, hamper in enumerate(hampers):
        kit = services.product_create(
            actor=actor,
            sku=f"KIT-HAMPER-{index + 1:02d}",
            name=f"Lebaran Hamper {hamper}",
            kind=Product.Kind.KIT,
            base_unit="set",
            tax_category="VAT11",
        )
        parts = rng.sample(goods, 3 + index)
        services.kit_components_set(
            actor=actor,
            product_id=kit.pk,
            components=[
                {"product_id": p.pk, "quantity": rng.choice([1, 2, 3])} for p in parts
            ],
        )
        price = sum(price for p, price, _c in rows if p in parts) * Decimal("0.95")
        rows.append((kit, _round_price(float(price)), []))

    year = date.today().year
    retail = services.price_list_create(actor=actor, name="Retail", currency="IDR")
    wholesale = services.price_list_create(
        actor=actor,
        name=f"Wholesale {year}",
        currency="IDR",
        client_group_id=client_groups["Wholesale"].pk,
        valid_from=date(year, 1, 1),
        valid_to=date(year, 12, 31),
        priority=10,
    )
    distributor = services.price_list_create(
        actor=actor,
        name="Distributor",
        currency="IDR",
        client_group_id=client_groups["Distributor"].pk,
        priority=20,
        discount_percent=Decimal("3"),
    )
    units = {u.code: u for u in Unit.objects.all()}
    items = []
    for product, price, conversions in rows:
        base = units[product.base_unit.code]
        items.append(
            PriceListItem(price_list=retail, product=product, unit=base, price=price)
        )
        if product.kind == Product.Kind.SERVICE:
            continue
        items.append(
            PriceListItem(
                price_list=wholesale,
                product=product,
                unit=base,
                price=_round_price(float(price) * 0.9),
            )
        )
        items.append(
            PriceListItem(
                price_list=wholesale,
                product=product,
                unit=base,
                min_quantity=Decimal(100),
                price=_round_price(float(price) * 0.85),
                discount_percent=Decimal("2") if rng.random() < 0.2 else None,
            )
        )
        if conversions:
            unit, factor = conversions[-1]
            items.append(
                PriceListItem(
                    price_list=distributor,
                    product=product,
                    unit=units[unit],
                    price=_round_price(float(price) * factor * 0.8),
                )
            )
    PriceListItem.objects.bulk_create(items, batch_size=500)
    return {"products": len(rows), "price_items": len(items)}
