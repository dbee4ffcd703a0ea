"""Forms of the purchasing screens. They parse input only; every rule
(quantities, prices, currency vs contract, states) is the services' and
their message is shown on the form through `apply_domain_error`."""

from django import forms
from django.utils.translation import gettext_lazy as _

from satu.catalog.models import Product
from satu.parties.models import Counterparty
from satu.purchasing.models import PurchaseOrder

DATE = forms.DateInput(attrs={"type": "date"})


def _warehouses():
    from satu.inventory.queries import warehouse_list

    return warehouse_list()


def _products():
    return (
        Product.objects.filter(is_active=True)
        .exclude(kind=Product.Kind.KIT)
        .only("id", "sku", "name")
        .order_by("name", "id")
    )


class ProductChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.sku} · {obj.name}"


class SupplierChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.legal_name


class OrderFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All"))] + list(PurchaseOrder.State.choices),
    )


class PurchaseOrderForm(forms.Form):
    supplier = SupplierChoice(
        label=_("Supplier"), queryset=Counterparty.objects.order_by("legal_name")
    )
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=None)
    currency = forms.CharField(
        label=_("Currency"),
        required=False,
        max_length=3,
        help_text=_("Empty: the contract's, else the company's currency."),
    )
    contract = forms.ModelChoiceField(
        label=_("Contract"), required=False, queryset=None
    )
    order_date = forms.DateField(label=_("Order date"), required=False, widget=DATE)
    expected_date = forms.DateField(
        label=_("Expected date"), required=False, widget=DATE
    )
    reference = forms.CharField(
        label=_("Supplier's reference"), required=False, max_length=100
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from satu.billing import queries as billing

        self.fields["warehouse"].queryset = _warehouses()
        self.fields["contract"].queryset = billing.contract_list(
            actor=None, kind="purchase", state="active"
        ).order_by("number")

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "supplier_id": d["supplier"].pk,
            "warehouse_id": d["warehouse"].pk,
            "currency": (d.get("currency") or "").upper() or None,
            "contract_id": d["contract"].pk if d.get("contract") else None,
            "order_date": d.get("order_date"),
            "expected_date": d.get("expected_date"),
            "reference": d.get("reference") or "",
            "note": d.get("note") or "",
        }


def lines_from_post(data) -> list[dict]:
    """The line rows of the order form: rows without a quantity are
    dropped (that is how a row is removed)."""
    products = data.getlist("line_product")
    quantities = data.getlist("line_quantity")
    prices = data.getlist("line_price")
    rows = []
    for i, product in enumerate(products):
        qty = quantities[i].strip() if i < len(quantities) else ""
        price = prices[i].strip() if i < len(prices) else ""
        if not product and not qty:
            continue
        if not qty and not price:
            continue
        rows.append({"product_id": product, "quantity": qty, "unit_price": price})
    return rows


class SupplierPriceForm(forms.Form):
    supplier = SupplierChoice(
        label=_("Supplier"), queryset=Counterparty.objects.order_by("legal_name")
    )
    product = ProductChoice(label=_("Product"), queryset=None)
    price = forms.CharField(label=_("Price"), max_length=30)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="IDR")
    min_quantity = forms.CharField(
        label=_("Minimum quantity"), max_length=30, initial="1"
    )
    lead_time_days = forms.IntegerField(
        label=_("Lead time (days)"), min_value=0, initial=0
    )
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=DATE)
    valid_to = forms.DateField(label=_("Valid to"), required=False, widget=DATE)
    supplier_sku = forms.CharField(
        label=_("Supplier's code"), required=False, max_length=64
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = _products()
        if editing:
            del self.fields["supplier"]
            del self.fields["product"]
        else:
            del self.fields["is_active"]

    def service_kwargs(self) -> dict:
        d = dict(self.cleaned_data)
        out = {
            "price": d["price"],
            "currency": d["currency"],
            "min_quantity": d["min_quantity"],
            "lead_time_days": d["lead_time_days"],
            "valid_from": d.get("valid_from"),
            "valid_to": d.get("valid_to"),
            "supplier_sku": d.get("supplier_sku") or "",
        }
        if "supplier" in d:
            out["supplier_id"] = d["supplier"].pk
            out["product_id"] = d["product"].pk
        if "is_active" in self.fields:
            out["is_active"] = d.get("is_active", False)
        return out


class ReorderPointForm(forms.Form):
    product = ProductChoice(label=_("Product"), queryset=None)
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=None)
    minimum = forms.CharField(label=_("Minimum"), max_length=30)
    maximum = forms.CharField(label=_("Maximum"), max_length=30)
    multiple = forms.CharField(label=_("Order in multiples of"), initial="1")
    preferred_supplier = SupplierChoice(
        label=_("Preferred supplier"),
        required=False,
        queryset=Counterparty.objects.order_by("legal_name"),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = _products().filter(kind=Product.Kind.GOODS)
        self.fields["warehouse"].queryset = _warehouses()
        if editing:
            del self.fields["product"]
            del self.fields["warehouse"]
        else:
            del self.fields["is_active"]

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        out = {
            "minimum": d["minimum"],
            "maximum": d["maximum"],
            "multiple": d["multiple"],
            "preferred_supplier_id": (
                d["preferred_supplier"].pk if d.get("preferred_supplier") else None
            ),
        }
        if "product" in self.fields:
            out["product_id"] = d["product"].pk
            out["warehouse_id"] = d["warehouse"].pk
        if "is_active" in self.fields:
            out["is_active"] = d.get("is_active", False)
        return out
