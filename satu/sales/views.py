"""Web screens of sales: quotes (list, form with live totals, card with PDF,
sending, accept/reject, to order), sales orders (list, form, card with
availability and the confirm/ship/invoice/cancel actions) and the
assortment. Views parse, call `services`/`queries` and render; a service's
refusal shows its message on the page (the same text as the API's)."""

from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from satu.core import audit
from satu.core.errors import DomainError
from satu.core.web import apply_domain_error, raise_http, require_feature, require_perm
from satu.core.web import fetch as _fetch
from satu.sales import queries, services
from satu.sales.errors import ReversalRequired
from satu.sales.forms import (
    AssortmentForm,
    OrderFilterForm,
    OrderForm,
    QuoteFilterForm,
    QuoteForm,
    SendForm,
    line_rows_for_display,
    lines_from_post,
    product_choices,
)
from satu.sales.models import SalesOrder

PAGE_SIZE = 50
BLANK_ROWS = 3


def _guard(request, perm: str) -> None:
    require_feature(request, "sales")
    require_perm(request, perm)


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


def _error_text(exc: DomainError) -> list[str]:
    texts = [str(exc.message)]
    for values in exc.fields.values():
        texts += [str(v) for v in values if str(v) not in texts]
    return texts


def _editor_context(rows=None, errors=None, *, line_dates=False):
    """The line editor; `line_dates`: order lines, with a delivery date."""
    rows = rows if rows is not None else []
    shown = line_rows_for_display(rows, errors or {})
    shown += [{"errors": []} for _i in range(max(0, BLANK_ROWS - len(rows)))]
    return {
        "rows": shown,
        "products": list(product_choices()[:2000]),
        "line_dates": line_dates,
    }


# ------------------------------------------------------------------ line editor


@require_GET
def line_row(request):
    """One blank line row (htmx "Add line")."""
    _guard(request, "sales.view_salesorder")
    return render(
        request,
        "sales/_line_row.html",
        {
            "row": {"errors": []},
            "products": list(product_choices()[:2000]),
            "line_dates": request.GET.get("dates") == "1",
        },
    )


@require_POST
def lines_preview(request):
    """Live totals of the lines being edited (htmx): prices, taxes,
    assortment warnings — computed by the same code as saving, nothing
    written."""
    _guard(request, "sales.view_salesorder")
    from satu.parties import queries as parties_queries

    rows = lines_from_post(request.POST)
    context = {"built": [], "errors": [], "currency": ""}
    try:
        client = parties_queries.client_get(
            actor=request.user, client_id=request.POST.get("client")
        )
        company = parties_queries.company_default()
        currency = (
            request.POST.get("currency") or (company.currency if company else "IDR")
        ).upper()
        warehouse = request.POST.get("warehouse") or None
        built = services.build_lines(
            client=client,
            currency=currency,
            on_date=timezone.localdate(),
            lines=rows,
            warehouse_id=int(warehouse) if warehouse else None,
        )
        context.update(
            built=built,
            currency=currency,
            untaxed=sum((b.amounts.untaxed for b in built), Decimal(0)),
            tax=sum((b.amounts.tax for b in built), Decimal(0)),
            total=sum((b.amounts.total for b in built), Decimal(0)),
        )
    except (DomainError, ValueError) as exc:
        context["errors"] = (
            _error_text(exc) if isinstance(exc, DomainError) else [str(exc)]
        )
    return render(request, "sales/_totals.html", context)


# ------------------------------------------------------------------ orders


@require_GET
def sales_order_list(request):
    _guard(request, "sales.view_salesorder")
    form = OrderFilterForm(request.GET)
    page, status = None, 200
    if form.is_valid():
        data = form.cleaned_data
        page = _page(
            request,
            queries.sales_order_list(
                actor=request.user,
                search=data.get("q") or "",
                state=data.get("state") or "",
                client_id=data.get("client"),
                segment_id=data.get("segment"),
                late=True if data.get("late") else None,
                sort=data.get("sort") or "",
            ),
        )
    else:
        status = 422
    params = request.GET.copy()
    for name in ("page", "sort"):
        params.pop(name, None)
    return _partial(
        request,
        "sales/order_list.html",
        "results",
        {
            "form": form,
            "page": page,
            "sort": request.GET.get("sort", ""),
            "sort_query": params.urlencode(),
        },
        target="order-results",
        status=status,
    )


