"""Reads of billing: record rules, lists, documents of an origin, what is
invoiced, credit exposure, balances, ageing, payment dynamics.

Record rule: whoever sees all clients (or holds billing.view_all_invoices)
sees every invoice and payment; a sales manager sees those of the clients
they may see. Every list runs a fixed number of queries.
"""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    DecimalField,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from satu.billing.models import (
    BankStatement,
    CashAccount,
    Contract,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    PaymentPurpose,
)
from satu.core.errors import NotFound
from satu.core.prepared import prepared
from satu.parties import queries as parties_queries

ZERO = Decimal(0)
AMOUNT = DecimalField(max_digits=20, decimal_places=4)
OPEN_STATES = (Invoice.State.POSTED, Invoice.State.PAID)
RECEIVABLE_KINDS = (Invoice.Kind.CUSTOMER_INVOICE, Invoice.Kind.CUSTOMER_CREDIT_NOTE)
PAYABLE_KINDS = (Invoice.Kind.SUPPLIER_INVOICE, Invoice.Kind.SUPPLIER_CREDIT_NOTE)
CREDIT_KINDS = (Invoice.Kind.CUSTOMER_CREDIT_NOTE, Invoice.Kind.SUPPLIER_CREDIT_NOTE)
# Which documents money in each direction settles.
SETTLES = {
    Payment.Direction.IN: (
        Invoice.Kind.CUSTOMER_INVOICE,
        Invoice.Kind.SUPPLIER_CREDIT_NOTE,
    ),
    Payment.Direction.OUT: (
        Invoice.Kind.SUPPLIER_INVOICE,
        Invoice.Kind.CUSTOMER_CREDIT_NOTE,
    ),
}
BUCKETS = ("current", "d1_30", "d31_60", "d61_90", "d90_plus")


def plain(number) -> str:
    """A Decimal without trailing zeros or exponent: 100.0000 → "100"."""
    return f"{Decimal(number).normalize():f}"


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- record rules


def sees_all(actor) -> bool:
    return actor.has_perm("billing.view_all_invoices") or (
        parties_queries.sees_all_clients(actor)
    )


def invoices_visible_to(actor) -> QuerySet[Invoice]:
    qs = Invoice.objects.all()
    if actor is None:
        return qs
    if not actor.is_active or not actor.has_perm("billing.view_invoice"):
        return qs.none()
    if sees_all(actor):
        return qs
    return qs.filter(client__in=parties_queries.clients_visible_to(actor))


def invoice_scope(actor) -> int | None | bool:
    """The record rule of `invoices_visible_to` as a value, for prepared
    queries (`satu.core.prepared`): None — every invoice; an id — those of
    the clients that user owns (`client__owner_id`); False — none."""
    if actor is None:
        return None
    if not actor.is_active or not actor.has_perm("billing.view_invoice"):
        return False
    if sees_all(actor):
        return None
    return parties_queries.client_scope(actor)


def payments_visible_to(actor) -> QuerySet[Payment]:
    qs = Payment.objects.all()
    if actor is None:
        return qs
    if not actor.is_active or not actor.has_perm("billing.view_payment"):
        return qs.none()
    if sees_all(actor):
        return qs
    return qs.filter(client__in=parties_queries.clients_visible_to(actor))


def contracts_visible_to(actor) -> QuerySet[Contract]:
    qs = Contract.objects.all()
    if actor is None:
        return qs
    if not actor.is_active or not actor.has_perm("billing.view_contract"):
        return qs.none()
    if sees_all(actor):
        return qs
    return qs.filter(counterparty__in=parties_queries.counterparties_visible_to(actor))


# ---------------------------------------------------------------- contracts


