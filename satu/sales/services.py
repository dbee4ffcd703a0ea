"""Public writes of sales: assortment rules, quotes and sales orders.
See docs/domains/sales.md.

Every function is keyword-only with `actor` first and runs in one
transaction; bad input raises a DomainError before anything is written (or
inside the transaction, which rolls back). Stock and money move through
inventory's and billing's services in the same transaction (direct calls).

Locking order: SalesOrder / Quote (pk order, `locks.py`) → what inventory
and billing lock (stock levels, counters, invoices).

Lines come in as dicts: {"product_id", "quantity", "unit"? (code, default
the product's base unit), "unit_price"? (default: `price_for`, explained),
"discount_percent"?, "description"?}. Lines are validated and priced in a
fixed number of queries whatever their count (one for products, one for
their units, one or two for taxes, and the assortment), except prices
looked up from price lists (two queries a line without `unit_price`).
"""

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from satu.catalog import queries as catalog_queries
from satu.catalog import taxes as catalog_taxes
from satu.catalog.models import Category, Product
from satu.core import audit, features, numbering
from satu.core.errors import (
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    VersionConflict,
)
from satu.core.events import publish_on_commit
from satu.core.money import currency_precision, fits_currency, money_round
from satu.core.prepared import deferred_inserts, insert, prepared, update
from satu.inventory import queries as inventory_queries
from satu.inventory import services as inventory_services
from satu.inventory.errors import LotRequired
from satu.parties import queries as parties_queries
from satu.parties import services as parties_services
from satu.parties.models import ClientGroup
from satu.sales import locks
from satu.sales.errors import (
    BadState,
    CancelRefused,
    CreditLimitExceeded,
    CurrencyMismatch,
    InvalidPrice,
    NothingToDo,
    OverInvoicing,
    OverShipment,
    ReversalRequired,
)
from satu.sales.events import (
    QuoteAccepted,
    QuoteSent,
    SalesOrderCancelled,
    SalesOrderConfirmed,
)
from satu.sales.models import (
    AssortmentRule,
    Quote,
    QuoteLine,
    SalesOrder,
    SalesOrderLine,
)

ORDER_ORIGIN = "sales.order"
QUOTE_VALID_DAYS = 30
ZERO = Decimal(0)
HUNDRED = Decimal(100)
MAX_LINES = 500
OPEN_ORDER_STATES = (SalesOrder.State.CONFIRMED, SalesOrder.State.PROCESSING)


# ------------------------------------------------------------------ plumbing


