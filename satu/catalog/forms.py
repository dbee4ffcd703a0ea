"""Forms of the catalog screens: they parse input; the services validate."""

from django import forms
from django.utils.translation import gettext_lazy as _

from satu.catalog import queries
from satu.catalog.models import PriceList, Product, TaxRule
from satu.core import custom_fields
from satu.core import web as core_web
from satu.core.errors import DomainError
from satu.parties import queries as parties_queries

DECIMAL = {"max_digits": 20, "decimal_places": 6}


def apply_domain_error(form: forms.Form, exc: DomainError, names=None) -> None:
    """Show a service error on the form, per field where it names one."""
    core_web.apply_domain_error(form, exc, names)


class ProductFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": _("SKU, name or barcode"),
            }
        ),
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=None, required=False, empty_label="—"
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", "—"), *Product.Kind.choices]
    )
    archived = forms.BooleanField(label=_("Archived"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = queries.categories()
        self.custom_names = []
        for definition in custom_fields.definitions("catalog.product"):
            name = f"cf_{definition.code}"
            self.fields[name] = forms.CharField(
                label=definition.label, required=False, max_length=200
            )
            self.custom_names.append(name)

    def query_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "search": data.get("q") or "",
            "category_id": data["category"].pk if data.get("category") else None,
            "kind": data.get("kind") or "",
            "archived": bool(data.get("archived")),
            "custom": {n: data[n] for n in self.custom_names if data.get(n)},
        }

    def custom_bound_fields(self):
        return [self[name] for name in self.custom_names]


class ProductForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Product.Kind.choices)
    base_unit = forms.ModelChoiceField(
        label=_("Base unit"), queryset=None, to_field_name="code"
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=None, required=False, empty_label="—"
    )
    barcode = forms.CharField(
        label=_("Barcode"),
        max_length=32,
        required=False,
        help_text=_("EAN-8, EAN-13 or GTIN-14."),
    )
    tracking = forms.ChoiceField(label=_("Tracking"), choices=Product.Tracking.choices)
    tax_category = forms.CharField(
        label=_("Tax category"), max_length=32, required=False
    )
    costing_method = forms.ChoiceField(
        label=_("Costing method"),
        choices=Product.CostingMethod.choices,
        initial=Product.CostingMethod.AVERAGE,
        required=False,
    )
    cost_price = forms.DecimalField(
        label=_("Cost price"),
        required=False,
        min_value=0,
        max_digits=20,
        decimal_places=4,
        help_text=_("Standard cost per base unit (receipts without a price)."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    FIELD_NAMES = {"category_id": "category"}

    def __init__(self, *args, product: Product | None = None, **kwargs):
        if product is not None and not kwargs.get("data") and not args:
            kwargs["initial"] = {
                "sku": product.sku,
                "name": product.name,
                "kind": product.kind,
                "base_unit": product.base_unit.code,
                "category": product.category_id,
                "barcode": product.barcode,
                "tracking": product.tracking,
                "tax_category": product.tax_category,
                "costing_method": product.costing_method,
                "cost_price": product.cost_price.normalize(),
                "description": product.description,
                "version": product.version,
            }
        super().__init__(*args, **kwargs)
        self.fields["base_unit"].queryset = queries.units()
        self.fields["category"].queryset = queries.categories()
        self.custom_names = []
        for name, field in custom_fields.form_fields("catalog.product").items():
            self.fields[name] = field
            self.custom_names.append(name)
            code = name.removeprefix("cf_")
            if product is not None and code in product.custom:
                value = product.custom[code]
                if isinstance(value, bool):
                    value = "true" if value else "false"
                self.initial[name] = value

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "sku": data["sku"],
            "name": data["name"],
            "kind": data["kind"],
            "base_unit": data["base_unit"].code,
            "category_id": data["category"].pk if data.get("category") else None,
            "barcode": data.get("barcode") or "",
            "tracking": data["tracking"],
            "tax_category": data.get("tax_category") or "",
            "costing_method": data.get("costing_method")
            or Product.CostingMethod.AVERAGE,
            "cost_price": data.get("cost_price") or 0,
            "description": data.get("description") or "",
            "custom": {n.removeprefix("cf_"): data.get(n) for n in self.custom_names},
        }

    def custom_bound_fields(self):
        return [self[name] for name in self.custom_names]


class ConversionForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=None, to_field_name="code")
    factor = forms.DecimalField(label=_("Base units per unit"), min_value=0, **DECIMAL)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = queries.units()


