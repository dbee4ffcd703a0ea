"""Rule segments (CRM-8): the fields a rule may test, the operators, value
parsing and the query a rule set turns into. See ADR 009.

A rule set is stored on `ClientGroup.rules` as
`{"groups": [[{"field": "status", "operator": "eq", "value": "client"}, ...],
...]}`: all conditions of one inner list must hold (AND); a client matching
any inner list is a member (OR).

Fields come from three places:
- the client's own fields (status, kind, owner, source channel with its
  sub-channels, region, address, name, email, created date, manual groups);
- the client's custom fields, as `cf.<code>`;
- other apps, through `register_segment_field(code, label, type, operators,
  filter_fn, choices=None)` in their `AppConfig.ready()`. `filter_fn(qs,
  operator, value)` gets a Client queryset and a parsed value and returns
  the narrowed queryset; it must stay one SQL query (use subqueries/Exists).
  CRM registers "has open deal", "won deals in the last N days" and "last
  interaction"; sales and analytics add purchases and ABC/XYZ classes.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import DecimalField, Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from satu.core.models import CustomField, User
from satu.parties.errors import SegmentRuleInvalid
from satu.parties.models import Channel, Client, ClientGroup

MAX_CONDITIONS = 50


@dataclass(frozen=True)
class Operator:
    code: str
    label: str
    # what the value is: None (no value), "one", "list", "text", "int",
    # "date", "number"
    value: str | None


OPERATORS = {
    op.code: op
    for op in [
        Operator("eq", gettext_lazy("is"), "one"),
        Operator("ne", gettext_lazy("is not"), "one"),
        Operator("in", gettext_lazy("is one of"), "list"),
        Operator("not_in", gettext_lazy("is none of"), "list"),
        Operator("contains", gettext_lazy("contains"), "text"),
        Operator("starts", gettext_lazy("starts with"), "text"),
        Operator("empty", gettext_lazy("is empty"), None),
        Operator("not_empty", gettext_lazy("is not empty"), None),
        Operator("before", gettext_lazy("before"), "date"),
        Operator("after", gettext_lazy("after"), "date"),
        Operator("last_days", gettext_lazy("within the last N days"), "int"),
        Operator("older_days", gettext_lazy("more than N days ago"), "int"),
        Operator("gt", gettext_lazy("greater than"), "number"),
        Operator("gte", gettext_lazy("at least"), "number"),
        Operator("lt", gettext_lazy("less than"), "number"),
        Operator("lte", gettext_lazy("at most"), "number"),
        Operator("is_true", gettext_lazy("yes"), None),
        Operator("is_false", gettext_lazy("no"), None),
    ]
}
TYPES = {"text", "number", "date", "bool", "choice", "ref"}


@dataclass(frozen=True)
class SegmentField:
    code: str
    label: str
    type: str
    operators: tuple[str, ...]
    filter_fn: Callable[[QuerySet, str, object], QuerySet]
    # () -> [(value, label)] for "choice" and "ref" fields (pickers, checks)
    choices: Callable[[], list] | None = field(default=None, compare=False)

    def choice_list(self) -> list[tuple]:
        return [(v, str(label)) for v, label in self.choices()] if self.choices else []


_registry: dict[str, SegmentField] = {}


def register_segment_field(
    code: str,
    label,
    type: str,
    operators,
    filter_fn: Callable[[QuerySet, str, object], QuerySet],
    choices: Callable[[], list] | None = None,
) -> None:
    """Offer a field to segment rules. `type` is one of text, number, date,
    bool, choice, ref; `operators` a subset of `OPERATORS`; `filter_fn(qs,
    operator, value)` narrows a Client queryset (value already parsed: str,
    int, Decimal, date, list or None)."""
    unknown = set(operators) - set(OPERATORS)
    if type not in TYPES or unknown:
        raise ValueError(f"segment field {code!r}: bad type or operators {unknown}")
    _registry[code] = SegmentField(
        code, label, type, tuple(operators), filter_fn, choices
    )


def unregister_segment_field(code: str) -> None:
    _registry.pop(code, None)


# ------------------------------------------------------------- built-in fields


def _text_filter(name: str):
    def apply(qs, op, value):
        if op == "eq":
            return qs.filter(**{f"{name}__iexact": value})
        if op == "contains":
            return qs.filter(**{f"{name}__icontains": value})
        if op == "starts":
            return qs.filter(**{f"{name}__istartswith": value})
        if op == "empty":
            return qs.filter(**{name: ""})
        return qs.exclude(**{name: ""})

    return apply


def _choice_filter(name: str):
    def apply(qs, op, value):
        if op == "eq":
            return qs.filter(**{name: value})
        if op == "ne":
            return qs.exclude(**{name: value})
        if op == "in":
            return qs.filter(**{f"{name}__in": value})
        if op == "not_in":
            return qs.exclude(**{f"{name}__in": value})
        if op == "empty":
            return qs.filter(**{f"{name}__isnull": True})
        return qs.filter(**{f"{name}__isnull": False})

    return apply


def _channel_tree(ids) -> list[int]:
    """The channels and all their sub-channels (channels are few: one query)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent in Channel.objects.values_list("pk", "parent_id"):
        children.setdefault(parent, []).append(pk)
    found, todo = set(), list(ids)
    while todo:
        pk = todo.pop()
        if pk not in found:
            found.add(pk)
            todo.extend(children.get(pk, []))
    return sorted(found)