class _Lazy:
    """Billing is imported on first use, so sales loads while billing's
    modules are still being written (same layer rules either way)."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        import importlib

        return getattr(importlib.import_module(self._name), attr)


billing_queries = _Lazy("satu.billing.queries")
billing_services = _Lazy("satu.billing.services")


def _begin(actor, perm: str) -> None:
    features.require("sales")
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied()


def _check_version(obj, version) -> None:
    if version is not None and int(version) != obj.version:
        raise VersionConflict()


def _actor_id(actor):
    return actor.pk if actor is not None and actor.pk else None


def _pk(value, message) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound(message) from None


_URL_PK = 987654321
_url_templates: dict = {}


def _url(name: str, pk: int) -> str:
    """reverse(name, args=[pk]), resolved once per URL configuration."""
    key = (name, get_urlconf(), get_script_prefix())
    template = _url_templates.get(key)
    if template is None:
        try:
            template = reverse(name, args=[_URL_PK])
        except Exception:  # noqa: BLE001 - screens may be switched off in tests
            return ""
        _url_templates[key] = template
    return template.replace(str(_URL_PK), str(pk))


def _money_text(amount: Decimal, currency: str) -> str:
    return f"{money_round(amount, currency):,.{currency_precision(currency)}f}"


# ------------------------------------------------------------------ assortment


_ASSORTMENT = prepared(
    lambda: AssortmentRule.objects.filter(is_active=True).values_list(
        "product_id", "category_id", "warehouse_id", "client_group_id"
    )
)


def assortment_check(*, client, warehouse_id, products) -> dict[int, str]:
    """{product_id: warning} for the products no active assortment rule
    offers in `warehouse_id` to `client`'s groups. No active rule at all
    means the assortment is not in use: nothing warns. Two to four queries
    whatever the number of products."""
    rules = _ASSORTMENT.all()
    if not rules:
        return {}
    group_ids = set()
    if client is not None and any(r[3] for r in rules):
        group_ids = set(catalog_queries.client_group_ids(client))
    parents = {}
    if any(r[1] for r in rules):
        parents = dict(Category.objects.values_list("id", "parent_id"))
    applicable = [
        r
        for r in rules
        if (r[2] is None or r[2] == warehouse_id)
        and (r[3] is None or r[3] in group_ids)
    ]
    product_ids = {r[0] for r in applicable if r[0]}
    category_ids = {r[1] for r in applicable if r[1]}
    warnings = {}
    for product in products:
        if product.pk in product_ids:
            continue
        category_id, seen, found = product.category_id, set(), False
        while category_id and category_id not in seen:
            if category_id in category_ids:
                found = True
                break
            seen.add(category_id)
            category_id = parents.get(category_id)
        if not found:
            warnings[product.pk] = _(
                "%(sku)s is not in the assortment for this warehouse and client."
            ) % {"sku": product.sku}
    return warnings


@transaction.atomic
def assortment_rule_create(
    *,
    actor,
    product_id=None,
    category_id=None,
    warehouse_id=None,
    client_group_id=None,
    note: str = "",
) -> AssortmentRule:
    """Offer a product (or a category with its sub-categories) in a
    warehouse/outlet (None: everywhere) to a client group (None: everyone).
    Raises ValidationFailed (neither or both of product and category,
    unknown references), PermissionDenied without `sales.add_assortmentrule`."""
    _begin(actor, "sales.add_assortmentrule")
    errors = {}
    if bool(product_id) == bool(category_id):
        errors["product_id"] = [_("Choose either a product or a category.")]
    if product_id and not Product.objects.filter(pk=product_id).exists():
        errors["product_id"] = [_("Unknown product.")]
    if category_id and not Category.objects.filter(pk=category_id).exists():
        errors["category_id"] = [_("Unknown category.")]
    if warehouse_id:
        try:
            inventory_queries.warehouse_get(warehouse_id=warehouse_id)
        except NotFound:
            errors["warehouse_id"] = [_("Unknown warehouse.")]
    if (
        client_group_id
        and not parties_queries.client_groups().filter(pk=client_group_id).exists()
    ):
        errors["client_group_id"] = [_("Unknown client group.")]
    if len(str(note or "")) > 200:
        errors["note"] = [_("At most %(n)d characters.") % {"n": 200}]
    if errors:
        raise ValidationFailed(fields=errors)
    rule = AssortmentRule.objects.create(
        product_id=product_id or None,
        category_id=category_id or None,
        warehouse_id=warehouse_id or None,
        client_group_id=client_group_id or None,
        note=str(note or "").strip(),
    )
    audit.record(actor=actor, subject=rule, action="created")
    return rule


@transaction.atomic
def assortment_rule_remove(*, actor, rule_id) -> None:
    """Deactivate a rule (kept for the audit trail)."""
    _begin(actor, "sales.change_assortmentrule")
    rule = AssortmentRule.objects.filter(pk=_pk(rule_id, _("Not found."))).first()
    if rule is None:
        raise NotFound()
    if rule.is_active:
        rule.is_active = False
        rule.save(update_fields=["is_active", "updated_at"])
        audit.record(actor=actor, subject=rule, action="archived")


# ------------------------------------------------------------------ lines


@dataclass
class _Line:
    product: Product
    description: str
    quantity: Decimal
    unit: str
    factor: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    tax: catalog_taxes.AppliedTax
    amounts: catalog_taxes.LineAmounts
    explanation: str
    warning: str

    def fields(self, position: int) -> dict:
        return {
            "position": position,
            "product": self.product,
            "description": self.description or self.product.name,
            "quantity": self.quantity,
            "unit": self.unit,
            "factor": self.factor,
            "unit_price": self.unit_price,
            "discount_percent": self.discount_percent,
            "tax_rule_id": self.tax.rule_id,
            "tax_name": self.tax.name,
            "tax_rate": self.tax.rate,
            "tax_inclusive": self.tax.inclusive,
            "untaxed": self.amounts.untaxed,
            "tax": self.amounts.tax,
            "total": self.amounts.total,
            "price_explanation": self.explanation[:300],
            "assortment_warning": self.warning[:300],
        }


def _decimal(value, errors, field, message) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[field] = [message]
        return None
    if isinstance(value, (bool, float)) or not number.is_finite():
        errors[field] = [message]
        return None
    return number


def _clean_currency(value, errors) -> str:
    try:
        return catalog_queries.clean_currency(value)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        return ""


def build_lines(
    *,
    client,
    currency: str,
    on_date: date,
    lines,
    warehouse_id=None,
    price_list_id: int | None = None,
) -> list[_Line]:
    """Validate, price and tax `lines` (see the module docstring). Raises
    ValidationFailed keyed `lines.<i>.<field>` (bad quantity, unknown unit,
    price with too many decimals: `sales.invalid_price`, no price)."""
    if not isinstance(lines, list | tuple) or not lines:
        raise ValidationFailed(fields={"lines": [_("Add at least one line.")]})
    if len(lines) > MAX_LINES:
        raise ValidationFailed(
            fields={"lines": [_("At most %(n)d lines.") % {"n": MAX_LINES}]}
        )
    errors: dict = {}
    ids = []
    for i, row in enumerate(lines):
        try:
            ids.append(int(row.get("product_id")))
        except (TypeError, ValueError, AttributeError):
            errors[f"lines.{i}.product_id"] = [_("Choose a product.")]
            ids.append(None)
    products = catalog_queries.products_with_units([i for i in ids if i])
    price_error = None
    cleaned = []
    for i, row in enumerate(lines):
        if ids[i] is None:
            continue
        product = products.get(ids[i])
        if product is None or not product.is_active:
            errors[f"lines.{i}.product_id"] = [_("Unknown or archived product.")]
            continue
        try:
            quantity = catalog_queries.clean_quantity(
                row.get("quantity"), field=f"lines.{i}.quantity"
            )
        except ValidationFailed as exc:
            errors.update(exc.fields)
            quantity = None
        factors = catalog_queries.unit_factors(product)
        unit = str(row.get("unit") or product.base_unit.code).strip().lower()
        if unit not in factors:
            errors[f"lines.{i}.unit"] = [
                _("%(product)s is not counted in “%(unit)s”; use one of: %(units)s.")
                % {
                    "product": product.sku,
                    "unit": unit,
                    "units": ", ".join(sorted(factors)),
                }
            ]
            continue
        discount = _decimal(
            row.get("discount_percent"),
            errors,
            f"lines.{i}.discount_percent",
            _("Enter a percentage from 0 to 100."),
        )
        if discount is not None and not (ZERO <= discount <= HUNDRED):
            errors[f"lines.{i}.discount_percent"] = [
                _("Enter a percentage from 0 to 100.")
            ]
        price = _decimal(
            row.get("unit_price"),
            errors,
            f"lines.{i}.unit_price",
            _("Enter a number."),
        )
        if price is not None:
            if price < 0:
                errors[f"lines.{i}.unit_price"] = [_("The price cannot be negative.")]
            elif currency and not fits_currency(price, currency):
                price_error = f"lines.{i}.unit_price"
                errors[price_error] = [
                    _("%(currency)s prices have at most %(n)d decimals.")
                    % {"currency": currency, "n": currency_precision(currency)}
                ]
        description = str(row.get("description") or "").strip()
        if len(description) > 300:
            errors[f"lines.{i}.description"] = [
                _("At most %(n)d characters.") % {"n": 300}
            ]
        cleaned.append((i, product, quantity, unit, factors[unit], price, discount))
    if errors:
        if price_error and len(errors) == 1:
            raise InvalidPrice(fields=errors)
        raise ValidationFailed(fields=errors)
    applied = catalog_taxes.taxes_for([c[1] for c in cleaned], on=on_date, kind="sales")
    warnings = assortment_check(
        client=client, warehouse_id=warehouse_id, products=[c[1] for c in cleaned]
    )
    wanted = [c for c in cleaned if c[5] is None]
    quotes = dict(
        zip(
            [c[0] for c in wanted],
            catalog_queries.prices_for(
                client=client,
                requests=[(c[1], c[2], c[3]) for c in wanted],
                on_date=on_date,
                currency=currency,
                price_list_id=price_list_id,
            )
            if wanted
            else [],
            strict=True,
        )
    )
    result = []
    for i, product, quantity, unit, factor, price, discount in cleaned:
        explanation = ""
        if price is None:
            quote = quotes[i]
            if isinstance(quote, DomainError):
                errors[f"lines.{i}.unit_price"] = [
                    str(quote.message) + " " + _("Enter the price.")
                ]
                continue
            price = quote.gross_price
            if discount is None:
                discount = quote.discount_percent
            explanation = quote.explanation
        discount = discount if discount is not None else ZERO
        tax = applied[product.pk]
        amounts = catalog_taxes.line_amounts(
            quantity=quantity,
            unit_price=price,
            currency=currency,
            rate=tax.rate,
            inclusive=tax.inclusive,
            discount_percent=discount,
        )
        result.append(
            _Line(
                product=product,
                description=str(lines[i].get("description") or "").strip(),
                quantity=quantity,
                unit=unit,
                factor=Decimal(factor.numerator) / Decimal(factor.denominator),
                unit_price=price,
                discount_percent=discount,
                tax=tax,
                amounts=amounts,
                explanation=explanation,
                warning=warnings.get(product.pk, ""),
            )
        )
    if errors:
        raise ValidationFailed(fields=errors)
    return result


def _totals(document, built: list[_Line]) -> None:
    document.untaxed = sum((b.amounts.untaxed for b in built), ZERO)
    document.tax = sum((b.amounts.tax for b in built), ZERO)
    document.total = sum((b.amounts.total for b in built), ZERO)


def _warehouse_id(warehouse_id, errors, *, required: bool):
    if not warehouse_id:
        if not required:
            return None
        default = inventory_queries.warehouse_default()
        if default is None:
            errors["warehouse_id"] = [_("Create a warehouse first.")]
            return None
        return default.pk
    try:
        pk = int(warehouse_id)
    except (TypeError, ValueError):
        pk = None
    active = inventory_queries.warehouse_active(warehouse_id=pk) if pk else None
    if active is None:
        errors["warehouse_id"] = [_("Unknown warehouse.")]
        return None
    if not active:
        errors["warehouse_id"] = [_("This warehouse is archived.")]
        return None
    return pk


def _date(value, errors, field) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors[field] = [_("Enter a date as YYYY-MM-DD.")]
        return None


_UNSET = object()


def _delivery_date(value, errors, field, order_date: date) -> date | None:
    """A delivery date (date or ISO string, empty: none) not before the
    order's date; errors keyed `field`."""
    if isinstance(value, datetime):
        value = value.date()
    if value is not None and not isinstance(value, date | str):
        errors[field] = [_("Enter a date as YYYY-MM-DD.")]
        return None
    day = _date(value.strip() if isinstance(value, str) else value, errors, field)
    if day is not None and order_date is not None and day < order_date:
        errors[field] = [
            _("The delivery date cannot be before the order date (%(date)s).")
            % {"date": order_date.isoformat()}
        ]
        return None
    return day


def _line_delivery_dates(lines, errors, order_date: date) -> list[date | None]:
    """Each line's own delivery date (`lines.<i>.delivery_date`), None when
    it has none (the order's applies). Malformed rows are left to
    build_lines."""
    if not isinstance(lines, list | tuple):
        return []
    return [
        _delivery_date(
            row.get("delivery_date"), errors, f"lines.{i}.delivery_date", order_date
        )
        if isinstance(row, dict)
        else None
        for i, row in enumerate(lines)
    ]


def _client(actor, client_id):
    """The visible client with its groups (for prices and the assortment);
    `parties_queries.client_get` without the joins a document does not use.
    Raises NotFound."""
    try:
        pk = int(client_id)
    except (TypeError, ValueError):
        raise NotFound(_("Client not found.")) from None
    client = parties_queries.visible_client(actor, pk) if actor is not None else None
    if client is None:
        raise NotFound(_("Client not found."))
    # As prefetch_related("groups") would (catalog.queries.client_group_ids).
    client._prefetched_objects_cache = {"groups": _CLIENT_GROUPS.all(client_id=pk)}
    return client


