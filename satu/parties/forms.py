"""Forms of the parties screens. They only parse and shape input: every rule
lives in `parties.services`, whose DomainError fields are mapped back onto
the form fields by `apply_domain_error`."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from satu.core import custom_fields
from satu.core import web as core_web
from satu.core.errors import DomainError
from satu.core.models import CustomField
from satu.parties import queries
from satu.parties.models import Client

# Service field names that the forms call differently.
FIELD_NAMES = {
    "owner_id": "owner",
    "source_channel_id": "source_channel",
    "group_ids": "groups",
    "client_roles.0.role": "role",
    "effective_date": "effective_from",
}


def apply_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service error on the form: per field where it names one."""
    core_web.apply_domain_error(form, exc, FIELD_NAMES)


def error_messages(error) -> list[str]:
    """Flat messages of a DomainError or of a form's errors."""
    if isinstance(error, DomainError):
        return [str(error.message)] + [m for ms in error.fields.values() for m in ms]
    return [str(m) for ms in error.values() for m in ms]


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class CustomFieldsMixin:
    """Adds the active custom fields (`cf_<code>`) of `object_type`."""

    object_type = ""

    def add_custom_fields(self, stored: dict | None = None) -> None:
        self.custom_names = []
        for name, field in custom_fields.form_fields(self.object_type).items():
            self.fields[name] = field
            self.custom_names.append(name)
            code = name.removeprefix("cf_")
            if stored and code in stored:
                value = stored[code]
                if isinstance(value, bool):
                    value = "true" if value else "false"
                self.initial[name] = value

    def custom_values(self) -> dict:
        return {
            name.removeprefix("cf_"): self.cleaned_data.get(name)
            for name in self.custom_names
        }

    def custom_bound_fields(self):
        return [self[name] for name in self.custom_names]


