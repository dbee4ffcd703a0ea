"""Writes of billing: contracts, invoices and credit notes, cash accounts,
payment purposes, payments with their allocations, bank statement import.

Every function is one use case, `@transaction.atomic`, audited, called alike
by the HTMX views, the API, other domains (sales, purchasing) and tests.
Locks follow `locks.py`: invoices first (pk order), then payments.
"""

import contextlib
import csv
import datetime as dt
import functools
import io
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from satu.billing import locks, queries
from satu.billing.errors import (
    BadState,
    DirectionMismatch,
    InvoiceCancelled,
    OverAllocation,
    OverCredit,
    PartyMismatch,
    StatementInvalid,
    TooManyDecimals,
)
from satu.billing.events import (
    InvoiceCancelled as InvoiceCancelledEvent,
)
from satu.billing.events import (
    InvoicePosted,
    PaymentAllocated,
    PaymentCancelled,
    PaymentPosted,
)
from satu.billing.models import (
    BankStatement,
    BankStatementLine,
    CashAccount,
    Contract,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    PaymentPurpose,
)
from satu.catalog import queries as catalog_queries
from satu.catalog import taxes
from satu.catalog.models import PriceList
from satu.core import audit, features, numbering, prepared
from satu.core.errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
    VersionConflict,
)
from satu.core.events import publish_on_commit
from satu.core.fields import AMOUNT_PLACES, QUANTITY_PLACES
from satu.core.money import (
    CurrencyMismatch,
    currency_valid,
    decimal_places,
    fits_currency,
    money_round,
)
from satu.parties import queries as parties_queries
from satu.parties import services as parties_services
from satu.parties.models import Company, Counterparty

FEATURE = "billing"
ZERO = Decimal(0)
HUNDRED = Decimal(100)
MAX_LINES = 500

INVOICE_PREFIXES = {
    Invoice.Kind.CUSTOMER_INVOICE: "INV",
    Invoice.Kind.CUSTOMER_CREDIT_NOTE: "CN",
    Invoice.Kind.SUPPLIER_INVOICE: "BILL",
    Invoice.Kind.SUPPLIER_CREDIT_NOTE: "SCN",
}
CREDIT_NOTE_KIND = {
    Invoice.Kind.CUSTOMER_INVOICE: Invoice.Kind.CUSTOMER_CREDIT_NOTE,
    Invoice.Kind.SUPPLIER_INVOICE: Invoice.Kind.SUPPLIER_CREDIT_NOTE,
}
PAYMENT_PREFIXES = {Payment.Direction.IN: "RCV", Payment.Direction.OUT: "PAY"}
PAYABLE_KINDS = queries.SETTLES
OPEN_STATES = (Invoice.State.POSTED, Invoice.State.PAID)
DEFAULT_PURPOSES = [
    ("sale", "Sale"),
    ("advance", "Advance"),
    ("refund", "Refund"),
    ("loan", "Loan"),
    ("salary", "Salary"),
    ("tax", "Tax"),
    ("other", "Other"),
]


# ---------------------------------------------------------------- helpers


_joined = threading.local()


@contextlib.contextmanager
def joined():
    """Inside the caller's transaction, `invoice_create` and `invoice_post`
    called within this block skip their own savepoint (two statements
    each). Only for a caller that lets every error of theirs propagate, so
    its whole transaction (or its own savepoint) rolls back — never one that
    catches an error and carries on in the same transaction."""
    previous = getattr(_joined, "on", False)
    _joined.on = True
    try:
        yield
    finally:
        _joined.on = previous


def _atomic(fn):
    """`transaction.atomic`; without a savepoint of its own when called
    inside another transaction within a `joined()` block."""
    atomic_fn = transaction.atomic(fn)
    joined_fn = transaction.atomic(fn, savepoint=False)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if (
            getattr(_joined, "on", False)
            and transaction.get_connection().in_atomic_block
        ):
            return joined_fn(*args, **kwargs)
        return atomic_fn(*args, **kwargs)

    return wrapper


def _require(actor, perm: str) -> None:
    """The module is on and the actor holds `perm` (actor None = the system,
    for demo loading and jobs)."""
    features.require(FEATURE)
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied()


def _check_version(obj, version: int | None) -> None:
    if version is not None and int(version) != obj.version:
        raise VersionConflict()


def _decimal(value, field: str, errors: dict, *, places: int = AMOUNT_PLACES):
    if value is None or value == "":
        errors.setdefault(field, []).append(_("This field is required."))
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(_("Enter a number."))
        return None
    if not number.is_finite():
        errors.setdefault(field, []).append(_("Enter a number."))
        return None
    if decimal_places(number) > places:
        errors.setdefault(field, []).append(
            _("At most %(n)s decimals.") % {"n": places}
        )
        return None
    if abs(number) >= Decimal(10) ** (20 - places - 1):
        errors.setdefault(field, []).append(_("The number is too large."))
        return None
    return number