def _channel_filter(qs, op, value):
    if op in ("eq", "ne", "in", "not_in"):
        ids = _channel_tree(value if isinstance(value, list) else [value])
        inside = Q(source_channel_id__in=ids)
        return qs.filter(inside) if op in ("eq", "in") else qs.exclude(inside)
    return _choice_filter("source_channel_id")(qs, op, value)


def _created_filter(qs, op, value):
    if op == "before":
        return qs.filter(created_at__date__lt=value)
    if op == "after":
        return qs.filter(created_at__date__gt=value)
    since = timezone.now() - timedelta(days=value)
    if op == "last_days":
        return qs.filter(created_at__gte=since)
    return qs.filter(created_at__lt=since)


def _groups_filter(qs, op, value):
    members = Client.groups.through.objects.filter(clientgroup_id__in=value)
    inside = Q(pk__in=members.values("client_id"))
    return qs.filter(inside) if op == "in" else qs.exclude(inside)


def _users():
    return [
        (u.pk, u.get_full_name() or u.username)
        for u in User.objects.filter(is_active=True).order_by(
            "first_name", "last_name", "username"
        )
    ]


def _channels():
    return [(c.pk, str(c)) for c in Channel.objects.select_related("parent")]


def _manual_groups():
    return list(
        ClientGroup.objects.filter(kind=ClientGroup.Kind.MANUAL).values_list(
            "pk", "name"
        )
    )


TEXT_OPS = ("contains", "eq", "starts", "empty", "not_empty")


def _builtin_fields() -> list[SegmentField]:
    return [
        SegmentField(
            "status",
            _("Status"),
            "choice",
            ("eq", "ne", "in", "not_in"),
            _choice_filter("status"),
            lambda: Client.Status.choices,
        ),
        SegmentField(
            "kind",
            _("Kind"),
            "choice",
            ("eq", "ne"),
            _choice_filter("kind"),
            lambda: Client.Kind.choices,
        ),
        SegmentField(
            "owner",
            _("Manager"),
            "ref",
            ("eq", "ne", "in", "not_in", "empty", "not_empty"),
            _choice_filter("owner_id"),
            _users,
        ),
        SegmentField(
            "source_channel",
            _("Source channel (with sub-channels)"),
            "ref",
            ("eq", "ne", "in", "not_in", "empty", "not_empty"),
            _channel_filter,
            _channels,
        ),
        SegmentField("region", _("Region"), "text", TEXT_OPS, _text_filter("region")),
        SegmentField(
            "address",
            _("Address (city, street)"),
            "text",
            TEXT_OPS,
            _text_filter("address"),
        ),
        SegmentField("name", _("Name"), "text", TEXT_OPS, _text_filter("name")),
        SegmentField("email", _("Email"), "text", TEXT_OPS, _text_filter("email")),
        SegmentField(
            "created",
            _("Registered"),
            "date",
            ("before", "after", "last_days", "older_days"),
            _created_filter,
        ),
        SegmentField(
            "groups",
            _("Manual group"),
            "ref",
            ("in", "not_in"),
            _groups_filter,
            _manual_groups,
        ),
    ]