def contract_list(
    *,
    actor,
    search: str = "",
    kind: str = "",
    state: str = "",
    counterparty_id: int | None = None,
    client_id: int | None = None,
) -> QuerySet[Contract]:
    qs = contracts_visible_to(actor).select_related(
        "counterparty", "client", "price_list", "company"
    )
    if search:
        text = search.strip()[:100]
        qs = qs.filter(
            Q(number__icontains=text) | Q(counterparty__legal_name__icontains=text)
        )
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    if counterparty_id:
        qs = qs.filter(counterparty_id=counterparty_id)
    if client_id:
        qs = qs.filter(client_id=client_id)
    return qs.order_by("-valid_from", "-id")


def contract_get(*, actor, contract_id) -> Contract:
    pk = _int(contract_id)
    found = contract_list(actor=actor).filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise NotFound(_("Contract not found."))
    return found


def contract_for(
    *, counterparty_id: int, kind: str = Contract.Kind.SALE, on: date | None = None
) -> Contract | None:
    """The active contract of that kind with the counterparty valid on `on`
    (the newest when several are)."""
    on = on or timezone.localdate()
    return (
        Contract.objects.filter(
            counterparty_id=counterparty_id,
            kind=kind,
            state=Contract.State.ACTIVE,
            valid_from__lte=on,
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .order_by("-valid_from", "-id")
        .first()
    )


# ---------------------------------------------------------------- invoices


def invoice_list(
    *,
    actor,
    search: str = "",
    kind: str = "",
    kinds: tuple | list | None = None,
    state: str = "",
    client_id: int | None = None,
    counterparty_id: int | None = None,
    overdue: bool = False,
    open_only: bool = False,
    date_from: date | None = None,
    date_to: date | None = None,
    origin_type: str = "",
    origin_id: int | None = None,
) -> QuerySet[Invoice]:
    qs = invoices_visible_to(actor).select_related("client", "counterparty", "contract")
    if search:
        text = search.strip()[:100]
        qs = qs.filter(
            Q(number__icontains=text)
            | Q(reference__icontains=text)
            | Q(client__name__icontains=text)
            | Q(counterparty__legal_name__icontains=text)
        )
    if kind:
        qs = qs.filter(kind=kind)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    if state:
        qs = qs.filter(state=state)
    if client_id:
        qs = qs.filter(client_id=client_id)
    if counterparty_id:
        qs = qs.filter(counterparty_id=counterparty_id)
    if open_only or overdue:
        qs = qs.filter(state=Invoice.State.POSTED, amount_due__gt=0)
    if overdue:
        qs = qs.filter(due_date__lt=timezone.localdate())
    if date_from:
        qs = qs.filter(issue_date__gte=date_from)
    if date_to:
        qs = qs.filter(issue_date__lte=date_to)
    if origin_type:
        qs = qs.filter(origin_type=origin_type)
    if origin_id is not None:
        qs = qs.filter(origin_id=origin_id)
    return qs.order_by("-issue_date", "-id")


def invoice_get(*, actor, invoice_id) -> Invoice:
    pk = _int(invoice_id)
    found = (
        invoices_visible_to(actor)
        .select_related(
            "client", "counterparty", "contract", "company", "credited_invoice"
        )
        .prefetch_related("lines__product")
        .filter(pk=pk)
        .first()
        if pk is not None
        else None
    )
    if found is None:
        raise NotFound(_("Invoice not found."))
    return found


def invoice_allocations(invoice: Invoice) -> QuerySet[PaymentAllocation]:
    return invoice.allocations.select_related("payment").order_by("id")


def invoice_credit_notes(invoice: Invoice) -> QuerySet[Invoice]:
    return invoice.credit_notes.order_by("id")


def invoices_for_origin(*, origin_type: str, origin_id: int) -> QuerySet[Invoice]:
    """Invoices and credit notes made from a document of another domain
    (e.g. "sales.order", 42), oldest first, with their lines."""
    return (
        Invoice.objects.filter(origin_type=origin_type, origin_id=origin_id)
        .prefetch_related("lines")
        .order_by("id")
    )


def invoiced_quantities(*, origin_type: str, origin_id: int) -> dict[int, Decimal]:
    """{origin_line_id: quantity} on posted invoices minus posted credit
    notes of the origin (cancelled documents do not count)."""
    rows = (
        InvoiceLine.objects.filter(
            invoice__origin_type=origin_type,
            invoice__origin_id=origin_id,
            invoice__state__in=OPEN_STATES,
            origin_line_id__isnull=False,
        )
        .values("origin_line_id")
        .annotate(
            quantity=Sum(
                Case(
                    When(invoice__kind__in=CREDIT_KINDS, then=-F("quantity")),
                    default=F("quantity"),
                    output_field=DecimalField(max_digits=20, decimal_places=6),
                )
            )
        )
        .order_by()
    )
    return {row["origin_line_id"]: row["quantity"] for row in rows}


_ORIGIN_QUANTITIES = prepared(
    lambda origin_type, origin_id: (
        InvoiceLine.objects.filter(
            invoice__origin_type=origin_type,
            invoice__origin_id=origin_id,
            invoice__state__in=[*OPEN_STATES, Invoice.State.DRAFT],
            origin_line_id__isnull=False,
        )
        .values_list("origin_line_id", "invoice__state", "invoice__kind")
        .annotate(quantity=Sum("quantity"))
        .order_by()
    )
)


def invoiced_and_draft_quantities(
    *, origin_type: str, origin_id: int, draft_kind: str = "customer_invoice"
) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    """In one query: `invoiced_quantities` of the origin, and {origin_line_id:
    quantity} on its draft invoices of `draft_kind` (not yet posted)."""
    # int() as the ORM's BigIntegerField would (ValueError alike).
    rows = _ORIGIN_QUANTITIES.all(origin_type=origin_type, origin_id=int(origin_id))
    invoiced: dict[int, Decimal] = {}
    drafts: dict[int, Decimal] = {}
    for line_id, state, kind, quantity in rows:
        if state in OPEN_STATES:
            signed = -quantity if kind in CREDIT_KINDS else quantity
            invoiced[line_id] = invoiced.get(line_id, Decimal(0)) + signed
        elif kind == draft_kind:
            drafts[line_id] = drafts.get(line_id, Decimal(0)) + quantity
    return invoiced, drafts


def invoiced_amounts(*, origin_type: str, origin_id: int) -> dict:
    """{"total", "paid", "due"} of the origin's posted invoices net of credit
    notes (for an order's invoice and payment status)."""
    sign = Case(
        When(kind__in=CREDIT_KINDS, then=Value(-1)),
        default=Value(1),
    )
    row = Invoice.objects.filter(
        origin_type=origin_type, origin_id=origin_id, state__in=OPEN_STATES
    ).aggregate(
        total=Sum(F("amount_total") * sign, output_field=AMOUNT),
        paid=Sum(F("amount_paid") * sign, output_field=AMOUNT),
        due=Sum(F("amount_due") * sign, output_field=AMOUNT),
    )
    return {key: value or ZERO for key, value in row.items()}


# ---------------------------------------------------------------- exposure


@dataclass(frozen=True)
class Exposure:
    """What a customer owes us: open receivables (invoices due minus credit
    notes due), of which overdue, the oldest overdue's days, unallocated
    advances, and the sale contract's limits (None when no contract)."""

    open_receivables: Decimal
    overdue_amount: Decimal
    max_overdue_days: int
    advances: Decimal = ZERO
    credit_limit: Decimal | None = None
    overdue_days_allowed: int | None = None
    contract_id: int | None = None


def _party_filter(client_id, counterparty_id, prefix: str = "") -> Q:
    condition = Q(pk__in=[])
    if client_id is not None:
        condition |= Q(**{prefix + "client_id": client_id})
    if counterparty_id is not None:
        condition |= Q(**{prefix + "counterparty_id": counterparty_id})
    return condition


def credit_exposure(
    *,
    counterparty_id: int | None = None,
    client_id: int | None = None,
    on: date | None = None,
    currency: str | None = None,
    contract_id: int | None = None,
) -> Exposure:
    """The credit exposure of a client and/or counterparty (documents of
    either), in `currency` when given. Three queries."""
    on = on or timezone.localdate()
    party = _party_filter(client_id, counterparty_id)
    invoices = Invoice.objects.filter(
        party, kind__in=RECEIVABLE_KINDS, state=Invoice.State.POSTED
    )
    payments = Payment.objects.filter(
        party, direction=Payment.Direction.IN, state=Payment.State.POSTED
    )
    if currency:
        invoices = invoices.filter(currency=currency)
        payments = payments.filter(currency=currency)
    overdue = Q(kind=Invoice.Kind.CUSTOMER_INVOICE, due_date__lt=on)
    row = invoices.aggregate(
        open=Sum(
            Case(
                When(kind__in=CREDIT_KINDS, then=-F("amount_due")),
                default=F("amount_due"),
                output_field=AMOUNT,
            )
        ),
        overdue=Sum(Case(When(overdue, then=F("amount_due")), output_field=AMOUNT)),
        oldest=Min(Case(When(overdue, then=F("due_date")))),
    )
    advances = payments.aggregate(
        left=Sum(F("amount") - F("amount_allocated"), output_field=AMOUNT)
    )["left"]
    contract = None
    if contract_id is not None:
        contract = Contract.objects.filter(pk=contract_id).first()
    elif counterparty_id is not None:
        contract = contract_for(counterparty_id=counterparty_id, on=on)
    oldest = row["oldest"]
    return Exposure(
        open_receivables=row["open"] or ZERO,
        overdue_amount=row["overdue"] or ZERO,
        max_overdue_days=(on - oldest).days if oldest else 0,
        advances=advances or ZERO,
        credit_limit=contract.credit_limit if contract else None,
        overdue_days_allowed=contract.overdue_days_allowed if contract else None,
        contract_id=contract.pk if contract else None,
    )


@dataclass(frozen=True)
class CreditCheck:
    allowed: bool
    reason: str
    exposure: Exposure


def credit_check(
    *,
    amount: Decimal = ZERO,
    client_id: int | None = None,
    counterparty_id: int | None = None,
    contract_id: int | None = None,
    currency: str | None = None,
    on: date | None = None,
) -> CreditCheck:
    """Whether a new sale of `amount` fits the contract's terms: refused when
    open receivables − advances + amount exceed the credit limit, or a debt
    is overdue longer than the contract allows. Sales raises its own error
    from `reason` (or `billing.errors.CreditLimitExceeded`)."""
    exposure = credit_exposure(
        client_id=client_id,
        counterparty_id=counterparty_id,
        contract_id=contract_id,
        currency=currency,
        on=on,
    )
    allowed_days = exposure.overdue_days_allowed
    if allowed_days is not None and exposure.max_overdue_days > allowed_days:
        return CreditCheck(
            False,
            _("A debt is %(days)s days overdue; the contract allows %(allowed)s.")
            % {"days": exposure.max_overdue_days, "allowed": allowed_days},
            exposure,
        )
    limit = exposure.credit_limit
    used = exposure.open_receivables - exposure.advances + Decimal(amount)
    if limit is not None and used > limit:
        return CreditCheck(
            False,
            _("The credit limit %(limit)s would be exceeded (%(used)s).")
            % {"limit": plain(limit), "used": plain(used)},
            exposure,
        )
    return CreditCheck(True, "", exposure)


# ---------------------------------------------------------------- balances


@dataclass(frozen=True)
class Balance:
    currency: str
    receivable: Decimal = ZERO
    overdue: Decimal = ZERO
    payable: Decimal = ZERO
    advances: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return self.receivable - self.advances


def client_balance(*, client_id: int, on: date | None = None) -> list[Balance]:
    """The client's balance per currency (two queries): receivable (customer
    invoices due − credit notes due), of which overdue, and unallocated
    advances received. Largest receivable first."""
    on = on or timezone.localdate()
    rows = (
        Invoice.objects.filter(
            client_id=client_id, kind__in=RECEIVABLE_KINDS, state=Invoice.State.POSTED
        )
        .values("currency")
        .annotate(
            receivable=Sum(
                Case(
                    When(kind__in=CREDIT_KINDS, then=-F("amount_due")),
                    default=F("amount_due"),
                    output_field=AMOUNT,
                )
            ),
            overdue=Sum(
                Case(
                    When(
                        kind=Invoice.Kind.CUSTOMER_INVOICE,
                        due_date__lt=on,
                        then=F("amount_due"),
                    ),
                    output_field=AMOUNT,
                )
            ),
        )
        .order_by()
    )
    advances = (
        Payment.objects.filter(
            client_id=client_id,
            direction=Payment.Direction.IN,
            state=Payment.State.POSTED,
        )
        .values("currency")
        .annotate(left=Sum(F("amount") - F("amount_allocated"), output_field=AMOUNT))
        .order_by()
    )
    result: dict[str, dict] = {}
    for row in rows:
        result[row["currency"]] = {
            "receivable": row["receivable"] or ZERO,
            "overdue": row["overdue"] or ZERO,
        }
    for row in advances:
        if row["left"]:
            result.setdefault(row["currency"], {})["advances"] = row["left"]
    balances = [Balance(currency=code, **values) for code, values in result.items()]
    return sorted(balances, key=lambda b: (-b.receivable, b.currency))


# ---------------------------------------------------------------- ageing


def _ageing_expressions(as_of: date, credit_kinds) -> dict:
    later = (
        PaymentAllocation.objects.filter(
            invoice=OuterRef("pk"),
            payment__date__gt=as_of,
            payment__state=Payment.State.POSTED,
        )
        .order_by()
        .values("invoice")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    open_amount = (F("amount_due") + Coalesce(Subquery(later), Value(ZERO))) * Case(
        When(kind__in=credit_kinds, then=Value(-1)), default=Value(1)
    )

    def bucket(condition):
        return Coalesce(
            Sum(Case(When(condition, then=open_amount), output_field=AMOUNT)),
            Value(ZERO),
            output_field=AMOUNT,
        )

    days = timedelta
    not_credit = ~Q(kind__in=credit_kinds)
    return {
        "total": Coalesce(
            Sum(open_amount, output_field=AMOUNT), Value(ZERO), output_field=AMOUNT
        ),
        "current": bucket(
            Q(kind__in=credit_kinds) | Q(due_date__isnull=True) | Q(due_date__gte=as_of)
        ),
        "d1_30": bucket(
            not_credit & Q(due_date__lt=as_of, due_date__gte=as_of - days(30))
        ),
        "d31_60": bucket(
            not_credit
            & Q(due_date__lt=as_of - days(30), due_date__gte=as_of - days(60))
        ),
        "d61_90": bucket(
            not_credit
            & Q(due_date__lt=as_of - days(60), due_date__gte=as_of - days(90))
        ),
        "d90_plus": bucket(not_credit & Q(due_date__lt=as_of - days(90))),
    }


def receivables_ageing(
    *,
    actor,
    as_of: date | None = None,
    side: str = "receivable",
    currency: str = "",
    client_id: int | None = None,
    counterparty_id: int | None = None,
) -> list[dict]:
    """Per party and currency, what was open on `as_of` in ageing buckets by
    days overdue (current, 1–30, 31–60, 61–90, 90+), one SQL aggregate.
    `side` "receivable" (customer invoices − credit notes) or "payable"
    (supplier invoices − supplier credit notes). Open on `as_of` = due now +
    what payments dated after `as_of` paid; documents issued after it do not
    count. Largest total first; rows that net to zero are left out."""
    as_of = as_of or timezone.localdate()
    kinds = RECEIVABLE_KINDS if side == "receivable" else PAYABLE_KINDS
    qs = invoices_visible_to(actor).filter(
        kind__in=kinds, state__in=OPEN_STATES, issue_date__lte=as_of
    )
    if currency:
        qs = qs.filter(currency=currency)
    if client_id:
        qs = qs.filter(client_id=client_id)
    if counterparty_id:
        qs = qs.filter(counterparty_id=counterparty_id)
    rows = (
        qs.values(
            "client_id",
            "client__name",
            "counterparty_id",
            "counterparty__legal_name",
            "currency",
        )
        .annotate(**_ageing_expressions(as_of, CREDIT_KINDS))
        .order_by()
    )
    result = [
        {
            "client_id": row["client_id"],
            "counterparty_id": row["counterparty_id"],
            "name": row["client__name"] or row["counterparty__legal_name"] or "",
            "currency": row["currency"],
            **{key: row[key] for key in ("total", *BUCKETS)},
        }
        for row in rows
        if row["total"]
    ]
    return sorted(result, key=lambda r: (-r["total"], r["name"]))


def ageing_totals(rows: list[dict]) -> list[dict]:
    """Column totals of `receivables_ageing` rows, per currency."""
    totals: dict[str, dict] = {}
    for row in rows:
        bucket = totals.setdefault(
            row["currency"],
            {
                "currency": row["currency"],
                "total": ZERO,
                **dict.fromkeys(BUCKETS, ZERO),
            },
        )
        for key in ("total", *BUCKETS):
            bucket[key] += row[key]
    return list(totals.values())


# ---------------------------------------------------------------- payments


def payment_list(
    *,
    actor,
    search: str = "",
    direction: str = "",
    purpose_id: int | None = None,
    cash_account_id: int | None = None,
    client_id: int | None = None,
    counterparty_id: int | None = None,
    state: str = "",
    unallocated: bool = False,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Payment]:
    qs = payments_visible_to(actor).select_related(
        "purpose", "cash_account", "client", "counterparty"
    )
    if search:
        text = search.strip()[:100]
        qs = qs.filter(
            Q(number__icontains=text)
            | Q(reference__icontains=text)
            | Q(client__name__icontains=text)
            | Q(counterparty__legal_name__icontains=text)
        )
    if direction:
        qs = qs.filter(direction=direction)
    if purpose_id:
        qs = qs.filter(purpose_id=purpose_id)
    if cash_account_id:
        qs = qs.filter(cash_account_id=cash_account_id)
    if client_id:
        qs = qs.filter(client_id=client_id)
    if counterparty_id:
        qs = qs.filter(counterparty_id=counterparty_id)
    if state:
        qs = qs.filter(state=state)
    if unallocated:
        qs = qs.filter(state=Payment.State.POSTED, amount_allocated__lt=F("amount"))
    if date_from:
        qs = qs.filter(date__gte=date_from)
    if date_to:
        qs = qs.filter(date__lte=date_to)
    return qs.order_by("-date", "-id")


def payment_get(*, actor, payment_id) -> Payment:
    pk = _int(payment_id)
    found = payment_list(actor=actor).filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise NotFound(_("Payment not found."))
    return found


def payment_allocations(payment: Payment) -> QuerySet[PaymentAllocation]:
    return payment.allocations.select_related("invoice").order_by("id")


def open_invoices_for_payment(*, actor, payment: Payment) -> QuerySet[Invoice]:
    """Invoices the payment could still pay: same party, currency and a kind
    its direction settles, posted with something due; oldest due first."""
    return (
        invoices_visible_to(actor)
        .filter(
            _party_filter(payment.client_id, payment.counterparty_id),
            kind__in=SETTLES[payment.direction],
            currency=payment.currency,
            state=Invoice.State.POSTED,
            amount_due__gt=0,
        )
        .select_related("client", "counterparty")
        .order_by("due_date", "id")
    )


def payment_dynamics(
    *,
    actor,
    date_from: date,
    date_to: date,
    currency: str = "",
) -> list[dict]:
    """Money received and paid per month ([{"month", "received", "paid"}],
    every month of the period, zero when nothing moved); one query."""
    qs = payments_visible_to(actor).filter(
        state=Payment.State.POSTED, date__gte=date_from, date__lte=date_to
    )
    if currency:
        qs = qs.filter(currency=currency)
    rows = (
        qs.annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(
            received=Sum(
                Case(
                    When(direction=Payment.Direction.IN, then=F("amount")),
                    output_field=AMOUNT,
                )
            ),
            paid=Sum(
                Case(
                    When(direction=Payment.Direction.OUT, then=F("amount")),
                    output_field=AMOUNT,
                )
            ),
        )
        .order_by("month")
    )
    found = {}
    for row in rows:
        month = row["month"]
        month = month.date() if hasattr(month, "date") else month
        found[(month.year, month.month)] = row
    result = []
    year, month = date_from.year, date_from.month
    while (year, month) <= (date_to.year, date_to.month):
        row = found.get((year, month), {})
        result.append(
            {
                "month": date(year, month, 1),
                "received": row.get("received") or ZERO,
                "paid": row.get("paid") or ZERO,
            }
        )
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def payment_split(
    *, actor, date_from: date, date_to: date, by: str = "cash_account"
) -> list[dict]:
    """Received and paid per cash account (`by`="cash_account") or per
    purpose (`by`="purpose") in the period; one query."""
    qs = payments_visible_to(actor).filter(
        state=Payment.State.POSTED, date__gte=date_from, date__lte=date_to
    )
    key = "cash_account__name" if by == "cash_account" else "purpose__name"
    rows = (
        qs.values(key, "currency")
        .annotate(
            received=Coalesce(
                Sum(
                    Case(
                        When(direction=Payment.Direction.IN, then=F("amount")),
                        output_field=AMOUNT,
                    )
                ),
                Value(ZERO),
                output_field=AMOUNT,
            ),
            paid=Coalesce(
                Sum(
                    Case(
                        When(direction=Payment.Direction.OUT, then=F("amount")),
                        output_field=AMOUNT,
                    )
                ),
                Value(ZERO),
                output_field=AMOUNT,
            ),
        )
        .order_by(key, "currency")
    )
    return [
        {
            "name": row[key],
            "currency": row["currency"],
            "received": row["received"],
            "paid": row["paid"],
            "net": row["received"] - row["paid"],
        }
        for row in rows
    ]


# ---------------------------------------------------------------- settings lists


def cash_account_list(*, active_only: bool = False) -> QuerySet[CashAccount]:
    qs = CashAccount.objects.select_related("company")
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("kind", "name", "id")


def cash_account_balances() -> dict[int, Decimal]:
    """{account id: received − paid} over posted payments; one query."""
    rows = (
        Payment.objects.filter(state=Payment.State.POSTED)
        .values("cash_account_id")
        .annotate(
            balance=Sum(
                Case(
                    When(direction=Payment.Direction.OUT, then=-F("amount")),
                    default=F("amount"),
                    output_field=AMOUNT,
                )
            )
        )
        .order_by()
    )
    return {row["cash_account_id"]: row["balance"] for row in rows}


def cash_account_get(*, cash_account_id) -> CashAccount:
    pk = _int(cash_account_id)
    found = CashAccount.objects.filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise NotFound(_("Cash account not found."))
    return found


def payment_purpose_list(*, active_only: bool = False) -> QuerySet[PaymentPurpose]:
    qs = PaymentPurpose.objects.all()
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("name", "id")


def bank_statement_list() -> QuerySet[BankStatement]:
    return BankStatement.objects.select_related("cash_account", "imported_by").order_by(
        "-created_at", "-id"
    )


# ---------------------------------------------------------------- statement matching


@dataclass
class Proposal:
    """What a statement row most likely is: the invoice it pays and its
    party, and how it was found ("reference", "amount" or "")."""

    invoice_id: int | None = None
    invoice_number: str = ""
    client_id: int | None = None
    counterparty_id: int | None = None
    party_name: str = ""
    matched_by: str = ""
    candidates: list = field(default_factory=list)


def statement_proposals(*, actor, currency: str, rows) -> list[Proposal]:
    """Match statement rows (signed amounts) to open invoices: first an
    invoice number found in the description, then the exact amount due of
    one open invoice of the party named in the row. Three queries whatever
    the number of rows."""
    open_invoices = list(
        invoices_visible_to(actor)
        .filter(state=Invoice.State.POSTED, amount_due__gt=0, currency=currency)
        .select_related("client", "counterparty")
        .order_by("due_date", "id")
    )
    by_number = {inv.number.upper(): inv for inv in open_invoices if inv.number}
    names = {(row.counterparty_name or "").strip().lower() for row in rows} - {""}
    clients = {}
    counterparties = {}
    if names:
        from satu.parties.models import Counterparty

        by_name = Q(pk__in=[])
        by_legal = Q(pk__in=[])
        for name in sorted(names)[:1000]:
            by_name |= Q(name__iexact=name)
            by_legal |= Q(legal_name__iexact=name)
        visible = parties_queries.clients_visible_to(actor).filter(
            by_name, is_archived=False, merged_into=None
        )
        for client in visible.only("id", "name").order_by("id"):
            clients.setdefault(client.name.strip().lower(), client)
        found = Counterparty.objects.filter(by_legal).only("id", "legal_name")
        for cp in found.order_by("id"):
            counterparties.setdefault(cp.legal_name.strip().lower(), cp)
    proposals = []
    number_pattern = None
    if by_number:
        number_pattern = re.compile(
            "|".join(re.escape(n) for n in sorted(by_number, key=len, reverse=True)),
            re.IGNORECASE,
        )
    for row in rows:
        proposal = Proposal()
        if row.amount is None:
            proposals.append(proposal)
            continue
        direction = Payment.Direction.IN if row.amount > 0 else Payment.Direction.OUT
        kinds = SETTLES[direction]
        name = (row.counterparty_name or "").strip().lower()
        client = clients.get(name)
        cp = counterparties.get(name)
        invoice = None
        if number_pattern is not None:
            for match in number_pattern.finditer(row.description or ""):
                found = by_number.get(match.group(0).upper())
                if found is not None and found.kind in kinds:
                    invoice, proposal.matched_by = found, "reference"
                    break
        if invoice is None and (client or cp):
            same = [
                inv
                for inv in open_invoices
                if inv.kind in kinds
                and inv.amount_due == abs(row.amount)
                and (
                    (client and inv.client_id == client.pk)
                    or (cp and inv.counterparty_id == cp.pk)
                )
            ]
            if len(same) >= 1:
                invoice, proposal.matched_by = same[0], "amount"
            proposal.candidates = [inv.pk for inv in same]
        if invoice is not None:
            proposal.invoice_id = invoice.pk
            proposal.invoice_number = invoice.number
            proposal.client_id = invoice.client_id
            proposal.counterparty_id = invoice.counterparty_id
            proposal.party_name = (
                invoice.client.name
                if invoice.client_id
                else invoice.counterparty.legal_name
            )
        elif client or cp:
            proposal.client_id = client.pk if client else None
            proposal.counterparty_id = cp.pk if cp else None
            proposal.party_name = client.name if client else cp.legal_name
        proposals.append(proposal)
    return proposals