_CLIENT_GROUPS = prepared(
    lambda client_id: ClientGroup.objects.filter(clients__pk=client_id)
)


def _deal(actor, deal_id):
    from satu.crm import queries as crm_queries

    return crm_queries.deal_get(actor=actor, deal_id=deal_id)


# ------------------------------------------------------------------ quotes


def _locked_quote(actor, quote_id, version=None) -> Quote:
    from satu.sales import queries

    visible = queries.quotes_visible_to(actor)
    quote = locks.quotes_for_update(
        visible.filter(pk=_pk(quote_id, _("Quote not found.")))
    ).first()
    if quote is None:
        raise NotFound(_("Quote not found."))
    _check_version(quote, version)
    return quote


def _quote_timeline(actor, quote: Quote, kind: str, summary: str) -> None:
    parties_services.timeline_record(
        client_id=quote.client_id,
        kind=kind,
        summary=summary,
        actor=actor,
        subject_type="sales.quote",
        subject_id=quote.pk,
        url=_url("quote_detail", quote.pk),
        data={
            "number": quote.number,
            "total": _money_text(quote.total, quote.currency),
            "currency": quote.currency,
        },
    )


@transaction.atomic
def quote_create(
    *,
    actor,
    client_id=None,
    deal_id=None,
    currency: str | None = None,
    lines: list | None = None,
    issue_date=None,
    valid_until=None,
    warehouse_id=None,
    note: str = "",
) -> Quote:
    """Create a draft quote for a client, or from a deal (its client and
    currency; its product lines when `lines` is not given). Prices come from
    `price_for` unless given, taxes from the tax rules, totals rounded per
    currency; lines outside the assortment carry a warning. Numbered
    Q-<year>-NNNN (locks the counter). Raises ValidationFailed,
    InvalidPrice, NotFound (client/deal not visible), PermissionDenied."""
    _begin(actor, "sales.add_quote")
    deal = _deal(actor, deal_id) if deal_id else None
    if deal is not None:
        client = _client(actor, deal.client_id)
        currency = currency or deal.currency
        if lines is None:
            from satu.crm import queries as crm_queries

            lines = [
                {
                    "product_id": dl.product_id,
                    "quantity": dl.quantity,
                    "unit": dl.unit or None,
                    "unit_price": dl.price,
                    "description": dl.description,
                }
                for dl in crm_queries.deal_lines(deal=deal)
                if dl.product_id and not dl.dropped
            ]
    elif client_id:
        client = _client(actor, client_id)
    else:
        raise ValidationFailed(fields={"client_id": [_("Choose a client.")]})
    company = parties_queries.company_default()
    errors: dict = {}
    currency = _clean_currency(
        currency or (company.currency if company else "IDR"), errors
    )
    today = timezone.localdate()
    issue = _date(issue_date, errors, "issue_date") or today
    valid = _date(valid_until, errors, "valid_until") or (
        issue + timedelta(days=QUOTE_VALID_DAYS)
    )
    if valid < issue:
        errors["valid_until"] = [_("The quote cannot expire before its date.")]
    wh = _warehouse_id(warehouse_id, errors, required=False)
    if errors:
        raise ValidationFailed(fields=errors)
    built = build_lines(
        client=client,
        currency=currency,
        on_date=issue,
        lines=lines or [],
        warehouse_id=wh,
    )
    n = numbering.next_number("sales.quote", issue.year)
    quote = Quote(
        number=numbering.formatted("Q", issue.year, n),
        client=client,
        deal=deal,
        company=company,
        warehouse_id=wh,
        currency=currency,
        issue_date=issue,
        valid_until=valid,
        note=str(note or "").strip(),
        created_by_id=_actor_id(actor),
    )
    _totals(quote, built)
    quote.save()
    QuoteLine.objects.bulk_create(
        [QuoteLine(quote=quote, **b.fields(p)) for p, b in enumerate(built, 1)]
    )
    audit.record(actor=actor, subject=quote, action="created")
    _quote_timeline(actor, quote, "sales.quote_created", quote.number)
    return quote


@transaction.atomic
def quote_update(
    *,
    actor,
    quote_id,
    version=None,
    lines: list | None = None,
    valid_until=None,
    warehouse_id=None,
    note: str | None = None,
) -> Quote:
    """Change a draft quote (lines are replaced when given). Locks the quote.
    Raises BadState (not a draft), VersionConflict, ValidationFailed."""
    _begin(actor, "sales.change_quote")
    quote = _locked_quote(actor, quote_id, version)
    if quote.state != Quote.State.DRAFT:
        raise BadState(_("Only a draft quote can be changed."))
    errors: dict = {}
    before = audit.snapshot(quote, ["valid_until", "note", "total", "warehouse_id"])
    if valid_until is not None:
        quote.valid_until = _date(valid_until, errors, "valid_until")
        if quote.valid_until and quote.valid_until < quote.issue_date:
            errors["valid_until"] = [_("The quote cannot expire before its date.")]
    if warehouse_id is not None:
        quote.warehouse_id = _warehouse_id(warehouse_id, errors, required=False)
    if note is not None:
        quote.note = str(note).strip()
    if errors:
        raise ValidationFailed(fields=errors)
    if lines is not None:
        built = build_lines(
            client=quote.client,
            currency=quote.currency,
            on_date=quote.issue_date,
            lines=lines,
            warehouse_id=quote.warehouse_id,
        )
        QuoteLine.objects.filter(quote=quote).delete()
        QuoteLine.objects.bulk_create(
            [QuoteLine(quote=quote, **b.fields(p)) for p, b in enumerate(built, 1)]
        )
        _totals(quote, built)
    quote.version += 1
    quote.save()
    audit.record(
        actor=actor,
        subject=quote,
        action="updated",
        changes=audit.diff(
            before,
            audit.snapshot(quote, ["valid_until", "note", "total", "warehouse_id"]),
        ),
    )
    return quote


def quote_pdf(*, quote: Quote) -> bytes:
    """The quote as PDF bytes (document "sales.quote", editable template)."""
    from satu.core import documents
    from satu.sales import queries

    return documents.render_pdf("sales.quote", queries.quote_document_context(quote))


def _recipients(to) -> list[str]:
    items = to if isinstance(to, list | tuple) else str(to or "").split(",")
    result = []
    for item in items:
        address = str(item).strip()
        if not address:
            continue
        try:
            validate_email(address)
        except DjangoValidationError:
            raise ValidationFailed(
                fields={"to": [_("“%(a)s” is not an e-mail address.") % {"a": address}]}
            ) from None
        result.append(address)
    if not result:
        raise ValidationFailed(fields={"to": [_("Enter an e-mail address.")]})
    return result


@transaction.atomic
def quote_send(
    *, actor, quote_id, to, subject: str = "", message: str = "", version=None
) -> Quote:
    """E-mail the quote's PDF to `to` (an address, a comma-separated list or
    a list) through Django's e-mail backend once the transaction commits,
    and mark a draft quote sent. Sending again re-sends. Locks the quote.
    Raises ValidationFailed (addresses), BadState (accepted, rejected,
    expired), VersionConflict."""
    _begin(actor, "sales.change_quote")
    quote = _locked_quote(actor, quote_id, version)
    if quote.state not in (Quote.State.DRAFT, Quote.State.SENT):
        raise BadState(_("Only a draft or sent quote can be sent."))
    recipients = _recipients(to)
    subject = str(subject or "").strip()[:200] or _("Quote %(number)s") % {
        "number": quote.number
    }
    body = str(message or "").strip() or _(
        "Please find attached our quote %(number)s."
    ) % {"number": quote.number}
    pdf = quote_pdf(quote=quote)
    quote.state = Quote.State.SENT
    quote.sent_at = timezone.now()
    quote.sent_to = ", ".join(recipients)[:254]
    quote.version += 1
    quote.save(update_fields=["state", "sent_at", "sent_to", "version", "updated_at"])
    audit.record(
        actor=actor,
        subject=quote,
        action="sent",
        changes={"to": recipients, "subject": subject},
    )
    _quote_timeline(actor, quote, "sales.quote_sent", quote.number)
    sender = getattr(actor, "email", "") or settings.DEFAULT_FROM_EMAIL
    email = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        reply_to=[sender] if sender else None,
    )
    email.attach(f"{quote.number}.pdf", pdf, "application/pdf")
    transaction.on_commit(email.send)
    publish_on_commit(
        QuoteSent(quote_id=quote.pk, client_id=quote.client_id, to=quote.sent_to)
    )
    return quote