class ComponentForm(forms.Form):
    component = forms.ModelChoiceField(label=_("Product"), queryset=None)
    quantity = forms.DecimalField(label=_("Quantity"), **DECIMAL)

    def __init__(self, *args, actor, kit: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["component"].queryset = (
            queries.product_list(actor=actor)
            .exclude(kind=Product.Kind.KIT)
            .exclude(pk=kit.pk)
        )


class PriceCheckForm(forms.Form):
    client = forms.ModelChoiceField(
        label=_("Client"), queryset=None, required=False, empty_label=_("Anyone")
    )
    quantity = forms.CharField(label=_("Quantity"), max_length=32, initial="1")
    unit = forms.ChoiceField(label=_("Unit"), choices=())
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="IDR")
    on_date = forms.DateField(
        label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, actor, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = (
            parties_queries.clients_visible_to(actor)
            .filter(is_archived=False, merged_into=None)
            .order_by("name", "id")
        )
        codes = list(queries.unit_factors(product))
        self.fields["unit"].choices = [(c, c) for c in codes]
        self.fields["unit"].initial = product.base_unit.code


class PriceListFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class PriceListForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="IDR")
    client_group = forms.ModelChoiceField(
        label=_("Client group"),
        queryset=None,
        required=False,
        empty_label=_("Every client"),
    )
    valid_from = forms.DateField(
        label=_("Valid from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    valid_to = forms.DateField(
        label=_("Valid to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    priority = forms.IntegerField(
        label=_("Priority"),
        initial=0,
        help_text=_("Where several lists have a price, the highest priority wins."),
    )
    discount_percent = forms.DecimalField(
        label=_("Discount %"), initial=0, max_digits=7, decimal_places=4
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    FIELD_NAMES = {"client_group_id": "client_group"}

    def __init__(self, *args, price_list: PriceList | None = None, **kwargs):
        if price_list is not None and not kwargs.get("data") and not args:
            kwargs["initial"] = {
                "name": price_list.name,
                "currency": price_list.currency,
                "client_group": price_list.client_group_id,
                "valid_from": price_list.valid_from,
                "valid_to": price_list.valid_to,
                "priority": price_list.priority,
                "discount_percent": price_list.discount_percent.normalize(),
                "is_active": price_list.is_active,
                "version": price_list.version,
            }
        super().__init__(*args, **kwargs)
        self.fields["client_group"].queryset = parties_queries.client_groups()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        group = data.get("client_group")
        return {
            "name": data["name"],
            "currency": data["currency"],
            "client_group_id": group.pk if group else None,
            "valid_from": data.get("valid_from"),
            "valid_to": data.get("valid_to"),
            "priority": data["priority"],
            "discount_percent": data["discount_percent"],
            "is_active": bool(data.get("is_active")),
        }


class PriceItemForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=None)
    unit = forms.ModelChoiceField(
        label=_("Unit"),
        queryset=None,
        required=False,
        to_field_name="code",
        empty_label=_("Base unit"),
    )
    min_quantity = forms.CharField(label=_("From quantity"), max_length=32, initial="1")
    price = forms.CharField(label=_("Price"), max_length=32)
    discount_percent = forms.CharField(
        label=_("Discount %"), max_length=16, required=False
    )

    FIELD_NAMES = {"product_id": "product"}

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = queries.product_list(actor=actor)
        self.fields["unit"].queryset = queries.units()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "product_id": data["product"].pk,
            "unit": data["unit"].code if data.get("unit") else None,
            "min_quantity": data["min_quantity"],
            "price": data["price"],
            "discount_percent": data.get("discount_percent") or None,
        }


class TaxRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    rate = forms.DecimalField(
        label=_("Rate %"), min_value=0, max_value=99.9999, decimal_places=4
    )
    inclusive = forms.BooleanField(label=_("Price includes tax"), required=False)
    applies_to = forms.ChoiceField(
        label=_("Applies to"), choices=TaxRule.AppliesTo.choices, initial="both"
    )
    tax_category = forms.CharField(
        label=_("Tax category"),
        max_length=32,
        required=False,
        help_text=_("Applies to products with this tax category code."),
    )
    category = forms.ModelChoiceField(
        label=_("Product category"),
        queryset=None,
        required=False,
        empty_label="—",
        help_text=_("Or to a product category and its sub-categories."),
    )
    valid_from = forms.DateField(
        label=_("Valid from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    valid_to = forms.DateField(
        label=_("Valid to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    FIELD_NAMES = {"category_id": "category"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = queries.categories()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "rate": data["rate"],
            "inclusive": data.get("inclusive") or False,
            "applies_to": data["applies_to"],
            "tax_category": data.get("tax_category") or "",
            "category_id": data["category"].pk if data.get("category") else None,
            "valid_from": data.get("valid_from"),
            "valid_to": data.get("valid_to"),
        }
