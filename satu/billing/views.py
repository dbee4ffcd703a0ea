"""Web screens of billing: invoices (list, form, card with PDF, e-mail,
credit note), payments (list, form, card with matching), contracts,
receivables with ageing and payment dynamics, cash accounts, payment
purposes and the bank statement import (upload → columns → confirm).

Views parse with `billing.forms`, call `services`/`queries` and render; a
DomainError's message lands on the form (404/403 become Django's pages).
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from satu.billing import documents, queries, services
from satu.billing.forms import (
    CashAccountForm,
    ColumnsForm,
    ContractForm,
    InvoiceFilterForm,
    InvoiceForm,
    LineFormSet,
    PaymentForm,
    PeriodForm,
    PurposeForm,
    SendForm,
    StatementUploadForm,
    apply_domain_error,
)
from satu.billing.models import Invoice, Payment
from satu.core import audit
from satu.core.errors import DomainError, ValidationFailed
from satu.core.web import fetch, raise_http, require_feature, require_perm

PAGE_SIZE = 50
FEATURE = "billing"

view_invoice = permission_required("billing.view_invoice", raise_exception=True)
view_payment = permission_required("billing.view_payment", raise_exception=True)
view_contract = permission_required("billing.view_contract", raise_exception=True)


def _page(request, queryset):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    return page


def _partial(request, template, name, context, *, target, status=200):
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.target == target and not htmx.history_restore_request:
        template = f"{template}#{name}"
    params = request.GET.copy()
    params.pop("page", None)
    context.setdefault("query", params.urlencode())
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _flash(request, exc: DomainError) -> None:
    raise_http(exc)
    messages.error(request, str(exc.message))
    for field_messages in exc.fields.values():
        for message in field_messages:
            messages.error(request, message)


# ---------------------------------------------------------------- invoices


@require_GET
@view_invoice
def invoice_list(request):
    require_feature(request, FEATURE)
    form = InvoiceFilterForm(request.GET)
    page, status = None, 200
    if form.is_valid():
        page = _page(
            request, queries.invoice_list(actor=request.user, **form.query_kwargs())
        )
    else:
        status = 422
    return _partial(
        request,
        "billing/invoice_list.html",
        "results",
        {"form": form, "page": page},
        target="invoice-results",
        status=status,
    )


def _line_initial(invoice: Invoice | None) -> list[dict]:
    if invoice is None:
        return []
    return [
        {
            "product": line.product_id,
            "description": line.description,
            "quantity": line.quantity.normalize(),
            "unit_price": line.unit_price.normalize(),
            "discount_percent": line.discount_percent.normalize() or None,
            "tax_rate": line.tax_rate.normalize(),
            "tax_inclusive": line.tax_inclusive,
        }
        for line in invoice.lines.all()
    ]


def _invoice_form_view(request, invoice: Invoice | None = None):
    actor = request.user
    extra = 3
    try:
        extra = min(max(int(request.GET.get("lines", 3)), 1), 30)
    except ValueError:
        pass
    initial = {"issue_date": timezone.localdate(), "currency": "IDR"}
    if invoice is not None:
        initial = {
            "kind": invoice.kind,
            "client": invoice.client_id,
            "counterparty": invoice.counterparty_id,
            "contract": invoice.contract_id,
            "currency": invoice.currency,
            "issue_date": invoice.issue_date,
            "due_date": invoice.due_date,
            "reference": invoice.reference,
            "notes": invoice.notes,
            "version": invoice.version,
        }
    elif request.GET.get("client"):
        initial["client"] = request.GET["client"]
    data = request.POST if request.method == "POST" else None
    form = InvoiceForm(data, actor=actor, initial=initial)
    line_initial = _line_initial(invoice)
    line_initial += [{} for _ in range(max(extra - len(line_initial), 0))]
    lines = LineFormSet(data, prefix="lines", initial=line_initial)
    status = 200
    if request.method == "POST":
        if form.is_valid() and lines.is_valid():
            payload = [f.line() for f in lines if not f.is_blank()]
            try:
                if invoice is None:
                    saved = services.invoice_create(
                        actor=actor,
                        kind=form.cleaned_data["kind"],
                        lines=payload,
                        **form.service_kwargs(),
                    )
                else:
                    saved = services.invoice_update(
                        actor=actor,
                        invoice_id=invoice.pk,
                        version=form.cleaned_data.get("version"),
                        lines=payload,
                        **form.service_kwargs(),
                    )
                if request.POST.get("post") and invoice is None:
                    saved = services.invoice_post(actor=actor, invoice_id=saved.pk)
                messages.success(request, _("Invoice saved."))
                return redirect("invoice_detail", saved.pk)
            except DomainError as exc:
                raise_http(exc)
                apply_domain_error(form, exc)
                for key, errors in exc.fields.items():
                    if key.startswith("lines."):
                        form.add_error(
                            None,
                            _("Line %(n)s: %(error)s")
                            % {
                                "n": int(key.split(".")[1]) + 1,
                                "error": "; ".join(errors),
                            },
                        )
                status = exc.http_status
        else:
            status = 422
    return render(
        request,
        "billing/invoice_form.html",
        {"form": form, "lines": lines, "invoice": invoice, "more": extra + 3},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@view_invoice
def invoice_create(request):
    require_feature(request, FEATURE)
    require_perm(request, "billing.add_invoice")
    return _invoice_form_view(request)


@require_http_methods(["GET", "POST"])
@view_invoice
def invoice_edit(request, pk: int):
    require_feature(request, FEATURE)
    require_perm(request, "billing.add_invoice")
    invoice = fetch(queries.invoice_get, actor=request.user, invoice_id=pk)
    if invoice.state != Invoice.State.DRAFT:
        messages.error(request, _("Only a draft invoice can be edited."))
        return redirect("invoice_detail", pk)
    return _invoice_form_view(request, invoice)


@require_GET
@view_invoice
def invoice_detail(request, pk: int):
    require_feature(request, FEATURE)
    invoice = fetch(queries.invoice_get, actor=request.user, invoice_id=pk)
    default_to = ""
    if invoice.client_id and invoice.client.email:
        default_to = invoice.client.email
    return render(
        request,
        "billing/invoice_detail.html",
        {
            "invoice": invoice,
            "lines": list(invoice.lines.all()),
            "allocations": list(queries.invoice_allocations(invoice)),
            "credit_notes": list(queries.invoice_credit_notes(invoice)),
            "send_form": SendForm(initial={"to": default_to}),
            "history": list(audit.entries_for(invoice).order_by("-at")[:20]),
            "can_pay": request.user.has_perm("billing.add_payment"),
            "can_change": request.user.has_perm("billing.change_invoice"),
            "can_add": request.user.has_perm("billing.add_invoice"),
        },
    )


def _invoice_action(request, pk, action, done_message):
    require_feature(request, FEATURE)
    try:
        result = action()
        messages.success(request, done_message)
        if isinstance(result, Invoice) and result.pk != pk:
            return redirect("invoice_detail", result.pk)
    except DomainError as exc:
        _flash(request, exc)
    return redirect("invoice_detail", pk)


def _version(request):
    try:
        return int(request.POST.get("version"))
    except (TypeError, ValueError):
        return None


@require_POST
@view_invoice
def invoice_post(request, pk: int):
    return _invoice_action(
        request,
        pk,
        lambda: services.invoice_post(
            actor=request.user, invoice_id=pk, version=_version(request)
        ),
        _("Invoice posted."),
    )


@require_POST
@view_invoice
def invoice_cancel(request, pk: int):
    return _invoice_action(
        request,
        pk,
        lambda: services.invoice_cancel(
            actor=request.user,
            invoice_id=pk,
            version=_version(request),
            reason=request.POST.get("reason", "")[:500],
        ),
        _("Invoice cancelled."),
    )


@require_POST
@view_invoice
def invoice_delete(request, pk: int):
    require_feature(request, FEATURE)
    try:
        services.invoice_delete(
            actor=request.user, invoice_id=pk, version=_version(request)
        )
    except DomainError as exc:
        _flash(request, exc)
        return redirect("invoice_detail", pk)
    messages.success(request, _("Draft deleted."))
    return redirect("invoice_list")


@require_http_methods(["GET", "POST"])
@view_invoice
def invoice_credit(request, pk: int):
    """A credit note for some or all lines: quantities per line."""
    require_feature(request, FEATURE)
    require_perm(request, "billing.change_invoice")
    invoice = fetch(queries.invoice_get, actor=request.user, invoice_id=pk)
    lines = list(invoice.lines.all())
    error, status = None, 200
    if request.method == "POST":
        wanted = []
        try:
            for line in lines:
                raw = (request.POST.get(f"qty_{line.pk}") or "").strip()
                if raw and Decimal(raw.replace(",", ".")) != 0:
                    wanted.append(
                        {"line_id": line.pk, "quantity": raw.replace(",", ".")}
                    )
            if not wanted:
                raise ValidationFailed(_("Enter the quantity to credit on a line."))
            note = services.credit_note_create(
                actor=request.user,
                invoice_id=pk,
                lines=wanted,
                reason=request.POST.get("reason", "")[:500],
                post=bool(request.POST.get("post")),
            )
            messages.success(request, _("Credit note created."))
            return redirect("invoice_detail", note.pk)
        except InvalidOperation:
            error, status = _("Enter numbers."), 422
        except DomainError as exc:
            raise_http(exc)
            details = [m for msgs in exc.fields.values() for m in msgs]
            error = " ".join([str(exc.message), *details])
            status = exc.http_status
    return render(
        request,
        "billing/invoice_credit.html",
        {"invoice": invoice, "lines": lines, "error": error},
        status=status,
    )


@require_GET
@view_invoice
def invoice_pdf(request, pk: int):
    require_feature(request, FEATURE)
    invoice = fetch(queries.invoice_get, actor=request.user, invoice_id=pk)
    pdf, filename, _invoice = documents.invoice_pdf(invoice_id=invoice.pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


@require_POST
@view_invoice
def invoice_send(request, pk: int):
    require_feature(request, FEATURE)
    form = SendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter an e-mail address."))
        return redirect("invoice_detail", pk)
    return _invoice_action(
        request,
        pk,
        lambda: services.invoice_send(
            actor=request.user,
            invoice_id=pk,
            to=form.cleaned_data["to"],
            subject=form.cleaned_data["subject"],
            message=form.cleaned_data["message"],
        ),
        _("The invoice is on its way."),
    )


# ---------------------------------------------------------------- payments


@require_GET
@view_payment
def payment_list(request):
    require_feature(request, FEATURE)

    def as_int(name):
        try:
            return int(request.GET.get(name) or 0) or None
        except ValueError:
            return None

    direction = request.GET.get("direction", "")
    filters = {
        "search": request.GET.get("q", "")[:100],
        "direction": direction if direction in Payment.Direction.values else "",
        "cash_account_id": as_int("cash_account"),
        "purpose_id": as_int("purpose"),
        "client_id": as_int("client_id"),
        "unallocated": bool(request.GET.get("unallocated")),
    }
    page = _page(request, queries.payment_list(actor=request.user, **filters))
    return _partial(
        request,
        "billing/payment_list.html",
        "results",
        {
            "page": page,
            "filters": filters,
            "accounts": list(queries.cash_account_list()),
            "purposes": list(queries.payment_purpose_list()),
            "directions": Payment.Direction.choices,
        },
        target="payment-results",
    )


@require_http_methods(["GET", "POST"])
@view_payment
def payment_create(request):
    require_feature(request, FEATURE)
    require_perm(request, "billing.add_payment")
    initial = {"date": timezone.localdate(), "direction": "in"}
    accounts = list(queries.cash_account_list(active_only=True)[:1])
    if accounts:
        initial["cash_account"] = accounts[0].pk
    purpose = queries.payment_purpose_list(active_only=True).filter(code="sale")
    invoice = None
    if request.GET.get("invoice"):
        invoice = fetch(
            queries.invoice_get, actor=request.user, invoice_id=request.GET["invoice"]
        )
        initial.update(
            {
                "invoice": invoice.pk,
                "amount": invoice.amount_due.normalize(),
                "client": invoice.client_id,
                "counterparty": invoice.counterparty_id,
                "direction": "in" if invoice.kind in queries.SETTLES["in"] else "out",
                "reference": invoice.number,
            }
        )
        same_currency = queries.cash_account_list(active_only=True).filter(
            currency=invoice.currency
        )
        initial["cash_account"] = same_currency.values_list("pk", flat=True).first()
        initial["purpose"] = purpose.values_list("pk", flat=True).first()
    form = PaymentForm(
        request.POST if request.method == "POST" else None,
        actor=request.user,
        initial=initial,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            kwargs = form.service_kwargs()
            chosen = form.cleaned_data["invoice"]
            if chosen is not None:
                kwargs["allocations"] = [
                    {
                        "invoice_id": chosen.pk,
                        "amount": min(kwargs["amount"], chosen.amount_due),
                    }
                ]
                if not kwargs["client_id"] and not kwargs["counterparty_id"]:
                    kwargs["client_id"] = chosen.client_id
                    kwargs["counterparty_id"] = chosen.counterparty_id
            try:
                payment = services.payment_create(actor=request.user, **kwargs)
                messages.success(request, _("Payment recorded."))
                return redirect("payment_detail", payment.pk)
            except DomainError as exc:
                raise_http(exc)
                apply_domain_error(
                    form,
                    exc,
                    {
                        "cash_account_id": "cash_account",
                        "client_id": "client",
                        "counterparty_id": "counterparty",
                    },
                )
                status = exc.http_status
        else:
            status = 422
    return render(request, "billing/payment_form.html", {"form": form}, status=status)


@require_GET
@view_payment
def payment_detail(request, pk: int):
    require_feature(request, FEATURE)
    payment = fetch(queries.payment_get, actor=request.user, payment_id=pk)
    can_change = request.user.has_perm("billing.change_payment")
    open_invoices = []
    if can_change and payment.state == Payment.State.POSTED:
        open_invoices = list(
            queries.open_invoices_for_payment(actor=request.user, payment=payment)[:50]
        )
    return render(
        request,
        "billing/payment_detail.html",
        {
            "payment": payment,
            "allocations": list(queries.payment_allocations(payment)),
            "open_invoices": open_invoices,
            "can_change": can_change,
            "history": list(audit.entries_for(payment).order_by("-at")[:20]),
        },
    )


@require_POST
@view_payment
def payment_allocate(request, pk: int):
    require_feature(request, FEATURE)
    allocations = []
    for key, value in request.POST.items():
        if key.startswith("amount_") and value.strip():
            allocations.append(
                {
                    "invoice_id": key.removeprefix("amount_"),
                    "amount": value.strip().replace(",", "."),
                }
            )
    try:
        if not allocations:
            raise ValidationFailed(_("Enter an amount for an invoice."))
        services.payment_allocate(
            actor=request.user,
            payment_id=pk,
            allocations=allocations,
            version=_version(request),
        )
        messages.success(request, _("Payment allocated."))
    except DomainError as exc:
        _flash(request, exc)
    return redirect("payment_detail", pk)


@require_POST
@view_payment
def payment_deallocate(request, pk: int, invoice_id: int):
    require_feature(request, FEATURE)
    try:
        services.payment_deallocate(
            actor=request.user, payment_id=pk, invoice_id=invoice_id
        )
        messages.success(request, _("Allocation removed."))
    except DomainError as exc:
        _flash(request, exc)
    return redirect("payment_detail", pk)


@require_POST
@view_payment
def payment_cancel(request, pk: int):
    require_feature(request, FEATURE)
    try:
        services.payment_cancel(
            actor=request.user, payment_id=pk, version=_version(request)
        )
        messages.success(request, _("Payment cancelled."))
    except DomainError as exc:
        _flash(request, exc)
    return redirect("payment_detail", pk)


# ---------------------------------------------------------------- contracts


@require_GET
@view_contract
def contract_list(request):
    require_feature(request, FEATURE)
    search = request.GET.get("q", "")[:100]
    page = _page(request, queries.contract_list(actor=request.user, search=search))
    return _partial(
        request,
        "billing/contract_list.html",
        "results",
        {"page": page, "search": search},
        target="contract-results",
    )


def _contract_form_view(request, contract=None):
    initial = {"valid_from": timezone.localdate(), "currency": "IDR"}
    if contract is not None:
        initial = {
            "number": contract.number,
            "kind": contract.kind,
            "counterparty": contract.counterparty_id,
            "client": contract.client_id,
            "currency": contract.currency,
            "price_list": contract.price_list_id,
            "valid_from": contract.valid_from,
            "valid_to": contract.valid_to,
            "prepayment_percent": contract.prepayment_percent.normalize(),
            "payment_days": contract.payment_days,
            "credit_limit": contract.credit_limit.normalize()
            if contract.credit_limit is not None
            else None,
            "overdue_days_allowed": contract.overdue_days_allowed,
            "state": contract.state,
            "notes": contract.notes,
            "version": contract.version,
        }
    form = ContractForm(
        request.POST if request.method == "POST" else None,
        actor=request.user,
        initial=initial,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if contract is None:
                    saved = services.contract_create(
                        actor=request.user, **form.service_kwargs()
                    )
                else:
                    data = form.service_kwargs()
                    data.pop("kind")
                    data.pop("counterparty_id")
                    data.pop("currency")
                    saved = services.contract_update(
                        actor=request.user,
                        contract_id=contract.pk,
                        version=form.cleaned_data.get("version"),
                        **data,
                    )
                messages.success(request, _("Contract saved."))
                return redirect("contract_detail", saved.pk)
            except DomainError as exc:
                raise_http(exc)
                apply_domain_error(
                    form,
                    exc,
                    {
                        "counterparty_id": "counterparty",
                        "client_id": "client",
                        "price_list_id": "price_list",
                    },
                )
                status = exc.http_status
        else:
            status = 422
    if contract is not None:
        for name in ("kind", "counterparty", "currency"):
            form.fields[name].disabled = True
    return render(
        request,
        "billing/contract_form.html",
        {"form": form, "contract": contract},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@view_contract
def contract_create(request):
    require_feature(request, FEATURE)
    require_perm(request, "billing.add_contract")
    return _contract_form_view(request)


@require_http_methods(["GET", "POST"])
@view_contract
def contract_edit(request, pk: int):
    require_feature(request, FEATURE)
    require_perm(request, "billing.change_contract")
    contract = fetch(queries.contract_get, actor=request.user, contract_id=pk)
    return _contract_form_view(request, contract)


@require_GET
@view_contract
def contract_detail(request, pk: int):
    require_feature(request, FEATURE)
    contract = fetch(queries.contract_get, actor=request.user, contract_id=pk)
    exposure = queries.credit_exposure(
        counterparty_id=contract.counterparty_id,
        contract_id=contract.pk,
        currency=contract.currency,
    )
    invoices = list(
        queries.invoice_list(actor=request.user).filter(contract=contract)[:20]
    )
    return render(
        request,
        "billing/contract_detail.html",
        {
            "contract": contract,
            "exposure": exposure,
            "invoices": invoices,
            "can_change": request.user.has_perm("billing.change_contract"),
        },
    )


# ---------------------------------------------------------------- receivables


def _month_start(day: date, months_back: int) -> date:
    month = day.month - months_back
    year = day.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)


@require_GET
@view_invoice
def receivables(request):
    """Ageing per party on a date, payment dynamics by month (chart) and
    payments by cash account and purpose."""
    require_feature(request, FEATURE)
    today = timezone.localdate()
    form = PeriodForm(request.GET or None)
    as_of, side = today, "receivable"
    date_to, date_from = today, _month_start(today, 11)
    if form.is_valid():
        as_of = form.cleaned_data["as_of"] or today
        side = form.cleaned_data["side"] or "receivable"
        date_to = form.cleaned_data["date_to"] or today
        date_from = form.cleaned_data["date_from"] or _month_start(date_to, 11)
    rows = queries.receivables_ageing(actor=request.user, as_of=as_of, side=side)
    can_see_payments = request.user.has_perm("billing.view_payment")
    dynamics, by_account, by_purpose = [], [], []
    if can_see_payments:
        dynamics = queries.payment_dynamics(
            actor=request.user, date_from=date_from, date_to=date_to
        )
        by_account = queries.payment_split(
            actor=request.user, date_from=date_from, date_to=date_to, by="cash_account"
        )
        by_purpose = queries.payment_split(
            actor=request.user, date_from=date_from, date_to=date_to, by="purpose"
        )
    chart = {
        "color": ["#2f855a", "#c53030"],
        "grid": {"left": 64, "right": 12, "top": 32, "bottom": 28},
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [_("Received"), _("Paid")]},
        "xAxis": {
            "type": "category",
            "data": [row["month"].strftime("%Y-%m") for row in dynamics],
        },
        "yAxis": {"type": "value"},
        "series": [
            {
                "name": _("Received"),
                "type": "bar",
                "data": [float(row["received"]) for row in dynamics],
                "barMaxWidth": 24,
            },
            {
                "name": _("Paid"),
                "type": "bar",
                "data": [float(row["paid"]) for row in dynamics],
                "barMaxWidth": 24,
            },
        ],
        "aria": {"enabled": True},
    }
    return render(
        request,
        "billing/receivables.html",
        {
            "form": form,
            "rows": rows,
            "totals": queries.ageing_totals(rows),
            "as_of": as_of,
            "side": side,
            "date_from": date_from,
            "date_to": date_to,
            "dynamics": dynamics,
            "chart": chart,
            "by_account": by_account,
            "by_purpose": by_purpose,
            "can_see_payments": can_see_payments,
        },
    )


# ---------------------------------------------------------------- settings


@require_http_methods(["GET", "POST"])
@permission_required("billing.view_cashaccount", raise_exception=True)
def cash_account_list(request):
    require_feature(request, FEATURE)
    form = CashAccountForm(request.POST or None)
    status = 200
    if request.method == "POST":
        require_perm(request, "billing.add_cashaccount")
        if form.is_valid():
            try:
                services.cash_account_create(actor=request.user, **form.cleaned_data)
                messages.success(request, _("Account added."))
                return redirect("cash_account_list")
            except DomainError as exc:
                raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
        else:
            status = 422
    return render(
        request,
        "billing/cash_account_list.html",
        {
            "accounts": list(queries.cash_account_list()),
            "balances": queries.cash_account_balances(),
            "form": form,
        },
        status=status,
    )


@require_POST
@permission_required("billing.change_cashaccount", raise_exception=True)
def cash_account_toggle(request, pk: int):
    require_feature(request, FEATURE)
    account = fetch(queries.cash_account_get, cash_account_id=pk)
    services.cash_account_update(
        actor=request.user, cash_account_id=pk, is_active=not account.is_active
    )
    return redirect("cash_account_list")


@require_http_methods(["GET", "POST"])
@permission_required("billing.view_paymentpurpose", raise_exception=True)
def payment_purpose_list(request):
    require_feature(request, FEATURE)
    form = PurposeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        require_perm(request, "billing.add_paymentpurpose")
        if form.is_valid():
            try:
                services.payment_purpose_create(actor=request.user, **form.cleaned_data)
                messages.success(request, _("Purpose added."))
                return redirect("payment_purpose_list")
            except DomainError as exc:
                raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
        else:
            status = 422
    return render(
        request,
        "billing/payment_purpose_list.html",
        {"purposes": list(queries.payment_purpose_list()), "form": form},
        status=status,
    )


@require_POST
@permission_required("billing.change_paymentpurpose", raise_exception=True)
def payment_purpose_toggle(request, pk: int):
    require_feature(request, FEATURE)
    purpose = queries.payment_purpose_list().filter(pk=pk).first()
    if purpose is not None:
        services.payment_purpose_update(
            actor=request.user, purpose_id=pk, is_active=not purpose.is_active
        )
    return redirect("payment_purpose_list")


# ---------------------------------------------------------------- bank statements


@require_GET
@permission_required("billing.view_bankstatement", raise_exception=True)
def bank_statement_list(request):
    require_feature(request, FEATURE)
    page = _page(request, queries.bank_statement_list())
    return render(request, "billing/bank_statement_list.html", {"page": page})


def _decode(raw: bytes) -> str:
    return services.statement_text(raw)


@require_http_methods(["GET", "POST"])
@permission_required("billing.add_bankstatement", raise_exception=True)
def bank_statement_import(request):
    """Upload → map columns → confirm the proposed matches → import. The
    file's text travels in a hidden field between the steps (nothing is
    stored before the import)."""
    require_feature(request, FEATURE)
    step = request.POST.get("step", "upload")
    context: dict = {"step": "upload"}
    status = 200
    if request.method == "GET" or step == "upload":
        upload = StatementUploadForm(request.POST or None, request.FILES or None)
        context["upload"] = upload
        if request.method == "POST" and upload.is_valid():
            try:
                content = _decode(upload.cleaned_data["file"].read())
                header, _delimiter = services.statement_header(content)
            except DomainError as exc:
                apply_domain_error(upload, exc)
                status = exc.http_status
            else:
                context.update(
                    step="columns",
                    columns=ColumnsForm(header=header),
                    content=content,
                    account=upload.cleaned_data["cash_account"],
                    decimal_separator=upload.cleaned_data["decimal_separator"],
                    filename=upload.cleaned_data["file"].name,
                )
        elif request.method == "POST":
            status = 422
        return render(
            request, "billing/bank_statement_import.html", context, status=status
        )

    content = request.POST.get("content", "")
    account = fetch(
        queries.cash_account_get, cash_account_id=request.POST.get("cash_account")
    )
    decimal_separator = request.POST.get("decimal_separator", ",")
    filename = request.POST.get("filename", "")[:255]
    context.update(
        content=content,
        account=account,
        decimal_separator=decimal_separator,
        filename=filename,
    )
    try:
        header, _delimiter = services.statement_header(content)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("bank_statement_import")
    columns = ColumnsForm(request.POST, header=header)
    context["columns"] = columns
    if not columns.is_valid():
        context["step"] = "columns"
        return render(
            request, "billing/bank_statement_import.html", context, status=422
        )
    try:
        rows = services.statement_parse(
            content, mapping=columns.mapping(), decimal_separator=decimal_separator
        )
    except DomainError as exc:
        apply_domain_error(columns, exc)
        context["step"] = "columns"
        return render(
            request,
            "billing/bank_statement_import.html",
            context,
            status=exc.http_status,
        )
    proposals = queries.statement_proposals(
        actor=request.user, currency=account.currency, rows=rows
    )
    open_invoices = list(
        queries.invoice_list(actor=request.user, open_only=True)
        .filter(currency=account.currency)
        .order_by("number")[:500]
    )
    items = []
    for row, proposal in zip(rows, proposals, strict=True):
        chosen = request.POST.get(f"invoice_{row.row}")
        items.append(
            {
                "row": row,
                "proposal": proposal,
                "invoice_id": int(chosen)
                if chosen and chosen.isdigit()
                else (proposal.invoice_id if step == "columns" else None),
                "skip": bool(request.POST.get(f"skip_{row.row}"))
                or (step == "columns" and bool(row.errors)),
            }
        )
    context.update(step="confirm", items=items, open_invoices=open_invoices)
    if step == "confirm":
        lines = [
            {
                "row": item["row"].row,
                "date": item["row"].date,
                "amount": item["row"].amount,
                "description": item["row"].description,
                "counterparty_name": item["row"].counterparty_name,
                "counterparty_account": item["row"].counterparty_account,
                "invoice_id": item["invoice_id"],
                "client_id": None if item["invoice_id"] else item["proposal"].client_id,
                "counterparty_id": None
                if item["invoice_id"]
                else item["proposal"].counterparty_id,
                "skip": item["skip"],
            }
            for item in items
        ]
        bad = [
            line["row"]
            for line in lines
            if not line["skip"] and (line["date"] is None or line["amount"] is None)
        ]
        try:
            if bad:
                raise ValidationFailed(
                    _("Rows %(rows)s have errors: skip or fix them.")
                    % {"rows": ", ".join(str(r) for r in bad)}
                )
            statement = services.bank_statement_import(
                actor=request.user,
                cash_account_id=account.pk,
                lines=lines,
                filename=filename,
            )
        except DomainError as exc:
            raise_http(exc)
            context["error"] = str(exc.message)
            context["row_errors"] = {
                int(key.split(".")[1]): messages_
                for key, messages_ in exc.fields.items()
                if key.startswith("rows.")
            }
            for item in items:
                item["errors"] = context["row_errors"].get(item["row"].row, [])
            return render(
                request,
                "billing/bank_statement_import.html",
                context,
                status=exc.http_status,
            )
        messages.success(
            request,
            _("%(n)s payments imported.") % {"n": statement.line_count},
        )
        return redirect(f"/payments/?cash_account={account.pk}")
    return render(request, "billing/bank_statement_import.html", context)