def _custom_filter(definition: CustomField):
    key = f"custom__{definition.code}"
    kind = definition.field_type

    def apply(qs, op, value):
        missing = ~Q(custom__has_key=definition.code) | Q(**{key: None})
        if op == "empty":
            if kind == CustomField.Type.TEXT:
                missing |= Q(**{key: ""})
            return qs.filter(missing)
        if op == "not_empty":
            qs = qs.filter(~missing)
            return qs.exclude(**{key: ""}) if kind == CustomField.Type.TEXT else qs
        if op == "is_true":
            return qs.filter(**{key: True})
        if op == "is_false":
            return qs.exclude(**{key: True})
        if kind == CustomField.Type.TEXT:
            return _text_filter(key)(qs, op, value)
        if kind == CustomField.Type.NUMBER:
            # stored as a decimal string (satu.core.custom_fields)
            qs = qs.filter(custom__has_key=definition.code).annotate(
                _cf=Cast(KT(key), DecimalField(max_digits=30, decimal_places=6))
            )
            lookup = {"eq": "exact", "ne": "exact"}.get(op, op)
            narrowed = Q(**{f"_cf__{lookup}": value})
            return qs.exclude(narrowed) if op == "ne" else qs.filter(narrowed)
        if kind == CustomField.Type.DATE:
            # ISO strings compare in date order
            text = value.isoformat()
            if op == "before":
                return qs.filter(**{f"{key}__lt": text})
            if op == "after":
                return qs.filter(**{f"{key}__gt": text})
            return qs.filter(**{key: text})
        return _choice_filter(key)(qs, op, value)

    return apply


CUSTOM_OPS = {
    CustomField.Type.TEXT: TEXT_OPS,
    CustomField.Type.NUMBER: ("eq", "ne", "gt", "gte", "lt", "lte", "empty"),
    CustomField.Type.DATE: ("eq", "before", "after", "empty", "not_empty"),
    CustomField.Type.CHOICE: ("eq", "ne", "in", "not_in", "empty", "not_empty"),
    CustomField.Type.BOOL: ("is_true", "is_false"),
}
CUSTOM_TYPES = {
    CustomField.Type.TEXT: "text",
    CustomField.Type.NUMBER: "number",
    CustomField.Type.DATE: "date",
    CustomField.Type.CHOICE: "choice",
    CustomField.Type.BOOL: "bool",
}


def segment_fields() -> dict[str, SegmentField]:
    """Every field a rule may use now: built-in, custom (one query), registered."""
    fields = {f.code: f for f in _builtin_fields()}
    for definition in CustomField.objects.filter(
        object_type="parties.client", is_active=True
    ):
        choices = [(c, c) for c in definition.choices]
        fields[f"cf.{definition.code}"] = SegmentField(
            f"cf.{definition.code}",
            definition.label,
            CUSTOM_TYPES[definition.field_type],
            CUSTOM_OPS[definition.field_type],
            _custom_filter(definition),
            (lambda choices=choices: choices)
            if definition.field_type == CustomField.Type.CHOICE
            else None,
        )
    fields.update(_registry)
    return fields


# ------------------------------------------------------------ parse and check


def _one(seg_field: SegmentField, raw, *, check_choices: bool):
    if seg_field.type == "number":
        return _number(raw)
    if seg_field.type == "date":
        return _date(raw)
    if seg_field.type == "ref":
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ValueError(_("Choose a value from the list.")) from None
    elif seg_field.type == "choice":
        value = str(raw)
    else:
        value = _text(raw)
    if check_choices and seg_field.choices is not None:
        allowed = {v for v, _label in seg_field.choice_list()}
        if value not in allowed:
            raise ValueError(_("Choose a value from the list."))
    return value


def _text(raw) -> str:
    value = str(raw if raw is not None else "").strip()
    if not value:
        raise ValueError(_("Enter a value."))
    if len(value) > 200:
        raise ValueError(_("At most %(n)d characters.") % {"n": 200})
    return value


def _number(raw) -> Decimal:
    try:
        number = Decimal(str(raw).strip().replace(",", "."))
    except (InvalidOperation, TypeError):
        raise ValueError(_("Enter a number.")) from None
    if not number.is_finite():
        raise ValueError(_("Enter a number."))
    return number


def _date(raw) -> date:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None


def parse_value(seg_field: SegmentField, operator: str, raw, *, check_choices=True):
    """The Python value of a condition; raises ValueError with a message."""
    kind = OPERATORS[operator].value
    if kind is None:
        return None
    if kind == "int":
        try:
            value = int(str(raw).strip())
        except (TypeError, ValueError):
            raise ValueError(_("Enter a whole number of days.")) from None
        if not 0 < value <= 36500:
            raise ValueError(_("Enter a whole number of days."))
        return value
    if kind == "date":
        return _date(raw)
    if kind == "number":
        return _number(raw)
    if kind == "text":
        return _text(raw)
    if kind == "list":
        items = raw if isinstance(raw, list) else [raw]
        items = [i for i in items if i not in (None, "")]
        if not items:
            raise ValueError(_("Choose at least one value."))
        return [_one(seg_field, i, check_choices=check_choices) for i in items]
    return _one(seg_field, raw, check_choices=check_choices)


