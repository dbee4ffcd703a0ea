"""Forms of the CRM screens: parse and shape input only; the rules live in
`crm.services`, whose DomainError fields land on the form fields."""

from django import forms
from django.utils.translation import gettext_lazy as _

from satu.core import web as core_web
from satu.core.errors import DomainError, ValidationFailed
from satu.crm import queries
from satu.crm.models import Deal, Interaction
from satu.parties import queries as parties_queries
from satu.parties.models import Contact

FIELD_NAMES = {
    "owner_id": "owner",
    "contact_id": "contact",
    "channel_id": "channel",
    "competitor_ids": "competitors",
    "kind_id": "kind",
    "client_id": "client",
    "reason_id": "reason",
    "marketing_event_id": "marketing_event",
    "contact_ids": "contacts",
    "participant_ids": "participants",
    "loss_reason_id": "loss_reason",
    "competitor_id": "competitor",
    "duration_seconds": "duration_minutes",
}


def apply_domain_error(form: forms.Form, exc: DomainError) -> None:
    core_web.apply_domain_error(form, exc, FIELD_NAMES)


def _pk(obj):
    return obj.pk if obj is not None else None


class DealForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ModelChoiceField(label=_("Deal kind"), queryset=None)
    owner = forms.ModelChoiceField(label=_("Manager"), queryset=None, required=False)
    contact = forms.ModelChoiceField(
        label=_("Contact person"), queryset=Contact.objects.none(), required=False
    )
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=20,
        decimal_places=4,
        min_value=0,
        required=False,
        help_text=_("Leave empty while unknown."),
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="IDR")
    expected_close = forms.DateField(
        label=_("Expected close"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    probability = forms.IntegerField(
        label=_("Probability, %"), min_value=0, max_value=100, required=False
    )
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=None, required=False)
    marketing_event = forms.ModelChoiceField(
        label=_("Marketing event"), queryset=None, required=False
    )
    reason = forms.ModelChoiceField(
        label=_("Reason for contact"), queryset=None, required=False
    )
    competitors = forms.ModelMultipleChoiceField(
        label=_("Competitors"), queryset=None, required=False
    )
    initial_demand = forms.CharField(
        label=_("Initial demand"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=20000,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, client, deal: Deal | None = None, **kwargs):
        if deal is not None and not args:
            kwargs.setdefault(
                "initial",
                {
                    "title": deal.title,
                    "kind": deal.kind_id,
                    "owner": deal.owner_id,
                    "contact": deal.contact_id,
                    "amount": deal.amount,
                    "currency": deal.currency,
                    "expected_close": deal.expected_close,
                    "probability": deal.probability,
                    "channel": deal.channel_id,
                    "marketing_event": deal.marketing_event_id,
                    "reason": deal.reason_id,
                    "competitors": [c.pk for c in deal.competitors.all()],
                    "initial_demand": deal.initial_demand,
                    "version": deal.version,
                },
            )
        super().__init__(*args, **kwargs)
        self.deal = deal
        self.fields["kind"].queryset = queries.deal_kinds()
        self.fields["owner"].queryset = parties_queries.owner_choices()
        self.fields["channel"].queryset = parties_queries.channels()
        self.fields["marketing_event"].queryset = queries.marketing_events_active()
        self.fields["reason"].queryset = queries.contact_reasons()
        self.fields["competitors"].queryset = queries.competitors()
        self.fields["contact"].queryset = Contact.objects.filter(
            roles__client=client
        ).distinct()
        if deal is not None:
            del self.fields["kind"]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {
            "title": data["title"],
            "contact_id": _pk(data.get("contact")),
            "amount": data.get("amount"),
            "currency": data["currency"],
            "expected_close": data.get("expected_close"),
            "probability": data.get("probability"),
            "channel_id": _pk(data.get("channel")),
            "marketing_event_id": _pk(data.get("marketing_event")),
            "reason_id": _pk(data.get("reason")),
            "competitor_ids": [c.pk for c in data.get("competitors") or []],
            "initial_demand": data.get("initial_demand") or "",
        }
        if data.get("owner") is not None:
            kwargs["owner_id"] = data["owner"].pk
        if "kind" in self.fields:
            kwargs["kind_id"] = data["kind"].pk
        return kwargs


class DealFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    kind = forms.ModelChoiceField(label=_("Deal kind"), queryset=None, required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All"))] + list(Deal.Status.choices),
    )
    owner = forms.ModelChoiceField(label=_("Manager"), queryset=None, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].queryset = queries.deal_kinds()
        self.fields["owner"].queryset = parties_queries.owner_choices()


class MoveForm(forms.Form):
    stage = forms.IntegerField(min_value=1)
    override_reason = forms.CharField(required=False, max_length=2000)


class LoseForm(forms.Form):
    loss_reason = forms.ModelChoiceField(
        label=_("Loss reason"), queryset=None, required=False
    )
    competitor = forms.ModelChoiceField(
        label=_("Lost to"), queryset=None, required=False
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["loss_reason"].queryset = queries.loss_reasons()
        self.fields["competitor"].queryset = queries.competitors()
        # Per product line (CRM-4): why its demand was not met, optional. The
        # select offers the active reasons; the id is checked by
        # `deal_lose`, whose message lands on the line's field.
        self.lines = list(lines)
        self._submitted: list[str] = []  # field name per `unmet_lines` index
        if self.lines:
            reasons = [("", "—")] + [
                (r.pk, r.name) for r in queries.unmet_demand_reasons()
            ]
        for line in self.lines:
            self.fields[f"line_{line.pk}_reason"] = forms.IntegerField(
                label=_("Why not met"),
                required=False,
                min_value=1,
                max_value=2**63 - 1,
                initial=line.unmet_reason_id,
                widget=forms.Select(choices=reasons),
            )
            self.fields[f"line_{line.pk}_note"] = forms.CharField(
                label=_("Note"),
                required=False,
                max_length=5000,
                initial=line.unmet_note,
            )

    def deal_fields(self) -> list:
        """The fields about the whole deal (the lines come in `line_rows`)."""
        return [self["loss_reason"], self["competitor"], self["note"]]

    def line_rows(self) -> list[tuple]:
        """(line, reason field, note field) for the template."""
        return [
            (line, self[f"line_{line.pk}_reason"], self[f"line_{line.pk}_note"])
            for line in self.lines
        ]

    def clean(self):
        data = super().clean()
        for line in self.lines:
            reason, note = f"line_{line.pk}_reason", f"line_{line.pk}_note"
            if data.get(note) and not data.get(reason) and reason not in self.errors:
                self.add_error(reason, _("Choose why the demand was not met."))
        return data

    def unmet_lines(self) -> list[dict]:
        """`deal_lose(unmet_lines=...)`: the lines given a reason."""
        items = []
        self._submitted = []
        for line in self.lines:
            reason_id = self.cleaned_data.get(f"line_{line.pk}_reason")
            if reason_id is None:
                continue
            items.append(
                {
                    "line_id": line.pk,
                    "unmet_reason_id": reason_id,
                    "note": self.cleaned_data.get(f"line_{line.pk}_note") or "",
                }
            )
            self._submitted.append(f"line_{line.pk}")
        return items

    def apply_service_error(self, exc: DomainError) -> None:
        """`deal_lose`'s errors on the form; `unmet_lines.<i>.<key>` on the
        fields of the i-th line sent."""
        fields = {}
        for key, messages in exc.fields.items():
            parts = key.split(".")
            if parts[0] == "unmet_lines" and len(parts) == 3 and parts[1].isdigit():
                i = int(parts[1])
                if i < len(self._submitted):
                    suffix = "note" if parts[2] == "note" else "reason"
                    key = f"{self._submitted[i]}_{suffix}"
            fields.setdefault(key, []).extend(messages)
        apply_domain_error(self, ValidationFailed(exc.message, fields=fields))


class InteractionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Interaction.Kind.choices)
    title = forms.CharField(label=_("Subject"), max_length=200)
    state = forms.ChoiceField(
        label=_("State"),
        choices=[
            (Interaction.State.DONE, _("Done")),
            (Interaction.State.PLANNED, _("Planned")),
        ],
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        required=False,
        choices=[("", "—")] + list(Interaction.Direction.choices),
        help_text=_("For phone calls."),
    )
    planned_at = forms.DateTimeField(
        label=_("Planned for"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    start_at = forms.DateTimeField(
        label=_("Start"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    end_at = forms.DateTimeField(
        label=_("End"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    place = forms.CharField(label=_("Place"), required=False, max_length=200)
    duration_minutes = forms.IntegerField(
        label=_("Duration, minutes"), required=False, min_value=0, max_value=10080
    )
    result = forms.CharField(label=_("Result"), required=False, max_length=200)
    contacts = forms.ModelMultipleChoiceField(
        label=_("Contact persons"), queryset=Contact.objects.none(), required=False
    )
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=None, required=False)
    reason = forms.ModelChoiceField(
        label=_("Reason for contact"), queryset=None, required=False
    )
    marketing_event = forms.ModelChoiceField(
        label=_("Marketing event"), queryset=None, required=False
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = Contact.objects.filter(
            roles__client=client
        ).distinct()
        self.fields["channel"].queryset = parties_queries.channels()
        self.fields["reason"].queryset = queries.contact_reasons()
        self.fields["marketing_event"].queryset = queries.marketing_events_active()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        minutes = data.get("duration_minutes")
        return {
            "kind": data["kind"],
            "title": data["title"],
            "state": data["state"],
            "direction": data.get("direction") or "",
            "planned_at": data.get("planned_at"),
            "start_at": data.get("start_at"),
            "end_at": data.get("end_at"),
            "place": data.get("place") or "",
            "duration_seconds": minutes * 60 if minutes is not None else None,
            "result": data.get("result") or "",
            "contact_ids": [c.pk for c in data.get("contacts") or []],
            "channel_id": _pk(data.get("channel")),
            "reason_id": _pk(data.get("reason")),
            "marketing_event_id": _pk(data.get("marketing_event")),
            "notes": data.get("notes") or "",
        }


# ---------------------------------------------------------------- tasks (CRM-5)

TASK_FIELD_NAMES = {
    "client_id": "client",
    "deal_id": "deal",
    "responsible_id": "responsible",
}


def apply_task_error(form: forms.Form, exc: DomainError) -> None:
    core_web.apply_domain_error(form, exc, TASK_FIELD_NAMES)


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    responsible = forms.ModelChoiceField(label=_("Responsible"), queryset=None)
    due_at = forms.DateTimeField(
        label=_("Due"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    remind_at = forms.DateTimeField(
        label=_("Reminder"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    client = forms.IntegerField(required=False, widget=forms.HiddenInput)
    deal = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from satu.core.models import User

        self.fields["responsible"].queryset = User.objects.filter(
            is_active=True
        ).order_by("username")

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "responsible_id": _pk(data["responsible"]),
            "due_at": data["due_at"],
            "remind_at": data["remind_at"],
            "client_id": data["client"],
            "deal_id": data["deal"],
        }


# ---------------------------------------------------------------- claims (CRM-7)

from satu.crm.models import Claim  # noqa: E402

FIELD_NAMES.update(
    {
        "category_id": "category",
        "responsible_id": "responsible",
        "deal_id": "deal",
        "interaction_id": "interaction",
    }
)


class ClaimForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Category"), queryset=None)
    description = forms.CharField(
        label=_("Description"), max_length=20000, widget=forms.Textarea
    )
    product_ref = forms.CharField(label=_("Product"), max_length=200, required=False)
    responsible = forms.ModelChoiceField(label=_("Responsible"), queryset=None)
    deadline = forms.DateField(
        label=_("Deadline"), widget=forms.DateInput(attrs={"type": "date"})
    )
    deal = forms.ModelChoiceField(label=_("Deal"), queryset=None, required=False)
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=None, required=False)
    reason = forms.ModelChoiceField(
        label=_("Reason for contact"), queryset=None, required=False
    )

    def __init__(self, *args, actor, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = queries.claim_categories()
        self.fields["responsible"].queryset = parties_queries.owner_choices()
        self.fields["channel"].queryset = parties_queries.channels()
        self.fields["reason"].queryset = queries.contact_reasons()
        self.fields["deal"].queryset = queries.deal_list(
            actor=actor, client_id=client.pk
        )

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "category_id": _pk(data["category"]),
            "description": data["description"],
            "product_ref": data.get("product_ref") or "",
            "responsible_id": _pk(data["responsible"]),
            "deadline": data["deadline"],
            "deal_id": _pk(data.get("deal")),
            "channel_id": _pk(data.get("channel")),
            "reason_id": _pk(data.get("reason")),
        }


class ClaimFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All"))] + list(Claim.State.choices),
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=None, required=False
    )
    responsible = forms.ModelChoiceField(
        label=_("Responsible"), queryset=None, required=False
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = queries.claim_categories()
        self.fields["responsible"].queryset = parties_queries.owner_choices()


class ClaimTransitionForm(forms.Form):
    state = forms.ChoiceField(choices=Claim.State.choices)
    decision = forms.ChoiceField(
        label=_("Decision"),
        required=False,
        choices=[("", "—")] + list(Claim.Decision.choices),
    )
    outcome = forms.CharField(
        label=_("Outcome notes"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ClaimStatsForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )


class InteractionEditForm(InteractionForm):
    """InteractionForm without kind and state (fixed once recorded; state
    moves by complete/cancel), with the version the user started from."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, client=client, **kwargs)
        del self.fields["kind"]
        del self.fields["state"]

    def service_kwargs(self) -> dict:
        self.cleaned_data.setdefault("kind", None)
        self.cleaned_data.setdefault("state", None)
        kwargs = super().service_kwargs()
        kwargs.pop("kind")
        kwargs.pop("state")
        kwargs["version"] = self.cleaned_data["version"]
        return kwargs
