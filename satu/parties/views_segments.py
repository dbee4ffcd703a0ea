"""Segment screens: list, builder (htmx condition rows with a live count),
segment page with its members. Writes go through `services`."""

from collections import defaultdict

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from satu.core import features
from satu.core.errors import DomainError
from satu.core.web import apply_domain_error, fetch, raise_http, require_perm
from satu.parties import queries, segments, services
from satu.parties.models import ClientGroup

PAGE_SIZE = 50


class SegmentForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Members"),
        choices=ClientGroup.Kind.choices,
        initial=ClientGroup.Kind.RULE,
        widget=forms.RadioSelect,
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("Active (recomputed on schedule)"),
        required=False,
        initial=True,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


# ---------------------------------------------------------------- builder rows


def _rows_from_post(data) -> list[dict]:
    try:
        count = min(int(data.get("rows") or 0), segments.MAX_CONDITIONS + 1)
    except ValueError:
        count = 0
    rows = []
    for i in range(count):
        if f"c{i}_field" not in data:
            continue
        try:
            group = max(1, min(int(data.get(f"c{i}_group") or 1), 99))
        except ValueError:
            group = 1
        row = {
            "group": group,
            "field": data.get(f"c{i}_field", ""),
            "operator": data.get(f"c{i}_operator", ""),
            "values": [v for v in data.getlist(f"c{i}_value") if v != ""],
        }
        if data.get(f"c{i}_was", row["field"]) != row["field"]:
            # another field was picked: its own first operator, no value
            row.update(operator="", values=[])
        rows.append(row)
    return rows


def _rows_from_rules(rules: dict) -> list[dict]:
    rows = []
    for number, group in enumerate(rules.get("groups", []), start=1):
        for condition in group:
            value = condition.get("value")
            values = value if isinstance(value, list) else [value]
            rows.append(
                {
                    "group": number,
                    "field": condition["field"],
                    "operator": condition["operator"],
                    "values": [str(v) for v in values if v is not None],
                }
            )
    return rows


def _rules_from_rows(rows: list[dict]) -> tuple[dict, dict]:
    """The rule set of the rows, and where each condition came from
    ((group index, condition index) -> row index) to place errors."""
    fields = segments.segment_fields()
    by_group: dict[int, list] = defaultdict(list)
    for index, row in enumerate(rows):
        by_group[row["group"]].append((index, row))
    groups, origin = [], {}
    for i, number in enumerate(sorted(by_group)):
        conditions = []
        for j, (index, row) in enumerate(by_group[number]):
            seg_field = fields.get(row["field"])
            operator = segments.OPERATORS.get(row["operator"])
            values = row["values"]
            if operator is not None and operator.value == "list":
                value = values
            else:
                value = values[0] if values else None
            if seg_field is None:
                value = values[0] if values else None
            conditions.append(
                {"field": row["field"], "operator": row["operator"], "value": value}
            )
            origin[(i, j)] = index
        groups.append(conditions)
    return {"groups": groups}, origin


def _row_errors(rows: list[dict], exc: DomainError, origin: dict) -> None:
    for key, texts in exc.fields.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "groups":
            index = origin.get((int(parts[1]), int(parts[2])))
            if index is not None:
                rows[index]["errors"] = texts


def _decorate(rows: list[dict]) -> list[dict]:
    """What the template needs per row: the field's operators, the chosen
    operator's value kind and choices."""
    fields = segments.segment_fields()
    groups = sorted({row["group"] for row in rows}) or [1]
    for index, row in enumerate(rows):
        seg_field = fields.get(row["field"])
        row["index"] = index
        row["known"] = seg_field is not None
        if seg_field is None:
            row.update(operators=[], value_kind=None, choices=[])
            continue
        if row["operator"] not in seg_field.operators:
            row["operator"] = seg_field.operators[0]
        row["operators"] = [
            (op, segments.OPERATORS[op].label) for op in seg_field.operators
        ]
        row["value_kind"] = segments.OPERATORS[row["operator"]].value
        row["field_type"] = seg_field.type
        row["choices"] = [(str(v), label) for v, label in seg_field.choice_list()]
        row["first_value"] = row["values"][0] if row["values"] else ""
        row["group_choices"] = [*groups, groups[-1] + 1]
    return rows


def _builder_context(request, rows, *, error: str = "") -> dict:
    fields = segments.segment_fields()
    rows = _decorate(rows)  # first: it settles each row's operator
    preview, preview_error = None, error
    if rows and not error:
        rules, _origin = _rules_from_rows(rows)
        try:
            cleaned = segments.rules_clean(rules)
        except DomainError as exc:
            preview_error = str(exc)
        else:
            preview = queries.segment_preview_count(actor=request.user, rules=cleaned)
    return {
        "rows": rows,
        "row_count": len(rows),
        "field_choices": [(f.code, f.label) for f in fields.values()],
        "preview": preview,
        "preview_error": preview_error,
    }