def _decide(actor, quote_id, version, new_state: str, action: str) -> Quote:
    _begin(actor, "sales.change_quote")
    quote = _locked_quote(actor, quote_id, version)
    if quote.state not in (Quote.State.DRAFT, Quote.State.SENT):
        raise BadState()
    if quote.valid_until < timezone.localdate():
        raise BadState(_("This quote has expired."))
    old = quote.state
    quote.state = new_state
    quote.decided_at = timezone.now()
    quote.version += 1
    quote.save(update_fields=["state", "decided_at", "version", "updated_at"])
    audit.record(
        actor=actor, subject=quote, action=action, changes={"state": [old, new_state]}
    )
    _quote_timeline(actor, quote, f"sales.quote_{new_state}", quote.number)
    return quote


@transaction.atomic
def quote_accept(*, actor, quote_id, version=None) -> Quote:
    """The client accepted: draft/sent → accepted. Raises BadState (decided
    or past its valid-until date), VersionConflict."""
    quote = _decide(actor, quote_id, version, Quote.State.ACCEPTED, "accepted")
    publish_on_commit(QuoteAccepted(quote_id=quote.pk, client_id=quote.client_id))
    return quote


@transaction.atomic
def quote_reject(*, actor, quote_id, version=None) -> Quote:
    """The client declined: draft/sent → rejected."""
    return _decide(actor, quote_id, version, Quote.State.REJECTED, "rejected")


@transaction.atomic
def quotes_expire(today: date | None = None) -> int:
    """Mark draft and sent quotes whose valid-until date is before `today`
    expired (the scheduled job `sales.quotes_expire` calls this daily).
    Returns how many expired."""
    today = today or timezone.localdate()
    ids = list(
        locks.quotes_for_update(
            Quote.objects.filter(
                state__in=(Quote.State.DRAFT, Quote.State.SENT), valid_until__lt=today
            )
        ).values_list("pk", flat=True)
    )
    if ids:
        Quote.objects.filter(pk__in=ids).update(
            state=Quote.State.EXPIRED, updated_at=timezone.now()
        )
    return len(ids)


@transaction.atomic
def quote_to_order(
    *, actor, quote_id, warehouse_id=None, contract_id=None, delivery_date=None
):
    """Make a draft sales order of an accepted quote (its lines, prices,
    discounts and deal). Quotes carry no delivery date: `delivery_date`
    sets the order's. Locks the quote. Raises BadState (not accepted, or
    an order already exists), ValidationFailed."""
    _begin(actor, "sales.add_salesorder")
    quote = _locked_quote(actor, quote_id)
    if quote.state != Quote.State.ACCEPTED:
        raise BadState(_("Only an accepted quote becomes an order."))
    if quote.orders.exclude(state=SalesOrder.State.CANCELLED).exists():
        raise BadState(_("An order was already made from this quote."))
    lines = [
        {
            "product_id": line.product_id,
            "quantity": line.quantity,
            "unit": line.unit,
            "unit_price": line.unit_price,
            "discount_percent": line.discount_percent,
            "description": line.description,
        }
        for line in quote.lines.all()
    ]
    return sales_order_create(
        actor=actor,
        client_id=quote.client_id,
        lines=lines,
        warehouse_id=warehouse_id or quote.warehouse_id,
        currency=quote.currency,
        contract_id=contract_id,
        deal_id=quote.deal_id,
        quote_id=quote.pk,
        delivery_date=delivery_date,
    )


# ------------------------------------------------------------------ orders


def _contract(contract_id, client, currency, errors):
    from satu.billing.models import Contract

    contract = (
        Contract.objects.filter(pk=_pk(contract_id, _("Unknown contract.")))
        .select_related("price_list")
        .first()
    )
    if contract is None:
        errors["contract_id"] = [_("Unknown contract.")]
        return None
    if contract.kind != "sale" or contract.state != "active":
        errors["contract_id"] = [_("Choose an active sales contract.")]
    elif contract.client_id and contract.client_id != client.pk:
        errors["contract_id"] = [_("This contract belongs to another client.")]
    return contract


def _order_timeline(actor, order: SalesOrder, kind: str) -> None:
    parties_services.timeline_record(
        client_id=order.client_id,
        kind=kind,
        summary=order.number,
        actor=actor,
        subject_type=ORDER_ORIGIN,
        subject_id=order.pk,
        url=_url("sales_order_detail", order.pk),
        data={
            "number": order.number,
            "total": _money_text(order.total, order.currency),
            "currency": order.currency,
        },
    )


@transaction.atomic
def sales_order_create(
    *,
    actor,
    client_id,
    lines,
    warehouse_id=None,
    currency: str | None = None,
    contract_id=None,
    deal_id=None,
    quote_id=None,
    external_id: str = "",
    order_date=None,
    invoice_before_delivery: bool = False,
    note: str = "",
    delivery_date=None,
) -> SalesOrder:
    """Create a draft sales order (numbered SO-<year>-NNNN). The currency
    defaults to the contract's, else the deal's, else our company's; a
    contract in another currency raises CurrencyMismatch. `delivery_date`
    (and a line's `delivery_date`, empty: the order's) is the promised
    date, a date or ISO string not before the order date. With an
    `external_id` that already exists the existing order is returned
    unchanged (`order.created` is False) — also when two calls race (the
    unique constraint decides). Raises ValidationFailed, InvalidPrice,
    UnknownUnit (per line), NotFound, PermissionDenied."""
    _begin(actor, "sales.add_salesorder")
    external_id = str(external_id or "").strip()
    if len(external_id) > 100:
        raise ValidationFailed(fields={"external_id": [_("At most 100 characters.")]})
    if external_id:
        existing = SalesOrder.objects.filter(external_id=external_id).first()
        if existing is not None:
            existing.created = False
            return existing
    client = _client(actor, client_id)
    deal = _deal(actor, deal_id) if deal_id else None
    errors: dict = {}
    if deal is not None and deal.client_id != client.pk:
        errors["deal_id"] = [_("This deal belongs to another client.")]
    contract = _contract(contract_id, client, currency, errors) if contract_id else None
    company = parties_queries.company_default()
    wanted = currency or (
        contract.currency
        if contract
        else deal.currency
        if deal
        else company.currency
        if company
        else "IDR"
    )
    currency = _clean_currency(wanted, errors)
    if contract is not None and currency and contract.currency != currency:
        raise CurrencyMismatch(
            _("The contract is in %(c)s, the order in %(o)s.")
            % {"c": contract.currency, "o": currency},
            fields={"currency": [CurrencyMismatch.default_message]},
        )
    on = _date(order_date, errors, "order_date") or timezone.localdate()
    due = _delivery_date(delivery_date, errors, "delivery_date", on)
    line_dates = _line_delivery_dates(lines, errors, on)
    wh = _warehouse_id(warehouse_id, errors, required=True)
    if len(str(note or "")) > 10000:
        errors["note"] = [_("At most %(n)d characters.") % {"n": 10000}]
    if errors:
        raise ValidationFailed(fields=errors)
    built = build_lines(
        client=client,
        currency=currency,
        on_date=on,
        lines=lines,
        warehouse_id=wh,
        price_list_id=contract.price_list_id if contract is not None else None,
    )
    order = SalesOrder(
        client=client,
        deal=deal,
        quote_id=quote_id,
        contract=contract,
        company_id=(
            contract.company_id
            if contract is not None
            else (company.pk if company is not None else None)
        ),
        warehouse_id=wh,
        currency=currency,
        order_date=on,
        delivery_date=due,
        external_id=external_id,
        invoice_before_delivery=bool(invoice_before_delivery),
        note=str(note or "").strip(),
        created_by_id=_actor_id(actor),
    )
    _totals(order, built)
    try:
        # A savepoint: a concurrent order with the same external id makes
        # this insert (and its number) roll back; we return the winner's.
        # Without an external id the error propagates: no savepoint needed.
        with transaction.atomic(savepoint=bool(external_id)):
            n = numbering.next_number("sales.order", on.year)
            order.number = numbering.formatted("SO", on.year, n)
            insert([order])
    except IntegrityError:
        existing = (
            SalesOrder.objects.filter(external_id=external_id).first()
            if external_id
            else None
        )
        if existing is None:
            raise
        existing.created = False
        return existing
    insert(
        [
            SalesOrderLine(order=order, delivery_date=day, **b.fields(p))
            for p, (b, day) in enumerate(zip(built, line_dates, strict=True), 1)
        ]
    )
    audit.record(actor=actor, subject=order, action="created")
    _order_timeline(actor, order, "sales.order_created")
    order.created = True
    return order


