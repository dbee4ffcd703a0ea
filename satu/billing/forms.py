"""Forms of the billing screens: they parse input for the services and show
the services' errors (the same messages as the API)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from satu.billing import queries
from satu.billing.models import CashAccount, Contract, Invoice, Payment
from satu.catalog.models import PriceList, Product
from satu.core import web as core_web
from satu.parties import queries as parties_queries

DATE = forms.DateInput(attrs={"type": "date"})
MAX_FORM_LINES = 50


def apply_domain_error(form, exc, names=None) -> None:
    core_web.apply_domain_error(form, exc, names)


def _clients(actor):
    return (
        parties_queries.clients_visible_to(actor)
        .filter(is_archived=False, merged_into=None)
        .order_by("name")
    )


def _counterparties(actor):
    return parties_queries.counterparties_visible_to(actor).order_by("legal_name")


class InvoiceFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All kinds"))] + list(Invoice.Kind.choices),
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All states"))] + list(Invoice.State.choices),
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    client_id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def query_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "search": data["q"],
            "kind": data["kind"],
            "state": data["state"],
            "overdue": data["overdue"],
            "client_id": data["client_id"],
        }


class InvoiceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Invoice.Kind.choices)
    client = forms.ModelChoiceField(label=_("Client"), queryset=None, required=False)
    counterparty = forms.ModelChoiceField(
        label=_("Counterparty"), queryset=None, required=False
    )
    contract = forms.ModelChoiceField(
        label=_("Contract"), queryset=None, required=False
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="IDR")
    issue_date = forms.DateField(label=_("Issue date"), widget=DATE, required=False)
    due_date = forms.DateField(
        label=_("Due date"),
        widget=DATE,
        required=False,
        help_text=_("Empty: the issue date plus the contract's payment days."),
    )
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = _clients(actor)
        self.fields["counterparty"].queryset = _counterparties(actor)
        self.fields["contract"].queryset = queries.contract_list(
            actor=actor, state=Contract.State.ACTIVE
        )

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "client_id": data["client"].pk if data["client"] else None,
            "counterparty_id": data["counterparty"].pk
            if data["counterparty"]
            else None,
            "contract_id": data["contract"].pk if data["contract"] else None,
            "currency": data["currency"].upper(),
            "issue_date": data["issue_date"],
            "due_date": data["due_date"],
            "reference": data["reference"],
            "notes": data["notes"],
        }


class LineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.filter(is_active=True).order_by("name"),
        required=False,
    )
    description = forms.CharField(
        label=_("Description"), max_length=500, required=False
    )
    quantity = forms.DecimalField(label=_("Quantity"), required=False, max_digits=20)
    unit_price = forms.DecimalField(
        label=_("Unit price"), required=False, max_digits=20
    )
    discount_percent = forms.DecimalField(
        label=_("Discount %"), required=False, max_digits=6
    )
    tax_rate = forms.DecimalField(
        label=_("Tax %"),
        required=False,
        max_digits=7,
        help_text=_("Empty: the product's tax rule."),
    )
    tax_inclusive = forms.BooleanField(label=_("Incl. tax"), required=False)

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(
            data.get(name) not in (None, "")
            for name in ("product", "description", "quantity", "unit_price")
        )

    def line(self) -> dict:
        data = self.cleaned_data
        return {
            "product_id": data["product"].pk if data["product"] else None,
            "description": data["description"],
            "quantity": data["quantity"],
            "unit_price": data["unit_price"],
            "discount_percent": data["discount_percent"],
            "tax_rate": data["tax_rate"],
            "tax_inclusive": data["tax_inclusive"],
        }


LineFormSet = forms.formset_factory(
    LineForm, extra=0, max_num=MAX_FORM_LINES, absolute_max=MAX_FORM_LINES
)


class SendForm(forms.Form):
    to = forms.CharField(
        label=_("To"),
        max_length=500,
        help_text=_("Several addresses: comma-separated."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    message = forms.CharField(
        label=_("Message"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


class ContractForm(forms.Form):
    number = forms.CharField(label=_("Number"), max_length=50)
    kind = forms.ChoiceField(label=_("Kind"), choices=Contract.Kind.choices)
    counterparty = forms.ModelChoiceField(label=_("Counterparty"), queryset=None)
    client = forms.ModelChoiceField(label=_("Client"), queryset=None, required=False)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="IDR")
    price_list = forms.ModelChoiceField(
        label=_("Price list"),
        queryset=PriceList.objects.order_by("name"),
        required=False,
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    valid_to = forms.DateField(label=_("Valid to"), widget=DATE, required=False)
    prepayment_percent = forms.DecimalField(
        label=_("Prepayment %"), required=False, max_digits=6
    )
    payment_days = forms.IntegerField(label=_("Payment days"), required=False)
    credit_limit = forms.DecimalField(
        label=_("Credit limit"), required=False, max_digits=20
    )
    overdue_days_allowed = forms.IntegerField(
        label=_("Overdue days allowed"),
        required=False,
        help_text=_("New sales are blocked when a debt is overdue longer."),
    )
    state = forms.ChoiceField(
        label=_("State"), choices=Contract.State.choices, initial="active"
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["counterparty"].queryset = _counterparties(actor)
        self.fields["client"].queryset = _clients(actor)

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        for name in ("counterparty", "client", "price_list"):
            value = data.pop(name)
            data[f"{name}_id"] = value.pk if value else None
        data["currency"] = data["currency"].upper()
        return data


class CashAccountForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CashAccount.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=100)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="IDR")
    bank_name = forms.CharField(label=_("Bank"), max_length=100, required=False)
    account_number = forms.CharField(
        label=_("Account number"), max_length=34, required=False
    )


class PurposeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=30)
    name = forms.CharField(label=_("Name"), max_length=100)


class PaymentForm(forms.Form):
    direction = forms.ChoiceField(
        label=_("Direction"), choices=Payment.Direction.choices
    )
    cash_account = forms.ModelChoiceField(label=_("Cash account"), queryset=None)
    purpose = forms.ModelChoiceField(label=_("Purpose"), queryset=None)
    amount = forms.DecimalField(label=_("Amount"), max_digits=20)
    date = forms.DateField(label=_("Date"), widget=DATE, required=False)
    client = forms.ModelChoiceField(label=_("Client"), queryset=None, required=False)
    counterparty = forms.ModelChoiceField(
        label=_("Counterparty"), queryset=None, required=False
    )
    reference = forms.CharField(label=_("Reference"), max_length=200, required=False)
    invoice = forms.ModelChoiceField(
        label=_("Pay invoice"),
        queryset=None,
        required=False,
        help_text=_("Allocates up to its amount due; the rest stays as an advance."),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cash_account"].queryset = queries.cash_account_list(
            active_only=True
        )
        self.fields["purpose"].queryset = queries.payment_purpose_list(active_only=True)
        self.fields["client"].queryset = _clients(actor)
        self.fields["counterparty"].queryset = _counterparties(actor)
        self.fields["invoice"].queryset = queries.invoice_list(
            actor=actor, open_only=True
        )

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "direction": data["direction"],
            "cash_account_id": data["cash_account"].pk,
            "purpose_id": data["purpose"].pk,
            "amount": data["amount"],
            "date": data["date"],
            "client_id": data["client"].pk if data["client"] else None,
            "counterparty_id": data["counterparty"].pk
            if data["counterparty"]
            else None,
            "reference": data["reference"],
        }


class PeriodForm(forms.Form):
    as_of = forms.DateField(label=_("As of"), widget=DATE, required=False)
    side = forms.ChoiceField(
        label=_("Side"),
        required=False,
        choices=[("receivable", _("Receivables")), ("payable", _("Payables"))],
    )
    date_from = forms.DateField(label=_("Payments from"), widget=DATE, required=False)
    date_to = forms.DateField(label=_("to"), widget=DATE, required=False)


class StatementUploadForm(forms.Form):
    cash_account = forms.ModelChoiceField(
        label=_("Bank account"),
        queryset=CashAccount.objects.filter(
            is_active=True, kind=CashAccount.Kind.BANK
        ).order_by("name"),
    )
    file = forms.FileField(label=_("CSV file"))
    decimal_separator = forms.ChoiceField(
        label=_("Decimal separator"),
        choices=[(",", _("Comma (1.250.000,50)")), (".", _("Point (1,250,000.50)"))],
    )


class ColumnsForm(forms.Form):
    """Which file column holds each of our fields (built from the header)."""

    FIELDS = [
        ("date", _("Date"), True),
        ("amount", _("Amount (signed)"), False),
        ("credit", _("Credit (received)"), False),
        ("debit", _("Debit (paid)"), False),
        ("description", _("Description / reference"), False),
        ("counterparty_name", _("Counterparty name"), False),
        ("counterparty_account", _("Counterparty account"), False),
    ]

    def __init__(self, *args, header: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(name, name) for name in header]
        lowered = {name.lower(): name for name in header}
        guesses = {
            "date": ("date", "tanggal", "tgl", "booking date", "value date"),
            "amount": ("amount", "jumlah", "nominal", "mutasi"),
            "credit": ("credit", "kredit", "cr"),
            "debit": ("debit", "db"),
            "description": ("description", "keterangan", "reference", "berita"),
            "counterparty_name": ("counterparty", "name", "nama", "payer"),
            "counterparty_account": ("account", "rekening", "iban"),
        }
        for key, label, required in self.FIELDS:
            guess = next((lowered[g] for g in guesses[key] if g in lowered), "")
            self.fields[key] = forms.ChoiceField(
                label=label, choices=choices, required=required, initial=guess
            )

    def mapping(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if v}
