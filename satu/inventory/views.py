"""Web screens of inventory: stock (list, export, product card),
warehouses and locations, transfers (list, detail with pick / pack / done,
new write-off / internal transfer / receipt), inventory counts.

Views parse with `inventory.forms`, call `services`/`queries`, and render;
a DomainError's message lands on the form or as a message (404/403 become
Django's pages)."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from satu.catalog.models import Product
from satu.core.errors import DomainError
from satu.core.exports import FORMATS, export_response, iterate
from satu.core.web import apply_domain_error, raise_http, require_feature
from satu.inventory import queries, services
from satu.inventory.forms import (
    CountCreateForm,
    ExpiringLotsFilterForm,
    LocationForm,
    LocationMoveForm,
    LotForm,
    StockFilterForm,
    TransferFilterForm,
    TransferForm,
    WarehouseForm,
)

PAGE_SIZE = 50

view_stock = permission_required("inventory.view_stocklevel", raise_exception=True)
view_transfer = permission_required("inventory.view_transfer", raise_exception=True)
view_warehouse = permission_required("inventory.view_warehouse", raise_exception=True)
view_count = permission_required("inventory.view_inventorycount", raise_exception=True)
view_lot = permission_required("inventory.view_lot", raise_exception=True)
move_stock = permission_required("inventory.add_stockmove", raise_exception=True)


def _page(request, queryset):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    return page


def _query(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _fail(request, exc: DomainError):
    raise_http(exc)
    messages.error(request, str(exc))


# -------------------------------------------------------------------- stock


@require_GET
@view_stock
def stock_list(request):
    require_feature(request, "inventory")
    form = StockFilterForm(request.GET)
    page, incoming = None, {}
    if form.is_valid():
        page = _page(request, queries.stock_levels(**form.query_kwargs()))
        incoming = queries.incoming_by_product_warehouse(
            {lv.product_id for lv in page.object_list}
        )
        for lv in page.object_list:
            lv.incoming = incoming.get((lv.product_id, lv.warehouse_id)) or 0
    template = "inventory/stock_list.html"
    if getattr(request, "htmx", None) and request.htmx.target == "stock-results":
        template += "#results"
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "query": _query(request),
            "warehouse_values": _warehouse_values(),
        },
        status=200 if form.is_valid() else 422,
    )


def _warehouse_values() -> list:
    values = queries.stock_value()
    return [(wh, values.get(wh.pk, 0)) for wh in queries.warehouse_list()]


def _stock_columns():
    return [
        (_("SKU"), lambda lv: lv.product.sku),
        (_("Product"), lambda lv: lv.product.name),
        (_("Warehouse"), lambda lv: lv.warehouse.code),
        (_("On hand"), lambda lv: lv.on_hand),
        (_("Reserved"), lambda lv: lv.reserved),
        (_("Available"), lambda lv: lv.on_hand - lv.reserved),
        (_("Value"), lambda lv: lv.value),
    ]


@require_GET
@view_stock
def stock_export(request, fmt: str):
    require_feature(request, "inventory")
    form = StockFilterForm(request.GET)
    if fmt not in FORMATS or not form.is_valid():
        raise Http404(_("Unknown export format or filters."))
    rows = iterate(queries.stock_levels(**form.query_kwargs()))
    stamp = timezone.localdate().isoformat()
    return export_response(
        fmt, rows, _stock_columns(), f"stock-{stamp}", title=_("Stock")
    )


@require_GET
@view_stock
def stock_product(request, pk: int):
    require_feature(request, "inventory")
    product = Product.objects.select_related("base_unit").filter(pk=pk).first()
    if product is None:
        raise Http404()
    levels = list(queries.stock_levels(only_nonzero=False).filter(product_id=pk))
    return render(
        request,
        "inventory/stock_product.html",
        {
            "product": product,
            "levels": levels,
            "availability": queries.stock_availability(product_ids=[pk])[pk],
            "quants": list(queries.quants_for_product(product_id=pk)),
            "page": _page(request, queries.move_list(product_id=pk)),
            "query": _query(request),
        },
    )


# --------------------------------------------------------------- warehouses


@require_http_methods(["GET", "POST"])
@view_warehouse
def warehouse_list(request):
    require_feature(request, "inventory")
    form = WarehouseForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                wh = services.warehouse_create(actor=request.user, **form.cleaned_data)
                messages.success(
                    request, _("Warehouse %(code)s created.") % {"code": wh.code}
                )
                return redirect("warehouse_detail", wh.pk)
            except DomainError as exc:
                raise_http(exc)
                apply_domain_error(form, exc)
        status = 422
    return render(
        request,
        "inventory/warehouse_list.html",
        {
            "form": form,
            "warehouses": list(queries.warehouse_list(include_inactive=True)),
            "warehouse_values": _warehouse_values(),
            "reasons": list(queries.write_off_reasons(include_inactive=True)),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@view_warehouse
def warehouse_detail(request, pk: int):
    require_feature(request, "inventory")
    try:
        wh = queries.warehouse_get(warehouse_id=pk)
    except DomainError as exc:
        raise_http(exc)
        raise
    form = LocationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.location_create(
                    actor=request.user, warehouse_id=wh.pk, **form.cleaned_data
                )
                return redirect("warehouse_detail", wh.pk)
            except DomainError as exc:
                raise_http(exc)
                apply_domain_error(form, exc)
        status = 422
    return render(
        request,
        "inventory/warehouse_detail.html",
        {
            "warehouse": wh,
            "locations": list(queries.location_list(warehouse_id=wh.pk)),
            "form": form,
        },
        status=status,
    )


# ---------------------------------------------------------------- transfers


@require_GET
@view_transfer
def transfer_list(request):
    require_feature(request, "inventory")
    form = TransferFilterForm(request.GET)
    page = None
    if form.is_valid():
        page = _page(request, queries.transfer_list(**form.query_kwargs()))
    template = "inventory/transfer_list.html"
    if getattr(request, "htmx", None) and request.htmx.target == "transfer-results":
        template += "#results"
    return render(
        request,
        template,
        {"form": form, "page": page, "query": _query(request)},
        status=200 if form.is_valid() else 422,
    )


@require_http_methods(["GET", "POST"])
@view_transfer
def transfer_create(request):
    require_feature(request, "inventory")
    initial = {"kind": request.GET.get("kind") or "write_off"}
    default = queries.warehouse_default()
    if default:
        initial["warehouse"] = default.pk
    form = TransferForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                t = services.transfer_create(
                    actor=request.user, **form.service_kwargs()
                )
                return redirect("transfer_detail", t.pk)
            except DomainError as exc:
                raise_http(exc)
                apply_domain_error(
                    form, exc, {"lines.0.lot_expires_on": "lot_expires_on"}
                )
        status = 422
    return render(
        request,
        "inventory/transfer_form.html",
        {
            "form": form,
            "lots": _suggested_lots(
                product_id=form["product"].value(),
                warehouse_id=form["warehouse"].value(),
                kind=form["kind"].value(),
            ),
        },
        status=status,
    )


@require_GET
@view_transfer
def transfer_detail(request, pk: int):
    require_feature(request, "inventory")
    try:
        transfer = queries.transfer_get(transfer_id=pk)
    except DomainError as exc:
        raise_http(exc)
        raise
    lines = list(queries.transfer_lines(transfer_id=pk))
    if transfer.state in ("confirmed", "picked", "packed"):
        # FEFO suggestions where a lot is still to be chosen.
        by_product: dict = {}
        for line in lines:
            if line.lot_id is None and line.product.tracking != "none":
                if line.product_id not in by_product:
                    by_product[line.product_id] = _suggested_lots(
                        product_id=line.product_id,
                        warehouse_id=transfer.warehouse_id,
                        kind=transfer.kind,
                    )
                line.lot_choices = by_product[line.product_id]
                line.lot_list_id = f"lots-{line.pk}"
    return render(
        request,
        "inventory/transfer_detail.html",
        {
            "transfer": transfer,
            "lines": lines,
            "moves": list(queries.move_list().filter(transfer_id=pk)),
        },
    )


@require_POST
@view_transfer
def transfer_action(request, pk: int, action: str):
    """pick / pack / done (with per-line quantities and lots) / cancel."""
    require_feature(request, "inventory")
    version = request.POST.get("version") or None
    try:
        if action == "pick":
            services.transfer_pick(actor=request.user, transfer_id=pk, version=version)
        elif action == "pack":
            services.transfer_pack(actor=request.user, transfer_id=pk, version=version)
        elif action == "cancel":
            services.transfer_cancel(
                actor=request.user, transfer_id=pk, version=version
            )
        elif action == "done":
            quantities, lots, expiry = {}, {}, {}
            for key, value in request.POST.items():
                if key.startswith("expires_") and key[8:].isdigit() and value.strip():
                    expiry[int(key[8:])] = value.strip()  # the service parses it
                if key.startswith("qty_") and value.strip() != "":
                    try:
                        quantities[int(key[4:])] = Decimal(value.strip())
                    except (InvalidOperation, ValueError):
                        messages.error(request, _("Enter a number."))
                        return redirect("transfer_detail", pk)
                elif key.startswith("lot_") and value.strip():
                    lots[int(key[4:])] = value.strip()
            services.transfer_done(
                actor=request.user,
                transfer_id=pk,
                quantities=quantities or None,
                lots=lots or None,
                version=version,
                lot_expires_on=expiry or None,
            )
        else:
            raise Http404()
        messages.success(request, _("Saved."))
    except DomainError as exc:
        _fail(request, exc)
    return redirect("transfer_detail", pk)


# ---------------------------------------------------------- inventory counts


@require_http_methods(["GET", "POST"])
@view_count
def count_list(request):
    require_feature(request, "inventory")
    form = CountCreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                count = services.inventory_count_create(
                    actor=request.user,
                    warehouse_id=form.cleaned_data["warehouse"].pk,
                    note=form.cleaned_data["note"],
                )
                return redirect("count_detail", count.pk)
            except DomainError as exc:
                raise_http(exc)
                apply_domain_error(form, exc)
        status = 422
    return render(
        request,
        "inventory/count_list.html",
        {
            "form": form,
            "page": _page(request, queries.inventory_count_list()),
            "query": _query(request),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@view_count
def count_detail(request, pk: int):
    require_feature(request, "inventory")
    try:
        count = queries.inventory_count_get(count_id=pk)
    except DomainError as exc:
        raise_http(exc)
        raise
    if request.method == "POST":
        version = request.POST.get("version") or None
        try:
            if "cancel" in request.POST:
                services.inventory_count_cancel(
                    actor=request.user, count_id=pk, version=version
                )
            else:
                counted = {
                    int(k[8:]): (v.strip() or None)
                    for k, v in request.POST.items()
                    if k.startswith("counted_")
                }
                count = services.inventory_count_set(
                    actor=request.user, count_id=pk, counted=counted, version=version
                )
                if "validate" in request.POST:
                    services.inventory_count_validate(
                        actor=request.user, count_id=pk, version=count.version
                    )
            messages.success(request, _("Saved."))
            return redirect("count_detail", pk)
        except DomainError as exc:
            _fail(request, exc)
    return render(
        request,
        "inventory/count_detail.html",
        {"count": count, "lines": list(queries.inventory_count_lines(count_id=pk))},
    )


# ------------------------------------------------------- lots and expiry


def _int(value) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


# Outgoing kinds refuse expired lots, so their suggestions leave them out;
# a write-off (and a move inside the warehouse) may take them.
_WITH_EXPIRED = ("write_off", "move")
_NO_SUGGESTIONS = ("receipt", "adjustment")


def _suggested_lots(*, product_id, warehouse_id=None, kind="", location_id=None):
    """FEFO lots of a product in a warehouse (or one of its locations) for
    a form where a lot is chosen; [] when there is nothing to suggest."""
    product_id, warehouse_id = _int(product_id), _int(warehouse_id)
    location_id = _int(location_id)
    if product_id is None or kind in _NO_SUGGESTIONS:
        return []
    if warehouse_id is None and location_id is not None:
        warehouse_id = (
            queries.location_list(kinds=["internal"])
            .filter(pk=location_id)
            .values_list("warehouse_id", flat=True)
            .first()
        )
    if warehouse_id is None:
        return []
    return queries.lots_available(
        product_id=product_id,
        warehouse_id=warehouse_id,
        location_id=location_id,
        include_expired=kind in _WITH_EXPIRED,
    )


@require_GET
@view_lot
def lot_suggestions(request):
    """htmx partial: FEFO lots (code, expiry, quantity) for ?product=&
    warehouse= (or &source=<location>) &kind=; `list` names the datalist,
    `show=table|inline|none` the visible part."""
    require_feature(request, "inventory")
    get = request.GET
    list_id = get.get("list") or "lot-choices"
    if not list_id.replace("-", "").replace("_", "").isalnum() or len(list_id) > 40:
        list_id = "lot-choices"
    show = get.get("show")
    if show not in ("table", "inline", "none"):
        show = "table"
    lots = _suggested_lots(
        product_id=get.get("product"),
        warehouse_id=get.get("warehouse"),
        kind=get.get("kind") or "",
        location_id=get.get("source") or get.get("location"),
    )
    return render(
        request,
        "inventory/_lot_suggestions.html",
        {"lots": lots, "list_id": list_id, "show": show},
    )


def _expiring_columns():
    return [
        (_("SKU"), lambda r: r["sku"]),
        (_("Product"), lambda r: r["name"]),
        (_("Lot / serial"), lambda r: r["code"]),
        (_("Expires on"), lambda r: r["expires_on"]),
        (_("Warehouse"), lambda r: r["warehouse_code"]),
        (_("On hand"), lambda r: r["on_hand"]),
    ]


@require_GET
@view_lot
def expiring_lots(request):
    require_feature(request, "inventory")
    form = ExpiringLotsFilterForm(request.GET)
    page = None
    today = timezone.localdate()
    days = ExpiringLotsFilterForm.DEFAULT_DAYS
    if form.is_valid():
        kwargs = form.query_kwargs()
        days = kwargs["days"]
        page = _page(request, queries.expiring_lots(today=today, **kwargs))
        for row in page.object_list:
            row["days_left"] = (row["expires_on"] - today).days
    template = "inventory/expiring_lots.html"
    if getattr(request, "htmx", None) and request.htmx.target == "lot-results":
        template += "#results"
    return render(
        request,
        template,
        {"form": form, "page": page, "query": _query(request), "days": days},
        status=200 if form.is_valid() else 422,
    )


@require_GET
@view_lot
def expiring_lots_export(request, fmt: str):
    require_feature(request, "inventory")
    form = ExpiringLotsFilterForm(request.GET)
    if fmt not in FORMATS or not form.is_valid():
        raise Http404(_("Unknown export format or filters."))
    rows = iterate(queries.expiring_lots(**form.query_kwargs()))
    stamp = timezone.localdate().isoformat()
    return export_response(
        fmt,
        rows,
        _expiring_columns(),
        f"expiring-lots-{stamp}",
        title=_("Expiring lots"),
    )


@require_http_methods(["GET", "POST"])
@view_lot
def lot_detail(request, pk: int):
    """A lot: where it is, and its expiry date (editable)."""
    require_feature(request, "inventory")
    try:
        lot = queries.lot_get(lot_id=pk)
    except DomainError as exc:
        raise_http(exc)
        raise
    form = LotForm(request.POST or None, initial={"expires_on": lot.expires_on})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.lot_update(
                    actor=request.user,
                    lot_id=lot.pk,
                    expires_on=form.cleaned_data["expires_on"],
                )
                messages.success(request, _("Saved."))
                return redirect("lot_detail", lot.pk)
            except DomainError as exc:
                raise_http(exc)
                apply_domain_error(form, exc)
        status = 422
    today = timezone.localdate()
    return render(
        request,
        "inventory/lot_detail.html",
        {
            "lot": lot,
            "form": form,
            "quants": list(queries.lot_quants(lot_id=pk)),
            "expired": lot.expires_on is not None and lot.expires_on < today,
        },
        status=status,
    )


# ------------------------------------------------ moves between locations


@require_http_methods(["GET", "POST"])
@move_stock
def location_move(request):
    """Move stock between two internal locations of one warehouse, through
    the service the API's POST /api/v1/stock-moves uses."""
    require_feature(request, "inventory")
    initial = {
        k: request.GET[k] for k in ("product", "source") if _int(request.GET.get(k))
    }
    form = LocationMoveForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                move = services.stock_move_post(
                    actor=request.user, **form.service_kwargs()
                )
                messages.success(
                    request,
                    _("Moved %(qty)s from %(src)s to %(dst)s.")
                    % {
                        "qty": format(move.quantity.normalize(), "f"),
                        "src": form.cleaned_data["source"],
                        "dst": form.cleaned_data["destination"],
                    },
                )
                return redirect("stock_product", move.product_id)
            except DomainError as exc:
                raise_http(exc)
                apply_domain_error(form, exc)
        status = 422
    return render(
        request,
        "inventory/location_move.html",
        {
            "form": form,
            "lots": _suggested_lots(
                product_id=form["product"].value(),
                location_id=form["source"].value(),
                kind="move",
            ),
        },
        status=status,
    )
