"""Forms of the inventory screens: parse input for the services (which
validate the business rules and raise DomainErrors shown on the form)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from satu.catalog.models import Product
from satu.inventory.models import Location, Transfer, Warehouse, WriteOffReason


class StockFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        queryset=Warehouse.objects.filter(is_active=True),
        required=False,
        empty_label=_("All warehouses"),
    )
    zero = forms.BooleanField(label=_("Include zero"), required=False)

    def query_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "search": data.get("q") or "",
            "warehouse_id": data["warehouse"].pk if data.get("warehouse") else None,
            "only_nonzero": not data.get("zero"),
        }


class TransferFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All kinds")), *Transfer.Kind.choices],
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All states")), *Transfer.State.choices],
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        queryset=Warehouse.objects.filter(is_active=True),
        required=False,
        empty_label=_("All warehouses"),
    )

    def query_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "search": data.get("q") or "",
            "kind": data.get("kind") or "",
            "state": data.get("state") or "",
            "warehouse_id": data["warehouse"].pk if data.get("warehouse") else None,
        }


class WarehouseForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=16)
    name = forms.CharField(label=_("Name"), max_length=100)
    address = forms.CharField(
        label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    is_outlet = forms.BooleanField(label=_("Outlet"), required=False)
    allow_negative = forms.BooleanField(label=_("Allow negative stock"), required=False)


class LocationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.CharField(label=_("Code"), max_length=32, required=False)


def _goods():
    return Product.objects.filter(kind=Product.Kind.GOODS, is_active=True).order_by(
        "name"
    )


class TransferForm(forms.Form):
    """A one-line document for the screens (write-off, internal transfer,
    receipt); more lines come through the API or other apps."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        # Customer returns come from the deliveries they take back.
        choices=[c for c in Transfer.Kind.choices if c[0] != Transfer.Kind.RETURN],
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), queryset=Warehouse.objects.filter(is_active=True)
    )
    destination_warehouse = forms.ModelChoiceField(
        label=_("To warehouse"),
        queryset=Warehouse.objects.filter(is_active=True),
        required=False,
    )
    reason = forms.ModelChoiceField(
        label=_("Reason"),
        queryset=WriteOffReason.objects.filter(is_active=True),
        required=False,
    )
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.none()
    )
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=20, decimal_places=6)
    lot_code = forms.CharField(
        label=_("Lot / serial"),
        max_length=64,
        required=False,
        # FEFO suggestions (inventory/_lot_suggestions.html) fill this list.
        widget=forms.TextInput(attrs={"list": "lot-choices", "autocomplete": "off"}),
    )
    # Parsed by the service (its message names the field, as in the API).
    lot_expires_on = forms.CharField(
        label=_("Lot expires on"),
        required=False,
        max_length=40,
        help_text=_("Receipts: the expiry date of a new lot (YYYY-MM-DD)."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = _goods()

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "kind": d["kind"],
            "warehouse_id": d["warehouse"].pk,
            "destination_warehouse_id": (
                d["destination_warehouse"].pk
                if d.get("destination_warehouse")
                else None
            ),
            "reason_id": d["reason"].pk if d.get("reason") else None,
            "lines": [
                {
                    "product_id": d["product"].pk,
                    "quantity": d["quantity"],
                    "lot_code": d.get("lot_code") or "",
                    "lot_expires_on": (d.get("lot_expires_on") or "").strip(),
                }
            ],
            "reference": d.get("reference") or "",
            "note": d.get("note") or "",
        }


class CountCreateForm(forms.Form):
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), queryset=Warehouse.objects.filter(is_active=True)
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class ExpiringLotsFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    days = forms.IntegerField(
        label=_("Expires within (days)"), required=False, min_value=0, max_value=3650
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        queryset=Warehouse.objects.filter(is_active=True),
        required=False,
        empty_label=_("All warehouses"),
    )

    DEFAULT_DAYS = 30

    def query_kwargs(self) -> dict:
        data = self.cleaned_data
        days = data.get("days")
        return {
            "days": self.DEFAULT_DAYS if days is None else days,
            "warehouse_id": data["warehouse"].pk if data.get("warehouse") else None,
            "search": data.get("q") or "",
        }


class LotForm(forms.Form):
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def _internal_locations():
    return (
        Location.objects.filter(
            kind=Location.Kind.INTERNAL,
            is_active=True,
            warehouse__is_active=True,
        )
        .select_related("warehouse")
        .order_by("warehouse__code", "code", "pk")
    )


class LocationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.warehouse.code} · {obj.code or obj.name}"


class LocationMoveForm(forms.Form):
    """A move between two internal locations of one warehouse, posted
    through `services.stock_move_post` (as POST /api/v1/stock-moves)."""

    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.none()
    )
    # Parsed by the service, so its message is the API's.
    quantity = forms.CharField(
        label=_("Quantity"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    lot_code = forms.CharField(
        label=_("Lot / serial"),
        max_length=64,
        required=False,
        help_text=_("Only for products tracked by lot or serial number."),
        widget=forms.TextInput(attrs={"list": "lot-choices", "autocomplete": "off"}),
    )
    source = LocationChoiceField(
        label=_("From location"), queryset=Location.objects.none()
    )
    destination = LocationChoiceField(
        label=_("To location"), queryset=Location.objects.none()
    )
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = _goods()
        self.fields["source"].queryset = _internal_locations()
        self.fields["destination"].queryset = _internal_locations()

    def clean(self):
        data = super().clean()
        src, dst = data.get("source"), data.get("destination")
        if src and dst and src.warehouse_id != dst.warehouse_id:
            self.add_error(
                "destination",
                _("Pick a location of the same warehouse as the source."),
            )
        return data

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "product_id": d["product"].pk,
            "quantity": d["quantity"],
            "source_id": d["source"].pk,
            "destination_id": d["destination"].pk,
            "lot_code": d.get("lot_code") or "",
            "reference": d.get("reference") or "",
        }
