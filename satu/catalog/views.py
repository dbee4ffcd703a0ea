"""Web screens of the catalog: products (list, card, form), price lists
(list, detail with items) and the price check on the product card.

Views parse with `catalog.forms`, call `services`/`queries`, and render; a
DomainError's message lands on the form (404/403 become Django's pages).
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from satu.catalog import exports, queries, services
from satu.catalog.forms import (
    ComponentForm,
    ConversionForm,
    PriceCheckForm,
    PriceItemForm,
    PriceListFilterForm,
    PriceListForm,
    ProductFilterForm,
    ProductForm,
    apply_domain_error,
)
from satu.catalog.models import Product
from satu.core import audit, custom_fields
from satu.core.errors import DomainError
from satu.core.web import fetch as _fetch
from satu.core.web import raise_http as _raise_http
from satu.core.web import require_perm as _require_perm

PAGE_SIZE = 50
AUDIT_LIMIT = 20

view_product = permission_required("catalog.view_product", raise_exception=True)
view_pricelist = permission_required("catalog.view_pricelist", raise_exception=True)


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


# ---------------------------------------------------------------- products


@require_GET
@view_product
def product_list(request):
    form = ProductFilterForm(request.GET)
    page, status = None, 200
    if form.is_valid():
        try:
            products = queries.product_list(actor=request.user, **form.query_kwargs())
            page = _page(request, products)
        except DomainError as exc:
            apply_domain_error(form, exc)
            status = exc.http_status
    else:
        status = 422
    filtered = any(form.data.get(k) for k in form.fields if k != "q")
    return _partial(
        request,
        "catalog/product_list.html",
        "results",
        {"form": form, "page": page, "filtered": filtered},
        target="product-results",
        status=status,
    )


@require_GET
@view_product
def product_export(request, fmt: str):
    form = ProductFilterForm(request.GET)
    if not form.is_valid():
        raise Http404(_("Some filters are not valid."))
    try:
        return exports.export(actor=request.user, fmt=fmt, filters=form.query_kwargs())
    except DomainError as exc:
        _raise_http(exc)
        messages.error(request, str(exc))
        return redirect("product_list")


def _product_form_view(request, product=None):
    form = ProductForm(request.POST or None, product=product)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if product is None:
                    saved = services.product_create(
                        actor=request.user, **form.service_kwargs()
                    )
                else:
                    saved = services.product_update(
                        actor=request.user,
                        product_id=product.pk,
                        version=form.cleaned_data.get("version"),
                        **form.service_kwargs(),
                    )
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc, ProductForm.FIELD_NAMES)
                status = exc.http_status
            else:
                messages.success(
                    request, _("Product “%(name)s” saved.") % {"name": saved.name}
                )
                return redirect("product_detail", pk=saved.pk)
        else:
            status = 422
    return render(
        request,
        "catalog/product_form.html",
        {"form": form, "product": product},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@view_product
def product_create(request):
    _require_perm(request, "catalog.add_product")
    return _product_form_view(request)


@require_http_methods(["GET", "POST"])
@view_product
def product_edit(request, pk: int):
    product = _fetch(queries.product_get, actor=request.user, product_id=pk)
    _require_perm(request, "catalog.change_product")
    return _product_form_view(request, product)


def _price_check(request, product):
    """The price check form and its result (GET with `check=1`)."""
    bound = request.GET.get("check")
    form = PriceCheckForm(
        request.GET if bound else None, actor=request.user, product=product
    )
    result, status = None, 200
    if bound and form.is_valid():
        data = form.cleaned_data
        try:
            result = queries.price_for(
                client=data.get("client"),
                product=product,
                quantity=data["quantity"],
                unit=data["unit"],
                on_date=data.get("on_date") or timezone.localdate(),
                currency=data["currency"],
            )
        except DomainError as exc:
            _raise_http(exc)
            apply_domain_error(form, exc)
            status = exc.http_status
    elif bound:
        status = 422
    return form, result, status


@require_GET
@view_product
def product_detail(request, pk: int):
    product = _fetch(queries.product_get, actor=request.user, product_id=pk)
    can_price = request.user.has_perm("catalog.view_pricelist")
    check_form, result, status = (None, None, 200)
    if can_price:
        check_form, result, status = _price_check(request, product)
    htmx = getattr(request, "htmx", None)
    context = {
        "product": product,
        "units": list(product.units.all()),
        "components": list(product.components.all()),
        "price_items": queries.product_price_items(actor=request.user, product=product),
        "custom_values": [
            (d.label, custom_fields.display_value(d, product.custom[d.code]))
            for d in custom_fields.definitions("catalog.product")
            if product.custom.get(d.code) is not None
        ],
        "check_form": check_form,
        "quote": result,
        "can_edit": request.user.has_perm("catalog.change_product"),
        "conversion_form": ConversionForm(),
        "component_form": ComponentForm(actor=request.user, kit=product)
        if product.kind == Product.Kind.KIT
        else None,
        "audit_entries": list(audit.entries_for(product)[:AUDIT_LIMIT]),
    }
    template = "catalog/product_detail.html"
    if htmx and htmx.target == "price-check":
        template += "#price_check"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
@view_product
def product_unit_add(request, pk: int):
    form = ConversionForm(request.POST)
    if form.is_valid():
        try:
            services.product_unit_set(
                actor=request.user,
                product_id=pk,
                unit=form.cleaned_data["unit"].code,
                factor=form.cleaned_data["factor"],
            )
        except DomainError as exc:
            _raise_http(exc)
            for message in [exc.message, *sum(exc.fields.values(), [])]:
                messages.error(request, str(message))
        else:
            messages.success(request, _("Unit conversion saved."))
    else:
        messages.error(request, _("Choose a unit and a factor greater than zero."))
    return redirect("product_detail", pk=pk)


@require_POST
@view_product
def product_component_add(request, pk: int):
    product = _fetch(queries.product_get, actor=request.user, product_id=pk)
    form = ComponentForm(request.POST, actor=request.user, kit=product)
    if form.is_valid():
        rows = [
            {"product_id": c.component_id, "quantity": c.quantity}
            for c in product.components.all()
            if c.component_id != form.cleaned_data["component"].pk
        ]
        rows.append(
            {
                "product_id": form.cleaned_data["component"].pk,
                "quantity": form.cleaned_data["quantity"],
            }
        )
        try:
            services.kit_components_set(
                actor=request.user, product_id=pk, components=rows
            )
        except DomainError as exc:
            _raise_http(exc)
            for message in [exc.message, *sum(exc.fields.values(), [])]:
                messages.error(request, str(message))
        else:
            messages.success(request, _("Kit component saved."))
    else:
        messages.error(request, _("Choose a product and a quantity."))
    return redirect("product_detail", pk=pk)


@require_POST
@view_product
def product_archive(request, pk: int):
    archived = request.POST.get("archived", "1") == "1"
    try:
        services.product_archive(actor=request.user, product_id=pk, archived=archived)
    except DomainError as exc:
        _raise_http(exc)
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Product archived.") if archived else _("Product restored.")
        )
    return redirect("product_detail", pk=pk)


# ---------------------------------------------------------------- price lists


@require_GET
@view_pricelist
def price_list_list(request):
    form = PriceListFilterForm(request.GET)
    search = form.cleaned_data.get("q", "") if form.is_valid() else ""
    lists = queries.price_list_list(actor=request.user, search=search)
    return _partial(
        request,
        "catalog/price_list_list.html",
        "results",
        {"form": form, "page": _page(request, lists)},
        target="price-list-results",
    )


def _price_list_form_view(request, price_list=None):
    form = PriceListForm(request.POST or None, price_list=price_list)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if price_list is None:
                    saved = services.price_list_create(
                        actor=request.user, **form.service_kwargs()
                    )
                else:
                    saved = services.price_list_update(
                        actor=request.user,
                        price_list_id=price_list.pk,
                        version=form.cleaned_data.get("version"),
                        **form.service_kwargs(),
                    )
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc, PriceListForm.FIELD_NAMES)
                status = exc.http_status
            else:
                messages.success(request, _("Price list saved."))
                return redirect("price_list_detail", pk=saved.pk)
        else:
            status = 422
    return render(
        request,
        "catalog/price_list_form.html",
        {"form": form, "price_list": price_list},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@view_pricelist
def price_list_create(request):
    _require_perm(request, "catalog.add_pricelist")
    return _price_list_form_view(request)


@require_http_methods(["GET", "POST"])
@view_pricelist
def price_list_edit(request, pk: int):
    price_list = _fetch(queries.price_list_get, actor=request.user, price_list_id=pk)
    _require_perm(request, "catalog.change_pricelist")
    return _price_list_form_view(request, price_list)


@require_http_methods(["GET", "POST"])
@view_pricelist
def price_list_detail(request, pk: int):
    """The list's items; POST adds (or replaces) a price."""
    price_list = _fetch(queries.price_list_get, actor=request.user, price_list_id=pk)
    can_edit = request.user.has_perm("catalog.change_pricelist")
    item_form, status = None, 200
    if can_edit:
        item_form = PriceItemForm(request.POST or None, actor=request.user)
    if request.method == "POST":
        _require_perm(request, "catalog.change_pricelist")
        if item_form.is_valid():
            try:
                services.price_list_item_set(
                    actor=request.user,
                    price_list_id=price_list.pk,
                    **item_form.service_kwargs(),
                )
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(item_form, exc, PriceItemForm.FIELD_NAMES)
                status = exc.http_status
            else:
                messages.success(request, _("Price saved."))
                return redirect("price_list_detail", pk=price_list.pk)
        else:
            status = 422
    context = {
        "price_list": price_list,
        "page": _page(request, queries.price_list_items(price_list=price_list)),
        "item_form": item_form,
        "can_edit": can_edit,
        "query": "",
    }
    return render(request, "catalog/price_list_detail.html", context, status=status)


