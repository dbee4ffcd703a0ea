"""HTML screens of purchasing: purchase orders (list, form with htmx line
rows, detail, confirm, receive, bill, cancel), supplier prices, suppliers,
reorder points and the "what to buy" screen. Views parse, call services
and queries, and show a DomainError's message on the form."""

from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from satu.core import audit
from satu.core.errors import DomainError, ValidationFailed
from satu.core.web import apply_domain_error, fetch, raise_http, require_feature
from satu.core.web import require_perm as _require_perm
from satu.purchasing import queries, services
from satu.purchasing.forms import (
    OrderFilterForm,
    PurchaseOrderForm,
    ReorderPointForm,
    SupplierPriceForm,
    _products,
    lines_from_post,
)
from satu.purchasing.models import PurchaseOrder

PAGE_SIZE = 50
FEATURE = "purchasing"


def _guard(request, perm: str) -> None:
    require_feature(request, FEATURE)
    _require_perm(request, perm)


def _page(request, qs):
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return page, params.urlencode()


def _flash(request, exc: DomainError) -> None:
    raise_http(exc)
    details = [m for msgs in exc.fields.values() for m in msgs]
    text = str(exc.message)
    if details and text == str(type(exc).default_message):
        text = f"{text} {' '.join(details)}"
    messages.error(request, text)


# ------------------------------------------------------------ purchase orders


def purchase_order_list(request):
    """Purchase orders with search and state filter, newest first."""
    _guard(request, "purchasing.view_purchaseorder")
    form = OrderFilterForm(request.GET or None)
    filters = {}
    if form.is_valid():
        filters = {
            "search": form.cleaned_data.get("q") or "",
            "state": form.cleaned_data.get("state") or "",
        }
    qs = queries.purchase_order_list(actor=request.user, **filters)
    page, query = _page(request, qs)
    return render(
        request,
        "purchasing/purchase_order_list.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "can_add": request.user.has_perm("purchasing.add_purchaseorder"),
        },
    )


def _line_rows(rows, errors: dict) -> list[dict]:
    out = []
    for i, row in enumerate(rows):
        out.append(
            row
            | {
                "errors": [
                    m
                    for key, msgs in errors.items()
                    if key.startswith(f"lines.{i}.")
                    for m in msgs
                ]
            }
        )
    return out