class ClientForm(CustomFieldsMixin, forms.Form):
    object_type = "parties.client"

    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Client.Kind.choices)
    status = forms.ChoiceField(label=_("Status"), choices=Client.Status.choices)
    owner = forms.ModelChoiceField(label=_("Manager"), queryset=None)
    groups = forms.ModelMultipleChoiceField(
        label=_("Groups"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    source_channel = forms.ModelChoiceField(
        label=_("Source channel"), queryset=None, required=False, empty_label="—"
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.CharField(
        label=_("Email"),
        max_length=254,
        required=False,
        widget=forms.TextInput(attrs={"type": "email"}),
    )
    website = forms.CharField(label=_("Website"), max_length=200, required=False)
    region = forms.CharField(label=_("Region"), max_length=100, required=False)
    address = forms.CharField(
        label=_("Address"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notes = forms.CharField(
        label=_("Notes"),
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    allow_duplicate = forms.BooleanField(
        label=_("Create anyway"),
        required=False,
        help_text=_("I checked the clients above; this is a different one."),
        widget=forms.CheckboxInput,
    )

    def __init__(self, *args, actor, client: Client | None = None, **kwargs):
        if client is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": client.name,
                "kind": client.kind,
                "status": client.status,
                "owner": client.owner_id,
                "groups": [
                    g.pk for g in client.groups.all() if g.kind == g.Kind.MANUAL
                ],
                "source_channel": client.source_channel_id,
                "phone": client.phone,
                "email": client.email,
                "website": client.website,
                "region": client.region,
                "address": client.address,
                "notes": client.notes,
                "version": client.version,
            }
        super().__init__(*args, **kwargs)
        self.creating = client is None
        if self.creating:
            self.initial.setdefault("owner", actor.pk)
            self.initial.setdefault("status", Client.Status.PROSPECT)
            del self.fields["version"]
        else:
            del self.fields["allow_duplicate"]
        if queries.sees_all_clients(actor):
            self.fields["owner"].queryset = queries.owner_choices()
        else:
            del self.fields["owner"]
        self.fields["groups"].queryset = queries.client_groups().filter(
            kind="manual", is_active=True
        )
        self.fields["source_channel"].queryset = queries.channels()
        self.add_custom_fields(client.custom if client is not None else None)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {
            key: data[key]
            for key in (
                "name",
                "kind",
                "status",
                "phone",
                "email",
                "website",
                "region",
                "address",
                "notes",
            )
        }
        kwargs["group_ids"] = [g.pk for g in data["groups"]]
        channel = data["source_channel"]
        kwargs["source_channel_id"] = channel.pk if channel else None
        if "owner" in self.fields:
            kwargs["owner_id"] = data["owner"].pk
        kwargs["custom"] = self.custom_values()
        return kwargs


def _filter_field(definition: CustomField) -> forms.Field:
    label = definition.label
    if definition.field_type == CustomField.Type.CHOICE:
        return forms.ChoiceField(
            label=label,
            required=False,
            choices=[("", _("Any"))] + [(c, c) for c in definition.choices],
        )
    if definition.field_type == CustomField.Type.BOOL:
        return forms.ChoiceField(
            label=label,
            required=False,
            choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))],
        )
    if definition.field_type == CustomField.Type.DATE:
        return forms.CharField(
            label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
        )
    if definition.field_type == CustomField.Type.NUMBER:
        return forms.CharField(
            label=label,
            required=False,
            widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        )
    return forms.CharField(label=label, required=False)


class ClientFilterForm(forms.Form):
    """The list's search box and filters (GET); custom fields as `cf_<code>`."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": _("Name, phone, email or tax id"),
            }
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any"))] + list(Client.Status.choices),
    )
    owner = forms.ModelChoiceField(
        label=_("Manager"), queryset=None, required=False, empty_label=_("Any")
    )
    group = forms.ModelChoiceField(
        label=_("Segment"), queryset=None, required=False, empty_label=_("Any")
    )
    channel = forms.ModelChoiceField(
        label=_("Channel"), queryset=None, required=False, empty_label=_("Any")
    )
    archived = forms.BooleanField(label=_("Archived"), required=False)

    def __init__(self, data=None, *args, actor, **kwargs):
        if data is not None and data.get("segment") and not data.get("group"):
            # `?segment=<id>` (the link every list shares) is this filter.
            data = data.copy()
            data["group"] = data["segment"]
        super().__init__(data, *args, **kwargs)
        if queries.sees_all_clients(actor):
            self.fields["owner"].queryset = queries.owner_choices()
        else:
            del self.fields["owner"]
        self.fields["group"].queryset = queries.client_groups()
        self.fields["channel"].queryset = queries.channels()
        self.custom_names = []
        for definition in custom_fields.definitions("parties.client"):
            if definition.field_type in CustomField.Type.values:
                name = f"cf_{definition.code}"
                self.fields[name] = _filter_field(definition)
                self.custom_names.append(name)

    def query_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {
            "search": data.get("q") or "",
            "status": data.get("status") or "",
            "archived": bool(data.get("archived")),
            "custom": {n: data[n] for n in self.custom_names if data.get(n)},
        }
        for name, key in (
            ("owner", "owner_id"),
            ("group", "group_id"),
            ("channel", "channel_id"),
        ):
            if data.get(name) is not None:
                kwargs[key] = data[name].pk
        return kwargs

    def custom_bound_fields(self):
        return [self[name] for name in self.custom_names]


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class ContactForm(CustomFieldsMixin, forms.Form):
    object_type = "parties.contact"

    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    position = forms.CharField(label=_("Position"), max_length=100, required=False)
    phones = forms.CharField(
        label=_("Phones"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line; the first is the main one."),
    )
    emails = forms.CharField(
        label=_("Emails"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line; the first is the main one."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    client = forms.IntegerField(widget=forms.HiddenInput, required=False)
    role = forms.CharField(
        label=_("Role at the client"),
        max_length=100,
        required=False,
        help_text=_("For example: Purchaser, Director, Accountant."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, contact=None, for_client=None, **kwargs):
        if contact is not None and "initial" not in kwargs:
            methods = list(contact.methods.all())
            kwargs["initial"] = {
                "first_name": contact.first_name,
                "last_name": contact.last_name,
                "position": contact.position,
                "notes": contact.notes,
                "phones": "\n".join(m.value for m in methods if m.kind == "phone"),
                "emails": "\n".join(m.value for m in methods if m.kind == "email"),
                "version": contact.version,
            }
        super().__init__(*args, **kwargs)
        if contact is None:
            del self.fields["version"]
        if for_client is None:
            del self.fields["client"]
            del self.fields["role"]
        else:
            self.initial["client"] = for_client.pk
        self.add_custom_fields(contact.custom if contact is not None else None)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {
            key: data[key] for key in ("first_name", "last_name", "position", "notes")
        }
        kwargs["phones"] = split_lines(data["phones"])
        kwargs["emails"] = split_lines(data["emails"])
        kwargs["custom"] = self.custom_values()
        return kwargs


class CounterpartyForm(CustomFieldsMixin, forms.Form):
    object_type = "parties.counterparty"

    legal_name = forms.CharField(label=_("Legal name"), max_length=255)
    tax_id = forms.CharField(
        label=_("Tax id"),
        max_length=64,
        required=False,
        help_text=_("NPWP for Indonesian entities."),
    )
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        initial="ID",
        help_text=_("Two-letter code, e.g. ID."),
        widget=forms.TextInput(attrs={"size": 3, "autocapitalize": "characters"}),
    )
    registration_address = forms.CharField(
        label=_("Registration address"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    effective_from = forms.DateField(
        label=_("Effective from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("A new legal name or address applies to documents from this date."),
    )
    client = forms.IntegerField(widget=forms.HiddenInput, required=False)
    valid_from = forms.DateField(
        label=_("Trades for the client from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    bank_name = forms.CharField(label=_("Bank"), max_length=100, required=False)
    account_number = forms.CharField(
        label=_("Account number"), max_length=40, required=False
    )
    currency = forms.CharField(
        label=_("Currency"), max_length=3, initial="IDR", required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, counterparty=None, for_client=None, **kwargs):
        if counterparty is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "legal_name": counterparty.legal_name,
                "tax_id": counterparty.tax_id,
                "country": counterparty.country,
                "registration_address": counterparty.registration_address,
                "version": counterparty.version,
            }
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        if counterparty is None:
            for name in ("version", "effective_from"):
                del self.fields[name]
        else:
            for name in (
                "client",
                "valid_from",
                "bank_name",
                "account_number",
                "currency",
            ):
                del self.fields[name]
            self.initial.setdefault("effective_from", today)
        if counterparty is None and for_client is None:
            del self.fields["client"]
            del self.fields["valid_from"]
        elif for_client is not None:
            self.initial["client"] = for_client.pk
            self.initial.setdefault("valid_from", today)
        self.add_custom_fields(counterparty.custom if counterparty else None)

    @property
    def bank_fields(self):
        return [
            self[n]
            for n in ("bank_name", "account_number", "currency")
            if n in self.fields
        ]

    def main_fields(self):
        skip = {"bank_name", "account_number", "currency", *self.custom_names}
        return [f for f in self.visible_fields() if f.name not in skip]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {
            key: data[key]
            for key in ("legal_name", "tax_id", "country", "registration_address")
        }
        kwargs["custom"] = self.custom_values()
        if "effective_from" in self.fields:
            kwargs["effective_date"] = data.get("effective_from")
        if "valid_from" in self.fields:
            kwargs["valid_from"] = data.get("valid_from")
        has_account = data.get("bank_name") or data.get("account_number")
        if "bank_name" in self.fields and has_account:
            kwargs["bank_accounts"] = [
                {
                    "bank_name": data.get("bank_name") or "",
                    "account_number": data.get("account_number") or "",
                    "currency": data.get("currency") or "IDR",
                }
            ]
        return kwargs


class BankAccountForm(forms.Form):
    bank_name = forms.CharField(label=_("Bank"), max_length=100)
    account_number = forms.CharField(label=_("Account number"), max_length=40)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="IDR")
    is_default = forms.BooleanField(label=_("Default account"), required=False)


class CounterpartyLinkForm(forms.Form):
    counterparty = forms.IntegerField(widget=forms.HiddenInput)
    valid_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class LinkEndForm(forms.Form):
    valid_to = forms.DateField(
        label=_("Last day"), widget=forms.DateInput(attrs={"type": "date"})
    )


class ContactLinkForm(forms.Form):
    contact = forms.IntegerField(widget=forms.HiddenInput)
    role = forms.CharField(label=_("Role"), max_length=100, required=False)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))


class MergeForm(forms.Form):
    survivor = forms.ChoiceField(label=_("Keep"), widget=forms.RadioSelect)

    def __init__(self, *args, first: Client, second: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["survivor"].choices = [
            (str(first.pk), first.name),
            (str(second.pk), second.name),
        ]
        self.initial.setdefault("survivor", str(first.pk))