_ORDER_FOR_UPDATE = prepared(
    lambda pk, scope: locks.sales_orders_for_update(
        SalesOrder.objects.filter(
            **parties_queries.scoped({"pk": pk}, scope, "client__owner_id")
        )
    )
)
_ORDER_LINES = prepared(
    lambda order_id: SalesOrderLine.objects.filter(order_id=order_id).select_related(
        "product__base_unit"
    )
)


def _locked_order(actor, order_id, version=None) -> SalesOrder:
    from satu.sales import queries

    pk = _pk(order_id, _("Sales order not found."))
    scope = queries.sales_order_scope(actor)
    order = None if scope is False else _ORDER_FOR_UPDATE.first(pk=pk, scope=scope)
    if order is None:
        raise NotFound(_("Sales order not found."))
    _check_version(order, version)
    return order


def _order_lines(order: SalesOrder) -> list[SalesOrderLine]:
    """The order's lines with their products (as `order.lines`, with
    `line.order` set)."""
    lines = _ORDER_LINES.all(order_id=order.pk)
    cache = SalesOrderLine.order.field.set_cached_value
    for line in lines:
        cache(line, order)
    # Reservations, deliveries and invoices of this step need the same
    # products: they need not read them again.
    catalog_queries.remember_products(line.product for line in lines)
    return lines


@transaction.atomic
def sales_order_update(
    *,
    actor,
    order_id,
    version=None,
    lines: list | None = None,
    warehouse_id=None,
    note: str | None = None,
    invoice_before_delivery: bool | None = None,
    delivery_date=_UNSET,
) -> SalesOrder:
    """Change a draft order (lines are replaced when given, with their own
    `delivery_date`s). `delivery_date`: a date or ISO string, None or ""
    clears it; not given leaves it. A confirmed or processing order can
    still be rescheduled: its `delivery_date` and `note` change, nothing
    else. Locks the order. Raises BadState (not a draft, or not open for a
    reschedule), VersionConflict, ValidationFailed."""
    _begin(actor, "sales.change_salesorder")
    order = _locked_order(actor, order_id, version)
    reschedule = (
        order.state in OPEN_ORDER_STATES
        and lines is None
        and warehouse_id is None
        and invoice_before_delivery is None
    )
    if order.state != SalesOrder.State.DRAFT and not reschedule:
        raise BadState(
            _(
                "Only a draft order can be changed; a confirmed order can only "
                "get another delivery date or note."
            )
        )
    fields = [
        "warehouse_id",
        "note",
        "total",
        "invoice_before_delivery",
        "delivery_date",
    ]
    before = audit.snapshot(order, fields)
    errors: dict = {}
    if delivery_date is not _UNSET:
        order.delivery_date = _delivery_date(
            delivery_date, errors, "delivery_date", order.order_date
        )
    line_dates = (
        _line_delivery_dates(lines, errors, order.order_date)
        if lines is not None
        else []
    )
    if warehouse_id is not None:
        order.warehouse_id = _warehouse_id(warehouse_id, errors, required=True)
    if note is not None:
        order.note = str(note).strip()
    if invoice_before_delivery is not None:
        order.invoice_before_delivery = bool(invoice_before_delivery)
    if errors:
        raise ValidationFailed(fields=errors)
    if lines is not None:
        built = build_lines(
            client=order.client,
            currency=order.currency,
            on_date=order.order_date,
            lines=lines,
            warehouse_id=order.warehouse_id,
            price_list_id=order.contract.price_list_id if order.contract else None,
        )
        SalesOrderLine.objects.filter(order=order).delete()
        SalesOrderLine.objects.bulk_create(
            [
                SalesOrderLine(order=order, delivery_date=day, **b.fields(p))
                for p, (b, day) in enumerate(zip(built, line_dates, strict=True), 1)
            ]
        )
        _totals(order, built)
    order.version += 1
    order.save()
    audit.record(
        actor=actor,
        subject=order,
        action="updated",
        changes=audit.diff(before, audit.snapshot(order, fields)),
    )
    if reschedule and delivery_date is not _UNSET:
        _reschedule_deliveries(actor, order)
    return order


def _reschedule_deliveries(actor, order: SalesOrder) -> None:
    """Open (not yet moved) deliveries of a rescheduled order take the
    earliest delivery date of the lines they carry (the line's, else the
    order's), through inventory's transfer_update (audited there)."""
    dates = {
        pk: day or order.delivery_date
        for pk, day in order.lines.values_list("pk", "delivery_date")
    }
    open_deliveries = inventory_queries.transfer_list(
        origin_type=ORDER_ORIGIN, origin_id=order.pk
    ).filter(kind="delivery", state__in=("confirmed", "picked", "packed"))
    for transfer in open_deliveries.prefetch_related("lines"):
        days = [
            dates.get(line.origin_line_id)
            for line in transfer.lines.all()
            if dates.get(line.origin_line_id)
        ]
        scheduled = min(days) if days else None
        if scheduled != transfer.scheduled_date:
            with inventory_services.joined():
                inventory_services.transfer_update(
                    actor=actor,
                    transfer_id=transfer.pk,
                    version=transfer.version,
                    scheduled_date=scheduled,
                )


def _credit_check(actor, order: SalesOrder, override_reason: str) -> None:
    contract = order.contract
    if contract is None:
        return
    limit = contract.credit_limit
    overdue_allowed = contract.overdue_days_allowed
    if limit is None and overdue_allowed is None:
        return
    exposure = billing_queries.credit_exposure(
        counterparty_id=contract.counterparty_id, client_id=order.client_id
    )
    problems = []
    if limit is not None:
        others = sum(
            (
                total - invoiced
                for total, invoiced in SalesOrder.objects.filter(
                    contract=contract, state__in=OPEN_ORDER_STATES
                )
                .exclude(pk=order.pk)
                .values_list("total", "invoiced_amount")
            ),
            ZERO,
        )
        needed = exposure.open_receivables + others + order.total
        if needed > limit:
            problems.append(
                _(
                    "Open receivables %(open)s, other open orders %(others)s and "
                    "this order %(order)s make %(needed)s, over the credit limit "
                    "of %(limit)s."
                )
                % {
                    "open": _money_text(exposure.open_receivables, order.currency),
                    "others": _money_text(others, order.currency),
                    "order": _money_text(order.total, order.currency),
                    "needed": _money_text(needed, order.currency),
                    "limit": _money_text(limit, order.currency),
                }
            )
    if overdue_allowed is not None and exposure.max_overdue_days > overdue_allowed:
        problems.append(
            _("A debt is overdue by %(days)d days; the contract allows %(allowed)d.")
            % {"days": exposure.max_overdue_days, "allowed": overdue_allowed}
        )
    if not problems:
        return
    reason = str(override_reason or "").strip()
    if reason and actor.has_perm("sales.override_credit"):
        order.credit_override_reason = reason[:2000]
        audit.record(
            actor=actor,
            subject=order,
            action="credit_override",
            changes={"reason": reason, "problems": [str(p) for p in problems]},
        )
        return
    raise CreditLimitExceeded(" ".join(str(p) for p in problems))


def _goods(line) -> bool:
    return line.product.kind == Product.Kind.GOODS


@dataclass(frozen=True)
class _Kit:
    components: list  # KitComponent rows of stocked goods
    ordered: Decimal  # kits on the line, in base units


def _kits(lines) -> dict[int, _Kit]:
    """{kit line id: _Kit} — one query, and none when the order has no kit.
    A kit moves through the warehouse as its components; one whose
    components are all services is delivered like a service."""
    kit_lines = [line for line in lines if line.product.kind == Product.Kind.KIT]
    if not kit_lines:
        return {}
    components = catalog_queries.kit_components({li.product_id for li in kit_lines})
    result = {}
    for line in kit_lines:
        stocked = [
            c
            for c in components[line.product_id]
            if c.component.kind == Product.Kind.GOODS
        ]
        if stocked:
            result[line.pk] = _Kit(stocked, line.quantity * line.factor)
    return result