@require_POST
@view_pricelist
def price_list_item_remove(request, pk: int, item_id: int):
    try:
        services.price_list_item_remove(
            actor=request.user, price_list_id=pk, item_id=item_id
        )
    except DomainError as exc:
        _raise_http(exc)
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Price removed."))
    return redirect("price_list_detail", pk=pk)


# ---------------------------------------------------------------- tax rules


@require_http_methods(["GET", "POST"])
def tax_rule_list(request):
    """Settings → Taxes: the rules and a form to add one."""
    _require_perm(request, "catalog.view_taxrule")
    from satu.catalog.forms import TaxRuleForm

    can_edit = request.user.has_perm("catalog.add_taxrule")
    form = (
        TaxRuleForm(request.POST if request.method == "POST" else None)
        if can_edit
        else None
    )
    status = 200
    if request.method == "POST":
        _require_perm(request, "catalog.add_taxrule")
        if form.is_valid():
            try:
                rule = services.tax_rule_create(
                    actor=request.user, **form.service_kwargs()
                )
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc, TaxRuleForm.FIELD_NAMES)
                status = exc.http_status
            else:
                messages.success(
                    request, _("Tax rule “%(name)s” added.") % {"name": rule.name}
                )
                return redirect("tax_rule_list")
        else:
            status = 422
    archived = request.GET.get("archived") == "1"
    return render(
        request,
        "catalog/tax_rule_list.html",
        {
            "rules": list(queries.tax_rule_list(actor=request.user, archived=archived)),
            "archived": archived,
            "form": form,
            "can_edit": request.user.has_perm("catalog.change_taxrule"),
        },
        status=status,
    )


@require_POST
def tax_rule_archive(request, pk: int):
    _require_perm(request, "catalog.change_taxrule")
    restore = request.POST.get("restore") == "1"
    try:
        rule = services.tax_rule_archive(
            actor=request.user, tax_rule_id=pk, archived=not restore
        )
    except DomainError as exc:
        _raise_http(exc)
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            (
                _("Tax rule “%(name)s” restored.")
                if restore
                else _("Tax rule “%(name)s” archived.")
            )
            % {"name": rule.name},
        )
    return redirect("tax_rule_list")