def _stored(value):
    if isinstance(value, list):
        return [_stored(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def rules_clean(rules) -> dict:
    """Check a rule set and return it normalised. Raises SegmentRuleInvalid
    naming each bad condition (`fields` keys `groups.<i>.<j>`)."""
    if not isinstance(rules, dict) or not isinstance(rules.get("groups"), list):
        raise SegmentRuleInvalid(
            _("Rules must be a list of condition groups."),
            fields={"rules": [_("Rules must be a list of condition groups.")]},
        )
    fields = segment_fields()
    groups, errors, total = [], {}, 0
    for i, group in enumerate(rules["groups"]):
        if not isinstance(group, list) or not group:
            errors[f"groups.{i}"] = [_("A condition group may not be empty.")]
            continue
        cleaned = []
        for j, condition in enumerate(group):
            total += 1
            where = f"groups.{i}.{j}"
            if not isinstance(condition, dict):
                errors[where] = [_("A condition needs a field and an operator.")]
                continue
            code = str(condition.get("field") or "")
            operator = str(condition.get("operator") or "")
            seg_field = fields.get(code)
            if seg_field is None:
                errors[where] = [_("Unknown field “%(f)s”.") % {"f": code}]
                continue
            if operator not in seg_field.operators:
                errors[where] = [
                    _("“%(f)s” cannot be tested with “%(op)s”.")
                    % {"f": seg_field.label, "op": operator}
                ]
                continue
            try:
                value = parse_value(seg_field, operator, condition.get("value"))
            except ValueError as exc:
                errors[where] = [f"{seg_field.label}: {exc}"]
                continue
            cleaned.append(
                {"field": code, "operator": operator, "value": _stored(value)}
            )
        groups.append(cleaned)
    if not rules["groups"]:
        errors["groups"] = [_("Add at least one condition.")]
    if total > MAX_CONDITIONS:
        errors["groups"] = [_("At most %(n)d conditions.") % {"n": MAX_CONDITIONS}]
    if errors:
        first = next(iter(errors.values()))[0]
        raise SegmentRuleInvalid(
            _("The segment rules are not valid: %(problem)s") % {"problem": first},
            fields=errors,
        )
    return {"groups": groups}


def rules_queryset(rules: dict) -> QuerySet[Client]:
    """The live (not archived, not merged) clients matching a cleaned rule set.
    Conditions on fields that disappeared since (a custom field switched off)
    match nobody, so a stale rule never widens a segment."""
    fields = segment_fields()
    base = Client.objects.filter(is_archived=False, merged_into=None)
    matched = Q()
    for group in rules.get("groups", []):
        qs = Client.objects.all()
        for condition in group:
            seg_field = fields.get(condition["field"])
            if seg_field is None or condition["operator"] not in seg_field.operators:
                qs = qs.none()
                break
            value = parse_value(
                seg_field,
                condition["operator"],
                condition.get("value"),
                check_choices=False,
            )
            qs = seg_field.filter_fn(qs, condition["operator"], value)
        matched |= Q(pk__in=qs.values("pk"))
    if not matched:
        return base.none()
    return base.filter(matched)


def field_catalogue() -> list[dict]:
    """Fields with their operators and choices, for the builder and the API."""
    return [
        {
            "code": f.code,
            "label": str(f.label),
            "type": f.type,
            "operators": [
                {
                    "code": op,
                    "label": str(OPERATORS[op].label),
                    "value": OPERATORS[op].value,
                }
                for op in f.operators
            ],
            "choices": [{"value": v, "label": label} for v, label in f.choice_list()],
        }
        for f in segment_fields().values()
    ]


def segment_filter(request, *, actor):
    """The segment a list is cut by (`?segment=<id>`), or None. An unknown or
    malformed id raises NotFound (404), like any invisible record."""
    from satu.core.web import fetch
    from satu.parties import queries

    raw = request.GET.get("segment")
    if not raw:
        return None
    return fetch(queries.segment_get, actor=actor, segment_id=raw)
