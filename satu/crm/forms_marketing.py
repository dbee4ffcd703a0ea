"""Forms of the lead, marketing and ROI screens (CRM-3, CRM-6, P6).

They parse input only; the services validate and their DomainError is put
on the form with `satu.core.web.apply_domain_error`."""

from django import forms
from django.utils.translation import gettext_lazy as _

from satu.crm import queries
from satu.crm.models import EventParticipant, Lead, MarketingEvent
from satu.parties import queries as parties_queries

DATE = {"type": "date"}


def _pk(obj):
    return obj.pk if obj is not None else None


class LeadForm(forms.Form):
    company_name = forms.CharField(label=_("Company"), max_length=200, required=False)
    person_name = forms.CharField(label=_("Name"), max_length=200, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=64, required=False)
    message = forms.CharField(
        label=_("Message"), max_length=20000, required=False, widget=forms.Textarea
    )
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=None, required=False)
    marketing_event = forms.ModelChoiceField(
        label=_("Marketing event"), queryset=None, required=False
    )
    reason = forms.ModelChoiceField(
        label=_("Reason for contact"), queryset=None, required=False
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = parties_queries.channels()
        self.fields["marketing_event"].queryset = queries.marketing_events_active()
        self.fields["reason"].queryset = queries.contact_reasons()
        self.fields["owner"].queryset = parties_queries.owner_choices()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "company_name": data.get("company_name") or "",
            "person_name": data.get("person_name") or "",
            "email": data.get("email") or "",
            "phone": data.get("phone") or "",
            "message": data.get("message") or "",
            "channel_id": _pk(data.get("channel")),
            "marketing_event_id": _pk(data.get("marketing_event")),
            "reason_id": _pk(data.get("reason")),
            "owner_id": _pk(data.get("owner")),
        }


class LeadFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All"))] + list(Lead.State.choices),
    )
    source = forms.ChoiceField(
        label=_("Source"),
        required=False,
        choices=[("", _("All"))] + list(Lead.Source.choices),
    )


class QualifyForm(forms.Form):
    client = forms.ModelChoiceField(
        label=_("Existing client"),
        queryset=None,
        required=False,
        help_text=_("Leave empty to create a new client from the lead."),
    )
    client_name = forms.CharField(
        label=_("New client's name"), max_length=255, required=False
    )
    create_anyway = forms.BooleanField(
        label=_("Create a new client despite possible duplicates"), required=False
    )
    create_deal = forms.BooleanField(label=_("Open a deal"), required=False)
    deal_kind = forms.ModelChoiceField(
        label=_("Deal kind"), queryset=None, required=False
    )
    deal_title = forms.CharField(label=_("Deal title"), max_length=200, required=False)
    amount = forms.DecimalField(
        label=_("Amount"), required=False, min_value=0, max_digits=20, decimal_places=4
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="IDR")

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = parties_queries.clients_visible_to(
            actor
        ).filter(merged_into=None)
        self.fields["deal_kind"].queryset = queries.deal_kinds()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "client_id": _pk(data.get("client")),
            "client_name": data.get("client_name") or "",
            "create_anyway": bool(data.get("create_anyway")),
            "create_deal": bool(data.get("create_deal")),
            "deal_kind_id": _pk(data.get("deal_kind")),
            "deal_title": data.get("deal_title") or "",
            "amount": data.get("amount"),
            "currency": data.get("currency") or "IDR",
        }


class DisqualifyForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the lead disqualified?"), max_length=2000, required=False
    )


class LeadImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))


class PublicLeadForm(forms.Form):
    """The public web form; `website` is a honeypot people do not see."""

    person_name = forms.CharField(label=_("Your name"), max_length=200, required=False)
    company_name = forms.CharField(label=_("Company"), max_length=200, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=64, required=False)
    message = forms.CharField(
        label=_("Message"), max_length=5000, required=False, widget=forms.Textarea
    )
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )


class LeadFormConfigForm(forms.Form):
    key = forms.SlugField(label=_("Key (in the address)"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=200)
    channel = forms.ModelChoiceField(
        label=_("Default channel"), queryset=None, required=False
    )
    marketing_event = forms.ModelChoiceField(
        label=_("Default marketing event"), queryset=None, required=False
    )
    owner = forms.ModelChoiceField(
        label=_("Leads go to"), queryset=None, required=False
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = parties_queries.channels()
        self.fields["marketing_event"].queryset = queries.marketing_events_active()
        self.fields["owner"].queryset = parties_queries.owner_choices()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "key": data["key"],
            "name": data["name"],
            "channel_id": _pk(data.get("channel")),
            "marketing_event_id": _pk(data.get("marketing_event")),
            "owner_id": _pk(data.get("owner")),
            "is_active": bool(data.get("is_active")),
        }


class MarketingEventForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=MarketingEvent.Kind.choices)
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=None, required=False)
    starts_on = forms.DateField(label=_("Starts on"), widget=forms.DateInput(DATE))
    ends_on = forms.DateField(
        label=_("Ends on"), widget=forms.DateInput(DATE), required=False
    )
    budget = forms.DecimalField(
        label=_("Planned budget"), required=False, max_digits=20, decimal_places=4
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="IDR")
    responsible = forms.ModelChoiceField(
        label=_("Responsible"), queryset=None, required=False
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = parties_queries.channels()
        self.fields["responsible"].queryset = parties_queries.owner_choices()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "kind": data["kind"],
            "channel_id": _pk(data.get("channel")),
            "starts_on": data["starts_on"],
            "ends_on": data.get("ends_on") or data["starts_on"],
            "budget": data.get("budget"),
            "currency": data.get("currency") or "IDR",
            "responsible_id": _pk(data.get("responsible")),
            "description": data.get("description") or "",
        }


class CostForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(DATE))
    amount = forms.DecimalField(label=_("Amount"), max_digits=20, decimal_places=4)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    description = forms.CharField(
        label=_("Description"), max_length=200, required=False
    )

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "date": data["date"],
            "amount": data["amount"],
            "currency": data.get("currency") or None,
            "description": data.get("description") or "",
        }


class ParticipantForm(forms.Form):
    client = forms.ModelChoiceField(label=_("Client"), queryset=None)
    status = forms.ChoiceField(
        label=_("Status"), choices=EventParticipant.Status.choices
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = parties_queries.clients_visible_to(
            actor
        ).filter(merged_into=None)


class RoiForm(forms.Form):
    model = forms.ChoiceField(
        label=_("Attribution"),
        choices=[("first", _("First touch")), ("last", _("Last touch"))],
        required=False,
    )
    date_from = forms.DateField(label=_("From"), widget=forms.DateInput(DATE))
    date_to = forms.DateField(label=_("To"), widget=forms.DateInput(DATE))
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)


class DealLineForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=None, required=False)
    description = forms.CharField(
        label=_("Description"), max_length=300, required=False
    )
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=20, decimal_places=6, initial=1
    )
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    price = forms.DecimalField(
        label=_("Expected price"), required=False, max_digits=20, decimal_places=4
    )

    def __init__(self, *args, **kwargs):
        from satu.catalog.models import Product

        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.order_by("name")


class UnmetForm(forms.Form):
    unmet_reason = forms.ModelChoiceField(
        label=_("Why not met"), queryset=None, required=False
    )
    note = forms.CharField(label=_("Note"), max_length=5000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unmet_reason"].queryset = queries.unmet_demand_reasons()