@require_POST
def segment_builder(request):
    """The conditions block re-rendered after a change: add a condition (AND
    in the last group, or a new OR group), remove one, or a changed field
    (its operators and value input follow), with the live member count."""
    require_perm(request, "parties.view_clientgroup")
    rows = _rows_from_post(request.POST)
    action = request.POST.get("builder", "")
    if action in ("and", "or") and len(rows) < segments.MAX_CONDITIONS:
        last = rows[-1]["group"] if rows else 1
        group = last + 1 if action == "or" and rows else last
        rows.append({"group": group, "field": "status", "operator": "", "values": []})
    elif action.startswith("remove:"):
        try:
            del rows[int(action.removeprefix("remove:"))]
        except (ValueError, IndexError):
            pass
    return render(
        request,
        "parties/segment_form.html#conditions",
        _builder_context(request, rows),
    )


# ---------------------------------------------------------------- screens


@require_GET
def segment_list(request):
    require_perm(request, "parties.view_clientgroup")
    segment_qs = queries.segment_list(
        actor=request.user, search=request.GET.get("q", "")[:100]
    )
    page = Paginator(segment_qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "parties/segment_list.html",
        {"page": page, "search": request.GET.get("q", "")},
    )


def _save(request, segment: ClientGroup | None):
    form = SegmentForm(request.POST)
    rows = _rows_from_post(request.POST)
    rules, origin = _rules_from_rows(rows)
    if form.is_valid():
        data = form.cleaned_data
        fields = {
            "name": data["name"],
            "description": data["description"],
            "kind": data["kind"],
        }
        if data["kind"] == ClientGroup.Kind.RULE:
            fields["rules"] = rules
        try:
            if segment is None:
                saved = services.segment_create(actor=request.user, **fields)
            else:
                saved = services.segment_update(
                    actor=request.user,
                    segment_id=segment.pk,
                    version=data.get("version"),
                    is_active=data["is_active"],
                    **fields,
                )
        except DomainError as exc:
            raise_http(exc)
            apply_domain_error(form, exc)
            _row_errors(rows, exc, origin)
        else:
            messages.success(request, _("Segment saved."))
            return redirect("segment_detail", pk=saved.pk)
    context = {"form": form, "segment": segment, **_builder_context(request, rows)}
    context["preview_error"] = ""
    return render(request, "parties/segment_form.html", context, status=422)


@require_http_methods(["GET", "POST"])
def segment_create(request):
    require_perm(request, "parties.add_clientgroup")
    if request.method == "POST":
        return _save(request, None)
    rows = [{"group": 1, "field": "status", "operator": "eq", "values": ["client"]}]
    form = SegmentForm()
    context = {"form": form, "segment": None, **_builder_context(request, rows)}
    return render(request, "parties/segment_form.html", context)


@require_http_methods(["GET", "POST"])
def segment_edit(request, pk: int):
    require_perm(request, "parties.change_clientgroup")
    segment = fetch(queries.segment_get, actor=request.user, segment_id=pk)
    if request.method == "POST":
        return _save(request, segment)
    form = SegmentForm(
        initial={
            "name": segment.name,
            "description": segment.description,
            "kind": segment.kind,
            "is_active": segment.is_active,
            "version": segment.version,
        }
    )
    rows = _rows_from_rules(segment.rules)
    context = {"form": form, "segment": segment, **_builder_context(request, rows)}
    return render(request, "parties/segment_form.html", context)


def _describe(rules: dict) -> list[list[str]]:
    """The rules as readable text, group by group."""
    fields = segments.segment_fields()
    described = []
    for group in rules.get("groups", []):
        texts = []
        for condition in group:
            seg_field = fields.get(condition["field"])
            label = seg_field.label if seg_field else condition["field"]
            operator = segments.OPERATORS.get(condition["operator"])
            value = condition.get("value")
            choices = dict(seg_field.choice_list()) if seg_field else {}
            values = value if isinstance(value, list) else [value]
            shown = ", ".join(str(choices.get(v, v)) for v in values if v is not None)
            texts.append(
                " ".join(
                    str(part)
                    for part in (label, operator.label if operator else "?", shown)
                    if part
                )
            )
        described.append(texts)
    return described


@require_GET
def segment_detail(request, pk: int):
    require_perm(request, "parties.view_clientgroup")
    segment = fetch(queries.segment_get, actor=request.user, segment_id=pk)
    members = queries.segment_members(actor=request.user, segment=segment)
    page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    context = {
        "segment": segment,
        "page": page,
        "rules": _describe(segment.rules),
        "query": f"segment={segment.pk}",
        "can_edit": request.user.has_perm("parties.change_clientgroup"),
        "features_on": getattr(request, "features", None) or features.enabled_map(),
    }
    return render(request, "parties/segment_detail.html", context)


@require_POST
def segment_recompute(request, pk: int):
    segment = fetch(queries.segment_get, actor=request.user, segment_id=pk)
    try:
        result = services.segment_recompute(actor=request.user, segment_id=segment.pk)
    except DomainError as exc:
        raise_http(exc)
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Recomputed: %(members)d members (%(added)d added, %(removed)d removed).")
            % result,
        )
    return redirect(reverse("segment_detail", args=[segment.pk]))