def _order_form(request, order: PurchaseOrder | None):
    perm = (
        "purchasing.change_purchaseorder" if order else "purchasing.add_purchaseorder"
    )
    _guard(request, perm)
    if order is not None and order.state != PurchaseOrder.State.DRAFT:
        messages.error(request, _("Only a draft order can be edited."))
        return redirect("purchase_order_detail", pk=order.pk)
    initial = {}
    rows: list[dict] = []
    if order is not None:
        initial = {
            "supplier": order.supplier_id,
            "warehouse": order.warehouse_id,
            "currency": order.currency,
            "contract": order.contract_id,
            "order_date": order.order_date,
            "expected_date": order.expected_date,
            "reference": order.reference,
            "note": order.note,
        }
        rows = [
            {
                "product_id": str(li.product_id),
                "quantity": li.quantity.normalize(),
                "unit_price": li.unit_price.normalize(),
            }
            for li in order.lines.all()
        ]
    else:
        from satu.inventory.queries import warehouse_default

        wh = warehouse_default()
        initial = {"warehouse": wh.pk if wh else None}
        if request.GET.get("supplier"):
            initial["supplier"] = request.GET["supplier"]
    form = PurchaseOrderForm(request.POST or None, initial=initial)
    status = 200
    line_errors: dict = {}
    if request.method == "POST":
        rows = lines_from_post(request.POST)
        if form.is_valid():
            try:
                if order is None:
                    order = services.purchase_order_create(
                        actor=request.user, lines=rows, **form.service_kwargs()
                    )
                else:
                    services.purchase_order_update(
                        actor=request.user,
                        order_id=order.pk,
                        version=request.POST.get("version"),
                        lines=rows,
                        **form.service_kwargs(),
                    )
            except DomainError as exc:
                raise_http(exc)
                line_errors = {
                    k: v for k, v in exc.fields.items() if k.startswith("lines.")
                }
                other = type(exc)(
                    exc.message,
                    fields={
                        {"supplier_id": "supplier", "warehouse_id": "warehouse"}.get(
                            k, k.removesuffix("_id")
                        ): v
                        for k, v in exc.fields.items()
                        if not k.startswith("lines.")
                    }
                    | ({"lines": exc.fields["lines"]} if "lines" in exc.fields else {}),
                )
                apply_domain_error(form, other)
                status = exc.http_status
            else:
                messages.success(
                    request, _("Purchase order %(number)s saved.") % {"number": order}
                )
                return redirect("purchase_order_detail", pk=order.pk)
        else:
            status = 422
    if not rows:
        rows = [{"product_id": "", "quantity": "", "unit_price": ""}]
    return render(
        request,
        "purchasing/purchase_order_form.html",
        {
            "form": form,
            "order": order,
            "rows": _line_rows(rows, line_errors),
            "products": list(_products()),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def purchase_order_create(request):
    return _order_form(request, None)


@require_http_methods(["GET", "POST"])
def purchase_order_edit(request, pk: int):
    order = fetch(queries.purchase_order_get, actor=request.user, order_id=pk)
    return _order_form(request, order)


def purchase_order_line_row(request):
    """htmx: one more empty line row for the order form."""
    _guard(request, "purchasing.add_purchaseorder")
    return render(
        request,
        "purchasing/_line_row.html",
        {
            "row": {"product_id": "", "quantity": "", "unit_price": ""},
            "products": list(_products()),
        },
    )


def purchase_order_detail(request, pk: int):
    _guard(request, "purchasing.view_purchaseorder")
    order = fetch(queries.purchase_order_get, actor=request.user, order_id=pk)
    user = request.user
    active = order.state in (
        PurchaseOrder.State.CONFIRMED,
        PurchaseOrder.State.PROCESSING,
    )
    lines = list(order.lines.all())
    context = {
        "order": order,
        "lines": lines,
        "receipts": queries.purchase_order_receipts(order=order),
        "invoices": queries.purchase_order_invoices(order=order)
        if user.has_perm("billing.view_invoice")
        else [],
        "audit_entries": list(audit.entries_for(order)[:20]),
        "can_change": user.has_perm("purchasing.change_purchaseorder"),
        "can_receive": active
        and user.has_perm("purchasing.change_purchaseorder")
        and any(li.open_quantity > 0 and not li.is_service for li in lines),
        "can_bill": active
        and user.has_perm("purchasing.bill_purchaseorder")
        and any(_billable(li) > 0 for li in lines),
        "can_cancel": order.state
        not in (PurchaseOrder.State.DONE, PurchaseOrder.State.CANCELLED)
        and user.has_perm("purchasing.change_purchaseorder"),
    }
    return render(request, "purchasing/purchase_order_detail.html", context)


def _billable(line) -> Decimal:
    return services._billable(line)


@require_POST
def purchase_order_confirm(request, pk: int):
    _guard(request, "purchasing.change_purchaseorder")
    try:
        order = services.purchase_order_confirm(
            actor=request.user, order_id=pk, version=request.POST.get("version")
        )
    except DomainError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("Order %(number)s confirmed.") % {"number": order})
    return redirect("purchase_order_detail", pk=pk)


@require_POST
def purchase_order_cancel(request, pk: int):
    _guard(request, "purchasing.change_purchaseorder")
    try:
        order = services.purchase_order_cancel(
            actor=request.user, order_id=pk, version=request.POST.get("version")
        )
    except DomainError as exc:
        _flash(request, exc)
    else:
        messages.success(
            request,
            _("What was not received of %(number)s is cancelled.") % {"number": order},
        )
    return redirect("purchase_order_detail", pk=pk)


def _quantities(request, lines, prefix: str) -> dict:
    return {
        li.pk: request.POST.get(f"{prefix}_{li.pk}", "").strip() or "0"
        for li in lines
        if f"{prefix}_{li.pk}" in request.POST
    }


def _action_form(request, pk: int, *, kind: str):
    """The receive or bill form: one quantity per line, defaulting to what
    is open (receive) or billable (bill)."""
    perm = (
        "purchasing.change_purchaseorder"
        if kind == "receive"
        else "purchasing.bill_purchaseorder"
    )
    _guard(request, perm)
    order = fetch(queries.purchase_order_get, actor=request.user, order_id=pk)
    lines = list(order.lines.all())
    if kind == "receive":
        lines = [li for li in lines if not li.is_service]
    errors: dict = {}
    message = ""
    status = 200
    if request.method == "POST":
        quantities = _quantities(request, lines, "qty")
        try:
            if kind == "receive":
                lots = {
                    li.pk: request.POST.get(f"lot_{li.pk}", "").strip()
                    for li in lines
                    if request.POST.get(f"lot_{li.pk}", "").strip()
                }
                expiry = {  # parsed by the service, which names the field
                    li.pk: request.POST.get(f"expires_{li.pk}", "").strip()
                    for li in lines
                    if request.POST.get(f"expires_{li.pk}", "").strip()
                }
                transfer = services.purchase_order_receive(
                    actor=request.user,
                    order_id=pk,
                    quantities=quantities,
                    lots=lots,
                    version=request.POST.get("version"),
                    lot_expires_on=expiry,
                )
                messages.success(
                    request,
                    _("Received into stock: %(number)s.") % {"number": transfer.number},
                )
            else:
                invoice = services.purchase_order_bill(
                    actor=request.user,
                    order_id=pk,
                    quantities=quantities,
                    reference=request.POST.get("reference", ""),
                    version=request.POST.get("version"),
                )
                messages.success(
                    request,
                    _("Supplier invoice %(number)s recorded.")
                    % {"number": invoice.number or invoice.pk},
                )
        except DomainError as exc:
            raise_http(exc)
            errors = exc.fields
            message = str(exc.message)
            status = exc.http_status
        else:
            return redirect("purchase_order_detail", pk=pk)
    rows = []
    for li in lines:
        default = li.open_quantity if kind == "receive" else _billable(li)
        rows.append(
            {
                "line": li,
                "default": request.POST.get(f"qty_{li.pk}", default.normalize())
                if request.method == "POST"
                else max(default, Decimal(0)).normalize(),
                "lot": request.POST.get(f"lot_{li.pk}", ""),
                "expires": request.POST.get(f"expires_{li.pk}", ""),
                "tracked": li.product.tracking != "none",
                "limit": default,
                "errors": errors.get(f"quantities.{li.pk}", [])
                + errors.get(f"lots.{li.pk}", [])
                + errors.get(f"lot_expires_on.{li.pk}", []),
            }
        )
    return render(
        request,
        "purchasing/purchase_order_action.html",
        {
            "order": order,
            "rows": rows,
            "kind": kind,
            "error": message,
            "other_errors": [
                m
                for k, msgs in errors.items()
                if not k.startswith(("quantities.", "lots.", "lot_expires_on."))
                for m in msgs
            ],
            "reference": request.POST.get("reference", ""),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def purchase_order_receive(request, pk: int):
    return _action_form(request, pk, kind="receive")


@require_http_methods(["GET", "POST"])
def purchase_order_bill(request, pk: int):
    return _action_form(request, pk, kind="bill")


# ------------------------------------------------------------ supplier prices


def supplier_price_list(request):
    _guard(request, "purchasing.view_supplierprice")
    search = request.GET.get("q", "")[:100]
    qs = queries.supplier_price_list(
        actor=request.user,
        search=search,
        supplier_id=request.GET.get("supplier") or None,
    )
    page, query = _page(request, qs)
    return render(
        request,
        "purchasing/supplier_price_list.html",
        {
            "page": page,
            "query": query,
            "search": search,
            "can_add": request.user.has_perm("purchasing.add_supplierprice"),
        },
    )


@require_http_methods(["GET", "POST"])
def supplier_price_form(request, pk: int | None = None):
    editing = pk is not None
    _guard(
        request,
        "purchasing.change_supplierprice"
        if editing
        else "purchasing.add_supplierprice",
    )
    price = (
        fetch(queries.supplier_price_get, actor=request.user, price_id=pk)
        if editing
        else None
    )
    initial = {}
    if price is not None:
        initial = {
            "price": price.price.normalize(),
            "currency": price.currency,
            "min_quantity": price.min_quantity.normalize(),
            "lead_time_days": price.lead_time_days,
            "valid_from": price.valid_from,
            "valid_to": price.valid_to,
            "supplier_sku": price.supplier_sku,
            "is_active": price.is_active,
        }
    else:
        initial = {
            "supplier": request.GET.get("supplier"),
            "product": request.GET.get("product"),
        }
    form = SupplierPriceForm(request.POST or None, initial=initial, editing=editing)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if editing:
                    services.supplier_price_update(
                        actor=request.user,
                        price_id=pk,
                        version=request.POST.get("version"),
                        **form.service_kwargs(),
                    )
                else:
                    services.supplier_price_create(
                        actor=request.user, **form.service_kwargs()
                    )
            except DomainError as exc:
                raise_http(exc)
                apply_domain_error(
                    form,
                    exc,
                    {"supplier_id": "supplier", "product_id": "product"},
                )
                status = exc.http_status
            else:
                messages.success(request, _("Supplier price saved."))
                return redirect("supplier_price_list")
        else:
            status = 422
    return render(
        request,
        "purchasing/supplier_price_form.html",
        {"form": form, "price": price},
        status=status,
    )


def supplier_list(request):
    """Counterparties we buy from (with prices or orders)."""
    require_feature(request, FEATURE)
    search = request.GET.get("q", "")[:100]
    qs = queries.supplier_list(actor=request.user, search=search)
    page, query = _page(request, qs)
    return render(
        request,
        "purchasing/supplier_list.html",
        {"page": page, "query": query, "search": search},
    )


# ------------------------------------------------------------- reorder points


def reorder_point_list(request):
    _guard(request, "purchasing.view_reorderpoint")
    search = request.GET.get("q", "")[:100]
    qs = queries.reorder_point_list(actor=request.user, search=search)
    page, query = _page(request, qs)
    return render(
        request,
        "purchasing/reorder_point_list.html",
        {
            "page": page,
            "query": query,
            "search": search,
            "can_add": request.user.has_perm("purchasing.add_reorderpoint"),
        },
    )


@require_http_methods(["GET", "POST"])
def reorder_point_form(request, pk: int | None = None):
    editing = pk is not None
    _guard(
        request,
        "purchasing.change_reorderpoint" if editing else "purchasing.add_reorderpoint",
    )
    point = (
        fetch(queries.reorder_point_get, actor=request.user, point_id=pk)
        if editing
        else None
    )
    initial = {}
    if point is not None:
        initial = {
            "minimum": point.minimum.normalize(),
            "maximum": point.maximum.normalize(),
            "multiple": point.multiple.normalize(),
            "preferred_supplier": point.preferred_supplier_id,
            "is_active": point.is_active,
        }
    form = ReorderPointForm(request.POST or None, initial=initial, editing=editing)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if editing:
                    services.reorder_point_update(
                        actor=request.user,
                        point_id=pk,
                        version=request.POST.get("version"),
                        **form.service_kwargs(),
                    )
                else:
                    services.reorder_point_create(
                        actor=request.user, **form.service_kwargs()
                    )
            except DomainError as exc:
                raise_http(exc)
                apply_domain_error(
                    form,
                    exc,
                    {
                        "product_id": "product",
                        "warehouse_id": "warehouse",
                        "preferred_supplier_id": "preferred_supplier",
                    },
                )
                status = exc.http_status
            else:
                messages.success(request, _("Reorder point saved."))
                return redirect("reorder_point_list")
        else:
            status = 422
    return render(
        request,
        "purchasing/reorder_point_form.html",
        {"form": form, "point": point},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def reorder(request):
    """What to buy: proposals below their minimum; the selected ones become
    draft purchase orders, one per supplier, in one click."""
    _guard(request, "purchasing.view_reorderpoint")
    error = ""
    status = 200
    if request.method == "POST":
        _require_perm(request, "purchasing.add_purchaseorder")
        selected = request.POST.getlist("select")
        selections = [
            {
                "reorder_point_id": pid,
                "quantity": request.POST.get(f"qty_{pid}", "").strip() or None,
            }
            for pid in selected
        ]
        try:
            if not selections:
                raise ValidationFailed(_("Select at least one line."))
            orders = services.purchase_orders_from_proposals(
                actor=request.user, selections=selections
            )
        except DomainError as exc:
            raise_http(exc)
            details = [m for msgs in exc.fields.values() for m in msgs]
            error = " ".join([str(exc.message)] + details)
            status = exc.http_status
        else:
            messages.success(
                request,
                _("Draft purchase orders created: %(numbers)s.")
                % {"numbers": ", ".join(o.number for o in orders)},
            )
            return redirect("purchase_order_list")
    search = request.GET.get("q", "")[:100]
    proposals = queries.reorder_proposals(actor=request.user, search=search)
    return render(
        request,
        "purchasing/reorder.html",
        {
            "proposals": proposals,
            "search": search,
            "error": error,
            "can_order": request.user.has_perm("purchasing.add_purchaseorder"),
        },
        status=status,
    )