def _money(value, currency: str, field: str) -> Decimal:
    """A positive amount with no more decimals than `currency` allows;
    raises ValidationFailed / TooManyDecimals on `field`."""
    errors: dict = {}
    number = _decimal(value, field, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    if number <= 0:
        raise ValidationFailed(fields={field: [_("Enter an amount above zero.")]})
    if not fits_currency(number, currency):
        raise TooManyDecimals(
            fields={
                field: [
                    _("%(currency)s amounts have at most %(n)s decimals.")
                    % {
                        "currency": currency,
                        "n": money_round(Decimal(1), currency).as_tuple().exponent * -1,
                    }
                ]
            }
        )
    return number


def _currency(value, errors: dict, field: str = "currency") -> str:
    code = (value or "").strip().upper()
    if not currency_valid(code):
        errors[field] = [_("Enter a known 3-letter currency code.")]
    return code


_COMPANY = prepared.prepared(lambda pk: Company.objects.filter(pk=pk))


def _company(company_id) -> Company:
    if company_id is not None:
        company = (
            _COMPANY.first(pk=int(company_id)) if str(company_id).isdigit() else None
        )
        if company is None:
            raise ValidationFailed(fields={"company_id": [_("No such company.")]})
        return company
    company = parties_queries.company_default()
    if company is None:
        raise ValidationFailed(_("Set up our company first (Settings → Company)."))
    return company


def _client(actor, client_id):
    if client_id is None:
        return None
    client = parties_queries.visible_client(actor, client_id)
    if client is None:
        raise NotFound(_("Client not found."))
    return client


def _counterparty(actor, counterparty_id):
    if counterparty_id is None:
        return None
    qs = (
        parties_queries.counterparties_visible_to(actor)
        if actor is not None
        else Counterparty.objects.all()
    )
    found = (
        qs.filter(pk=counterparty_id).first()
        if str(counterparty_id).isdigit()
        else None
    )
    if found is None:
        raise NotFound(_("Counterparty not found."))
    return found


def _timeline(actor, client_id, kind, summary, obj, url, data):
    if client_id:
        parties_services.timeline_record(
            client_id=client_id,
            kind=kind,
            summary=summary,
            actor=actor,
            subject_type=obj._meta.label_lower,
            subject_id=obj.pk,
            url=url,
            data=data,
        )


# ---------------------------------------------------------------- contracts

CONTRACT_FIELDS = [
    "number",
    "kind",
    "counterparty_id",
    "client_id",
    "currency",
    "price_list_id",
    "valid_from",
    "valid_to",
    "prepayment_percent",
    "payment_days",
    "credit_limit",
    "overdue_days_allowed",
    "state",
    "notes",
]


def _clean_contract(actor, data: dict, current: Contract | None) -> dict:
    errors: dict = {}
    merged = {
        name: getattr(current, name) for name in CONTRACT_FIELDS if current
    } | data
    number = (merged.get("number") or "").strip()
    if not number:
        errors["number"] = [_("This field is required.")]
    elif len(number) > 50:
        errors["number"] = [_("At most 50 characters.")]
    merged["number"] = number
    if merged.get("kind") not in Contract.Kind.values:
        errors["kind"] = [_("Choose sale or purchase.")]
    if merged.get("state", Contract.State.ACTIVE) not in Contract.State.values:
        errors["state"] = [_("Unknown state.")]
    merged["currency"] = _currency(merged.get("currency"), errors)
    if not merged.get("valid_from"):
        errors["valid_from"] = [_("This field is required.")]
    elif merged.get("valid_to") and merged["valid_to"] < merged["valid_from"]:
        errors["valid_to"] = [_("The contract cannot end before it starts.")]
    percent = merged.get("prepayment_percent")
    if percent in (None, ""):
        percent = ZERO
    percent = _decimal(percent, "prepayment_percent", errors, places=2)
    if percent is not None and not ZERO <= percent <= HUNDRED:
        errors["prepayment_percent"] = [_("Between 0 and 100.")]
    merged["prepayment_percent"] = percent
    for name in ("payment_days", "overdue_days_allowed"):
        value = merged.get(name)
        if value in (None, ""):
            merged[name] = 0 if name == "payment_days" else None
            continue
        try:
            merged[name] = int(value)
        except (TypeError, ValueError):
            errors[name] = [_("Enter a whole number.")]
            continue
        if not 0 <= merged[name] <= 3650:
            errors[name] = [_("Between 0 and 3650 days.")]
    limit = merged.get("credit_limit")
    if limit in (None, ""):
        merged["credit_limit"] = None
    else:
        limit = _decimal(limit, "credit_limit", errors)
        if limit is not None and limit < 0:
            errors["credit_limit"] = [_("The limit cannot be negative.")]
        elif (
            limit is not None
            and "currency" not in errors
            and not fits_currency(limit, merged["currency"])
        ):
            errors["credit_limit"] = [_("Too many decimals for the currency.")]
        merged["credit_limit"] = limit
    merged["notes"] = (merged.get("notes") or "")[:5000]
    if errors:
        raise ValidationFailed(_("The contract cannot be saved."), fields=errors)
    counterparty = _counterparty(actor, merged.get("counterparty_id"))
    if counterparty is None:
        raise ValidationFailed(
            fields={"counterparty_id": [_("This field is required.")]}
        )
    if merged.get("client_id") is not None:
        _client(actor, merged["client_id"])
    price_list_id = merged.get("price_list_id")
    if price_list_id is not None:
        price_list = PriceList.objects.filter(pk=price_list_id).first()
        if price_list is None:
            raise ValidationFailed(fields={"price_list_id": [_("No such price list.")]})
        if price_list.currency != merged["currency"]:
            raise CurrencyMismatch(
                _("The price list is in %(a)s, the contract in %(b)s.")
                % {"a": price_list.currency, "b": merged["currency"]},
                fields={"price_list_id": [_("Different currency.")]},
            )
    return {name: merged.get(name) for name in CONTRACT_FIELDS}


@transaction.atomic
def contract_create(
    *,
    actor,
    number: str,
    kind: str,
    counterparty_id: int,
    currency: str,
    valid_from: date,
    client_id: int | None = None,
    company_id: int | None = None,
    price_list_id: int | None = None,
    valid_to: date | None = None,
    prepayment_percent=ZERO,
    payment_days: int = 0,
    credit_limit=None,
    overdue_days_allowed: int | None = None,
    state: str = Contract.State.ACTIVE,
    notes: str = "",
) -> Contract:
    """Agree terms with a counterparty: currency, price list, prepayment %,
    payment days (the invoices' due date), credit limit and how many days a
    debt may be overdue before new sales are blocked. Needs
    billing.add_contract; ValidationFailed on bad fields, CurrencyMismatch
    when the price list is in another currency; the number is unique per
    company."""
    _require(actor, "billing.add_contract")
    data = _clean_contract(
        actor,
        {
            "number": number,
            "kind": kind,
            "counterparty_id": counterparty_id,
            "client_id": client_id,
            "currency": currency,
            "price_list_id": price_list_id,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "prepayment_percent": prepayment_percent,
            "payment_days": payment_days,
            "credit_limit": credit_limit,
            "overdue_days_allowed": overdue_days_allowed,
            "state": state,
            "notes": notes,
        },
        None,
    )
    company = _company(company_id)
    if Contract.objects.filter(company=company, number=data["number"]).exists():
        raise ValidationFailed(
            fields={"number": [_("A contract with this number exists.")]}
        )
    contract = Contract.objects.create(company=company, created_by=actor, **data)
    audit.record(actor=actor, subject=contract, action="created")
    return contract


@transaction.atomic
def contract_update(*, actor, contract_id: int, version: int | None = None, **changes):
    """Change a contract's terms (fields as in contract_create). Locks the
    contract; a stale `version` raises VersionConflict (409)."""
    _require(actor, "billing.change_contract")
    unknown = set(changes) - set(CONTRACT_FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: [_("Unknown field.")] for name in unknown})
    contract = (
        locks.contracts_for_update(queries.contracts_visible_to(actor))
        .filter(pk=contract_id)
        .first()
    )
    if contract is None:
        raise NotFound(_("Contract not found."))
    _check_version(contract, version)
    data = _clean_contract(actor, changes, contract)
    if (
        data["number"] != contract.number
        and Contract.objects.filter(company=contract.company, number=data["number"])
        .exclude(pk=contract.pk)
        .exists()
    ):
        raise ValidationFailed(
            fields={"number": [_("A contract with this number exists.")]}
        )
    before = audit.snapshot(contract, CONTRACT_FIELDS)
    for name, value in data.items():
        setattr(contract, name, value)
    contract.version += 1
    contract.save()
    audit.record(
        actor=actor,
        subject=contract,
        action="updated",
        changes=audit.diff(before, audit.snapshot(contract, CONTRACT_FIELDS)),
    )
    return contract


# ---------------------------------------------------------- cash accounts


@transaction.atomic
def cash_account_create(
    *,
    actor,
    kind: str,
    name: str,
    currency: str,
    bank_name: str = "",
    account_number: str = "",
    company_id: int | None = None,
) -> CashAccount:
    """Add a company bank account or cash desk. Needs billing.add_cashaccount."""
    _require(actor, "billing.add_cashaccount")
    errors: dict = {}
    if kind not in CashAccount.Kind.values:
        errors["kind"] = [_("Choose bank account or cash desk.")]
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("This field is required.")]
    currency = _currency(currency, errors)
    if kind == CashAccount.Kind.BANK and not (account_number or "").strip():
        errors["account_number"] = [_("A bank account needs its number.")]
    if errors:
        raise ValidationFailed(_("The account cannot be saved."), fields=errors)
    account = CashAccount.objects.create(
        company=_company(company_id),
        kind=kind,
        name=name[:100],
        currency=currency,
        bank_name=(bank_name or "").strip()[:100],
        account_number=(account_number or "").strip()[:34],
    )
    audit.record(actor=actor, subject=account, action="created")
    return account


@transaction.atomic
def cash_account_update(*, actor, cash_account_id: int, **changes) -> CashAccount:
    """Rename an account or switch it off (`name`, `bank_name`,
    `account_number`, `is_active`). Its currency never changes once it has
    payments (ValidationFailed)."""
    _require(actor, "billing.change_cashaccount")
    account = CashAccount.objects.select_for_update().filter(pk=cash_account_id).first()
    if account is None:
        raise NotFound(_("Cash account not found."))
    fields = ["name", "bank_name", "account_number", "is_active", "currency"]
    before = audit.snapshot(account, fields)
    errors: dict = {}
    for key, value in changes.items():
        if key not in fields:
            errors[key] = [_("Unknown field.")]
        elif key == "currency":
            code = _currency(value, errors)
            if code != account.currency and account.payments.exists():
                errors["currency"] = [_("The account already has payments.")]
            account.currency = code
        elif key == "is_active":
            account.is_active = bool(value)
        else:
            value = (value or "").strip()
            if key == "name" and not value:
                errors["name"] = [_("This field is required.")]
            setattr(account, key, value)
    if errors:
        raise ValidationFailed(_("The account cannot be saved."), fields=errors)
    account.save()
    audit.record(
        actor=actor,
        subject=account,
        action="updated",
        changes=audit.diff(before, audit.snapshot(account, fields)),
    )
    return account


# -------------------------------------------------------- payment purposes


@transaction.atomic
def payment_purpose_create(*, actor, code: str, name: str) -> PaymentPurpose:
    """Add a purpose to the configurable list (code unique, lower case)."""
    _require(actor, "billing.add_paymentpurpose")
    errors: dict = {}
    code = (code or "").strip().lower()
    name = (name or "").strip()
    if not re.fullmatch(r"[a-z0-9_-]{1,30}", code):
        errors["code"] = [_("Letters, digits, - and _ only (at most 30).")]
    elif PaymentPurpose.objects.filter(code=code).exists():
        errors["code"] = [_("This code is taken.")]
    if not name:
        errors["name"] = [_("This field is required.")]
    if errors:
        raise ValidationFailed(_("The purpose cannot be saved."), fields=errors)
    purpose = PaymentPurpose.objects.create(code=code, name=name[:100])
    audit.record(actor=actor, subject=purpose, action="created")
    return purpose


@transaction.atomic
def payment_purpose_update(
    *, actor, purpose_id: int, name: str | None = None, is_active: bool | None = None
) -> PaymentPurpose:
    """Rename a purpose or switch it off (its payments keep it)."""
    _require(actor, "billing.change_paymentpurpose")
    purpose = PaymentPurpose.objects.select_for_update().filter(pk=purpose_id).first()
    if purpose is None:
        raise NotFound(_("Payment purpose not found."))
    before = audit.snapshot(purpose, ["name", "is_active"])
    if name is not None:
        if not name.strip():
            raise ValidationFailed(fields={"name": [_("This field is required.")]})
        purpose.name = name.strip()[:100]
    if is_active is not None:
        purpose.is_active = bool(is_active)
    purpose.save()
    audit.record(
        actor=actor,
        subject=purpose,
        action="updated",
        changes=audit.diff(before, audit.snapshot(purpose, ["name", "is_active"])),
    )
    return purpose


