"""REST endpoints of billing (under /api/v1/): contracts, invoices and
credit notes (PDF, e-mail), payments with allocations, receivables ageing
and payment dynamics, cash accounts, payment purposes, bank statements.

Money travels as decimal strings, dates as ISO 8601. Endpoints parse, call
`services`/`queries`, and shape; errors are the services' DomainErrors.
"""

import datetime as dt
import json
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from satu.billing import documents, queries, services
from satu.billing.errors import StatementInvalid
from satu.core.errors import PermissionDenied

router = Router(tags=["billing"])

DecimalIn = Annotated[
    Decimal, Field(description="A decimal number, best sent as a string.")
]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
InvoiceKind = Literal[
    "customer_invoice",
    "customer_credit_note",
    "supplier_invoice",
    "supplier_credit_note",
]


def _require(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied()


def _s(value) -> str | None:
    return None if value is None else queries.plain(value)


# ------------------------------------------------------------------ schemas


class PartyRef(Schema):
    id: int
    name: str


class ContractOut(Schema):
    id: int
    number: str
    kind: str
    state: str
    company_id: int
    counterparty: PartyRef
    client: PartyRef | None
    currency: str
    price_list_id: int | None
    valid_from: dt.date
    valid_to: dt.date | None
    prepayment_percent: str
    payment_days: int
    credit_limit: str | None
    overdue_days_allowed: int | None
    notes: str
    version: int

    @staticmethod
    def resolve_counterparty(obj) -> dict:
        return {"id": obj.counterparty_id, "name": obj.counterparty.legal_name}

    @staticmethod
    def resolve_client(obj) -> dict | None:
        return {"id": obj.client_id, "name": obj.client.name} if obj.client else None

    @staticmethod
    def resolve_prepayment_percent(obj) -> str:
        return queries.plain(obj.prepayment_percent)

    @staticmethod
    def resolve_credit_limit(obj) -> str | None:
        return _s(obj.credit_limit)


class ContractIn(Schema):
    number: str = Field(min_length=1, max_length=50)
    kind: Literal["sale", "purchase"]
    counterparty_id: Id
    client_id: Id | None = None
    company_id: Id | None = None
    currency: str = Field(min_length=3, max_length=3, examples=["IDR"])
    price_list_id: Id | None = None
    valid_from: dt.date
    valid_to: dt.date | None = None
    prepayment_percent: DecimalIn = Decimal(0)
    payment_days: int = Field(0, ge=0, le=3650)
    credit_limit: DecimalIn | None = None
    overdue_days_allowed: int | None = Field(None, ge=0, le=3650)
    state: Literal["draft", "active", "closed"] = "active"
    notes: str = Field("", max_length=5000)


class ContractPatch(Schema):
    version: int | None = None
    number: str | None = Field(None, min_length=1, max_length=50)
    client_id: Id | None = None
    price_list_id: Id | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    prepayment_percent: DecimalIn | None = None
    payment_days: int | None = Field(None, ge=0, le=3650)
    credit_limit: DecimalIn | None = None
    overdue_days_allowed: int | None = Field(None, ge=0, le=3650)
    state: Literal["draft", "active", "closed"] | None = None
    notes: str | None = Field(None, max_length=5000)


class ContractFilters(Schema):
    search: str = Field("", max_length=100)
    kind: Literal["sale", "purchase", ""] = ""
    state: Literal["draft", "active", "closed", ""] = ""
    counterparty_id: Id | None = None
    client_id: Id | None = None


class LineOut(Schema):
    id: int
    product_id: int | None
    description: str
    quantity: str
    unit_price: str
    discount_percent: str
    tax_rate: str
    tax_inclusive: bool
    untaxed: str
    tax: str
    total: str
    origin_line_id: int | None
    credited_line_id: int | None

    @staticmethod
    def resolve_quantity(obj) -> str:
        return queries.plain(obj.quantity)

    @staticmethod
    def resolve_unit_price(obj) -> str:
        return queries.plain(obj.unit_price)

    @staticmethod
    def resolve_discount_percent(obj) -> str:
        return queries.plain(obj.discount_percent)

    @staticmethod
    def resolve_tax_rate(obj) -> str:
        return queries.plain(obj.tax_rate)

    @staticmethod
    def resolve_untaxed(obj) -> str:
        return queries.plain(obj.untaxed)

    @staticmethod
    def resolve_tax(obj) -> str:
        return queries.plain(obj.tax)

    @staticmethod
    def resolve_total(obj) -> str:
        return queries.plain(obj.total)


class InvoiceListOut(Schema):
    id: int
    kind: str
    number: str
    state: str
    company_id: int
    client: PartyRef | None
    counterparty: PartyRef | None
    contract_id: int | None
    currency: str
    issue_date: dt.date
    due_date: dt.date | None
    origin_type: str
    origin_id: int | None
    credited_invoice_id: int | None
    reference: str
    amount_untaxed: str
    amount_tax: str
    amount_total: str
    amount_paid: str
    amount_credited: str
    amount_due: str
    version: int

    @staticmethod
    def resolve_client(obj) -> dict | None:
        return {"id": obj.client_id, "name": obj.client.name} if obj.client else None

    @staticmethod
    def resolve_counterparty(obj) -> dict | None:
        if not obj.counterparty_id:
            return None
        return {"id": obj.counterparty_id, "name": obj.counterparty.legal_name}

    @staticmethod
    def resolve_amount_untaxed(obj) -> str:
        return queries.plain(obj.amount_untaxed)

    @staticmethod
    def resolve_amount_tax(obj) -> str:
        return queries.plain(obj.amount_tax)

    @staticmethod
    def resolve_amount_total(obj) -> str:
        return queries.plain(obj.amount_total)

    @staticmethod
    def resolve_amount_paid(obj) -> str:
        return queries.plain(obj.amount_paid)

    @staticmethod
    def resolve_amount_credited(obj) -> str:
        return queries.plain(obj.amount_offset)

    @staticmethod
    def resolve_amount_due(obj) -> str:
        return queries.plain(obj.amount_due)


class InvoiceOut(InvoiceListOut):
    notes: str
    lines: list[LineOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())


class LineIn(Schema):
    product_id: Id | None = None
    description: str = Field("", max_length=500)
    quantity: DecimalIn
    unit_price: DecimalIn
    discount_percent: DecimalIn | None = None
    tax_rate: DecimalIn | None = Field(
        None, description="Percent; empty: the product's tax rule."
    )
    tax_inclusive: bool = False
    origin_line_id: int | None = None


class InvoiceIn(Schema):
    kind: InvoiceKind = "customer_invoice"
    currency: str = Field(min_length=3, max_length=3, examples=["IDR"])
    client_id: Id | None = None
    counterparty_id: Id | None = None
    contract_id: Id | None = None
    company_id: Id | None = None
    issue_date: dt.date | None = None
    due_date: dt.date | None = Field(
        None, description="Default: issue date + the contract's payment days."
    )
    reference: str = Field("", max_length=100)
    notes: str = Field("", max_length=5000)
    lines: list[LineIn] = Field(max_length=500)
    post: bool = Field(False, description="Post (number) it at once.")


class InvoicePatch(Schema):
    version: int | None = None
    client_id: Id | None = None
    counterparty_id: Id | None = None
    contract_id: Id | None = None
    currency: str | None = Field(None, min_length=3, max_length=3)
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    reference: str | None = Field(None, max_length=100)
    notes: str | None = Field(None, max_length=5000)
    lines: list[LineIn] | None = Field(None, max_length=500)


class VersionIn(Schema):
    version: int | None = None


class CancelIn(VersionIn):
    reason: str = Field("", max_length=500)


class CreditLineIn(Schema):
    line_id: Id
    quantity: DecimalIn


class CreditNoteIn(Schema):
    lines: list[CreditLineIn] | None = Field(
        None, description="Omit to credit everything still creditable."
    )
    issue_date: dt.date | None = None
    reason: str = Field("", max_length=500)
    post: bool = False


class SendIn(Schema):
    to: list[str] = Field(min_length=1, max_length=20)
    subject: str = Field("", max_length=200)
    message: str = Field("", max_length=10000)


class InvoiceFilters(Schema):
    search: str = Field("", max_length=100)
    kind: InvoiceKind | Literal[""] = ""
    state: Literal["draft", "posted", "paid", "cancelled", ""] = ""
    client_id: Id | None = None
    counterparty_id: Id | None = None
    overdue: bool = False
    open: bool = False
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    origin_type: str = Field("", max_length=40)
    origin_id: int | None = None


class AllocationOut(Schema):
    payment_id: int
    invoice_id: int
    invoice_number: str
    amount: str

    @staticmethod
    def resolve_invoice_number(obj) -> str:
        return obj.invoice.number

    @staticmethod
    def resolve_amount(obj) -> str:
        return queries.plain(obj.amount)


class PaymentOut(Schema):
    id: int
    number: str
    direction: str
    state: str
    purpose: str
    cash_account_id: int
    cash_account: str
    client: PartyRef | None
    counterparty: PartyRef | None
    amount: str
    amount_allocated: str
    amount_unallocated: str
    currency: str
    date: dt.date
    reference: str
    version: int

    @staticmethod
    def resolve_purpose(obj) -> str:
        return obj.purpose.code

    @staticmethod
    def resolve_cash_account(obj) -> str:
        return obj.cash_account.name

    @staticmethod
    def resolve_client(obj) -> dict | None:
        return {"id": obj.client_id, "name": obj.client.name} if obj.client else None

    @staticmethod
    def resolve_counterparty(obj) -> dict | None:
        if not obj.counterparty_id:
            return None
        return {"id": obj.counterparty_id, "name": obj.counterparty.legal_name}

    @staticmethod
    def resolve_amount(obj) -> str:
        return queries.plain(obj.amount)

    @staticmethod
    def resolve_amount_allocated(obj) -> str:
        return queries.plain(obj.amount_allocated)

    @staticmethod
    def resolve_amount_unallocated(obj) -> str:
        return queries.plain(obj.amount - obj.amount_allocated)


class PaymentDetailOut(PaymentOut):
    allocations: list[AllocationOut]

    @staticmethod
    def resolve_allocations(obj) -> list:
        return list(queries.payment_allocations(obj))


class AllocationIn(Schema):
    invoice_id: Id
    amount: DecimalIn


class PaymentIn(Schema):
    direction: Literal["in", "out"]
    cash_account_id: Id
    amount: DecimalIn
    currency: str | None = Field(None, min_length=3, max_length=3)
    purpose: str = Field("", max_length=30, description="A purpose code.")
    date: dt.date | None = None
    client_id: Id | None = None
    counterparty_id: Id | None = None
    reference: str = Field("", max_length=200)
    allocations: list[AllocationIn] = Field([], max_length=200)


class AllocateIn(Schema):
    version: int | None = None
    allocations: list[AllocationIn] = Field(min_length=1, max_length=200)


class DeallocateIn(Schema):
    invoice_id: Id


class PaymentFilters(Schema):
    search: str = Field("", max_length=100)
    direction: Literal["in", "out", ""] = ""
    purpose_id: Id | None = None
    cash_account_id: Id | None = None
    client_id: Id | None = None
    counterparty_id: Id | None = None
    state: Literal["posted", "cancelled", ""] = ""
    unallocated: bool = False
    date_from: dt.date | None = None
    date_to: dt.date | None = None


class CashAccountOut(Schema):
    id: int
    company_id: int
    kind: str
    name: str
    bank_name: str
    account_number: str
    currency: str
    is_active: bool


class CashAccountIn(Schema):
    kind: Literal["bank", "cash"]
    name: str = Field(min_length=1, max_length=100)
    currency: str = Field(min_length=3, max_length=3)
    bank_name: str = Field("", max_length=100)
    account_number: str = Field("", max_length=34)
    company_id: Id | None = None


class CashAccountPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    bank_name: str | None = Field(None, max_length=100)
    account_number: str | None = Field(None, max_length=34)
    is_active: bool | None = None


class PurposeOut(Schema):
    id: int
    code: str
    name: str
    is_active: bool


class PurposeIn(Schema):
    code: str = Field(min_length=1, max_length=30)
    name: str = Field(min_length=1, max_length=100)


class PurposePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    is_active: bool | None = None


class AgeingOut(Schema):
    client_id: int | None
    counterparty_id: int | None
    name: str
    currency: str
    total: str
    current: str
    d1_30: str
    d31_60: str
    d61_90: str
    d90_plus: str


class AgeingFilters(Schema):
    as_of: dt.date | None = None
    side: Literal["receivable", "payable"] = "receivable"
    currency: str = Field("", max_length=3)
    client_id: Id | None = None
    counterparty_id: Id | None = None


class PeriodFilters(Schema):
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    currency: str = Field("", max_length=3)


class StatementOut(Schema):
    id: int
    cash_account_id: int
    filename: str
    line_count: int
    created_at: str

    @staticmethod
    def resolve_created_at(obj) -> str:
        return obj.created_at.isoformat()


class StatementLineIn(Schema):
    row: int = Field(ge=1)
    date: dt.date
    amount: DecimalIn = Field(description="+ received, − paid.")
    description: str = Field("", max_length=500)
    counterparty_name: str = Field("", max_length=255)
    counterparty_account: str = Field("", max_length=64)
    client_id: Id | None = None
    counterparty_id: Id | None = None
    invoice_id: Id | None = None
    purpose_code: str = Field("", max_length=30)
    skip: bool = False


class StatementImportIn(Schema):
    cash_account_id: Id
    filename: str = Field("", max_length=255)
    lines: list[StatementLineIn] = Field(min_length=1, max_length=5000)


class StatementPreviewForm(Schema):
    cash_account_id: Id
    mapping: str = Field(
        description='JSON: {"date": "Tanggal", "amount": "Jumlah", '
        '"description": "Keterangan", "counterparty_name": "Nama"} '
        "(or credit and debit instead of amount)."
    )
    decimal_separator: Literal[",", "."] = ","


# ------------------------------------------------------------------ contracts


@router.get("/contracts", response=list[ContractOut])
@paginate
def list_contracts(request, filters: Query[ContractFilters]):
    _require(request.auth, "billing.view_contract")
    return queries.contract_list(actor=request.auth, **filters.model_dump())


@router.post("/contracts", response={201: ContractOut})
def post_contract(request, payload: ContractIn):
    contract = services.contract_create(actor=request.auth, **payload.model_dump())
    return Status(
        201, queries.contract_get(actor=request.auth, contract_id=contract.pk)
    )


@router.get("/contracts/{contract_id}", response=ContractOut)
def get_contract(request, contract_id: int):
    return queries.contract_get(actor=request.auth, contract_id=contract_id)


@router.patch("/contracts/{contract_id}", response=ContractOut)
def patch_contract(request, contract_id: int, payload: ContractPatch):
    services.contract_update(
        actor=request.auth,
        contract_id=contract_id,
        **payload.model_dump(exclude_unset=True),
    )
    return queries.contract_get(actor=request.auth, contract_id=contract_id)


# ------------------------------------------------------------------ invoices


@router.get("/invoices", response=list[InvoiceListOut])
@paginate
def list_invoices(request, filters: Query[InvoiceFilters]):
    """Invoices and credit notes, newest first; `open` = posted with
    something due, `overdue` = open and past the due date."""
    _require(request.auth, "billing.view_invoice")
    data = filters.model_dump()
    data["open_only"] = data.pop("open")
    return queries.invoice_list(actor=request.auth, **data)


@router.post("/invoices", response={201: InvoiceOut})
def post_invoice(request, payload: InvoiceIn):
    """Create a draft (numbered when posted); `post: true` posts it at once."""
    data = payload.model_dump()
    post = data.pop("post")
    invoice = services.invoice_create(actor=request.auth, **data)
    if post:
        services.invoice_post(actor=request.auth, invoice_id=invoice.pk)
    return Status(201, queries.invoice_get(actor=request.auth, invoice_id=invoice.pk))


@router.get("/invoices/{invoice_id}", response=InvoiceOut)
def get_invoice(request, invoice_id: int):
    return queries.invoice_get(actor=request.auth, invoice_id=invoice_id)


@router.patch("/invoices/{invoice_id}", response=InvoiceOut)
def patch_invoice(request, invoice_id: int, payload: InvoicePatch):
    """Change a draft; with `version`, a concurrent change answers 409."""
    services.invoice_update(
        actor=request.auth,
        invoice_id=invoice_id,
        **payload.model_dump(exclude_unset=True),
    )
    return queries.invoice_get(actor=request.auth, invoice_id=invoice_id)


@router.delete("/invoices/{invoice_id}", response={204: None})
def delete_invoice(request, invoice_id: int):
    services.invoice_delete(actor=request.auth, invoice_id=invoice_id)
    return Status(204, None)


@router.post("/invoices/{invoice_id}/post", response=InvoiceOut)
def post_invoice_posting(request, invoice_id: int, params: Query[VersionIn]):
    """Number and post a draft (409 `billing.bad_state` if already posted);
    `?version=` guards against a concurrent change (409)."""
    services.invoice_post(
        actor=request.auth, invoice_id=invoice_id, version=params.version
    )
    return queries.invoice_get(actor=request.auth, invoice_id=invoice_id)


@router.post("/invoices/{invoice_id}/cancel", response=InvoiceOut)
def cancel_invoice(request, invoice_id: int, params: Query[CancelIn]):
    """Cancel a posted invoice without payments (`?reason=&version=`)."""
    services.invoice_cancel(
        actor=request.auth,
        invoice_id=invoice_id,
        version=params.version,
        reason=params.reason,
    )
    return queries.invoice_get(actor=request.auth, invoice_id=invoice_id)


@router.post("/invoices/{invoice_id}/credit-notes", response={201: InvoiceOut})
def post_credit_note(request, invoice_id: int, payload: CreditNoteIn):
    """Credit all (no `lines`) or some lines; 422 `billing.over_credit` when
    more than invoiced minus already credited."""
    data = payload.model_dump()
    note = services.credit_note_create(
        actor=request.auth, invoice_id=invoice_id, **data
    )
    return Status(201, queries.invoice_get(actor=request.auth, invoice_id=note.pk))


@router.post("/invoices/{invoice_id}/send", response={202: None})
def send_invoice(request, invoice_id: int, payload: SendIn):
    """E-mail the invoice with its PDF attached (sent after the request)."""
    services.invoice_send(
        actor=request.auth, invoice_id=invoice_id, **payload.model_dump()
    )
    return Status(202, None)


@router.get("/invoices/{invoice_id}/pdf", response={200: None})
def get_invoice_pdf(request, invoice_id: int):
    invoice = queries.invoice_get(actor=request.auth, invoice_id=invoice_id)
    pdf, filename, _invoice = documents.invoice_pdf(invoice_id=invoice.pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# ------------------------------------------------------------------ payments


@router.get("/payments", response=list[PaymentOut])
@paginate
def list_payments(request, filters: Query[PaymentFilters]):
    _require(request.auth, "billing.view_payment")
    return queries.payment_list(actor=request.auth, **filters.model_dump())


@router.post("/payments", response={201: PaymentDetailOut})
def post_payment(request, payload: PaymentIn):
    """Record money received/paid and allocate it; what is not allocated
    stays as an advance. 422 `money.currency_mismatch`,
    `money.too_many_decimals`, `billing.over_allocation`; 409
    `billing.invoice_cancelled`."""
    data = payload.model_dump()
    data["purpose_code"] = data.pop("purpose")
    payment = services.payment_create(actor=request.auth, **data)
    return Status(201, queries.payment_get(actor=request.auth, payment_id=payment.pk))


@router.get("/payments/{payment_id}", response=PaymentDetailOut)
def get_payment(request, payment_id: int):
    return queries.payment_get(actor=request.auth, payment_id=payment_id)


@router.post("/payments/{payment_id}/allocate", response=PaymentDetailOut)
def allocate_payment(request, payment_id: int, payload: AllocateIn):
    services.payment_allocate(
        actor=request.auth, payment_id=payment_id, **payload.model_dump()
    )
    return queries.payment_get(actor=request.auth, payment_id=payment_id)


@router.post("/payments/{payment_id}/deallocate", response=PaymentDetailOut)
def deallocate_payment(request, payment_id: int, payload: DeallocateIn):
    services.payment_deallocate(
        actor=request.auth, payment_id=payment_id, invoice_id=payload.invoice_id
    )
    return queries.payment_get(actor=request.auth, payment_id=payment_id)


@router.post("/payments/{payment_id}/cancel", response=PaymentDetailOut)
def cancel_payment(request, payment_id: int, params: Query[VersionIn]):
    """Cancel a payment: its allocations are removed (`?version=`)."""
    services.payment_cancel(
        actor=request.auth, payment_id=payment_id, version=params.version
    )
    return queries.payment_get(actor=request.auth, payment_id=payment_id)


# ------------------------------------------------------------------ receivables


def _period(filters: PeriodFilters) -> tuple[date, date]:
    today = timezone.localdate()
    date_to = filters.date_to or today
    date_from = filters.date_from or date(date_to.year - 1, date_to.month, 1)
    return date_from, date_to


@router.get("/receivables", response=list[AgeingOut])
@paginate
def list_receivables(request, filters: Query[AgeingFilters]):
    """Open amounts per party in ageing buckets (days overdue on `as_of`,
    default today): current, 1–30, 31–60, 61–90, 90+. `side=payable` for
    what we owe suppliers."""
    _require(request.auth, "billing.view_invoice")
    rows = queries.receivables_ageing(actor=request.auth, **filters.model_dump())
    return [
        {k: (_s(v) if isinstance(v, Decimal) else v) for k, v in r.items()}
        for r in rows
    ]


@router.get("/receivables/payment-dynamics", response=list[dict])
def get_payment_dynamics(request, filters: Query[PeriodFilters]):
    """Money received and paid per month (default: the last 12 months)."""
    _require(request.auth, "billing.view_payment")
    date_from, date_to = _period(filters)
    rows = queries.payment_dynamics(
        actor=request.auth,
        date_from=date_from,
        date_to=date_to,
        currency=filters.currency,
    )
    return [
        {
            "month": row["month"].isoformat()[:7],
            "received": queries.plain(row["received"]),
            "paid": queries.plain(row["paid"]),
        }
        for row in rows
    ]


@router.get("/receivables/payment-split", response=dict)
def get_payment_split(request, filters: Query[PeriodFilters]):
    """Received/paid per cash account and per purpose in the period."""
    _require(request.auth, "billing.view_payment")
    date_from, date_to = _period(filters)

    def shaped(by):
        return [
            {k: (_s(v) if isinstance(v, Decimal) else v) for k, v in row.items()}
            for row in queries.payment_split(
                actor=request.auth, date_from=date_from, date_to=date_to, by=by
            )
        ]

    return {"by_cash_account": shaped("cash_account"), "by_purpose": shaped("purpose")}


# ------------------------------------------------------------------ settings


@router.get("/cash-accounts", response=list[CashAccountOut])
@paginate
def list_cash_accounts(request, active: bool = False):
    _require(request.auth, "billing.view_cashaccount")
    return queries.cash_account_list(active_only=active)


@router.post("/cash-accounts", response={201: CashAccountOut})
def post_cash_account(request, payload: CashAccountIn):
    account = services.cash_account_create(actor=request.auth, **payload.model_dump())
    return Status(201, account)


@router.patch("/cash-accounts/{cash_account_id}", response=CashAccountOut)
def patch_cash_account(request, cash_account_id: int, payload: CashAccountPatch):
    return services.cash_account_update(
        actor=request.auth,
        cash_account_id=cash_account_id,
        **payload.model_dump(exclude_unset=True),
    )


@router.get("/payment-purposes", response=list[PurposeOut])
@paginate
def list_payment_purposes(request, active: bool = False):
    _require(request.auth, "billing.view_payment")
    return queries.payment_purpose_list(active_only=active)


@router.post("/payment-purposes", response={201: PurposeOut})
def post_payment_purpose(request, payload: PurposeIn):
    purpose = services.payment_purpose_create(
        actor=request.auth, **payload.model_dump()
    )
    return Status(201, purpose)


@router.patch("/payment-purposes/{purpose_id}", response=PurposeOut)
def patch_payment_purpose(request, purpose_id: int, payload: PurposePatch):
    return services.payment_purpose_update(
        actor=request.auth,
        purpose_id=purpose_id,
        **payload.model_dump(exclude_unset=True),
    )


# ------------------------------------------------------------------ bank statements


@router.get("/bank-statements", response=list[StatementOut])
@paginate
def list_bank_statements(request):
    _require(request.auth, "billing.view_bankstatement")
    return queries.bank_statement_list()


@router.post("/bank-statements/preview", response=dict)
def preview_bank_statement(
    request, file: File[UploadedFile], form: Form[StatementPreviewForm]
):
    """Parse a CSV with the column mapping and propose, per row, the invoice
    and party it pays (by invoice number in the text, else exact amount +
    party). Nothing is saved; send the confirmed lines to POST
    /bank-statements."""
    _require(request.auth, "billing.add_bankstatement")
    try:
        mapping = json.loads(form.mapping)
        if not isinstance(mapping, dict):
            raise ValueError
    except ValueError:
        raise StatementInvalid(
            fields={"mapping": ["A JSON object of column names."]}
        ) from None
    account = queries.cash_account_get(cash_account_id=form.cash_account_id)
    content = file.read(services.MAX_STATEMENT_BYTES + 1)
    rows = services.statement_parse(
        content, mapping=mapping, decimal_separator=form.decimal_separator
    )
    proposals = queries.statement_proposals(
        actor=request.auth, currency=account.currency, rows=rows
    )
    return {
        "filename": file.name,
        "rows": [
            {
                "row": row.row,
                "date": row.date.isoformat() if row.date else None,
                "amount": _s(row.amount),
                "description": row.description,
                "counterparty_name": row.counterparty_name,
                "counterparty_account": row.counterparty_account,
                "errors": [str(e) for e in row.errors],
                "invoice_id": proposal.invoice_id,
                "invoice_number": proposal.invoice_number,
                "client_id": proposal.client_id,
                "counterparty_id": proposal.counterparty_id,
                "party_name": proposal.party_name,
                "matched_by": proposal.matched_by,
            }
            for row, proposal in zip(rows, proposals, strict=True)
        ],
    }


@router.post("/bank-statements", response={201: StatementOut})
def post_bank_statement(request, payload: StatementImportIn):
    """Import the confirmed lines: each becomes a payment (+ allocation);
    all or nothing (422 `billing.statement_invalid` with `rows.<n>`)."""
    statement = services.bank_statement_import(
        actor=request.auth, **payload.model_dump()
    )
    return Status(201, statement)
