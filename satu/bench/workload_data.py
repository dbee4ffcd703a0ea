# ruff: noqa: UP031 (kept as the reference generator wrote it)
"""Deterministic data for the neutral ERP workload (see ../workload.md).

This file is the reference generator described in workload.md; it imports
nothing from Tryton, so any other implementation can copy it verbatim.
"""

from decimal import Decimal

SEED = 42
MASK = (1 << 64) - 1


class Rng:
    """64-bit LCG (Knuth's MMIX constants); yields 31-bit integers."""

    def __init__(self, seed=SEED):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & MASK
        return self.state >> 33

    def randint(self, a, b):
        "Integer in [a, b], both included."
        return a + self.next() % (b - a + 1)


def gen_products(rng, count):
    """Return a list of (code, list_price, cost_price) with Decimal prices.

    One draw per product: list price in cents in [100, 10000];
    cost price = floor(60 % of the list price) in cents."""
    products = []
    for i in range(1, count + 1):
        cents = rng.randint(100, 10000)
        cost_cents = cents * 60 // 100
        products.append(("P%04d" % i, Decimal(cents) / 100, Decimal(cost_cents) / 100))
    return products


def w1_data(customers=2000, products=500, orders=2000, lines=5, max_qty=5, seed=SEED):
    """W1 order-to-cash.

    Returns dict with products, customer names and orders; an order is
    (customer_index, [(product_index, quantity), ...]) with 1-based indexes.
    """
    rng = Rng(seed)
    prods = gen_products(rng, products)
    custs = ["Customer %04d" % i for i in range(1, customers + 1)]
    order_list = []
    for _ in range(orders):
        customer = rng.randint(1, customers)
        used = set()
        order_lines = []
        for _ in range(lines):
            p = rng.randint(1, products)
            while p in used:
                p = rng.randint(1, products)
            used.add(p)
            q = rng.randint(1, max_qty)
            order_lines.append((p, q))
        order_list.append((customer, order_lines))
    return {"products": prods, "customers": custs, "orders": order_list}


def w1_expected(data):
    "Checksums and expected shipped quantity per product index."
    shipped = {}
    untaxed = Decimal(0)
    quantity = 0
    for _, lines in data["orders"]:
        for p, q in lines:
            shipped[p] = shipped.get(p, 0) + q
            quantity += q
            untaxed += data["products"][p - 1][1] * q
    return {"shipped": shipped, "quantity": quantity, "untaxed": untaxed}


def w2_data(products=500, moves=20000, max_qty=10, seed=SEED):
    """W2 stock posting.

    Returns products and moves; a move is (product_index, kind, quantity)
    with kind 'receipt' (supplier -> stock) or 'issue' (stock -> customer).
    """
    rng = Rng(seed)
    prods = gen_products(rng, products)
    move_list = []
    for _ in range(moves):
        p = rng.randint(1, products)
        kind = "receipt" if rng.randint(0, 1) == 0 else "issue"
        q = rng.randint(1, max_qty)
        move_list.append((p, kind, q))
    return {"products": prods, "moves": move_list}


def w3_data(
    finished=200,
    level1=200,
    level2=200,
    raw=400,
    components=4,
    max_qty=3,
    max_demand=10,
    seed=SEED,
):
    """W3 MRP.

    Items are named FG0001.., SA1-0001.. (level 1), SA2-0001.. (level 2),
    RM0001.. (raw, purchased). BoMs are generated bottom-up: level-2 BoMs
    (4 distinct raw materials), then level-1 BoMs (4 distinct level-2
    items), then finished BoMs (4 distinct level-1 items); each input
    quantity in [1, max_qty], one output of quantity 1.
    Then one demand (sales order of one line) per finished product,
    quantity in [1, max_demand].
    """
    rng = Rng(seed)
    names = {
        "FG": ["FG%04d" % i for i in range(1, finished + 1)],
        "SA1": ["SA1-%04d" % i for i in range(1, level1 + 1)],
        "SA2": ["SA2-%04d" % i for i in range(1, level2 + 1)],
        "RM": ["RM%04d" % i for i in range(1, raw + 1)],
    }

    def bom(pool):
        used = set()
        inputs = []
        for _ in range(components):
            c = rng.randint(1, len(pool))
            while c in used:
                c = rng.randint(1, len(pool))
            used.add(c)
            inputs.append((pool[c - 1], rng.randint(1, max_qty)))
        return inputs

    boms = {}
    for name in names["SA2"]:
        boms[name] = bom(names["RM"])
    for name in names["SA1"]:
        boms[name] = bom(names["SA2"])
    for name in names["FG"]:
        boms[name] = bom(names["SA1"])
    demand = [(name, rng.randint(1, max_demand)) for name in names["FG"]]
    return {"names": names, "boms": boms, "demand": demand}