@require_http_methods(["GET", "POST"])
def sales_order_create(request):
    _guard(request, "sales.add_salesorder")
    form = OrderForm(
        request.POST if request.method == "POST" else None,
        actor=request.user,
        initial={"client": request.GET.get("client")},
    )
    rows, errors, status = [], {}, 200
    if request.method == "POST":
        rows = lines_from_post(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                order = services.sales_order_create(
                    actor=request.user,
                    client_id=data["client"].pk,
                    warehouse_id=data["warehouse"].pk,
                    currency=data.get("currency") or None,
                    invoice_before_delivery=data.get("invoice_before_delivery"),
                    note=data.get("note") or "",
                    delivery_date=data.get("delivery_date"),
                    lines=rows,
                )
            except DomainError as exc:
                raise_http(exc)
                errors = exc.fields
                apply_domain_error(form, exc, OrderForm.FIELD_NAMES)
                status = exc.http_status
            else:
                messages.success(
                    request, _("Sales order %(n)s created.") % {"n": order.number}
                )
                return redirect("sales_order_detail", pk=order.pk)
        else:
            status = 422
    return render(
        request,
        "sales/order_form.html",
        {"form": form, **_editor_context(rows, errors, line_dates=True)},
        status=status,
    )


def _rows_of(lines) -> list[dict]:
    return [
        {
            "product_id": str(line.product_id),
            "quantity": str(line.quantity.normalize()),
            "unit": line.unit,
            "unit_price": str(line.unit_price.normalize()),
            "discount_percent": str(line.discount_percent.normalize())
            if line.discount_percent
            else "",
            "delivery_date": line.delivery_date.isoformat()
            if line.delivery_date
            else "",
        }
        for line in lines
    ]


@require_http_methods(["GET", "POST"])
def sales_order_edit(request, pk: int):
    """Change a draft order's lines, warehouse and note (version checked)."""
    _guard(request, "sales.change_salesorder")
    order = _fetch(queries.sales_order_get, actor=request.user, order_id=pk)
    initial = {
        "client": order.client_id,
        "warehouse": order.warehouse_id,
        "currency": order.currency,
        "invoice_before_delivery": order.invoice_before_delivery,
        "note": order.note,
        "delivery_date": order.delivery_date,
    }
    form = OrderForm(
        request.POST if request.method == "POST" else None,
        actor=request.user,
        initial=initial,
    )
    form.fields["client"].disabled = True
    form.fields["currency"].disabled = True
    rows, errors, status = _rows_of(queries.sales_order_lines(order=order)), {}, 200
    if request.method == "POST":
        rows = lines_from_post(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.sales_order_update(
                    actor=request.user,
                    order_id=order.pk,
                    version=_version(request),
                    warehouse_id=data["warehouse"].pk,
                    note=data.get("note") or "",
                    invoice_before_delivery=data.get("invoice_before_delivery"),
                    delivery_date=data.get("delivery_date"),
                    lines=rows,
                )
            except DomainError as exc:
                raise_http(exc)
                errors = exc.fields
                apply_domain_error(form, exc, OrderForm.FIELD_NAMES)
                status = exc.http_status
            else:
                messages.success(request, _("Order saved."))
                return redirect("sales_order_detail", pk=order.pk)
        else:
            status = 422
    return render(
        request,
        "sales/order_form.html",
        {
            "form": form,
            "order": order,
            **_editor_context(rows, errors, line_dates=True),
        },
        status=status,
    )


def _order_context(request, order, **extra):
    lines = queries.sales_order_lines(order=order)
    availability = queries.sales_order_availability(order=order, lines=lines)
    from satu.inventory import queries as inventory_queries

    today = timezone.localdate()
    open_order = order.state in queries.LATE_STATES
    rows = []
    for line in lines:
        due = line.delivery_date or order.delivery_date
        rows.append(
            {
                "line": line,
                "availability": availability.get(line.pk),
                "left_to_ship": max(line.quantity - line.shipped_quantity, Decimal(0)),
                "delivery_date": due,
                "late": open_order
                and due is not None
                and due < today
                and line.product.kind != "service"
                and line.shipped_quantity < line.quantity,
            }
        )
    return {
        "order": order,
        "rows": rows,
        "warehouses": list(inventory_queries.warehouse_list()),
        "transfers": queries.sales_order_transfers(order=order),
        "invoices": queries.sales_order_invoices(order=order),
        "payment_status": queries.sales_order_payment_status(order=order),
        "can_change": request.user.has_perm("sales.change_salesorder"),
        "can_override": request.user.has_perm("sales.override_credit"),
        "audit_entries": list(audit.entries_for(order)[:20]),
        "errors": [],
        **extra,
    }


@require_GET
def sales_order_detail(request, pk: int):
    _guard(request, "sales.view_salesorder")
    order = _fetch(queries.sales_order_get, actor=request.user, order_id=pk)
    return render(request, "sales/order_detail.html", _order_context(request, order))


def _order_action(request, pk, run, success: str):
    _guard(request, "sales.change_salesorder")
    order = _fetch(queries.sales_order_get, actor=request.user, order_id=pk)
    try:
        run(order)
    except DomainError as exc:
        raise_http(exc)
        order = _fetch(queries.sales_order_get, actor=request.user, order_id=pk)
        return render(
            request,
            "sales/order_detail.html",
            _order_context(
                request, order, errors=_error_text(exc), action_post=request.POST
            ),
            status=exc.http_status,
        )
    messages.success(request, success)
    return redirect("sales_order_detail", pk=pk)


def _version(request):
    value = request.POST.get("version")
    return int(value) if value and value.isdigit() else None


@require_POST
def sales_order_confirm(request, pk: int):
    return _order_action(
        request,
        pk,
        lambda order: services.sales_order_confirm(
            actor=request.user,
            order_id=order.pk,
            version=_version(request),
            override_reason=request.POST.get("override_reason", ""),
            without_reservation=request.POST.get("without_reservation") == "1",
        ),
        _("Order confirmed."),
    )


@require_POST
def sales_order_reschedule(request, pk: int):
    """Another delivery date for a confirmed order (empty clears it)."""
    return _order_action(
        request,
        pk,
        lambda order: services.sales_order_update(
            actor=request.user,
            order_id=order.pk,
            version=_version(request),
            delivery_date=request.POST.get("delivery_date", "").strip(),
        ),
        _("Delivery date changed."),
    )


@require_POST
def sales_order_ship(request, pk: int):
    quantities = {
        key.removeprefix("ship_"): value.strip()
        for key, value in request.POST.items()
        if key.startswith("ship_") and value.strip()
    }
    lots = {
        key.removeprefix("lot_"): value.strip()
        for key, value in request.POST.items()
        if key.startswith("lot_") and value.strip()
    }
    warehouse = request.POST.get("warehouse") or None
    return _order_action(
        request,
        pk,
        lambda order: services.sales_order_ship(
            actor=request.user,
            order_id=order.pk,
            version=_version(request),
            warehouse_id=int(warehouse) if warehouse and warehouse.isdigit() else None,
            quantities=quantities or None,
            lots=lots or None,
            one_step=request.POST.get("one_step", "1") == "1",
        ),
        _("Shipment recorded."),
    )


@require_POST
def sales_order_invoice(request, pk: int):
    return _order_action(
        request,
        pk,
        lambda order: services.sales_order_invoice(
            actor=request.user, order_id=order.pk, version=_version(request)
        ),
        _("Invoice created and posted."),
    )


def _cancel_confirm(request, order, *, errors=(), reason="", status=200):
    """The confirm step of cancelling a shipped or invoiced order: what will
    be reversed (customer returns, credit notes) and released, and a reason."""
    plan = queries.sales_order_cancel_plan(order=order)
    return render(
        request,
        "sales/order_cancel.html",
        {
            "order": order,
            "plan": plan,
            "errors": list(errors),
            "reason": reason,
            "can_reverse": request.user.has_perm("billing.change_invoice"),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def sales_order_cancel(request, pk: int):
    """GET: the confirm page. POST: cancel; `reverse=1` (from the confirm
    page) reverses what was shipped or invoiced. A POST that needs the
    reversal without it, or without a reason, shows the confirm page."""
    if request.method == "GET":
        _guard(request, "sales.change_salesorder")
        order = _fetch(queries.sales_order_get, actor=request.user, order_id=pk)
        if order.state == SalesOrder.State.CANCELLED:
            return redirect("sales_order_detail", pk=pk)
        return _cancel_confirm(request, order)
    _guard(request, "sales.change_salesorder")
    order = _fetch(queries.sales_order_get, actor=request.user, order_id=pk)
    reason = request.POST.get("reason", "")
    try:
        services.sales_order_cancel(
            actor=request.user,
            order_id=order.pk,
            version=_version(request),
            reason=reason,
            reverse=request.POST.get("reverse") == "1",
        )
    except DomainError as exc:
        raise_http(exc)
        order = _fetch(queries.sales_order_get, actor=request.user, order_id=pk)
        if request.POST.get("reverse") == "1" or isinstance(exc, ReversalRequired):
            return _cancel_confirm(
                request,
                order,
                errors=_error_text(exc),
                reason=reason,
                status=exc.http_status,
            )
        return render(
            request,
            "sales/order_detail.html",
            _order_context(
                request, order, errors=_error_text(exc), action_post=request.POST
            ),
            status=exc.http_status,
        )
    messages.success(request, _("Order cancelled."))
    return redirect("sales_order_detail", pk=pk)


# ------------------------------------------------------------------ quotes


@require_GET
def quote_list(request):
    _guard(request, "sales.view_quote")
    form = QuoteFilterForm(request.GET)
    page, status = None, 200
    if form.is_valid():
        data = form.cleaned_data
        page = _page(
            request,
            queries.quote_list(
                actor=request.user,
                search=data.get("q") or "",
                state=data.get("state") or "",
                client_id=data.get("client"),
            ),
        )
    else:
        status = 422
    return _partial(
        request,
        "sales/quote_list.html",
        "results",
        {"form": form, "page": page, "today": timezone.localdate()},
        target="quote-results",
        status=status,
    )


@require_http_methods(["GET", "POST"])
def quote_create(request):
    _guard(request, "sales.add_quote")
    deal_id = request.GET.get("deal") or request.POST.get("deal") or None
    deal = None
    if deal_id:
        from satu.crm import queries as crm_queries

        deal = _fetch(crm_queries.deal_get, actor=request.user, deal_id=deal_id)
    initial = {"client": request.GET.get("client")}
    if deal is not None:
        initial = {"client": deal.client_id, "currency": deal.currency, "deal": deal.pk}
    form = QuoteForm(
        request.POST if request.method == "POST" else None,
        actor=request.user,
        initial=initial,
    )
    rows, errors, status = [], {}, 200
    if deal is not None and request.method == "GET":
        from satu.crm import queries as crm_queries

        rows = [
            {
                "product_id": str(dl.product_id),
                "quantity": str(dl.quantity.normalize()),
                "unit": dl.unit,
                "unit_price": str(dl.price.normalize()) if dl.price else "",
            }
            for dl in crm_queries.deal_lines(deal=deal)
            if dl.product_id and not dl.dropped
        ]
    if request.method == "POST":
        rows = lines_from_post(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                quote = services.quote_create(
                    actor=request.user,
                    client_id=data["client"].pk,
                    deal_id=deal.pk if deal else None,
                    currency=data.get("currency") or None,
                    valid_until=data.get("valid_until"),
                    warehouse_id=data["warehouse"].pk
                    if data.get("warehouse")
                    else None,
                    note=data.get("note") or "",
                    lines=rows,
                )
            except DomainError as exc:
                raise_http(exc)
                errors = exc.fields
                apply_domain_error(form, exc, QuoteForm.FIELD_NAMES)
                status = exc.http_status
            else:
                messages.success(
                    request, _("Quote %(n)s created.") % {"n": quote.number}
                )
                return redirect("quote_detail", pk=quote.pk)
        else:
            status = 422
    return render(
        request,
        "sales/quote_form.html",
        {"form": form, "deal": deal, **_editor_context(rows, errors)},
        status=status,
    )


def _quote_context(request, quote, **extra):
    lines = queries.quote_lines(quote=quote)
    return {
        "quote": quote,
        "lines": lines,
        "taxes": queries.tax_summary(lines),
        "expired": queries.quote_is_expired(quote),
        "orders": list(quote.orders.all()),
        "can_change": request.user.has_perm("sales.change_quote"),
        "can_order": request.user.has_perm("sales.add_salesorder"),
        "send_form": extra.pop("send_form", None)
        or SendForm(
            initial={
                "to": quote.client.email,
                "subject": _("Quote %(n)s") % {"n": quote.number},
            }
        ),
        "audit_entries": list(audit.entries_for(quote)[:20]),
        "errors": [],
        **extra,
    }


@require_GET
def quote_detail(request, pk: int):
    _guard(request, "sales.view_quote")
    quote = _fetch(queries.quote_get, actor=request.user, quote_id=pk)
    return render(request, "sales/quote_detail.html", _quote_context(request, quote))


@require_GET
def quote_pdf(request, pk: int):
    _guard(request, "sales.view_quote")
    quote = _fetch(queries.quote_get, actor=request.user, quote_id=pk)
    response = HttpResponse(
        services.quote_pdf(quote=quote), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{quote.number}.pdf"'
    return response


def _quote_action(request, pk, run, success, *, send_form=None):
    _guard(request, "sales.change_quote")
    quote = _fetch(queries.quote_get, actor=request.user, quote_id=pk)
    try:
        result = run(quote)
    except DomainError as exc:
        raise_http(exc)
        if send_form is not None:
            apply_domain_error(send_form, exc)
        quote = _fetch(queries.quote_get, actor=request.user, quote_id=pk)
        return render(
            request,
            "sales/quote_detail.html",
            _quote_context(
                request, quote, errors=_error_text(exc), send_form=send_form
            ),
            status=exc.http_status,
        )
    messages.success(request, success)
    if isinstance(result, SalesOrder):
        return redirect("sales_order_detail", pk=result.pk)
    return redirect("quote_detail", pk=pk)


@require_POST
def quote_send(request, pk: int):
    form = SendForm(request.POST)
    if not form.is_valid():
        quote = _fetch(queries.quote_get, actor=request.user, quote_id=pk)
        return render(
            request,
            "sales/quote_detail.html",
            _quote_context(request, quote, send_form=form),
            status=422,
        )
    return _quote_action(
        request,
        pk,
        lambda quote: services.quote_send(
            actor=request.user, quote_id=quote.pk, **form.cleaned_data
        ),
        _("Quote sent."),
        send_form=form,
    )


@require_POST
def quote_accept(request, pk: int):
    return _quote_action(
        request,
        pk,
        lambda q: services.quote_accept(actor=request.user, quote_id=q.pk),
        _("Quote accepted."),
    )


@require_POST
def quote_reject(request, pk: int):
    return _quote_action(
        request,
        pk,
        lambda q: services.quote_reject(actor=request.user, quote_id=q.pk),
        _("Quote rejected."),
    )


@require_POST
def quote_to_order(request, pk: int):
    return _quote_action(
        request,
        pk,
        lambda q: services.quote_to_order(actor=request.user, quote_id=q.pk),
        _("Sales order created from the quote."),
    )


# ------------------------------------------------------------------ assortment


@require_http_methods(["GET", "POST"])
def assortment_list(request):
    _guard(request, "sales.view_assortmentrule")
    can_edit = request.user.has_perm("sales.add_assortmentrule")
    form = (
        AssortmentForm(request.POST if request.method == "POST" else None)
        if can_edit
        else None
    )
    status = 200
    if request.method == "POST":
        require_perm(request, "sales.add_assortmentrule")
        if form.is_valid():
            try:
                services.assortment_rule_create(
                    actor=request.user, **form.service_kwargs()
                )
            except DomainError as exc:
                raise_http(exc)
                apply_domain_error(form, exc, AssortmentForm.FIELD_NAMES)
                status = exc.http_status
            else:
                messages.success(request, _("Assortment rule added."))
                return redirect("assortment_list")
        else:
            status = 422
    return render(
        request,
        "sales/assortment.html",
        {
            "rules": list(queries.assortment_rule_list(actor=request.user)[:500]),
            "form": form,
            "can_edit": request.user.has_perm("sales.change_assortmentrule"),
        },
        status=status,
    )


@require_POST
def assortment_remove(request, pk: int):
    _guard(request, "sales.change_assortmentrule")
    try:
        services.assortment_rule_remove(actor=request.user, rule_id=pk)
    except DomainError as exc:
        raise_http(exc)
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Assortment rule removed."))
    return redirect("assortment_list")