def _stocked(line, kits: dict) -> bool:
    """The line's goods move through the warehouse (goods, or a kit with
    stocked components)."""
    return _goods(line) or line.pk in kits


def _per_line(by_product: dict, kits: dict) -> dict[int, Decimal]:
    """Quantities per (line id, product id) folded into base units per line:
    a kit line counts whole kits — its scarcest component decides (all of a
    line's kits once every component is there, a fraction included)."""
    result: dict[int, Decimal] = {}
    for (line_id, _product_id), qty in by_product.items():
        if line_id not in kits:
            result[line_id] = result.get(line_id, ZERO) + qty
    for line_id, kit in kits.items():
        ratio = min(
            (by_product.get((line_id, c.component_id)) or ZERO) / c.quantity
            for c in kit.components
        )
        if ratio >= kit.ordered:
            result[line_id] = kit.ordered
        else:
            result[line_id] = ratio.to_integral_value(rounding=ROUND_FLOOR)
    return result


def _moved_by_product(order: SalesOrder) -> dict[tuple, Decimal]:
    """Delivered base quantity per (line id, product id): one query."""
    return inventory_queries.moved_by_product(
        origin_type=ORDER_ORIGIN, origin_id=order.pk
    )


def _moved(order: SalesOrder, kits: dict) -> dict[int, Decimal]:
    """Delivered base quantity per line (kit lines in kits): one query."""
    return _per_line(_moved_by_product(order), kits)


def _components_rows(line, qty_base: Decimal, kits: dict) -> list[dict]:
    """Reservation/delivery rows of `qty_base` (line base units) of a line:
    itself, or a kit's components."""
    if line.pk not in kits:
        return [{"product_id": line.product_id, "quantity": qty_base}]
    return [
        {"product_id": c.component_id, "quantity": qty_base * c.quantity}
        for c in kits[line.pk].components
    ]


@transaction.atomic
@deferred_inserts()
def sales_order_confirm(
    *,
    actor,
    order_id,
    version=None,
    override_reason: str = "",
    without_reservation: bool = False,
) -> SalesOrder:
    """Confirm a draft order: check credit (contract limit against open
    receivables + other confirmed, not invoiced orders + this order; and the
    overdue-debt rule) — refused with CreditLimitExceeded unless the actor
    holds `sales.override_credit` and gives `override_reason` (audited) —
    then reserve the goods in the order's warehouse (all or nothing:
    InsufficientStock). `without_reservation=True` confirms a backorder
    without reserving. Locks the order, then inventory's stock levels.
    Raises BadState (not a draft), VersionConflict."""
    _begin(actor, "sales.change_salesorder")
    order = _locked_order(actor, order_id, version)
    if order.state != SalesOrder.State.DRAFT:
        raise BadState(
            _("Only a draft order can be confirmed (this one is %(state)s).")
            % {"state": order.get_state_display()}
        )
    _credit_check(actor, order, override_reason)
    lines = _order_lines(order)
    if not without_reservation:
        kits = _kits(lines)
        wanted = [
            row | {"warehouse_id": order.warehouse_id, "origin_line_id": line.pk}
            for line in lines
            if _stocked(line, kits)
            for row in _components_rows(line, line.quantity * line.factor, kits)
        ]
        if wanted:
            # Errors propagate (the order's transaction rolls back): no
            # savepoint of inventory's own is needed.
            with inventory_services.joined():
                inventory_services.reservation_create(
                    actor=actor,
                    origin_type=ORDER_ORIGIN,
                    origin_id=order.pk,
                    lines=wanted,
                )
    order.state = SalesOrder.State.CONFIRMED
    order.without_reservation = bool(without_reservation)
    order.confirmed_at = timezone.now()
    order.version += 1
    update(
        order,
        [
            "state",
            "without_reservation",
            "confirmed_at",
            "credit_override_reason",
            "version",
            "updated_at",
        ],
    )
    audit.record(
        actor=actor,
        subject=order,
        action="confirmed",
        changes={"without_reservation": bool(without_reservation)},
    )
    _order_timeline(actor, order, "sales.order_confirmed")
    publish_on_commit(
        SalesOrderConfirmed(
            order_id=order.pk,
            client_id=order.client_id,
            deal_id=order.deal_id,
            currency=order.currency,
            total=order.total,
        )
    )
    return order


def _pending_query(order_id, states):
    from django.db.models import Sum

    from satu.inventory.models import TransferLine

    return (
        TransferLine.objects.filter(
            transfer__origin_type=ORDER_ORIGIN,
            transfer__origin_id=order_id,
            transfer__kind="delivery",
            transfer__state__in=states,
        )
        .values("origin_line_id", "product_id")
        .annotate(q=Sum("quantity"))
        .values_list("origin_line_id", "product_id", "q")
    )


_PENDING = prepared(_pending_query)


def _pending_deliveries(order: SalesOrder) -> dict[tuple, Decimal]:
    """Base quantity per (line id, product id) in open (not done) deliveries
    of the order."""
    rows = _PENDING.all(order_id=order.pk, states=list(inventory_queries.OPEN_STATES))
    return {(line_id, pid): q for line_id, pid, q in rows}


def _added(*parts: dict) -> dict:
    total: dict = {}
    for part in parts:
        for key, qty in part.items():
            total[key] = total.get(key, ZERO) + (qty or ZERO)
    return total


def _quantities(raw, lines_by_id, field: str) -> dict[int, Decimal]:
    errors, result = {}, {}
    for key, value in (raw or {}).items():
        try:
            line_id = int(key)
        except (TypeError, ValueError):
            line_id = None
        if line_id not in lines_by_id:
            errors[f"{field}.{key}"] = [_("This line is not on the order.")]
            continue
        try:
            qty = catalog_queries.clean_quantity(
                value, field=f"{field}.{key}", allow_zero=True
            )
        except ValidationFailed as exc:
            errors.update(exc.fields)
            continue
        if qty:
            result[line_id] = qty
    if errors:
        raise ValidationFailed(fields=errors)
    return result


def _refresh(
    order: SalesOrder, lines: list[SalesOrderLine], *, moved=None, invoiced=None
) -> None:
    """Recompute the line caches, the derived statuses and the state from
    inventory's moves and billing's posted invoices: `moved` (base units)
    and `invoiced` per line id when the caller knows them, else read from
    the ledgers."""
    kits = (
        _kits(lines)
        if moved is None or any(line.product.kind == Product.Kind.KIT for line in lines)
        else {}
    )
    if moved is None:
        moved = _moved(order, kits)
    if invoiced is None:
        invoiced = billing_queries.invoiced_quantities(
            origin_type=ORDER_ORIGIN, origin_id=order.pk
        )
    changed = []
    goods_states, invoice_states = [], []
    invoiced_amount = ZERO
    for line in lines:
        shipped = (moved.get(line.pk) or ZERO) / line.factor
        billed = invoiced.get(line.pk) or ZERO
        if shipped != line.shipped_quantity or billed != line.invoiced_quantity:
            line.shipped_quantity = shipped
            line.invoiced_quantity = billed
            changed.append(line)
        if _stocked(line, kits):
            goods_states.append(shipped / line.quantity)
        invoice_states.append(billed / line.quantity)
        invoiced_amount += line.total * min(billed / line.quantity, Decimal(1))

    def progress(shares):
        if not shares or all(s <= 0 for s in shares):
            return SalesOrder.Progress.NONE
        if all(s >= 1 for s in shares):
            return SalesOrder.Progress.FULL
        return SalesOrder.Progress.PARTIAL

    if changed:
        # One executemany (pk order) instead of bulk_update's CASE statement.
        shipped_field = SalesOrderLine._meta.get_field("shipped_quantity")
        invoiced_field = SalesOrderLine._meta.get_field("invoiced_quantity")
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE sales_salesorderline SET shipped_quantity = %s, "
                "invoiced_quantity = %s WHERE id = %s",
                [
                    (
                        shipped_field.get_db_prep_save(
                            line.shipped_quantity, connection
                        ),
                        invoiced_field.get_db_prep_save(
                            line.invoiced_quantity, connection
                        ),
                        line.pk,
                    )
                    for line in sorted(changed, key=lambda line: line.pk)
                ],
            )
    order.shipping_status = (
        progress(goods_states) if goods_states else SalesOrder.Progress.FULL
    )
    order.invoice_status = progress(invoice_states)
    order.invoiced_amount = money_round(invoiced_amount, order.currency)
    if order.state in OPEN_ORDER_STATES:
        if (
            order.shipping_status == SalesOrder.Progress.FULL
            and order.invoice_status == SalesOrder.Progress.FULL
        ):
            order.state = SalesOrder.State.DONE
        elif (
            order.shipping_status != SalesOrder.Progress.NONE
            or order.invoice_status != SalesOrder.Progress.NONE
            or moved
        ):
            order.state = SalesOrder.State.PROCESSING
    order.version += 1
    update(
        order,
        [
            "shipping_status",
            "invoice_status",
            "invoiced_amount",
            "state",
            "version",
            "updated_at",
        ],
    )