def w3_expected(data):
    """Gross = net requirement per item (no stock, no lot sizing, no lead
    time), exploding level by level."""
    req = {}
    for name, qty in data["demand"]:
        req[name] = req.get(name, 0) + qty
    for level in ["FG", "SA1", "SA2"]:
        for name in data["names"][level]:
            q = req.get(name, 0)
            if not q:
                continue
            for comp, cq in data["boms"][name]:
                req[comp] = req.get(comp, 0) + q * cq
    produce = {n: q for n, q in req.items() if not n.startswith("RM") and q > 0}
    purchase = {n: q for n, q in req.items() if n.startswith("RM") and q > 0}
    return {"produce": produce, "purchase": purchase}


# ---------------------------------------------------------------------------
# W3L: large MRP, W4: analytics, W5: ledger (see workload.md)
# ---------------------------------------------------------------------------

W3L_LEVELS = [("FG", 1000), ("L1", 1500), ("L2", 2000), ("L3", 2500), ("RM", 3000)]


def w3l_data(components=4, max_qty=3, demands=2000, horizon_days=90, seed=SEED):
    """W3L large MRP: 10,000 items on 5 levels, 2,000 dated demands.

    Draw order: BoMs bottom-up (L3 from RM, L2 from L3, L1 from L2, FG from
    L1; 4 distinct inputs each, quantity 1..3), then demands (FG index,
    quantity 1..10, due day 1..90), then on-hand stock per item in level
    order FG, L1, L2, L3, RM (FG 0..5, L1-L3 0..20, RM 0..500).
    Lead time in days: manufactured item number i: 1 + i % 3; raw: 3 + i % 5.
    Work center of manufactured item i: 1 + i % 30; run 0.01 h per unit,
    setup 0.5 h per order; every work center has 16 h a day, 7 days a week.
    """
    rng = Rng(seed)
    names = {
        lvl: ["%s%05d" % (lvl, i) for i in range(1, n + 1)] for lvl, n in W3L_LEVELS
    }

    def bom(pool):
        used, inputs = set(), []
        for _ in range(components):
            c = rng.randint(1, len(pool))
            while c in used:
                c = rng.randint(1, len(pool))
            used.add(c)
            inputs.append((pool[c - 1], rng.randint(1, max_qty)))
        return inputs

    boms = {}
    for upper, lower in (("L3", "RM"), ("L2", "L3"), ("L1", "L2"), ("FG", "L1")):
        for name in names[upper]:
            boms[name] = bom(names[lower])
    demand = []
    for _ in range(demands):
        fg = names["FG"][rng.randint(1, len(names["FG"])) - 1]
        demand.append((fg, rng.randint(1, 10), rng.randint(1, horizon_days)))
    stock = {}
    for lvl, _ in W3L_LEVELS:
        top = {"FG": 5, "RM": 500}.get(lvl, 20)
        for name in names[lvl]:
            stock[name] = rng.randint(0, top)
    lead = {}
    for lvl, _ in W3L_LEVELS:
        for i, name in enumerate(names[lvl], 1):
            lead[name] = (3 + i % 5) if lvl == "RM" else (1 + i % 3)
    return {
        "names": names,
        "boms": boms,
        "demand": demand,
        "stock": stock,
        "lead": lead,
    }


def w3l_expected(data):
    """Total net requirement per item over the horizon, lot-for-lot, no
    safety stock: net = max(0, gross - on hand), exploded level by level.
    (Time phasing changes dates, not these totals.)"""
    gross = {}
    for name, qty, _ in data["demand"]:
        gross[name] = gross.get(name, 0) + qty
    net = {}
    for lvl, _ in W3L_LEVELS:
        for name in data["names"][lvl]:
            n = max(0, gross.get(name, 0) - data["stock"][name])
            net[name] = n
            if n and lvl != "RM":
                for comp, cq in data["boms"][name]:
                    gross[comp] = gross.get(comp, 0) + n * cq
    produce = {k: v for k, v in net.items() if v and not k.startswith("RM")}
    purchase = {k: v for k, v in net.items() if v and k.startswith("RM")}
    return {"produce": produce, "purchase": purchase}


W4_CLIENTS, W4_PRODUCTS, W4_MONTHS = 15000, 5000, 24