# ---------------------------------------------------------------- invoices


@dataclass
class _Header:
    kind: str
    company: Company
    client: object
    counterparty: object
    contract: Contract | None
    currency: str
    issue_date: date
    due_date: date | None


def _clean_header(
    actor,
    *,
    kind,
    currency,
    client_id,
    counterparty_id,
    contract_id,
    company_id,
    issue_date,
    due_date,
) -> _Header:
    errors: dict = {}
    if kind not in Invoice.Kind.values:
        errors["kind"] = [_("Unknown kind of invoice.")]
    currency = _currency(currency, errors)
    if client_id is None and counterparty_id is None and contract_id is None:
        errors["client_id"] = [_("Choose a client or a counterparty.")]
    issue_date = issue_date or timezone.localdate()
    if due_date is not None and due_date < issue_date:
        errors["due_date"] = [_("The due date cannot be before the issue date.")]
    if errors:
        raise ValidationFailed(_("The invoice cannot be saved."), fields=errors)
    client = _client(actor, client_id)
    counterparty = _counterparty(actor, counterparty_id)
    contract = None
    if contract_id is not None:
        contract = Contract.objects.select_related("company").filter(pk=contract_id)
        contract = contract.first()
        if contract is None:
            raise NotFound(_("Contract not found."))
        wanted = (
            Contract.Kind.SALE
            if kind.startswith("customer")
            else Contract.Kind.PURCHASE
        )
        if contract.kind != wanted or contract.state != Contract.State.ACTIVE:
            raise ValidationFailed(
                fields={
                    "contract_id": [
                        _("Choose an active %(kind)s contract.")
                        % {"kind": Contract.Kind(wanted).label.lower()}
                    ]
                }
            )
        if counterparty is None:
            counterparty = contract.counterparty
        elif counterparty.pk != contract.counterparty_id:
            raise ValidationFailed(
                fields={
                    "contract_id": [_("The contract is with another counterparty.")]
                }
            )
        if client is None and contract.client_id:
            client = contract.client
        if contract.currency != currency:
            raise CurrencyMismatch(
                _("The contract is in %(a)s, the invoice in %(b)s.")
                % {"a": contract.currency, "b": currency},
                fields={"currency": [_("Different from the contract's currency.")]},
            )
        company = contract.company
        if company_id is not None and company.pk != int(company_id):
            raise ValidationFailed(
                fields={"company_id": [_("The contract is with another company.")]}
            )
    else:
        company = _company(company_id)
    if due_date is None:
        days = contract.payment_days if contract else 0
        due_date = issue_date + timedelta(days=days)
    return _Header(
        kind=kind,
        company=company,
        client=client,
        counterparty=counterparty,
        contract=contract,
        currency=currency,
        issue_date=issue_date,
        due_date=due_date,
    )


def _build_lines(lines, *, kind: str, currency: str, on: date) -> list[InvoiceLine]:
    """Unsaved InvoiceLines with amounts from `satu.catalog.taxes`; a line
    without `tax_rate` takes its product's rule (sales or purchases)."""
    if not lines:
        raise ValidationFailed(fields={"lines": [_("Add at least one line.")]})
    if len(lines) > MAX_LINES:
        raise ValidationFailed(
            fields={"lines": [_("At most %(n)s lines.") % {"n": MAX_LINES}]}
        )
    errors: dict = {}
    product_ids = {
        line.get("product_id") for line in lines if line.get("product_id") is not None
    }
    # Keyed by int, as in_bulk: a product id given as a str is not found.
    products = catalog_queries.products_by_id(
        [int(p) for p in product_ids if str(p).isdigit()]
    )
    missing_tax = [
        products[line["product_id"]]
        for line in lines
        if line.get("product_id") in products and line.get("tax_rate") is None
    ]
    applied = taxes.taxes_for(
        missing_tax,
        on=on,
        kind="sales" if kind.startswith("customer") else "purchases",
    )
    built = []
    for index, raw in enumerate(lines):
        prefix = f"lines.{index}."
        product = None
        if raw.get("product_id") is not None:
            product = products.get(raw["product_id"])
            if product is None:
                errors[prefix + "product_id"] = [_("No such product.")]
        description = (raw.get("description") or "").strip()
        if not description and product is not None:
            description = product.name
        if not description:
            errors[prefix + "description"] = [_("This field is required.")]
        quantity = _decimal(
            raw.get("quantity"), prefix + "quantity", errors, places=QUANTITY_PLACES
        )
        if quantity is not None and quantity <= 0:
            errors[prefix + "quantity"] = [_("Enter a quantity above zero.")]
        price = _decimal(raw.get("unit_price"), prefix + "unit_price", errors)
        if price is not None and price < 0:
            errors[prefix + "unit_price"] = [_("The price cannot be negative.")]
        discount = raw.get("discount_percent")
        discount = _decimal(
            ZERO if discount in (None, "") else discount,
            prefix + "discount_percent",
            errors,
            places=2,
        )
        if discount is not None and not ZERO <= discount <= HUNDRED:
            errors[prefix + "discount_percent"] = [_("Between 0 and 100.")]
        inclusive = bool(raw.get("tax_inclusive") or False)
        if raw.get("tax_rate") is not None:
            rate = _decimal(raw["tax_rate"], prefix + "tax_rate", errors, places=3)
            if rate is not None and not ZERO <= rate <= HUNDRED:
                errors[prefix + "tax_rate"] = [_("Between 0 and 100.")]
        elif product is not None:
            tax = applied[product.pk]
            rate, inclusive = tax.rate, tax.inclusive
        else:
            rate = ZERO
        if any(key.startswith(prefix) for key in errors):
            continue
        amounts = taxes.line_amounts(
            quantity=quantity,
            unit_price=price,
            currency=currency,
            rate=rate,
            inclusive=inclusive,
            discount_percent=discount,
        )
        built.append(
            InvoiceLine(
                position=index,
                product=product,
                description=description[:500],
                quantity=quantity,
                unit_price=price,
                discount_percent=discount,
                tax_rate=rate,
                tax_inclusive=inclusive,
                untaxed=amounts.untaxed,
                tax=amounts.tax,
                total=amounts.total,
                origin_line_id=raw.get("origin_line_id"),
                credited_line_id=raw.get("credited_line_id"),
            )
        )
    if errors:
        raise ValidationFailed(_("Some lines are not valid."), fields=errors)
    return built


def _set_totals(invoice: Invoice, lines: list[InvoiceLine]) -> None:
    sums = taxes.totals(lines)
    invoice.amount_untaxed = money_round(sums.untaxed, invoice.currency)
    invoice.amount_tax = money_round(sums.tax, invoice.currency)
    invoice.amount_total = invoice.amount_untaxed + invoice.amount_tax
    invoice.amount_due = invoice.amount_total - invoice.amount_paid
    invoice.amount_due -= invoice.amount_offset


@_atomic
def invoice_create(
    *,
    actor,
    kind: str,
    currency: str,
    lines: list[dict],
    client_id: int | None = None,
    counterparty_id: int | None = None,
    contract_id: int | None = None,
    company_id: int | None = None,
    origin_type: str = "",
    origin_id: int | None = None,
    issue_date: date | None = None,
    due_date: date | None = None,
    reference: str = "",
    notes: str = "",
    post: bool = False,
) -> Invoice:
    """A draft invoice (no number yet: `invoice_post` numbers it, so deleted
    drafts leave no gap) — or with `post=True` one posted at once (the same
    as invoice_post right after, without reading back what was written).
    Lines: {"product_id"?, "description", "quantity",
    "unit_price", "discount_percent"?, "tax_rate"?, "tax_inclusive"?,
    "origin_line_id"?}; amounts via `satu.catalog.taxes`, rounded per
    currency. The due date defaults to the issue date plus the contract's
    payment days. Needs billing.add_invoice; the client/counterparty must be
    visible (NotFound); CurrencyMismatch against the contract;
    ValidationFailed with `lines.N.field` keys."""
    _require(actor, "billing.add_invoice")
    header = _clean_header(
        actor,
        kind=kind,
        currency=currency,
        client_id=client_id,
        counterparty_id=counterparty_id,
        contract_id=contract_id,
        company_id=company_id,
        issue_date=issue_date,
        due_date=due_date,
    )
    built = _build_lines(
        lines, kind=header.kind, currency=header.currency, on=header.issue_date
    )
    invoice = Invoice(
        kind=header.kind,
        company=header.company,
        client=header.client,
        counterparty=header.counterparty,
        contract=header.contract,
        currency=header.currency,
        issue_date=header.issue_date,
        due_date=header.due_date,
        origin_type=(origin_type or "")[:40],
        origin_id=origin_id,
        reference=(reference or "").strip()[:100],
        notes=(notes or "")[:5000],
        created_by=actor if actor is not None and actor.pk else None,
    )
    _set_totals(invoice, built)
    if post:
        if not built:
            raise ValidationFailed(fields={"lines": [_("Add at least one line.")]})
        _number_and_post(invoice)
        _settle_state(invoice)
        invoice.version += 1
    prepared.insert([invoice])
    for line in built:
        line.invoice = invoice
    prepared.insert(built)
    audit.record(actor=actor, subject=invoice, action="created")
    if post:
        audit.record(
            actor=actor,
            subject=invoice,
            action="posted",
            changes={"number": [None, invoice.number]},
        )
        return _posted(actor, invoice, built, audited=True)
    return invoice


