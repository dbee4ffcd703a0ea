"""Custom fields per object type (CRM-1): definitions, validation, filters.

Values live in a `custom` JSON column on the owning model, keyed by the
field's code. Stored forms: text and choice as strings, numbers as decimal
strings (no float round trip), dates as ISO strings, booleans as JSON
booleans. The same `clean_values` runs for forms, API and import.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django import forms
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from satu.core import audit
from satu.core.errors import NotFound, PermissionDenied, ValidationFailed
from satu.core.models import CustomField

TEXT_MAX = 1000
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class ObjectType:
    code: str
    label: str


_object_types: dict[str, ObjectType] = {}


def register_object_type(code: str, label) -> None:
    _object_types[code] = ObjectType(code, label)


def object_types() -> list[ObjectType]:
    return list(_object_types.values())


def definitions(object_type: str) -> list[CustomField]:
    return list(CustomField.objects.filter(object_type=object_type, is_active=True))


def _clean_one(definition: CustomField, raw):
    """The stored form of one value, or raise ValueError with a message."""
    if raw is None or raw == "":
        return None
    kind = definition.field_type
    if kind == CustomField.Type.TEXT:
        value = str(raw).strip()
        if len(value) > TEXT_MAX:
            raise ValueError(_("At most %(n)d characters.") % {"n": TEXT_MAX})
        return value or None
    if kind == CustomField.Type.NUMBER:
        if isinstance(raw, bool):
            raise ValueError(_("Enter a number."))
        try:
            number = Decimal(str(raw).strip().replace(",", "."))
        except InvalidOperation:
            raise ValueError(_("Enter a number.")) from None
        if not number.is_finite() or abs(number) >= Decimal("1e15"):
            raise ValueError(_("Enter a number.")) from None
        # Plain notation: normalize() alone turns 120 into "1.2E+2".
        if number == number.to_integral():
            return f"{number.normalize():f}"
        return f"{number:f}"
    if kind == CustomField.Type.DATE:
        if isinstance(raw, date):
            return raw.isoformat()
        try:
            return date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None
    if kind == CustomField.Type.CHOICE:
        value = str(raw).strip()
        if value not in definition.choices:
            raise ValueError(
                _("Choose one of: %(choices)s.")
                % {"choices": ", ".join(definition.choices)}
            )
        return value
    if kind == CustomField.Type.BOOL:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "ya", "on"}:
            return True
        if text in {"0", "false", "no", "tidak", "off"}:
            return False
        raise ValueError(_("Enter yes or no."))
    raise ValueError(_("Unknown field type."))


def clean_values(
    object_type: str,
    values: dict | None,
    *,
    existing: dict | None = None,
    partial: bool = False,
) -> dict:
    """Validate custom values against the definitions; return the stored dict.

    With `partial`, keys not given keep their `existing` value. Raises
    ValidationFailed with one message per bad field (key `custom.<code>`).
    """
    values = values or {}
    defs = {d.code: d for d in definitions(object_type)}
    errors: dict[str, list] = {}
    for key in values:
        if key not in defs:
            errors[f"custom.{key}"] = [
                _("There is no custom field “%(code)s”.") % {"code": key}
            ]
    result = dict(existing or {}) if partial else {}
    for code, definition in defs.items():
        if code in values:
            try:
                cleaned = _clean_one(definition, values[code])
            except ValueError as exc:
                errors[f"custom.{code}"] = [str(exc)]
                continue
            if cleaned is None:
                result.pop(code, None)
            else:
                result[code] = cleaned
        elif not partial and existing and code in existing:
            result[code] = existing[code]
        if (
            definition.required
            and result.get(code) is None
            and f"custom.{code}" not in errors
        ):
            errors[f"custom.{code}"] = [
                _("%(label)s is required.") % {"label": definition.label}
            ]
    if errors:
        raise ValidationFailed(fields=errors)
    return result


def filter_queryset(qs: QuerySet, object_type: str, params: dict) -> QuerySet:
    """Apply `cf_<code>=value` filters: substring for text, equality otherwise."""
    for definition in definitions(object_type):
        raw = params.get(f"cf_{definition.code}")
        if raw in (None, ""):
            continue
        lookup = f"custom__{definition.code}"
        if definition.field_type == CustomField.Type.TEXT:
            qs = qs.filter(**{f"{lookup}__icontains": str(raw)})
            continue
        try:
            value = _clean_one(definition, raw)
        except ValueError as exc:
            raise ValidationFailed(
                fields={f"cf_{definition.code}": [str(exc)]}
            ) from None
        qs = qs.filter(**{lookup: value})
    return qs


def form_fields(object_type: str) -> dict[str, forms.Field]:
    """Django form fields `cf_<code>` for the active definitions."""
    fields: dict[str, forms.Field] = {}
    for d in definitions(object_type):
        common = {"label": d.label, "required": d.required}
        if d.field_type == CustomField.Type.TEXT:
            field = forms.CharField(max_length=TEXT_MAX, **common)
        elif d.field_type == CustomField.Type.NUMBER:
            field = forms.DecimalField(max_digits=20, decimal_places=6, **common)
        elif d.field_type == CustomField.Type.DATE:
            field = forms.DateField(
                widget=forms.DateInput(attrs={"type": "date"}), **common
            )
        elif d.field_type == CustomField.Type.CHOICE:
            field = forms.ChoiceField(
                choices=[("", "—")] + [(c, c) for c in d.choices], **common
            )
        else:
            field = forms.NullBooleanField(
                label=d.label,
                required=False,
                widget=forms.Select(
                    choices=[("", "—"), ("true", _("Yes")), ("false", _("No"))]
                ),
            )
        fields[f"cf_{d.code}"] = field
    return fields


def display_value(definition: CustomField, value) -> str:
    if value is None:
        return ""
    if definition.field_type == CustomField.Type.BOOL:
        return str(_("Yes") if value else _("No"))
    return str(value)


def _validate_definition(*, object_type, code, label, field_type, choices) -> list[str]:
    errors = {}
    if object_type not in _object_types:
        errors["object_type"] = [_("Unknown object type.")]
    if not CODE_RE.match(code or ""):
        errors["code"] = [
            _("Use lower-case letters, digits and underscores, starting with a letter.")
        ]
    if not (label or "").strip():
        errors["label"] = [_("This field is required.")]
    elif len(label) > 100:
        errors["label"] = [_("At most 100 characters.")]
    if field_type not in CustomField.Type.values:
        errors["field_type"] = [_("Unknown field type.")]
    cleaned = [c.strip() for c in choices or [] if c and c.strip()]
    if field_type == CustomField.Type.CHOICE and not cleaned:
        errors["choices"] = [_("A choice field needs at least one choice.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned if field_type == CustomField.Type.CHOICE else []


@transaction.atomic
def custom_field_create(
    *,
    actor,
    object_type: str,
    code: str,
    label: str,
    field_type: str,
    choices: list[str] | None = None,
    required: bool = False,
    position: int = 0,
) -> CustomField:
    """Define a custom field. Raises ValidationFailed (bad or duplicate code),
    PermissionDenied without core.add_customfield."""
    if not actor.has_perm("core.add_customfield"):
        raise PermissionDenied()
    cleaned = _validate_definition(
        object_type=object_type,
        code=code,
        label=label,
        field_type=field_type,
        choices=choices,
    )
    try:
        with transaction.atomic():
            field = CustomField.objects.create(
                object_type=object_type,
                code=code,
                label=label.strip(),
                field_type=field_type,
                choices=cleaned,
                required=required,
                position=position,
            )
    except IntegrityError:
        raise ValidationFailed(
            fields={"code": [_("A field with this code already exists.")]}
        ) from None
    audit.record(actor=actor, subject=field, action="created")
    return field


@transaction.atomic
def custom_field_update(
    *,
    actor,
    field_id: int,
    label: str,
    choices: list[str] | None = None,
    required: bool = False,
    position: int = 0,
    is_active: bool = True,
) -> CustomField:
    """Change a definition's label, choices, required flag, order or activity.

    The code and type stay fixed: stored values depend on them.
    """
    if not actor.has_perm("core.change_customfield"):
        raise PermissionDenied()
    field = CustomField.objects.select_for_update().filter(pk=field_id).first()
    if field is None:
        raise NotFound()
    cleaned = _validate_definition(
        object_type=field.object_type,
        code=field.code,
        label=label,
        field_type=field.field_type,
        choices=choices,
    )
    fields = ["label", "choices", "required", "position", "is_active"]
    before = audit.snapshot(field, fields)
    field.label, field.choices, field.required = label.strip(), cleaned, required
    field.position, field.is_active = position, is_active
    field.save()
    audit.record(
        actor=actor,
        subject=field,
        action="updated",
        changes=audit.diff(before, audit.snapshot(field, fields)),
    )
    return field


def custom_field_list(*, object_type: str | None = None) -> list[CustomField]:
    """Every definition (inactive ones too), for the settings screen."""
    qs = CustomField.objects.all()
    if object_type:
        qs = qs.filter(object_type=object_type)
    return list(qs.order_by("object_type", "position", "id"))


def custom_field_get(*, field_id) -> CustomField:
    try:
        pk = int(field_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    field = CustomField.objects.filter(pk=pk).first()
    if field is None:
        raise NotFound(_("Custom field not found."))
    return field