def w4_data(seed=SEED):
    """W4 analytics: about 260,000 invoices and 950,000 sales lines over 24
    months (month 0 = 2024-12, month 23 = 2026-11), and 100,000 deals.

    Draw order: products (gen_products, 5,000). Then for each client c =
    1..15,000 (kind = c % 3: 0 steady, 1 variable, 2 lumpy):
      size = 1 + (12 * next()**3 >> 93)       basket size, 1..12
      scale = 1 + (20 * next()**4 >> 124)     client scale, 1..20
      basket: size distinct products p = 1 + (5000 * next()**2 >> 62)
        (redraw on repeat), each with base = randint(1, 20) * scale;
      for month m = 0..23:
        steady:   f = randint(97, 103)
        variable: f = randint(70, 130)
        lumpy:    skip the month unless randint(0, 5) == 0; then
                  f = randint(70, 130)
        day = randint(1, 28); one invoice dated (m, day) with one line per
        basket product, quantity = max(1, base * f // 100).
    Line revenue = quantity x list price; cost = quantity x cost price;
    product category = 1 + (p - 1) % 50.
    Then per deal (100,000): month = randint(0, 23), day = randint(1, 28),
    manager = randint(1, 30); stage = 1, then while stage < 6 and
    randint(0, 99) < 60: stage += 1; stage 6 = won; otherwise
    randint(0, 9) == 0 -> still open at that stage, else lost there.
    """
    rng = Rng(seed)
    prods = gen_products(rng, W4_PRODUCTS)
    invoices = []
    for c in range(1, W4_CLIENTS + 1):
        kind = c % 3
        size = 1 + (12 * rng.next() ** 3 >> 93)
        scale = 1 + (20 * rng.next() ** 4 >> 124)
        used, basket = set(), []
        for _ in range(size):
            p = 1 + (W4_PRODUCTS * rng.next() ** 2 >> 62)
            while p in used:
                p = 1 + (W4_PRODUCTS * rng.next() ** 2 >> 62)
            used.add(p)
            basket.append((p, rng.randint(1, 20) * scale))
        for m in range(W4_MONTHS):
            if kind == 0:
                f = rng.randint(97, 103)
            elif kind == 1:
                f = rng.randint(70, 130)
            else:
                if rng.randint(0, 5) != 0:
                    continue
                f = rng.randint(70, 130)
            day = rng.randint(1, 28)
            lines = [(p, max(1, b * f // 100)) for p, b in basket]
            invoices.append((c, m, day, lines))
    deals = []
    for _ in range(100000):
        m, day, manager = rng.randint(0, 23), rng.randint(1, 28), rng.randint(1, 30)
        stage = 1
        while stage < 6 and rng.randint(0, 99) < 60:
            stage += 1
        if stage == 6:
            status = "won"
        elif rng.randint(0, 9) == 0:
            status = "open"
        else:
            status = "lost"
        deals.append((m, day, manager, stage, status))
    return {"products": prods, "invoices": invoices, "deals": deals}


def w4_expected(data):
    """ABC (revenue, last 12 months = months 12..23, 80/15/5), XYZ (monthly,
    12 sub-periods, 10 %/25 %), BCG (share high = A, growth >= 10 % vs months
    0..11), funnel (deals that reached each stage)."""
    import math

    prods = data["products"]
    now, prev, monthly = {}, {}, {}
    total = Decimal(0)
    for c, m, _, lines in data["invoices"]:
        rev = sum(prods[p - 1][1] * q for p, q in lines)
        total += rev
        if m >= 12:
            now[c] = now.get(c, 0) + rev
            monthly.setdefault(c, {})
            monthly[c][m] = monthly[c].get(m, 0) + rev
        else:
            prev[c] = prev.get(c, 0) + rev
    ranked = sorted(now.items(), key=lambda kv: (-kv[1], kv[0]))
    tot12 = sum(now.values())
    abc, before = {}, Decimal(0)
    for c, v in ranked:
        share = before * 100 / tot12
        abc[c] = "A" if share < 80 else "B" if share < 95 else "C"
        before += v
    xyz = {}
    for c, series in monthly.items():
        vals = [float(series.get(m, 0)) for m in range(12, 24)]
        mean = sum(vals) / 12
        std = math.sqrt(sum((x - mean) ** 2 for x in vals) / 12)
        cv = 100 * std / mean
        xyz[c] = "X" if cv <= 10 else "Y" if cv <= 25 else "Z"
    bcg = {}
    for c, cls in abc.items():
        p = float(prev.get(c, 0))
        g = math.inf if p <= 0 else 100 * (float(now[c]) - p) / p
        bcg[c] = {
            (True, True): "star",
            (True, False): "cash_cow",
            (False, True): "question_mark",
            (False, False): "dog",
        }[(cls == "A", g >= 10)]
    reached = [sum(1 for d in data["deals"] if d[3] >= s) for s in range(1, 7)]

    def count(d):
        out = {}
        for v in d.values():
            out[v] = out.get(v, 0) + 1
        return dict(sorted(out.items()))

    return {
        "revenue_24m": total,
        "revenue_12m": tot12,
        "clients_12m": len(now),
        "abc": count(abc),
        "xyz": count(xyz),
        "bcg": count(bcg),
        "funnel_reached": reached,
        "won": sum(1 for d in data["deals"] if d[4] == "won"),
        "open": sum(1 for d in data["deals"] if d[4] == "open"),
    }


def w5_data(accounts=200, entries=200000, seed=SEED):
    """W5 ledger: 200 accounts (1-40 asset, 41-80 liability, 81-100 equity,
    101-150 income, 151-200 expense), 200,000 entries in 2026, each of 5
    pairs (debit account randint(1, 200), credit account randint(1, 200),
    amount in cents randint(100, 1000000)) = 10 lines; 2,000,000 lines.
    Draw order per entry: month randint(0, 11), day randint(1, 28), then the
    5 pairs (debit, credit, amount)."""
    rng = Rng(seed)
    out = []
    for _ in range(entries):
        m, day = rng.randint(0, 11), rng.randint(1, 28)
        pairs = [
            (
                rng.randint(1, accounts),
                rng.randint(1, accounts),
                rng.randint(100, 1000000),
            )
            for _ in range(5)
        ]
        out.append((m, day, pairs))
    return out


def w5_expected(data):
    debit, credit = {}, {}
    for _, _, pairs in data:
        for d, c, cents in pairs:
            debit[d] = debit.get(d, 0) + cents
            credit[c] = credit.get(c, 0) + cents
    total = sum(debit.values())
    bal1 = debit.get(1, 0) - credit.get(1, 0)
    income = sum(credit.get(a, 0) - debit.get(a, 0) for a in range(101, 151))
    expense = sum(debit.get(a, 0) - credit.get(a, 0) for a in range(151, 201))
    return {
        "total_debit": Decimal(total) / 100,
        "account_1_balance": Decimal(bal1) / 100,
        "profit": Decimal(income - expense) / 100,
    }


if __name__ == "__main__":
    # Print the checksums quoted in workload.md.
    d1 = w1_data()
    e1 = w1_expected(d1)
    print("W1: products list price sum", sum(p[1] for p in d1["products"]))
    print(
        "W1: ordered quantity",
        e1["quantity"],
        "untaxed",
        e1["untaxed"],
        "max shipped per product",
        max(e1["shipped"].values()),
        "products touched",
        len(e1["shipped"]),
    )
    print("W1: first order", d1["orders"][0])
    d2 = w2_data()
    rec = sum(q for _, k, q in d2["moves"] if k == "receipt")
    iss = sum(q for _, k, q in d2["moves"] if k == "issue")
    nrec = sum(1 for _, k, _ in d2["moves"] if k == "receipt")
    net = {}
    for p, k, q in d2["moves"]:
        net[p] = net.get(p, 0) + (q if k == "receipt" else -q)
    print(
        "W2: receipts",
        nrec,
        "qty",
        rec,
        "issues",
        len(d2["moves"]) - nrec,
        "qty",
        iss,
        "min net per product",
        min(net.values()),
    )
    d3 = w3_data()
    e3 = w3_expected(d3)
    print(
        "W3: productions",
        len(e3["produce"]),
        "(FG %d, SA1 %d, SA2 %d)"
        % tuple(
            sum(1 for n in e3["produce"] if n.startswith(x))
            for x in ("FG", "SA1", "SA2")
        ),
        "purchases",
        len(e3["purchase"]),
        "produce qty",
        sum(e3["produce"].values()),
        "purchase qty",
        sum(e3["purchase"].values()),
    )
    d3l = w3l_data()
    e3l = w3l_expected(d3l)
    print(
        "W3L: production items",
        len(e3l["produce"]),
        "qty",
        sum(e3l["produce"].values()),
        "purchase items",
        len(e3l["purchase"]),
        "qty",
        sum(e3l["purchase"].values()),
    )
    d4 = w4_data()
    print(
        "W4: invoices",
        len(d4["invoices"]),
        "lines",
        sum(len(i[3]) for i in d4["invoices"]),
    )
    print("W4:", w4_expected(d4))
    print("W5:", w5_expected(w5_data()))
