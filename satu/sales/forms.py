"""Forms of the sales screens. Document lines are repeated inputs
(`line_product`, `line_quantity`, `line_unit`, `line_price`,
`line_discount`, and on orders `line_delivery`) parsed by `lines_from_post`;
the service validates them and its errors (keyed `lines.<i>.<field>`) are
shown per row."""

from django import forms
from django.utils.translation import gettext_lazy as _

from satu.catalog.models import Category, Product
from satu.core.web import apply_domain_error  # noqa: F401  (re-exported)
from satu.parties import queries as parties_queries
from satu.sales.models import Quote, SalesOrder

LINE_FIELDS = ("product", "quantity", "unit", "price", "discount", "delivery")


def lines_from_post(data) -> list[dict]:
    """The line rows of a POST, skipping rows without a product."""
    columns = {name: data.getlist(f"line_{name}") for name in LINE_FIELDS}
    count = max((len(v) for v in columns.values()), default=0)
    rows = []
    for i in range(count):
        value = {
            name: (columns[name][i] if i < len(columns[name]) else "")
            for name in LINE_FIELDS
        }
        if not str(value["product"]).strip():
            continue
        rows.append(
            {
                "product_id": value["product"],
                "quantity": value["quantity"].strip() or "0",
                "unit": value["unit"].strip() or None,
                "unit_price": value["price"].strip() or None,
                "discount_percent": value["discount"].strip() or None,
                # An order line's own delivery date (quotes have none).
                "delivery_date": value["delivery"].strip() or None,
            }
        )
    return rows


def line_rows_for_display(rows: list[dict], errors: dict) -> list[dict]:
    """Rows to re-render after an error, each with its own messages."""
    shown = []
    for i, row in enumerate(rows):
        messages = [
            str(m)
            for key, values in errors.items()
            if key.startswith(f"lines.{i}.")
            for m in values
        ]
        shown.append({**row, "errors": messages})
    return shown


def product_choices():
    return Product.objects.filter(is_active=True).order_by("sku")


class _ClientField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class OrderForm(forms.Form):
    client = _ClientField(label=_("Client"), queryset=None)
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=None)
    delivery_date = forms.DateField(
        label=_("Delivery date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Promised to the client; a line may have its own."),
    )
    currency = forms.CharField(
        label=_("Currency"), max_length=3, required=False, help_text=_("Default: ours.")
    )
    invoice_before_delivery = forms.BooleanField(
        label=_("Invoice before delivery"), required=False
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    FIELD_NAMES = {"client_id": "client", "warehouse_id": "warehouse"}

    def __init__(self, *args, actor, **kwargs):
        from satu.inventory import queries as inventory_queries

        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = (
            parties_queries.clients_visible_to(actor)
            .filter(is_archived=False, merged_into=None)
            .order_by("name")
        )
        self.fields["warehouse"].queryset = inventory_queries.warehouse_list()
        default = inventory_queries.warehouse_default()
        if default is not None and not self.is_bound:
            self.initial.setdefault("warehouse", default.pk)


class QuoteForm(forms.Form):
    client = _ClientField(label=_("Client"), queryset=None)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Default: in 30 days."),
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse or outlet"), queryset=None, required=False
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    deal = forms.IntegerField(widget=forms.HiddenInput, required=False)

    FIELD_NAMES = {"client_id": "client", "warehouse_id": "warehouse"}

    def __init__(self, *args, actor, **kwargs):
        from satu.inventory import queries as inventory_queries

        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = (
            parties_queries.clients_visible_to(actor)
            .filter(is_archived=False, merged_into=None)
            .order_by("name")
        )
        self.fields["warehouse"].queryset = inventory_queries.warehouse_list()


class _Flag(forms.CheckboxInput):
    """A checkbox read from `?name=1` (also "true"/"on"); "0" is off."""

    def value_from_datadict(self, data, files, name):
        return str(data.get(name, "")).strip().lower() in ("1", "true", "on")


class OrderFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All"))] + list(SalesOrder.State.choices),
    )
    late = forms.BooleanField(label=_("Late only"), required=False, widget=_Flag)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("", _("Newest first")),
            ("delivery", _("Delivery date, earliest first")),
            ("-delivery", _("Delivery date, latest first")),
        ],
    )
    client = forms.IntegerField(required=False, widget=forms.HiddenInput)
    segment = forms.IntegerField(required=False, widget=forms.HiddenInput)


class QuoteFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All"))] + list(Quote.State.choices),
    )
    client = forms.IntegerField(required=False, widget=forms.HiddenInput)


class SendForm(forms.Form):
    to = forms.CharField(label=_("To"), max_length=1000)
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    message = forms.CharField(
        label=_("Message"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )


class AssortmentForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=None, required=False, empty_label="—"
    )
    category = forms.ModelChoiceField(
        label=_("Or category"), queryset=None, required=False, empty_label="—"
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse or outlet"),
        queryset=None,
        required=False,
        empty_label=_("Everywhere"),
    )
    client_group = forms.ModelChoiceField(
        label=_("Client group"),
        queryset=None,
        required=False,
        empty_label=_("Every client"),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    FIELD_NAMES = {
        "product_id": "product",
        "category_id": "category",
        "warehouse_id": "warehouse",
        "client_group_id": "client_group",
    }

    def __init__(self, *args, **kwargs):
        from satu.inventory import queries as inventory_queries

        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = product_choices()
        self.fields["category"].queryset = Category.objects.select_related(
            "parent"
        ).order_by("name")
        self.fields["warehouse"].queryset = inventory_queries.warehouse_list()
        self.fields["client_group"].queryset = parties_queries.client_groups()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "product_id": data["product"].pk if data.get("product") else None,
            "category_id": data["category"].pk if data.get("category") else None,
            "warehouse_id": data["warehouse"].pk if data.get("warehouse") else None,
            "client_group_id": data["client_group"].pk
            if data.get("client_group")
            else None,
            "note": data.get("note") or "",
        }
