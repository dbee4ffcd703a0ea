"""A year of trade for the demo company, consistent with the CRM demo.

Won deals (and repeat orders of existing clients) become sales orders through
`satu.sales.services`: the client's contract when one is valid, price-list
prices, the main warehouse or an outlet. Orders are confirmed, shipped (some
partly), invoiced (some partly) and paid through `satu.billing.services`
(most in full and on time, some partly, some not at all, so the receivables
ageing fills every bucket). There are quotes in every state, a couple of
credit notes, and monthly purchase orders that are received, billed and paid
so the stock keeps flowing.

Everything goes through the services in date order over the last twelve
months, from one seeded `random.Random`. Documents whose services take a
date (orders, quotes, invoices, credit notes, payments, purchase orders and
supplier bills) carry it; inventory stamps its moves and transfers with the
moment they are posted (no date parameter), so stock moves are dated "now".
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone

from satu.billing import services as billing_services
from satu.billing.models import CashAccount, Contract, Invoice
from satu.catalog import queries as catalog_queries
from satu.catalog.models import Product
from satu.crm.models import Deal
from satu.inventory import queries as inventory_queries
from satu.inventory.errors import InsufficientStock
from satu.parties.models import Client
from satu.purchasing import services as purchasing_services
from satu.purchasing.models import SupplierPrice
from satu.sales import services as sales_services
from satu.sales.errors import CreditLimitExceeded
from satu.sales.models import Quote, SalesOrder

ZERO = Decimal(0)
DAYS = 365
SUPPLIER_PAYMENT_DAYS = 30
CASH_PAYMENT_DAYS = 14  # orders without a contract


@dataclass
class _Plan:
    day: date
    client: Client
    deal: Deal | None = None


def _first_user(role: str):
    group = Group.objects.filter(name=role).first()
    if group is None:
        return None
    return group.user_set.filter(is_active=True).order_by("pk").first()


def _thousands(value: Decimal) -> Decimal:
    return (value / 1000).quantize(Decimal(1)) * 1000


class _Trade:
    def __init__(self, *, rng, warehouses, products, suppliers, progress):
        self.rng = rng
        self.progress = progress
        self.today = timezone.localdate()
        self.start = self.today - timedelta(days=DAYS)
        self.head = _first_user("head_of_sales")
        self.accountant = _first_user("accountant") or _first_user("administrator")
        self.buyer = _first_user("warehouse") or _first_user("administrator")
        warehouses = sorted(warehouses, key=lambda w: (w.is_outlet, w.pk))
        self.main = warehouses[0]
        self.outlets = [w for w in warehouses if w.is_outlet]
        # Plain goods (no lots or serials to name when shipping) and services.
        active = sorted((p for p in products if p.is_active), key=lambda p: p.pk)
        self.goods = [
            p
            for p in active
            if p.kind == Product.Kind.GOODS and p.tracking == Product.Tracking.NONE
        ]
        self.services = [p for p in active if p.kind == Product.Kind.SERVICE]
        # Kits whose components are all plain goods: {kit id: {goods id: qty}}.
        plain = {p.pk for p in self.goods}
        kits = [p for p in active if p.kind == Product.Kind.KIT]
        self.kits: dict[int, dict[int, Decimal]] = {}
        for kit_id, parts in catalog_queries.kit_components(
            [k.pk for k in kits]
        ).items():
            if parts and all(c.component_id in plain for c in parts):
                self.kits[kit_id] = {c.component_id: c.quantity for c in parts}
        # Kit lines draw from their own stream: the main one (and with it the
        # rest of the demo) stays as it was before kits were sold.
        self.kit_rng = random.Random(repr(rng.getstate()[1][:8]))
        self.suppliers = sorted(suppliers, key=lambda c: c.pk)
        self.available: dict[tuple[int, int], Decimal] = {}
        for wh in [self.main, *self.outlets]:
            stock = inventory_queries.stock_availability(
                product_ids=[p.pk for p in self.goods], warehouse_id=wh.pk
            )
            for product_id, row in stock.items():
                if row.available > 0:
                    self.available[(wh.pk, product_id)] = row.available
        self.opening = {
            pid: qty for (wh, pid), qty in self.available.items() if wh == self.main.pk
        }
        self.bank = (
            CashAccount.objects.filter(kind=CashAccount.Kind.BANK, is_active=True)
            .order_by("pk")
            .first()
        )
        self.cash = (
            CashAccount.objects.filter(kind=CashAccount.Kind.CASH, is_active=True)
            .order_by("pk")
            .first()
        ) or self.bank
        self.contracts: dict[int, list[Contract]] = {}
        for contract in Contract.objects.filter(
            kind=Contract.Kind.SALE, state=Contract.State.ACTIVE
        ).order_by("pk"):
            if contract.client_id:
                self.contracts.setdefault(contract.client_id, []).append(contract)
        self.supplier_of: dict[int, int] = {}
        for product_id, supplier_id in SupplierPrice.objects.order_by("pk").values_list(
            "product_id", "supplier_id"
        ):
            self.supplier_of.setdefault(product_id, supplier_id)
        self.counts = {
            "orders": 0,
            "orders_by_state": {},
            "invoices": 0,
            "payments": 0,
            "credit_notes": 0,
            "quotes": 0,
            "purchase_orders": 0,
            "credit_overrides": 0,
        }
        self.unpaid: list[Invoice] = []

    # ------------------------------------------------------------ helpers

    def _day(self, low: int, high: int) -> date:
        """A day `low`..`high` days ago."""
        return self.today - timedelta(days=self.rng.randint(low, high))

    def _actor(self, client, deal=None):
        if deal is not None and deal.owner_id != client.owner_id:
            return self.head
        return client.owner or self.head

    def _contract(self, client, day: date):
        for contract in self.contracts.get(client.pk, []):
            if contract.valid_from <= day and (
                contract.valid_to is None or contract.valid_to >= day
            ):
                return contract
        return None

    def _lines(self, warehouse, *, big: bool) -> list[dict]:
        """1–6 lines of goods in stock in `warehouse` (their stock is taken
        out of the local availability), sometimes a service."""
        rng = self.rng
        count = rng.choice([1, 2, 2, 3, 3, 4, 5, 6]) + (2 if big else 0)
        lines, used = [], set()
        for product in rng.sample(self.goods, min(len(self.goods), count * 3)):
            if len(lines) >= count:
                break
            key = (warehouse.pk, product.pk)
            have = self.available.get(key, ZERO)
            top = 6 if warehouse.is_outlet else 60
            quantity = Decimal(rng.randint(1, top * (3 if big else 1)))
            if have < quantity or product.pk in used:
                continue
            self.available[key] = have - quantity
            used.add(product.pk)
            lines.append({"product_id": product.pk, "quantity": quantity})
        if self.services and rng.random() < 0.1 and not warehouse.is_outlet:
            service = rng.choice(self.services)
            lines.append({"product_id": service.pk, "quantity": 1})
        if self.kits and not warehouse.is_outlet and self.kit_rng.random() < 0.08:
            kit_id = self.kit_rng.choice(sorted(self.kits))
            quantity = Decimal(self.kit_rng.randint(1, 4))
            parts = self.kits[kit_id]
            if not used & set(parts) and all(
                self.available.get((warehouse.pk, pid), ZERO) >= quantity * q
                for pid, q in parts.items()
            ):
                for pid, q in parts.items():
                    self.available[(warehouse.pk, pid)] -= quantity * q
                lines.append({"product_id": kit_id, "quantity": quantity})
        return lines

    def _give_back(self, warehouse, lines) -> None:
        for line in lines:
            parts = self.kits.get(line["product_id"]) or {line["product_id"]: 1}
            for pid, per in parts.items():
                key = (warehouse.pk, pid)
                if key in self.available or pid in self.opening:
                    self.available[key] = (
                        self.available.get(key, ZERO) + line["quantity"] * per
                    )

    def _confirm(self, actor, order) -> bool:
        try:
            sales_services.sales_order_confirm(actor=actor, order_id=order.pk)
        except CreditLimitExceeded:
            if self.rng.random() < 0.5:
                return False
            # The head of sales lets a good client over its limit.
            sales_services.sales_order_confirm(
                actor=self.head,
                order_id=order.pk,
                override_reason="Long-standing client; approved by the head of sales.",
            )
            self.counts["credit_overrides"] += 1
        return True

    def _invoice(self, actor, order, contract, day: date, quantities=None):
        """Invoice the order on `day` (draft → dated → posted)."""
        invoice = sales_services.sales_order_invoice(
            actor=actor, order_id=order.pk, quantities=quantities, post=False
        )
        days = contract.payment_days if contract else CASH_PAYMENT_DAYS
        billing_services.invoice_update(
            actor=actor,
            invoice_id=invoice.pk,
            issue_date=day,
            due_date=day + timedelta(days=days),
        )
        invoice = billing_services.invoice_post(actor=actor, invoice_id=invoice.pk)
        sales_services.sales_order_refresh(order_id=order.pk)
        self.counts["invoices"] += 1
        return invoice

    def _pay(self, invoice, *, account, outlet: bool) -> None:
        """Most invoices are paid on time; older ones more surely than new."""
        rng = self.rng
        age = (self.today - invoice.due_date).days
        roll = rng.random()
        if age > 90:
            full, part = 0.93, 0.03
        elif age > 0:
            full, part = 0.8, 0.08
        else:
            full, part = 0.45, 0.1
        if outlet:
            full, part = 0.97, 0.0
        if roll < full:
            amount = invoice.amount_due
        elif roll < full + part:
            amount = _thousands(invoice.amount_due * Decimal(rng.randint(20, 70)) / 100)
        else:
            self.unpaid.append(invoice)
            return
        if amount <= 0:
            return
        late = rng.choice([-5, -2, 0, 0, 1, 3, 7, 12])
        on = min(
            self.today, max(invoice.issue_date, invoice.due_date + timedelta(late))
        )
        billing_services.payment_create(
            actor=self.accountant,
            direction="in",
            cash_account_id=account.pk,
            amount=amount,
            purpose_code="sale",
            currency=invoice.currency,
            date=on,
            client_id=invoice.client_id,
            reference=invoice.number,
            allocations=[{"invoice_id": invoice.pk, "amount": amount}],
        )
        self.counts["payments"] += 1
        if amount < invoice.amount_due:
            self.unpaid.append(invoice)

    # ------------------------------------------------------------ orders

    def order(self, plan: _Plan) -> None:
        rng, day = self.rng, plan.day
        client, deal = plan.client, plan.deal
        actor = self._actor(client, deal)
        outlet = bool(self.outlets) and deal is None and rng.random() < 0.25
        warehouse = rng.choice(self.outlets) if outlet else self.main
        lines = self._lines(warehouse, big=deal is not None)
        if not lines:
            return
        contract = None if outlet else self._contract(client, day)
        # Promised delivery: the same day at an outlet, else 2-6 days later,
        # derived from what is already drawn (the random stream is untouched)
        # so recent orders still waiting for the warehouse turn late.
        delivery = day + timedelta(
            days=0 if outlet else 2 + (client.pk + len(lines)) % 5
        )
        order = sales_services.sales_order_create(
            actor=actor,
            client_id=client.pk,
            lines=lines,
            warehouse_id=warehouse.pk,
            contract_id=contract.pk if contract else None,
            deal_id=deal.pk if deal else None,
            order_date=day,
            delivery_date=delivery,
        )
        self.counts["orders"] += 1
        age = (self.today - day).days
        if age < 20 and rng.random() < 0.15:
            self._give_back(warehouse, lines)
            return  # a draft still being put together
        if rng.random() < 0.03:
            self._give_back(warehouse, lines)
            sales_services.sales_order_cancel(
                actor=actor, order_id=order.pk, reason="The client changed its mind."
            )
            return
        reason = "Over the credit limit."
        try:
            confirmed = self._confirm(actor, order)
        except InsufficientStock:
            confirmed, reason = False, "Out of stock."
        if not confirmed:
            self._give_back(warehouse, lines)
            sales_services.sales_order_cancel(
                actor=actor, order_id=order.pk, reason=reason
            )
            return
        if age < 7 and rng.random() < 0.5:
            return  # confirmed, waiting for the warehouse
        order_lines = list(order.lines.select_related("product").order_by("pk"))
        goods = [
            line
            for line in order_lines
            if line.product.kind == Product.Kind.GOODS or line.product_id in self.kits
        ]
        partial_ship = len(goods) > 1 and rng.random() < (0.35 if age < 45 else 0.04)
        if goods:
            quantities = None
            if partial_ship:
                quantities = {line.pk: line.quantity for line in goods[:-1]}
                last = goods[-1]
                if last.quantity > 1:
                    quantities[last.pk] = (last.quantity / 2).quantize(Decimal(1))
            sales_services.sales_order_ship(
                actor=actor, order_id=order.pk, quantities=quantities
            )
        invoice_day = min(self.today, day + timedelta(days=rng.randint(0, 3)))
        if age < 3 and rng.random() < 0.5:
            return  # shipped, invoice tomorrow
        quantities = None
        if not partial_ship and len(order_lines) > 1 and rng.random() < 0.05:
            quantities = {line.pk: line.quantity for line in order_lines[:-1]}
        invoice = self._invoice(actor, order, contract, invoice_day, quantities)
        self._pay(invoice, account=self.cash if outlet else self.bank, outlet=outlet)

    # ------------------------------------------------------------ quotes

    def quotes(self) -> None:
        """Quotes in every state, most of them with a deal."""
        rng = self.rng
        in_work = list(
            Deal.objects.filter(status=Deal.Status.IN_WORK)
            .select_related("client", "client__owner")
            .order_by("pk")
        )
        lost = list(
            Deal.objects.filter(status=Deal.Status.LOST)
            .select_related("client", "client__owner")
            .order_by("pk")
        )
        plan = ["draft"] * 4 + ["sent"] * 4 + ["accepted"] * 5
        plan += ["rejected"] * 4 + ["expired"] * 4
        for state in plan:
            pool = lost if state == "rejected" else in_work
            pool = [d for d in pool if d.client.owner_id] or pool
            if not pool:
                continue
            deal = pool.pop(rng.randrange(len(pool)))
            client = deal.client
            actor = self._actor(client, deal)
            issue = self._day(45, 90) if state == "expired" else self._day(0, 20)
            ordered = state == "accepted" and rng.random() < 0.6
            lines = self._lines(self.main, big=True)
            if not ordered:
                self._give_back(self.main, lines)
            if not lines:
                continue
            quote = sales_services.quote_create(
                actor=actor,
                deal_id=deal.pk,
                lines=lines,
                issue_date=issue,
                warehouse_id=self.main.pk,
            )
            self.counts["quotes"] += 1
            if state == "sent":
                sales_services.quote_send(
                    actor=actor,
                    quote_id=quote.pk,
                    to=client.email or "purchasing@example.com",
                )
            elif state == "rejected":
                sales_services.quote_reject(actor=actor, quote_id=quote.pk)
            elif state == "accepted":
                sales_services.quote_accept(actor=actor, quote_id=quote.pk)
                if ordered:
                    order = sales_services.quote_to_order(
                        actor=actor, quote_id=quote.pk, warehouse_id=self.main.pk
                    )
                    self.counts["orders"] += 1
                    try:
                        confirmed = self._confirm(actor, order)
                    except InsufficientStock:
                        confirmed = False
                    if not confirmed:
                        self._give_back(self.main, lines)
        sales_services.quotes_expire(self.today)

    # ------------------------------------------------------------ purchases

    def replenish(self, day: date) -> None:
        """Buy back what sold most in the main warehouse: one order per
        supplier, received, billed and (when due) paid."""
        rng = self.rng
        low = sorted(
            (
                (qty / self.opening[pid], pid)
                for (wh, pid), qty in self.available.items()
                if wh == self.main.pk and pid in self.opening and self.opening[pid]
            ),
        )[:12]
        by_supplier: dict[int, list] = {}
        for _share, pid in low:
            supplier = self.supplier_of.get(pid) or (
                rng.choice(self.suppliers).pk if self.suppliers else None
            )
            if supplier is None:
                continue
            by_supplier.setdefault(supplier, []).append(pid)
        prices = {p.pk: p for p in self.goods}
        for supplier_id, product_ids in sorted(by_supplier.items())[:3]:
            lines = []
            for pid in product_ids:
                quantity = Decimal(
                    max(
                        10, int(self.opening[pid] - self.available[(self.main.pk, pid)])
                    )
                )
                line = {"product_id": pid, "quantity": quantity}
                if pid not in self.supplier_of:
                    cost = prices[pid].cost_price or Decimal(10000)
                    line["unit_price"] = _thousands(cost) or Decimal(1000)
                lines.append(line)
            po = purchasing_services.purchase_order_create(
                actor=self.buyer,
                supplier_id=supplier_id,
                warehouse_id=self.main.pk,
                lines=lines,
                order_date=day,
                expected_date=day + timedelta(days=rng.randint(2, 7)),
            )
            purchasing_services.purchase_order_confirm(actor=self.buyer, order_id=po.pk)
            purchasing_services.purchase_order_receive(actor=self.buyer, order_id=po.pk)
            bill_day = min(self.today, day + timedelta(days=rng.randint(2, 7)))
            bill = purchasing_services.purchase_order_bill(
                actor=self.accountant,
                order_id=po.pk,
                reference=f"INV/{supplier_id}/{po.number}",
                issue_date=bill_day,
                due_date=bill_day + timedelta(days=SUPPLIER_PAYMENT_DAYS),
            )
            for line in lines:
                key = (self.main.pk, line["product_id"])
                self.available[key] = self.available.get(key, ZERO) + line["quantity"]
            self.counts["purchase_orders"] += 1
            if bill.due_date <= self.today and self.bank is not None:
                billing_services.payment_create(
                    actor=self.accountant,
                    direction="out",
                    cash_account_id=self.bank.pk,
                    amount=bill.amount_due,
                    purpose_code="other",
                    currency=bill.currency,
                    date=bill.due_date,
                    counterparty_id=bill.counterparty_id,
                    reference=po.number,
                    allocations=[{"invoice_id": bill.pk, "amount": bill.amount_due}],
                )
                self.counts["payments"] += 1

    # ------------------------------------------------------------ credit notes

    def credit_notes(self, count: int = 2) -> None:
        """Damaged goods credited on a few unpaid invoices."""
        candidates = [inv for inv in self.unpaid if inv.amount_paid == 0]
        for invoice in candidates[:count]:
            line = invoice.lines.order_by("pk").first()
            if line is None:
                continue
            quantity = min(line.quantity, Decimal(1))
            day = min(self.today, invoice.issue_date + timedelta(days=5))
            billing_services.credit_note_create(
                actor=self.accountant,
                invoice_id=invoice.pk,
                lines=[{"line_id": line.pk, "quantity": quantity}],
                issue_date=day,
                reason="Damaged in delivery.",
                post=True,
            )
            if invoice.origin_type == sales_services.ORDER_ORIGIN:
                sales_services.sales_order_refresh(order_id=invoice.origin_id)
            self.counts["credit_notes"] += 1

    # ------------------------------------------------------------ all

    def plans(self, orders: int) -> list[_Plan]:
        rng = self.rng
        plans = []
        won = (
            Deal.objects.filter(status=Deal.Status.WON, client__owner__isnull=False)
            .select_related("client", "client__owner")
            .order_by("pk")
        )
        for deal in won[: orders // 2]:
            closed = timezone.localdate(deal.closed_at) if deal.closed_at else None
            if closed is None or not (self.start <= closed <= self.today):
                closed = self._day(0, DAYS)
            plans.append(_Plan(day=closed, client=deal.client, deal=deal))
        regulars = list(
            Client.objects.filter(
                status=Client.Status.CLIENT,
                is_archived=False,
                owner__isnull=False,
            )
            .select_related("owner")
            .order_by("pk")
        )
        if regulars:
            # A core of regular buyers orders again and again.
            core = rng.sample(regulars, max(1, len(regulars) // 3))
            while len(plans) < orders:
                client = rng.choice(core if rng.random() < 0.7 else regulars)
                plans.append(_Plan(day=self._day(0, DAYS), client=client))
        plans.sort(key=lambda p: (p.day, p.client.pk, p.deal.pk if p.deal else 0))
        return plans

    def run(self, orders: int) -> dict:
        plans = self.plans(orders)
        month = None
        for index, plan in enumerate(plans):
            key = (plan.day.year, plan.day.month)
            if key != month and self.goods:
                if month is not None:
                    self.replenish(plan.day)
                month = key
            self.order(plan)
            if (index + 1) % 100 == 0:
                self.progress(f"trade: {index + 1} of {len(plans)} sales orders")
        self.quotes()
        self.credit_notes()
        self.counts["orders_by_state"] = dict(
            sorted(
                (state, SalesOrder.objects.filter(state=state).count())
                for state in SalesOrder.State.values
            )
        )
        self.counts["quotes_by_state"] = dict(
            sorted(
                (state, Quote.objects.filter(state=state).count())
                for state in Quote.State.values
            )
        )
        return self.counts


def load(
    *,
    rng: random.Random,
    warehouses,
    products,
    suppliers,
    orders: int = 400,
    progress=None,
) -> dict:
    """A year of quotes, sales orders, deliveries, invoices, payments, credit
    notes and replenishing purchase orders (see the module docstring).
    `warehouses`: inventory Warehouses (the first non-outlet is the main
    one), `products`: catalog Products, `suppliers`: Counterparties we buy
    from. Returns counts."""
    progress = progress or (lambda message: None)
    trade = _Trade(
        rng=rng,
        warehouses=list(warehouses),
        products=list(products),
        suppliers=list(suppliers),
        progress=progress,
    )
    if not trade.goods or trade.bank is None or trade.head is None:
        return {"orders": 0}
    progress("trade: sales orders, invoices and payments")
    return trade.run(orders)