@transaction.atomic
@deferred_inserts()
def sales_order_ship(
    *,
    actor,
    order_id,
    warehouse_id=None,
    quantities: dict | None = None,
    lots: dict | None = None,
    one_step: bool = True,
    version=None,
):
    """Ship goods of a confirmed order from `warehouse_id` (default the
    order's): `quantities` {order line id: quantity in the line's unit}
    (default: everything not yet shipped or waiting in an open delivery),
    `lots` {line id: lot/serial code} for tracked products. Creates an
    inventory delivery; `one_step=True` posts it at once (done), otherwise
    it waits for the warehouse's pick/pack/ship and the TransferDone handler
    updates the order. Returns the Transfer. Locks the order, then what
    inventory locks. Raises BadState (not confirmed/processing),
    OverShipment (more than ordered − shipped − waiting), LotRequired,
    InsufficientStock, NothingToDo, VersionConflict."""
    _begin(actor, "sales.change_salesorder")
    _applied().clear()
    order = _locked_order(actor, order_id, version)
    if order.state not in OPEN_ORDER_STATES:
        raise BadState(
            _("Only a confirmed order can be shipped (this one is %(state)s).")
            % {"state": order.get_state_display()}
        )
    lines = _order_lines(order)
    kits = _kits(lines)
    by_id = {line.pk: line for line in lines if _stocked(line, kits)}
    errors: dict = {}
    wh = _warehouse_id(warehouse_id or order.warehouse_id, errors, required=True)
    if errors:
        raise ValidationFailed(fields=errors)
    # Per (line, product): a kit line's components are counted one by one.
    moved_bp = _moved_by_product(order)
    covered_bp = _added(moved_bp, _pending_deliveries(order))
    moved = _per_line(moved_bp, kits)
    covered = _per_line(covered_bp, kits)  # shipped or on its way
    remaining = {
        pk: line.quantity - (covered.get(pk) or ZERO) / line.factor
        for pk, line in by_id.items()
    }
    if quantities is None:
        wanted = {pk: q for pk, q in remaining.items() if q > 0}
        if not wanted:
            raise NothingToDo(_("Everything on this order is shipped or on its way."))
    else:
        wanted = _quantities(quantities, by_id, "quantities")
        over = {
            f"quantities.{pk}": [
                _("At most %(n)s %(unit)s left to ship of %(sku)s.")
                % {
                    "n": catalog_queries.plain(max(remaining[pk], ZERO)),
                    "unit": by_id[pk].unit,
                    "sku": by_id[pk].product.sku,
                }
            ]
            for pk, qty in wanted.items()
            if qty > remaining[pk]
        }
        if over:
            raise OverShipment(fields=over)
        if not wanted:
            raise NothingToDo(fields={"quantities": [NothingToDo.default_message]})
    lots = {
        int(k): str(v).strip()[:64]
        for k, v in (lots or {}).items()
        if str(k).isdigit() and str(v).strip()
    }
    missing = {
        f"lots.{pk}": [
            _("%(sku)s is tracked by lot or serial number; name one.")
            % {"sku": by_id[pk].product.sku}
        ]
        for pk in wanted
        if pk not in kits
        and by_id[pk].product.tracking != Product.Tracking.NONE
        and pk not in lots
    }
    missing |= {
        f"lots.{pk}": [
            _(
                "%(sku)s holds components tracked by lot or serial number: "
                "ship it in steps and name their lots on the delivery."
            )
            % {"sku": by_id[pk].product.sku}
        ]
        for pk in wanted
        if pk in kits
        and any(
            c.component.tracking != Product.Tracking.NONE for c in kits[pk].components
        )
    }
    if missing and one_step:
        raise LotRequired(fields=missing)
    rows = []
    for pk, qty in wanted.items():
        line = by_id[pk]
        if pk in kits:
            # Each component up to what the kits covered after this delivery
            # need: an earlier uneven delivery is evened out.
            kits_after = (covered.get(pk) or ZERO) + qty * line.factor
            for c in kits[pk].components:
                need = kits_after * c.quantity - (
                    covered_bp.get((pk, c.component_id)) or ZERO
                )
                if need > 0:
                    rows.append(
                        {
                            "product_id": c.component_id,
                            "quantity": need,
                            "origin_line_id": pk,
                        }
                    )
            continue
        row = {
            "product_id": line.product_id,
            "quantity": qty * line.factor,
            "origin_line_id": pk,
        }
        if pk in lots:
            row["lot_code"] = lots[pk]
        rows.append(row)
    # The warehouse sees the earliest promised date of what it ships.
    scheduled = min(
        (
            by_id[pk].delivery_date or order.delivery_date
            for pk in wanted
            if by_id[pk].delivery_date or order.delivery_date
        ),
        default=None,
    )
    # Errors propagate (the order's transaction rolls back): no savepoint of
    # inventory's own is needed.
    with inventory_services.joined():
        transfer = inventory_services.transfer_create(
            actor=actor,
            kind="delivery",
            warehouse_id=wh,
            lines=rows,
            origin_type=ORDER_ORIGIN,
            origin_id=order.pk,
            client_id=order.client_id,
            reference=order.number,
            scheduled_date=scheduled,
            done=one_step,
        )
    if one_step:
        # Posted in this transaction: the order is refreshed below, the
        # TransferDone handler has nothing left to do for this transfer.
        _applied().add(transfer.pk)
        moved = _per_line(
            _added(
                moved_bp,
                {(r["origin_line_id"], r["product_id"]): r["quantity"] for r in rows},
            ),
            kits,
        )
    audit.record(
        actor=actor,
        subject=order,
        action="shipped" if one_step else "delivery_created",
        changes={
            "transfer": transfer.number,
            "quantities": {str(k): str(v) for k, v in wanted.items()},
        },
    )
    _refresh(
        order,
        lines,
        moved=moved,
        invoiced={line.pk: line.invoiced_quantity for line in lines},
    )
    return transfer


# Deliveries `sales_order_ship` posted itself and already applied to their
# order, per thread: the TransferDone handler (run on commit, in the same
# thread) skips them. Ids are never reused (AUTOINCREMENT / sequences), and
# each ship call starts with an empty set, so a rolled-back mark cannot leak.
_local = threading.local()


def _applied() -> set:
    if not hasattr(_local, "transfers"):
        _local.transfers = set()
    return _local.transfers


def transfer_already_applied(transfer_id: int) -> bool:
    """True once for a transfer that `sales_order_ship` posted itself."""
    applied = _applied()
    if transfer_id in applied:
        applied.discard(transfer_id)
        return True
    return False


def sales_order_refresh(*, order_id) -> None:
    """Recompute an order's statuses from the ledgers (the TransferDone
    handler calls this when the warehouse finishes a delivery)."""
    with transaction.atomic():
        order = locks.sales_orders_for_update(
            SalesOrder.objects.filter(pk=order_id)
        ).first()
        if order is None or order.state not in OPEN_ORDER_STATES:
            return
        _refresh(order, _order_lines(order))


