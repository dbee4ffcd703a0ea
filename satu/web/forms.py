"""Forms of the platform screens, plus `apply_domain_error` that every screen
uses to show a service's DomainError on the form it came from.

Forms only parse input; rules live in the services they feed.
"""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from satu.core.models import CustomField
from satu.core.web import apply_domain_error  # noqa: F401 - used by the screens


class CustomFieldForm(forms.Form):
    object_type = forms.ChoiceField(label=_("Object type"))
    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        help_text=_(
            "Lower-case letters, digits and underscores; used in the API "
            "and in import files. It cannot be changed later."
        ),
    )
    label = forms.CharField(label=_("Label"), max_length=100)
    field_type = forms.ChoiceField(label=_("Type"), choices=CustomField.Type.choices)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For a choice field: one choice per line."),
    )
    required = forms.BooleanField(label=_("Required"), required=False)
    position = forms.IntegerField(
        label=pgettext_lazy("sort order", "Position"),
        min_value=0,
        max_value=10000,
        initial=0,
        help_text=_("Fields are shown in ascending order."),
    )
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("Inactive fields keep their stored values but are hidden."),
    )

    def __init__(self, *args, object_types=(), editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [(t.code, t.label) for t in object_types]
        if editing:
            # Stored values depend on the code and the type: they stay fixed.
            for name in ("object_type", "code", "field_type"):
                self.fields[name].disabled = True
                self.fields[name].help_text = ""
        else:
            del self.fields["is_active"]

    def choice_list(self) -> list[str]:
        return [
            line.strip()
            for line in self.cleaned_data.get("choices", "").splitlines()
            if line.strip()
        ]


class ProfileForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(label=_("Time zone"))

    def __init__(self, *args, time_zones=((), ()), **kwargs):
        super().__init__(*args, **kwargs)
        common, rest = time_zones
        self.fields["time_zone"].choices = [
            (_("Common"), [(tz, tz.replace("_", " ")) for tz in common]),
            (_("All time zones"), [(tz, tz.replace("_", " ")) for tz in rest]),
        ]


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “Accounting export”."),
    )


class AuditFilterForm(forms.Form):
    actor = forms.TypedChoiceField(
        label=_("Who"), required=False, coerce=int, empty_value=None
    )
    action = forms.CharField(label=_("Action"), required=False, max_length=40)
    object_type = forms.TypedChoiceField(
        label=_("Object type"), required=False, coerce=int, empty_value=None
    )
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, users=(), object_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [("", _("Anyone"))] + [
            (u.pk, str(u)) for u in users
        ]
        self.fields["object_type"].choices = [("", _("Any"))] + [
            (ct.pk, f"{ct.app_label} · {ct.name}") for ct in object_types
        ]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


def _role_choices():
    from satu.core import roles

    return [(code, label) for code, label in roles.ROLES.items()]


class UserForm(forms.Form):
    """An employee as the administrator edits it; the password only on create."""

    username = forms.CharField(label=_("Username"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    roles = forms.MultipleChoiceField(
        label=_("Roles"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=_role_choices,
    )
    password = forms.CharField(
        label=_("Password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("On an existing user, leave empty to keep the password."),
    )
    is_active = forms.BooleanField(label=_("Can log in"), required=False, initial=True)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["username"].disabled = True
        else:
            self.fields["password"].required = True
            del self.fields["is_active"]


class DocumentTemplateForm(forms.Form):
    html = forms.CharField(
        label=_("HTML template"),
        widget=forms.Textarea(
            attrs={"rows": 30, "class": "code", "spellcheck": "false"}
        ),
        strip=False,
    )