def _editable_invoice(actor, invoice_id, perm: str) -> Invoice:
    _require(actor, perm)
    invoice = (
        locks.invoices_for_update(queries.invoices_visible_to(actor))
        .filter(pk=invoice_id)
        .first()
        if str(invoice_id).isdigit()
        else None
    )
    if invoice is None:
        raise NotFound(_("Invoice not found."))
    return invoice


@transaction.atomic
def invoice_update(
    *,
    actor,
    invoice_id: int,
    version: int | None = None,
    lines: list[dict] | None = None,
    **changes,
) -> Invoice:
    """Change a draft (header fields of invoice_create and/or all `lines`).
    Locks the invoice; BadState unless draft; stale `version` → 409."""
    allowed = {
        "client_id",
        "counterparty_id",
        "contract_id",
        "currency",
        "issue_date",
        "due_date",
        "reference",
        "notes",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(fields={name: [_("Unknown field.")] for name in unknown})
    invoice = _editable_invoice(actor, invoice_id, "billing.add_invoice")
    _check_version(invoice, version)
    if invoice.state != Invoice.State.DRAFT or invoice.credited_invoice_id:
        raise BadState(_("Only a draft invoice can be edited."))
    current = {
        "client_id": invoice.client_id,
        "counterparty_id": invoice.counterparty_id,
        "contract_id": invoice.contract_id,
        "currency": invoice.currency,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
    }
    merged = current | {k: v for k, v in changes.items() if k in current}
    if "due_date" not in changes and (
        "contract_id" in changes or "issue_date" in changes
    ):
        merged["due_date"] = None
    header = _clean_header(
        actor, kind=invoice.kind, company_id=invoice.company_id, **merged
    )
    fields = [
        "client_id",
        "counterparty_id",
        "contract_id",
        "currency",
        "issue_date",
        "due_date",
        "reference",
        "notes",
        "amount_total",
    ]
    before = audit.snapshot(invoice, fields)
    invoice.client = header.client
    invoice.counterparty = header.counterparty
    invoice.contract = header.contract
    invoice.currency = header.currency
    invoice.issue_date = header.issue_date
    invoice.due_date = header.due_date
    if "reference" in changes:
        invoice.reference = (changes["reference"] or "").strip()[:100]
    if "notes" in changes:
        invoice.notes = (changes["notes"] or "")[:5000]
    if lines is None:
        lines = [
            {
                "product_id": line.product_id,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount_percent": line.discount_percent,
                "tax_rate": line.tax_rate,
                "tax_inclusive": line.tax_inclusive,
                "origin_line_id": line.origin_line_id,
            }
            for line in invoice.lines.all()
        ]
    built = _build_lines(
        lines, kind=invoice.kind, currency=invoice.currency, on=invoice.issue_date
    )
    invoice.lines.all().delete()
    for line in built:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(built)
    _set_totals(invoice, built)
    invoice.version += 1
    invoice.save()
    audit.record(
        actor=actor,
        subject=invoice,
        action="updated",
        changes=audit.diff(before, audit.snapshot(invoice, fields)),
    )
    return invoice


@transaction.atomic
def invoice_delete(*, actor, invoice_id: int, version: int | None = None) -> None:
    """Delete a draft (it has no number, so no gap). BadState otherwise."""
    invoice = _editable_invoice(actor, invoice_id, "billing.add_invoice")
    _check_version(invoice, version)
    if invoice.state != Invoice.State.DRAFT:
        raise BadState(_("Only a draft can be deleted; cancel a posted invoice."))
    audit.record(actor=actor, subject=invoice, action="deleted")
    invoice.delete()


def _credited_so_far(invoice_id: int, *, exclude_id=None, posted_only=False):
    """{original line id: (quantity, untaxed, tax, total)} credited by
    credit notes of the invoice that are not cancelled."""
    states = list(OPEN_STATES) if posted_only else [Invoice.State.DRAFT, *OPEN_STATES]
    qs = InvoiceLine.objects.filter(
        invoice__credited_invoice_id=invoice_id, invoice__state__in=states
    )
    if exclude_id is not None:
        qs = qs.exclude(invoice_id=exclude_id)
    rows = qs.values("credited_line_id").annotate(
        quantity=Sum("quantity"),
        untaxed=Sum("untaxed"),
        tax=Sum("tax"),
        total=Sum("total"),
    )
    return {
        row["credited_line_id"]: (
            row["quantity"],
            row["untaxed"],
            row["tax"],
            row["total"],
        )
        for row in rows
    }


def _check_credit(credit_note: Invoice, original: Invoice, lines, *, posted_only):
    credited = _credited_so_far(
        original.pk, exclude_id=credit_note.pk, posted_only=posted_only
    )
    originals = {line.pk: line for line in original.lines.all()}
    for index, line in enumerate(lines):
        source = originals.get(line.credited_line_id)
        if source is None:
            raise OverCredit(
                fields={f"lines.{index}.line_id": [_("Not a line of the invoice.")]}
            )
        done = credited.get(source.pk, (ZERO, ZERO, ZERO, ZERO))
        if line.quantity + done[0] > source.quantity or (
            line.total + done[3] > source.total
        ):
            remaining = source.quantity - done[0]
            raise OverCredit(
                fields={
                    f"lines.{index}.quantity": [
                        _("At most %(n)s can still be credited.")
                        % {"n": queries.plain(max(remaining, ZERO))}
                    ]
                }
            )


@transaction.atomic
def credit_note_create(
    *,
    actor,
    invoice_id: int,
    lines: list[dict] | None = None,
    issue_date: date | None = None,
    reason: str = "",
    post: bool = False,
) -> Invoice:
    """A draft credit note for a posted invoice: every line still creditable
    (`lines=None`) or some: [{"line_id", "quantity"}]. Never more than
    invoiced minus what non-cancelled credit notes already credit
    (OverCredit `billing.over_credit`); BadState unless the invoice is posted
    or paid. Locks the invoice. With `post=True` it is posted at once."""
    invoice = _editable_invoice(actor, invoice_id, "billing.change_invoice")
    if invoice.kind not in CREDIT_NOTE_KIND:
        raise BadState(_("A credit note cannot be credited."))
    if invoice.state not in OPEN_STATES:
        raise BadState(_("Only a posted invoice can be credited."))
    originals = {line.pk: line for line in invoice.lines.all()}
    credited = _credited_so_far(invoice.pk)
    wanted: list[tuple[InvoiceLine, Decimal]] = []
    if lines is None:
        for source in originals.values():
            remaining = source.quantity - credited.get(source.pk, (ZERO,))[0]
            if remaining > 0:
                wanted.append((source, remaining))
        if not wanted:
            raise OverCredit(_("Everything on this invoice is already credited."))
    else:
        if not lines:
            raise ValidationFailed(fields={"lines": [_("Add at least one line.")]})
        errors: dict = {}
        for index, raw in enumerate(lines):
            source = originals.get(raw.get("line_id"))
            if source is None:
                errors[f"lines.{index}.line_id"] = [_("Not a line of the invoice.")]
                continue
            quantity = _decimal(
                raw.get("quantity", source.quantity),
                f"lines.{index}.quantity",
                errors,
                places=QUANTITY_PLACES,
            )
            if quantity is not None and quantity <= 0:
                errors[f"lines.{index}.quantity"] = [_("Enter a quantity above zero.")]
            elif quantity is not None:
                wanted.append((source, quantity))
        if errors:
            raise ValidationFailed(_("Some lines are not valid."), fields=errors)
    credit_note = Invoice(
        kind=CREDIT_NOTE_KIND[invoice.kind],
        company_id=invoice.company_id,
        client_id=invoice.client_id,
        counterparty_id=invoice.counterparty_id,
        contract_id=invoice.contract_id,
        currency=invoice.currency,
        issue_date=issue_date or timezone.localdate(),
        origin_type=invoice.origin_type,
        origin_id=invoice.origin_id,
        credited_invoice=invoice,
        reference=invoice.number,
        notes=(reason or "")[:5000],
        created_by=actor if actor is not None and actor.pk else None,
    )
    credit_note.due_date = credit_note.issue_date
    built = []
    for position, (source, quantity) in enumerate(wanted):
        done = credited.get(source.pk, (ZERO, ZERO, ZERO, ZERO))
        if quantity == source.quantity - done[0]:
            # The last of a line: exactly what is left, so rounding of
            # partial credits never leaves a cent open or credits one too many.
            untaxed, tax, total = (
                source.untaxed - done[1],
                source.tax - done[2],
                source.total - done[3],
            )
        else:
            amounts = taxes.line_amounts(
                quantity=quantity,
                unit_price=source.unit_price,
                currency=invoice.currency,
                rate=source.tax_rate,
                inclusive=source.tax_inclusive,
                discount_percent=source.discount_percent,
            )
            untaxed, tax, total = amounts.untaxed, amounts.tax, amounts.total
        built.append(
            InvoiceLine(
                position=position,
                product_id=source.product_id,
                description=source.description,
                quantity=quantity,
                unit_price=source.unit_price,
                discount_percent=source.discount_percent,
                tax_rate=source.tax_rate,
                tax_inclusive=source.tax_inclusive,
                untaxed=untaxed,
                tax=tax,
                total=total,
                origin_line_id=source.origin_line_id,
                credited_line=source,
            )
        )
    _check_credit(credit_note, invoice, built, posted_only=False)
    _set_totals(credit_note, built)
    credit_note.save()
    for line in built:
        line.invoice = credit_note
    InvoiceLine.objects.bulk_create(built)
    audit.record(actor=actor, subject=credit_note, action="created")
    if post:
        return invoice_post(actor=actor, invoice_id=credit_note.pk)
    return credit_note


def _settle_state(invoice: Invoice) -> None:
    invoice.amount_due = invoice.amount_total - invoice.amount_paid
    invoice.amount_due -= invoice.amount_offset
    if invoice.state in OPEN_STATES:
        invoice.state = (
            Invoice.State.PAID if invoice.amount_due <= 0 else Invoice.State.POSTED
        )


def _invoice_url(invoice: Invoice) -> str:
    return f"/invoices/{invoice.pk}/"


def _tax_groups(lines: list[InvoiceLine]) -> tuple:
    """(rate, untaxed, tax) per tax rate, by rate, of all the invoice's
    `lines` (held by the caller: no query)."""
    groups: dict = {}
    for line in lines:
        untaxed, tax = groups.get(line.tax_rate, (ZERO, ZERO))
        groups[line.tax_rate] = (untaxed + line.untaxed, tax + line.tax)
    return tuple((rate, *groups[rate]) for rate in sorted(groups))


@_atomic
def invoice_post(*, actor, invoice_id: int, version: int | None = None) -> Invoice:
    """Post a draft: assign its number (gapless per company, kind and year of
    the issue date: `satu.core.numbering`, key `billing.<kind>/<company id>`),
    fix the amounts due, apply a credit note to the invoice it credits, append
    to the client's timeline and publish InvoicePosted on commit. Locks the
    invoice (and the credited invoice, pk order) and the number counter.
    BadState (`billing.bad_state`) unless draft; OverCredit if other credit
    notes were posted meanwhile. Needs billing.add_invoice."""
    _require(actor, "billing.add_invoice")
    if not str(invoice_id).isdigit():
        raise NotFound(_("Invoice not found."))
    found = list(
        Invoice.objects.filter(pk=invoice_id).values_list(
            "credited_invoice_id", flat=True
        )
    )
    if not found:
        raise NotFound(_("Invoice not found."))
    ids = {int(invoice_id)} | ({found[0]} if found[0] else set())
    locked = {
        inv.pk: inv
        for inv in locks.invoices_for_update(Invoice.objects.filter(pk__in=ids))
    }
    invoice = locked[int(invoice_id)]
    if not queries.invoices_visible_to(actor).filter(pk=invoice.pk).exists():
        raise NotFound(_("Invoice not found."))
    _check_version(invoice, version)
    if invoice.state != Invoice.State.DRAFT:
        raise BadState(_("This invoice is already posted."))
    lines = list(invoice.lines.all())
    if not lines:
        raise ValidationFailed(fields={"lines": [_("Add at least one line.")]})
    original = locked.get(invoice.credited_invoice_id)
    if original is not None:
        if original.state not in OPEN_STATES:
            raise BadState(_("The credited invoice is not posted."))
        _check_credit(invoice, original, lines, posted_only=True)
    _number_and_post(invoice)
    if original is not None:
        applied = min(invoice.amount_total, max(original.amount_due, ZERO))
        original.amount_offset += applied
        _settle_state(original)
        original.version += 1
        original.save()
        invoice.amount_offset = applied
    _settle_state(invoice)
    invoice.version += 1
    invoice.save()
    return _posted(actor, invoice, lines)


def _number_and_post(invoice: Invoice) -> None:
    """Number a draft (the counter row stays locked to the end of the
    transaction) and mark it posted; the caller saves it."""
    year = invoice.issue_date.year
    key = f"billing.{invoice.kind}/{invoice.company_id}"
    invoice.number = numbering.formatted(
        INVOICE_PREFIXES[invoice.kind], year, numbering.next_number(key, year)
    )
    invoice.state = Invoice.State.POSTED
    invoice.posted_at = timezone.now()
    if invoice.due_date is None:
        invoice.due_date = invoice.issue_date


def _posted(
    actor, invoice: Invoice, lines: list[InvoiceLine], *, audited: bool = False
) -> Invoice:
    """What follows posting: audit, client timeline, InvoicePosted."""
    if not audited:
        audit.record(
            actor=actor,
            subject=invoice,
            action="posted",
            changes={"number": [None, invoice.number]},
        )
    data = {
        "number": invoice.number,
        "kind": invoice.kind,
        "total": str(invoice.amount_total),
        "currency": invoice.currency,
    }
    _timeline(
        actor,
        invoice.client_id,
        "invoice.posted",
        _("%(kind)s %(number)s issued")
        % {
            "kind": invoice.get_kind_display(),
            "number": invoice.number,
        },
        invoice,
        _invoice_url(invoice),
        data,
    )
    publish_on_commit(
        InvoicePosted(
            invoice_id=invoice.pk,
            number=invoice.number,
            kind=invoice.kind,
            company_id=invoice.company_id,
            client_id=invoice.client_id,
            counterparty_id=invoice.counterparty_id,
            currency=invoice.currency,
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            amount_untaxed=invoice.amount_untaxed,
            amount_tax=invoice.amount_tax,
            amount_total=invoice.amount_total,
            origin_type=invoice.origin_type,
            origin_id=invoice.origin_id,
            credited_invoice_id=invoice.credited_invoice_id,
            taxes=_tax_groups(lines),
        )
    )
    return invoice


@transaction.atomic
def invoice_cancel(
    *, actor, invoice_id: int, version: int | None = None, reason: str = ""
) -> Invoice:
    """Cancel a posted invoice or credit note that has no payments allocated
    (its number stays used: the series keeps no gap). A cancelled credit note
    gives back what it settled on its invoice. Locks the invoice (and the
    credited one, pk order). BadState when draft (delete it instead), paid,
    with payments, or with credit notes applied; publishes InvoiceCancelled.
    Needs billing.change_invoice."""
    _require(actor, "billing.change_invoice")
    found = list(
        queries.invoices_visible_to(actor)
        .filter(pk=invoice_id if str(invoice_id).isdigit() else 0)
        .values_list("credited_invoice_id", flat=True)
    )
    if not found:
        raise NotFound(_("Invoice not found."))
    ids = {int(invoice_id)} | ({found[0]} if found[0] else set())
    locked = {
        inv.pk: inv
        for inv in locks.invoices_for_update(Invoice.objects.filter(pk__in=ids))
    }
    invoice = locked[int(invoice_id)]
    _check_version(invoice, version)
    if invoice.state == Invoice.State.DRAFT:
        raise BadState(_("A draft is not cancelled: delete it."))
    if invoice.state == Invoice.State.CANCELLED:
        raise BadState(_("This invoice is already cancelled."))
    if invoice.allocations.exists():
        raise BadState(
            _("Payments are allocated to this invoice; cancel or move them first.")
        )
    if not invoice.is_credit_note and invoice.amount_offset:
        raise BadState(_("Credit notes settle this invoice; cancel them first."))
    original = locked.get(invoice.credited_invoice_id)
    if original is not None and invoice.amount_offset:
        original.amount_offset -= invoice.amount_offset
        _settle_state(original)
        original.version += 1
        original.save()
    invoice.amount_offset = ZERO
    invoice.state = Invoice.State.CANCELLED
    invoice.amount_due = ZERO
    invoice.version += 1
    invoice.save()
    audit.record(
        actor=actor,
        subject=invoice,
        action="cancelled",
        changes={"reason": (reason or "")[:500]} if reason else None,
    )
    _timeline(
        actor,
        invoice.client_id,
        "invoice.cancelled",
        _("%(kind)s %(number)s cancelled")
        % {"kind": invoice.get_kind_display(), "number": invoice.number},
        invoice,
        _invoice_url(invoice),
        {"number": invoice.number, "kind": invoice.kind},
    )
    publish_on_commit(
        InvoiceCancelledEvent(
            invoice_id=invoice.pk,
            number=invoice.number,
            kind=invoice.kind,
            company_id=invoice.company_id,
            currency=invoice.currency,
            amount_untaxed=invoice.amount_untaxed,
            amount_tax=invoice.amount_tax,
            amount_total=invoice.amount_total,
            origin_type=invoice.origin_type,
            origin_id=invoice.origin_id,
        )
    )
    return invoice


@transaction.atomic
def invoice_send(
    *, actor, invoice_id: int, to: list[str] | str, subject: str = "", message: str = ""
) -> None:
    """E-mail a posted invoice with its PDF attached; the mail leaves after
    commit (a job renders the PDF and sends it with Django's mail backend).
    ValidationFailed on a bad address; BadState for a draft or cancelled
    invoice. Audited as "sent"."""
    from django.core.validators import validate_email

    _require(actor, "billing.view_invoice")
    invoice = queries.invoice_get(actor=actor, invoice_id=invoice_id)
    if invoice.state not in OPEN_STATES:
        raise BadState(_("Only a posted invoice can be sent."))
    addresses = [to] if isinstance(to, str) else list(to or [])
    addresses = [a.strip() for part in addresses for a in part.split(",") if a.strip()]
    if not addresses:
        raise ValidationFailed(fields={"to": [_("Enter an e-mail address.")]})
    for address in addresses:
        try:
            validate_email(address)
        except Exception:
            raise ValidationFailed(
                fields={"to": [_("“%(a)s” is not an e-mail address.") % {"a": address}]}
            ) from None
    subject = (subject or "").strip() or _("Invoice %(number)s") % {
        "number": invoice.number
    }
    audit.record(
        actor=actor,
        subject=invoice,
        action="sent",
        changes={"to": addresses},
    )
    from satu.billing.tasks import send_invoice_email

    transaction.on_commit(
        lambda: send_invoice_email.enqueue(
            invoice.pk, addresses, subject[:200], (message or "")[:10000]
        )
    )


# ---------------------------------------------------------------- payments


_INVOICES_TO_ALLOCATE = prepared.prepared(
    lambda pks, scope: locks.invoices_for_update(
        Invoice.objects.filter(
            **parties_queries.scoped({"pk__in": pks}, scope, "client__owner_id")
        )
    )
)


def _allocate(actor, payment: Payment, items: list[dict]) -> list[PaymentAllocation]:
    """Allocate `payment` (locked or new) to invoices; locks the invoices
    first (pk order). Raises before writing anything."""
    merged: dict[int, Decimal] = {}
    errors: dict = {}
    for index, item in enumerate(items):
        invoice_id = item.get("invoice_id")
        if not str(invoice_id).isdigit():
            errors[f"allocations.{index}.invoice_id"] = [_("Choose an invoice.")]
            continue
        amount = _decimal(item.get("amount"), f"allocations.{index}.amount", errors)
        if amount is None:
            continue
        if amount <= 0:
            errors[f"allocations.{index}.amount"] = [_("Enter an amount above zero.")]
            continue
        if not fits_currency(amount, payment.currency):
            raise TooManyDecimals(
                fields={
                    f"allocations.{index}.amount": [
                        _("Too many decimals for %(c)s.") % {"c": payment.currency}
                    ]
                }
            )
        merged[int(invoice_id)] = merged.get(int(invoice_id), ZERO) + amount
    if errors:
        raise ValidationFailed(_("The allocation is not valid."), fields=errors)
    if not merged:
        return []
    # The visible ones among them, locked (one statement).
    scope = queries.invoice_scope(actor)
    invoices = (
        {}
        if scope is False
        else {
            inv.pk: inv for inv in _INVOICES_TO_ALLOCATE.all(pks=[*merged], scope=scope)
        }
    )
    total = sum(merged.values(), ZERO)
    if total > payment.amount - payment.amount_allocated:
        raise OverAllocation(
            _("Only %(left)s %(currency)s of the payment is unallocated.")
            % {
                "left": queries.plain(payment.amount - payment.amount_allocated),
                "currency": payment.currency,
            },
            fields={"amount": [_("More than the payment's unallocated amount.")]},
        )
    created = []
    for invoice_id, amount in sorted(merged.items()):
        invoice = invoices.get(invoice_id)
        if invoice is None:
            raise NotFound(_("Invoice not found."))
        if invoice.state == Invoice.State.CANCELLED:
            raise InvoiceCancelled(
                _("Invoice %(number)s is cancelled; it cannot be paid.")
                % {"number": invoice.number}
            )
        if invoice.state == Invoice.State.DRAFT:
            raise BadState(_("Post the invoice before allocating payments to it."))
        if invoice.kind not in PAYABLE_KINDS[payment.direction]:
            raise DirectionMismatch()
        if invoice.currency != payment.currency:
            raise CurrencyMismatch(
                _("The payment is in %(a)s, invoice %(number)s in %(b)s.")
                % {
                    "a": payment.currency,
                    "b": invoice.currency,
                    "number": invoice.number,
                }
            )
        same_client = payment.client_id and payment.client_id == invoice.client_id
        same_counterparty = (
            payment.counterparty_id
            and payment.counterparty_id == invoice.counterparty_id
        )
        if not (same_client or same_counterparty):
            raise PartyMismatch()
        if amount > invoice.amount_due:
            raise OverAllocation(
                _("Invoice %(number)s has only %(due)s %(currency)s due.")
                % {
                    "number": invoice.number,
                    "due": queries.plain(max(invoice.amount_due, ZERO)),
                    "currency": invoice.currency,
                },
                fields={"amount": [_("More than the invoice's amount due.")]},
            )
        created.append(
            PaymentAllocation(
                payment=payment,
                invoice=invoice,
                amount=amount,
                created_by=actor if actor is not None and actor.pk else None,
            )
        )
    for allocation in created:
        invoice = allocation.invoice
        invoice.amount_paid += allocation.amount
        _settle_state(invoice)
        invoice.version += 1
        prepared.update(
            invoice, ["amount_paid", "amount_due", "state", "version", "updated_at"]
        )
    prepared.insert(created)
    payment.amount_allocated += total
    return created


def _payment_party(actor, client_id, counterparty_id):
    return _client(actor, client_id), _counterparty(actor, counterparty_id)


_PURPOSE_BY_PK = prepared.prepared(
    lambda pk: PaymentPurpose.objects.filter(is_active=True, pk=pk)
)
_PURPOSE_BY_CODE = prepared.prepared(
    lambda code: PaymentPurpose.objects.filter(is_active=True, code=code)
)
_CASH_ACCOUNT = prepared.prepared(
    lambda pk: CashAccount.objects.filter(pk=pk, is_active=True)
)


def _purpose(purpose_id, purpose_code) -> PaymentPurpose:
    if purpose_id is not None:
        found = (
            _PURPOSE_BY_PK.first(pk=int(purpose_id))
            if str(purpose_id).isdigit()
            else None
        )
    else:
        found = _PURPOSE_BY_CODE.first(code=str(purpose_code or "other"))
    if found is None:
        raise ValidationFailed(fields={"purpose": [_("Choose an active purpose.")]})
    return found


@transaction.atomic
def payment_create(
    *,
    actor,
    direction: str,
    cash_account_id: int,
    amount,
    purpose_code: str = "",
    purpose_id: int | None = None,
    currency: str | None = None,
    date: date | None = None,
    client_id: int | None = None,
    counterparty_id: int | None = None,
    reference: str = "",
    allocations: list[dict] | None = None,
) -> Payment:
    """Record money received (`direction` "in") or paid ("out") through a
    cash account, numbered RCV-/PAY-<year>-NNNN per company, and allocate it
    to invoices ([{"invoice_id", "amount"}]); what stays unallocated is an
    advance of the client/counterparty. The currency must be the account's
    and each invoice's (CurrencyMismatch `money.currency_mismatch`); amounts
    with too many decimals raise TooManyDecimals; more than due or than the
    payment raise OverAllocation; a cancelled invoice InvoiceCancelled.
    Locks the invoices (pk order). Publishes PaymentPosted on commit."""
    _require(actor, "billing.add_payment")
    errors: dict = {}
    if direction not in Payment.Direction.values:
        errors["direction"] = [_("Choose received or paid.")]
    account = (
        _CASH_ACCOUNT.first(pk=int(cash_account_id))
        if str(cash_account_id).isdigit()
        else None
    )
    if account is None:
        errors["cash_account_id"] = [_("Choose an active cash account.")]
    if errors:
        raise ValidationFailed(_("The payment cannot be saved."), fields=errors)
    if currency and currency.strip().upper() != account.currency:
        raise CurrencyMismatch(
            _("The account %(account)s is in %(a)s, not %(b)s.")
            % {"account": account.name, "a": account.currency, "b": currency},
            fields={"currency": [_("Different from the account's currency.")]},
        )
    amount = _money(amount, account.currency, "amount")
    purpose = _purpose(purpose_id, purpose_code)
    client, counterparty = _payment_party(actor, client_id, counterparty_id)
    day = date or timezone.localdate()
    key = f"billing.payment.{direction}/{account.company_id}"
    number = numbering.formatted(
        PAYMENT_PREFIXES[direction], day.year, numbering.next_number(key, day.year)
    )
    payment = Payment(
        number=number,
        company_id=account.company_id,
        direction=direction,
        purpose=purpose,
        cash_account=account,
        client=client,
        counterparty=counterparty,
        amount=amount,
        currency=account.currency,
        date=day,
        reference=(reference or "").strip()[:200],
        created_by=actor if actor is not None and actor.pk else None,
    )
    prepared.insert([payment])
    created = _allocate(actor, payment, allocations or [])
    if created:
        prepared.update(payment, ["amount_allocated"])
    audit.record(actor=actor, subject=payment, action="created")
    _timeline(
        actor,
        payment.client_id,
        "payment.received" if direction == Payment.Direction.IN else "payment.made",
        (
            _("Payment %(number)s received: %(amount)s %(currency)s")
            if direction == Payment.Direction.IN
            else _("Payment %(number)s made: %(amount)s %(currency)s")
        )
        % {
            "number": number,
            "amount": queries.plain(amount),
            "currency": payment.currency,
        },
        payment,
        f"/payments/{payment.pk}/",
        {
            "number": number,
            "amount": queries.plain(amount),
            "currency": payment.currency,
        },
    )
    publish_on_commit(
        PaymentPosted(
            payment_id=payment.pk,
            number=number,
            direction=direction,
            purpose=purpose.code,
            company_id=payment.company_id,
            cash_account_id=account.pk,
            client_id=payment.client_id,
            counterparty_id=payment.counterparty_id,
            currency=payment.currency,
            amount=amount,
            date=day,
            allocations=tuple((a.invoice_id, a.amount) for a in created),
        )
    )
    return payment


def _locked_payment(actor, payment_id, perm) -> tuple[Payment, dict[int, Invoice]]:
    """Lock the payment's allocated invoices (pk order), then the payment."""
    _require(actor, perm)
    if not str(payment_id).isdigit():
        raise NotFound(_("Payment not found."))
    visible = queries.payments_visible_to(actor).filter(pk=payment_id)
    if not visible.exists():
        raise NotFound(_("Payment not found."))
    invoice_ids = PaymentAllocation.objects.filter(payment_id=payment_id).values(
        "invoice_id"
    )
    invoices = {
        inv.pk: inv
        for inv in locks.invoices_for_update(Invoice.objects.filter(pk__in=invoice_ids))
    }
    payment = locks.payments_for_update(Payment.objects.filter(pk=payment_id)).get()
    return payment, invoices


@transaction.atomic
def payment_allocate(
    *, actor, payment_id: int, allocations: list[dict], version: int | None = None
) -> Payment:
    """Allocate an existing payment's unallocated amount (an advance) to
    invoices [{"invoice_id", "amount"}]. Locks the invoices (pk order), then
    the payment. Errors as in payment_create; stale `version` → 409."""
    _require(actor, "billing.change_payment")
    if not str(payment_id).isdigit():
        raise NotFound(_("Payment not found."))
    if not queries.payments_visible_to(actor).filter(pk=payment_id).exists():
        raise NotFound(_("Payment not found."))
    # The invoices are locked inside _allocate before the payment (house
    # order); the payment's row lock follows immediately, and its
    # unallocated amount is re-read under that lock.
    ids = sorted(
        {
            int(a["invoice_id"])
            for a in allocations
            if str(a.get("invoice_id")).isdigit()
        }
    )
    list(locks.invoices_for_update(Invoice.objects.filter(pk__in=ids)))
    payment = locks.payments_for_update(Payment.objects.filter(pk=payment_id)).get()
    _check_version(payment, version)
    if payment.state != Payment.State.POSTED:
        raise BadState(_("A cancelled payment cannot be allocated."))
    if not allocations:
        raise ValidationFailed(fields={"allocations": [_("Choose an invoice.")]})
    created = _allocate(actor, payment, allocations)
    payment.version += 1
    payment.save(update_fields=["amount_allocated", "version", "updated_at"])
    audit.record(
        actor=actor,
        subject=payment,
        action="allocated",
        changes={"allocations": [[a.invoice.number, str(a.amount)] for a in created]},
    )
    for allocation in created:
        publish_on_commit(
            PaymentAllocated(
                payment_id=payment.pk,
                invoice_id=allocation.invoice_id,
                amount=allocation.amount,
                currency=payment.currency,
                origin_type=allocation.invoice.origin_type,
                origin_id=allocation.invoice.origin_id,
            )
        )
    return payment


@transaction.atomic
def payment_deallocate(*, actor, payment_id: int, invoice_id: int) -> Payment:
    """Undo a payment's allocations to one invoice (the amount becomes
    unallocated again, the invoice is due again). Locks the invoices, then
    the payment. NotFound when there is no such allocation."""
    payment, invoices = _locked_payment(actor, payment_id, "billing.change_payment")
    allocations = list(payment.allocations.filter(invoice_id=invoice_id))
    if not allocations:
        raise NotFound(_("This payment is not allocated to that invoice."))
    amount = sum((a.amount for a in allocations), ZERO)
    invoice = invoices[int(invoice_id)]
    invoice.amount_paid -= amount
    _settle_state(invoice)
    invoice.version += 1
    invoice.save()
    payment.allocations.filter(invoice_id=invoice_id).delete()
    payment.amount_allocated -= amount
    payment.version += 1
    payment.save()
    audit.record(
        actor=actor,
        subject=payment,
        action="deallocated",
        changes={"invoice": invoice.number, "amount": str(amount)},
    )
    return payment


@transaction.atomic
def payment_cancel(*, actor, payment_id: int, version: int | None = None) -> Payment:
    """Cancel a payment entered by mistake: its allocations are removed (the
    invoices are due again) and it no longer counts anywhere. Locks the
    invoices, then the payment. BadState when already cancelled. Publishes
    PaymentCancelled."""
    payment, invoices = _locked_payment(actor, payment_id, "billing.change_payment")
    _check_version(payment, version)
    if payment.state != Payment.State.POSTED:
        raise BadState(_("This payment is already cancelled."))
    for allocation in payment.allocations.all():
        invoice = invoices[allocation.invoice_id]
        invoice.amount_paid -= allocation.amount
        _settle_state(invoice)
    for invoice in invoices.values():
        invoice.version += 1
        invoice.save()
    payment.allocations.all().delete()
    payment.amount_allocated = ZERO
    payment.state = Payment.State.CANCELLED
    payment.version += 1
    payment.save()
    audit.record(actor=actor, subject=payment, action="cancelled")
    _timeline(
        actor,
        payment.client_id,
        "payment.cancelled",
        _("Payment %(number)s cancelled") % {"number": payment.number},
        payment,
        f"/payments/{payment.pk}/",
        {"number": payment.number},
    )
    publish_on_commit(
        PaymentCancelled(
            payment_id=payment.pk,
            number=payment.number,
            direction=payment.direction,
            company_id=payment.company_id,
            cash_account_id=payment.cash_account_id,
            currency=payment.currency,
            amount=payment.amount,
        )
    )
    return payment


# ------------------------------------------------------- bank statements

STATEMENT_COLUMNS = (
    "date",
    "amount",
    "credit",
    "debit",
    "description",
    "counterparty_name",
    "counterparty_account",
)
MAX_STATEMENT_BYTES = 5 * 1024 * 1024
MAX_STATEMENT_ROWS = 5000
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y")


@dataclass
class StatementRow:
    row: int
    date: dt.date | None = None
    amount: Decimal | None = None
    description: str = ""
    counterparty_name: str = ""
    counterparty_account: str = ""
    errors: list | None = None


def statement_text(content) -> str:
    if isinstance(content, bytes):
        if len(content) > MAX_STATEMENT_BYTES:
            raise StatementInvalid(_("The file is larger than 5 MB."))
        for encoding in ("utf-8-sig", "cp1252", "latin-1"):
            try:
                return content.decode(encoding)
            except UnicodeDecodeError:
                continue
    return content


def statement_header(content) -> tuple[list[str], str]:
    """The CSV's column names and its delimiter (for the mapping step)."""
    text = statement_text(content)
    first = text.splitlines()[0] if text.strip() else ""
    if not first:
        raise StatementInvalid(_("The file is empty."))
    delimiter = max([";", ",", "\t", "|"], key=first.count)
    header = next(csv.reader([first], delimiter=delimiter))
    return [name.strip() for name in header], delimiter


def _parse_amount(text: str, decimal_separator: str) -> Decimal:
    value = (text or "").strip().replace(" ", "").replace("\u00a0", "")
    value = value.replace("Rp", "").replace("IDR", "")
    negative = value.endswith("-") or (value.startswith("(") and value.endswith(")"))
    value = value.strip("()-+") if negative else value
    thousands = "." if decimal_separator == "," else ","
    value = value.replace(thousands, "").replace(decimal_separator, ".")
    number = Decimal(value)
    if not number.is_finite():
        raise InvalidOperation
    return -number if negative else number


def _parse_date(text: str) -> date:
    text = (text or "").strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def statement_parse(
    content, *, mapping: dict[str, str], decimal_separator: str = ","
) -> list[StatementRow]:
    """Rows of a bank statement CSV. `mapping` maps our columns (date,
    amount — or credit and debit —, description, counterparty_name,
    counterparty_account) to the file's header names. Money received is
    positive, money paid negative. Each row carries its own `errors`."""
    if decimal_separator not in (",", "."):
        raise StatementInvalid(
            fields={"decimal_separator": [_("Choose a comma or a point.")]}
        )
    unknown = set(mapping) - set(STATEMENT_COLUMNS)
    if unknown:
        raise StatementInvalid(
            fields={name: [_("Unknown column.")] for name in sorted(unknown)}
        )
    if not mapping.get("date"):
        raise StatementInvalid(fields={"date": [_("Choose the date column.")]})
    if not mapping.get("amount") and not (
        mapping.get("credit") or mapping.get("debit")
    ):
        raise StatementInvalid(
            fields={"amount": [_("Choose the amount (or credit and debit) column.")]}
        )
    text = statement_text(content)
    header, delimiter = statement_header(text)
    missing = [name for key, name in mapping.items() if name and name not in header]
    if missing:
        raise StatementInvalid(
            _("The file has no column %(names)s.") % {"names": ", ".join(missing)}
        )
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    reader.fieldnames = [name.strip() for name in reader.fieldnames or []]
    rows = []
    for number, record in enumerate(reader, start=2):
        if not any((value or "").strip() for value in record.values()):
            continue
        if len(rows) >= MAX_STATEMENT_ROWS:
            raise StatementInvalid(
                _("At most %(n)s rows per file.") % {"n": MAX_STATEMENT_ROWS}
            )
        row = StatementRow(row=number, errors=[])

        def cell(key, record=record):
            name = mapping.get(key)
            return (record.get(name) or "").strip() if name else ""

        try:
            row.date = _parse_date(cell("date"))
        except ValueError:
            row.errors.append(_("The date “%(v)s” is not valid.") % {"v": cell("date")})
        try:
            if mapping.get("amount"):
                row.amount = _parse_amount(cell("amount"), decimal_separator)
            else:
                credit, debit = cell("credit"), cell("debit")
                row.amount = (
                    _parse_amount(credit, decimal_separator) if credit else ZERO
                ) - (_parse_amount(debit, decimal_separator) if debit else ZERO)
            if row.amount == 0:
                row.errors.append(_("The amount is zero."))
        except (InvalidOperation, ValueError):
            row.amount = None
            row.errors.append(
                _("The amount “%(v)s” is not a number.")
                % {"v": cell("amount") or cell("credit") or cell("debit")}
            )
        row.description = cell("description")[:500]
        row.counterparty_name = cell("counterparty_name")[:255]
        row.counterparty_account = cell("counterparty_account")[:64]
        rows.append(row)
    if not rows:
        raise StatementInvalid(_("The file has no rows."))
    return rows


@transaction.atomic
def bank_statement_import(
    *,
    actor,
    cash_account_id: int,
    lines: list[dict],
    filename: str = "",
) -> BankStatement:
    """Turn the confirmed lines of a bank statement into payments (and their
    allocations), all or nothing. Each line: {"row", "date", "amount"
    (signed: + received, − paid), "description", "counterparty_name"?,
    "counterparty_account"?, "client_id"?, "counterparty_id"?,
    "invoice_id"?, "purpose_code"?, "skip"?}. An invoice line allocates
    min(amount, due) and keeps the rest as an advance. Any row's error
    rolls everything back and raises StatementInvalid with
    `rows.<row>` keys. Locks as payment_create."""
    _require(actor, "billing.add_bankstatement")
    account = (
        CashAccount.objects.filter(pk=cash_account_id, is_active=True).first()
        if str(cash_account_id).isdigit()
        else None
    )
    if account is None:
        raise ValidationFailed(
            fields={"cash_account_id": [_("Choose an active cash account.")]}
        )
    wanted = [line for line in lines or [] if not line.get("skip")]
    if not wanted:
        raise StatementInvalid(_("No line is confirmed."))
    statement = BankStatement.objects.create(
        cash_account=account,
        filename=(filename or "")[:255],
        line_count=len(wanted),
        imported_by=actor if actor is not None and actor.pk else None,
    )
    problems: dict = {}
    for index, line in enumerate(wanted):
        row = line.get("row") or index + 1
        try:
            with transaction.atomic():
                amount = Decimal(str(line.get("amount")))
                day = line.get("date")
                if isinstance(day, str):
                    day = date.fromisoformat(day)
                direction = (
                    Payment.Direction.IN if amount > 0 else Payment.Direction.OUT
                )
                invoice_id = line.get("invoice_id")
                client_id = line.get("client_id")
                counterparty_id = line.get("counterparty_id")
                allocations = []
                if invoice_id:
                    invoice = (
                        queries.invoices_visible_to(actor).filter(pk=invoice_id).first()
                    )
                    if invoice is None:
                        raise NotFound(_("Invoice not found."))
                    if client_id is None and counterparty_id is None:
                        client_id = invoice.client_id
                        counterparty_id = invoice.counterparty_id
                    if invoice.state == Invoice.State.CANCELLED:
                        raise InvoiceCancelled(
                            _("Invoice %(number)s is cancelled; it cannot be paid.")
                            % {"number": invoice.number}
                        )
                    if invoice.amount_due <= 0:
                        raise OverAllocation(
                            _("Invoice %(number)s has nothing due.")
                            % {"number": invoice.number}
                        )
                    allocations = [
                        {
                            "invoice_id": invoice.pk,
                            "amount": min(abs(amount), max(invoice.amount_due, ZERO)),
                        }
                    ]
                    if allocations[0]["amount"] <= 0:
                        allocations = []
                purpose = line.get("purpose_code") or (
                    "sale"
                    if invoice_id
                    else "advance"
                    if client_id and direction == Payment.Direction.IN
                    else "other"
                )
                payment = payment_create(
                    actor=actor,
                    direction=direction,
                    cash_account_id=account.pk,
                    amount=abs(amount),
                    purpose_code=purpose,
                    date=day,
                    client_id=client_id,
                    counterparty_id=counterparty_id,
                    reference=(line.get("description") or "")[:200],
                    allocations=allocations,
                )
                BankStatementLine.objects.create(
                    statement=statement,
                    row=row,
                    date=day,
                    amount=amount,
                    description=(line.get("description") or "")[:500],
                    counterparty_name=(line.get("counterparty_name") or "")[:255],
                    counterparty_account=(line.get("counterparty_account") or "")[:64],
                    payment=payment,
                )
        except (InvalidOperation, TypeError, ValueError):
            problems[f"rows.{row}"] = [_("The date or amount is not valid.")]
        except (ValidationFailed, NotFound, BadState, InvoiceCancelled) as exc:
            detail = "; ".join(
                str(m) for messages in exc.fields.values() for m in messages
            )
            problems[f"rows.{row}"] = [
                f"{exc.message}" + (f" ({detail})" if detail else "")
            ]
    if problems:
        raise StatementInvalid(
            _("%(n)s lines cannot be imported; nothing was imported.")
            % {"n": len(problems)},
            fields=problems,
        )
    audit.record(
        actor=actor,
        subject=statement,
        action="imported",
        changes={"lines": len(wanted)},
    )
    return statement


# ---------------------------------------------------------------- setup


def payment_purposes_seed() -> None:
    """The default purposes (idempotent; the data migration calls the same
    list)."""
    for code, name in DEFAULT_PURPOSES:
        PaymentPurpose.objects.get_or_create(code=code, defaults={"name": name})


__all__ = [
    "bank_statement_import",
    "cash_account_create",
    "cash_account_update",
    "contract_create",
    "contract_update",
    "credit_note_create",
    "invoice_cancel",
    "invoice_create",
    "invoice_delete",
    "invoice_post",
    "invoice_send",
    "invoice_update",
    "payment_allocate",
    "payment_cancel",
    "payment_create",
    "payment_deallocate",
    "payment_purpose_create",
    "payment_purpose_update",
    "statement_header",
    "statement_parse",
]