@transaction.atomic
@deferred_inserts()
def sales_order_invoice(
    *, actor, order_id, quantities: dict | None = None, post: bool = True, version=None
):
    """Invoice a confirmed order through billing (`invoice_create`, then
    `invoice_post` when `post`): `quantities` {line id: quantity in the
    line's unit}, default everything shipped and not yet invoiced. Goods
    can be invoiced up to what was shipped — services, and every line when
    the order says invoice-before-delivery, up to what was ordered. Returns
    the Invoice. Locks the order, then what billing locks. Raises BadState,
    OverInvoicing, NothingToDo, VersionConflict."""
    _begin(actor, "sales.change_salesorder")
    order = _locked_order(actor, order_id, version)
    if order.state not in OPEN_ORDER_STATES:
        raise BadState(
            _("Only a confirmed order can be invoiced (this one is %(state)s).")
            % {"state": order.get_state_display()}
        )
    lines = _order_lines(order)
    by_id = {line.pk: line for line in lines}
    kits = _kits(lines)
    moved = _moved(order, kits)
    invoiced, drafts = billing_queries.invoiced_and_draft_quantities(
        origin_type=ORDER_ORIGIN, origin_id=order.pk
    )
    left = {}
    for pk, line in by_id.items():
        if order.invoice_before_delivery or not _stocked(line, kits):
            limit = line.quantity
        else:
            limit = (moved.get(pk) or ZERO) / line.factor
        left[pk] = limit - (invoiced.get(pk) or ZERO) - (drafts.get(pk) or ZERO)
    if quantities is None:
        wanted = {pk: q for pk, q in left.items() if q > 0}
        if not wanted:
            raise NothingToDo(_("Nothing shipped is left to invoice."))
    else:
        wanted = _quantities(quantities, by_id, "quantities")
        over = {
            f"quantities.{pk}": [
                _("At most %(n)s %(unit)s of %(sku)s can be invoiced.")
                % {
                    "n": catalog_queries.plain(max(left[pk], ZERO)),
                    "unit": by_id[pk].unit,
                    "sku": by_id[pk].product.sku,
                }
            ]
            for pk, qty in wanted.items()
            if qty > left[pk]
        }
        if over:
            raise OverInvoicing(fields=over)
        if not wanted:
            raise NothingToDo(fields={"quantities": [NothingToDo.default_message]})
    # Errors propagate (the order's transaction rolls back): no savepoint of
    # billing's own is needed.
    with billing_services.joined():
        invoice = billing_services.invoice_create(
            actor=actor,
            kind="customer_invoice",
            currency=order.currency,
            client_id=order.client_id,
            contract_id=order.contract_id,
            company_id=order.company_id,
            origin_type=ORDER_ORIGIN,
            origin_id=order.pk,
            reference=order.number,
            lines=[
                {
                    "product_id": by_id[pk].product_id,
                    "description": by_id[pk].description,
                    "quantity": qty,
                    "unit_price": by_id[pk].unit_price,
                    "discount_percent": by_id[pk].discount_percent,
                    "tax_rate": by_id[pk].tax_rate,
                    "tax_inclusive": by_id[pk].tax_inclusive,
                    "origin_line_id": pk,
                }
                for pk, qty in wanted.items()
            ],
            post=post,
        )
    audit.record(
        actor=actor,
        subject=order,
        action="invoiced",
        changes={
            "invoice": invoice.pk,
            "quantities": {str(k): str(v) for k, v in wanted.items()},
        },
    )
    if post:
        invoiced = dict(invoiced)
        for pk, qty in wanted.items():
            invoiced[pk] = (invoiced.get(pk) or ZERO) + qty
    _refresh(order, lines, moved=moved, invoiced=invoiced)
    return invoice


@transaction.atomic
def sales_order_cancel(
    *, actor, order_id, version=None, reason: str = "", reverse: bool = False
) -> SalesOrder:
    """Cancel an order (draft, confirmed, processing or done), all or
    nothing: releases its reservations, cancels its open deliveries and
    deletes its draft invoices and credit notes (audited with `reason`).

    Once goods left or an invoice was posted the cancel is a reversal, done
    only with `reverse=True` and a `reason` (else ReversalRequired, whose
    `reversal` context lists what would be reversed; ValidationFailed
    without a reason): every shipped unit comes back through an inventory
    customer return (same stock location and lot, same value), every posted
    invoice gets a posted credit note for what is not yet credited; payments
    stay allocated (the client keeps a credit). A reversal also needs the
    credit-note permission `billing.change_invoice` (and billing's
    `billing.add_invoice`, inventory's `inventory.add_transfer` /
    `change_transfer` for what it posts): PermissionDenied before anything
    changes. CancelRefused when it cannot be reversed (a transfer in transit,
    an archived warehouse). Locks the order, then what inventory and billing
    lock. Raises BadState (already cancelled), VersionConflict."""
    from satu.sales import queries

    _begin(actor, "sales.change_salesorder")
    order = _locked_order(actor, order_id, version)
    if order.state == SalesOrder.State.CANCELLED:
        raise BadState(
            _("This order is %(state)s; it cannot be cancelled.")
            % {"state": order.get_state_display()}
        )
    reason = str(reason or "").strip()[:2000]
    returns, credit_notes, cancelled, deleted = [], [], [], 0
    if order.state != SalesOrder.State.DRAFT:
        plan = queries.sales_order_cancel_plan(order=order)
        if plan.needs_reversal:
            if not reverse:
                raise ReversalRequired(reversal=plan.as_dict())
            perms = ["billing.change_invoice"]
            if plan.credit_notes:
                perms.append("billing.add_invoice")
            if plan.returns:
                perms += ["inventory.add_transfer", "inventory.change_transfer"]
            if not all(actor.has_perm(p) for p in perms):
                raise PermissionDenied(
                    _(
                        "Reversing shipped goods and posted invoices needs the "
                        "right to issue credit notes and returns."
                    )
                )
            if not reason:
                raise ValidationFailed(
                    fields={
                        "reason": [
                            _("Say why the shipped or invoiced order is reversed.")
                        ]
                    }
                )
        if plan.blockers:
            raise CancelRefused(" ".join(str(b) for b in plan.blockers))
        # Errors propagate (the order's transaction rolls back): inventory's
        # and billing's services need no savepoints of their own.
        with inventory_services.joined():
            if plan.reservations:
                inventory_services.reservation_release(
                    actor=actor, origin_type=ORDER_ORIGIN, origin_id=order.pk
                )
            for transfer_id, number, _state in plan.open_deliveries:
                inventory_services.transfer_cancel(actor=actor, transfer_id=transfer_id)
                cancelled.append(number)
            if plan.returns:
                returns = inventory_services.customer_return(
                    actor=actor,
                    origin_type=ORDER_ORIGIN,
                    origin_id=order.pk,
                    client_id=order.client_id,
                    reference=order.number,
                    note=reason,
                )
        with billing_services.joined():
            for invoice_id in plan.draft_invoices:
                billing_services.invoice_delete(actor=actor, invoice_id=invoice_id)
                deleted += 1
            for item in plan.credit_notes:
                credit_notes.append(
                    billing_services.credit_note_create(
                        actor=actor,
                        invoice_id=item["invoice_id"],
                        reason=reason,
                        post=True,
                    )
                )
        if plan.needs_reversal:
            _refresh(order, _order_lines(order))
    old = order.state
    order.state = SalesOrder.State.CANCELLED
    order.version += 1
    order.save(update_fields=["state", "version", "updated_at"])
    changes = {"state": [old, order.state], "reason": reason}
    if cancelled:
        changes["deliveries_cancelled"] = cancelled
    if deleted:
        changes["drafts_deleted"] = deleted
    if returns or credit_notes:
        changes["returns"] = [t.number for t in returns]
        changes["credit_notes"] = [n.number for n in credit_notes]
    audit.record(actor=actor, subject=order, action="cancelled", changes=changes)
    if returns or credit_notes:
        parties_services.timeline_record(
            client_id=order.client_id,
            kind="sales.order_reversed",
            summary=order.number,
            actor=actor,
            subject_type=ORDER_ORIGIN,
            subject_id=order.pk,
            url=_url("sales_order_detail", order.pk),
            data={
                "number": order.number,
                "total": _money_text(order.total, order.currency),
                "currency": order.currency,
                "returns": ", ".join(t.number for t in returns) or "—",
                "credit_notes": ", ".join(n.number for n in credit_notes) or "—",
                "reason": reason[:200],
            },
        )
    else:
        _order_timeline(actor, order, "sales.order_cancelled")
    publish_on_commit(SalesOrderCancelled(order_id=order.pk, client_id=order.client_id))
    return order
