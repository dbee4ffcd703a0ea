"""Platform screens: home, global search, settings (modules, custom fields,
audit trail), profile, API tokens and job progress.

Views parse input, call `services`/`queries` and render; a DomainError that
is not shown on a form is rendered by `satu.web.middleware` as an error page
(or a toast for htmx requests) with its message and HTTP status.
"""

from urllib.parse import urlencode

from babel.dates import format_date
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from satu.core import (
    audit,
    custom_fields,
    documents,
    features,
    formatting,
    jobs,
    tokens,
    users,
)
from satu.core.errors import DomainError
from satu.parties import queries as parties
from satu.parties.models import Client
from satu.web.forms import (
    AuditFilterForm,
    CustomFieldForm,
    DocumentTemplateForm,
    ProfileForm,
    TokenForm,
    UserForm,
    apply_domain_error,
)

AUDIT_PAGE_SIZE = 50


def _link(name: str, pk) -> str:
    """URL of a record's page, or "" while that screen does not exist."""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


def _is_partial(request, target: str | None = None) -> bool:
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.boosted or htmx.history_restore_request:
        return False
    return target is None or htmx.target == target


# ------------------------------------------------------------------ home


@require_GET
def home(request):
    actor = request.user
    context = {"can_see_clients": actor.has_perm("parties.view_client")}
    if context["can_see_clients"]:
        counts = parties.client_counts_by_status(actor=actor)
        context["status_counts"] = [
            {"code": code, "label": label, "count": counts.get(code, 0)}
            for code, label in Client.Status.choices
        ]
        context["client_total"] = sum(counts.values())
        monthly = parties.clients_created_by_month(actor=actor, months=12)
        locale = formatting.current_locale()
        context["monthly_chart"] = _monthly_chart(
            [format_date(start, "LLL yy", locale=locale) for start, _n in monthly],
            [n for _start, n in monthly],
        )
        context["recent"] = parties.timeline_recent(actor=actor, limit=10)
        context["client_url_name"] = "client_detail"
    return render(request, "web/home.html", context)


def _monthly_chart(labels: list[str], values: list[int]) -> dict:
    """ECharts option for the new-clients-per-month chart."""
    return {
        "color": ["#2456d3"],
        "grid": {"left": 36, "right": 12, "top": 24, "bottom": 28},
        "tooltip": {"trigger": "axis"},
        "xAxis": {
            "type": "category",
            "data": labels,
            "axisTick": {"alignWithLabel": True},
        },
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {
                "name": _("New clients"),
                "type": "bar",
                "data": values,
                "barMaxWidth": 28,
                "itemStyle": {"borderRadius": [4, 4, 0, 0]},
            }
        ],
        "aria": {"enabled": True},
    }


# ------------------------------------------------------------------ search


@require_GET
def search(request):
    """Top-bar search: a dropdown for htmx, a full results page otherwise."""
    query = request.GET.get("q", "").strip()[:100]
    actor = request.user
    enabled = getattr(request, "features", None) or features.enabled_map()
    partial = _is_partial(request)
    found = parties.global_search(actor=actor, query=query, limit=8 if partial else 50)
    groups = []
    if actor.has_perm("parties.view_client"):
        groups.append(
            {
                "key": "clients",
                "title": _("Clients"),
                "items": [
                    {
                        "label": c.name,
                        "detail": c.get_status_display(),
                        "url": _link("client_detail", c.pk),
                    }
                    for c in found["clients"]
                ],
            }
        )
    if enabled.get("contacts", True) and actor.has_perm("parties.view_contact"):
        groups.append(
            {
                "key": "contacts",
                "title": _("Contacts"),
                "items": [
                    {
                        "label": str(c),
                        "detail": c.position,
                        "url": _link("contact_detail", c.pk),
                    }
                    for c in found["contacts"]
                ],
            }
        )
    if enabled.get("counterparties", True) and actor.has_perm(
        "parties.view_counterparty"
    ):
        groups.append(
            {
                "key": "counterparties",
                "title": _("Counterparties"),
                "items": [
                    {
                        "label": c.legal_name,
                        "detail": c.tax_id,
                        "url": _link("counterparty_detail", c.pk),
                    }
                    for c in found["counterparties"]
                ],
            }
        )
    context = {
        "query": query,
        "search_query": query,
        "groups": groups,
        "too_short": len(query) < 2,
    }
    if partial:
        context["groups"] = [g for g in groups if g["items"]]
        return render(request, "web/search.html#results", context)
    return render(request, "web/search.html", context)


# ------------------------------------------------------------------ modules


def _feature_rows(enabled: dict[str, bool]) -> list[dict]:
    registered = features.registered()
    labels = {f.code: f.label for f in registered}
    return [
        {
            "feature": f,
            "enabled": enabled.get(f.code, f.default),
            "parent_off": f.parent is not None and not enabled.get(f.parent, True),
            "parent_label": labels.get(f.parent, f.parent),
        }
        for f in registered
    ]


@require_GET
@permission_required("core.change_featuretoggle", raise_exception=True)
def feature_settings(request):
    rows = _feature_rows(request.features)
    return render(request, "web/settings/modules.html", {"rows": rows})


@require_POST
@permission_required("core.change_featuretoggle", raise_exception=True)
def feature_switch(request, code):
    """Switch a module on/off; htmx gets the new row plus the new navigation."""
    enabled = request.POST.get("enabled") in {"1", "true", "on"}
    features.feature_set(code=code, enabled=enabled, actor=request.user)
    # The navigation must reflect the new state in this very response.
    request.features = features.enabled_map()
    if not _is_partial(request):
        return redirect("feature_settings")
    row = next(r for r in _feature_rows(request.features) if r["feature"].code == code)
    html = render_to_string(
        "web/settings/modules.html#feature_row", {"row": row}, request=request
    )
    nav = render_to_string("web/includes/mainnav.html", {"oob": True}, request=request)
    return HttpResponse(html + nav)


# ------------------------------------------------------------------ custom fields


def _to_field_list(object_type: str):
    query = urlencode({"type": object_type})
    return redirect(f"{reverse('custom_field_list')}?{query}")


@require_GET
@permission_required("core.add_customfield", raise_exception=True)
def custom_field_list(request):
    types = custom_fields.object_types()
    current = request.GET.get("type") or (types[0].code if types else "")
    if current not in {t.code for t in types}:
        current = types[0].code if types else ""
    return render(
        request,
        "web/settings/custom_fields.html",
        {
            "object_types": types,
            "current": current,
            "fields": (
                custom_fields.custom_field_list(object_type=current) if current else []
            ),
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required("core.add_customfield", raise_exception=True)
def custom_field_create(request):
    types = custom_fields.object_types()
    form = CustomFieldForm(
        request.POST or None,
        object_types=types,
        initial={"object_type": request.GET.get("type")},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                field = custom_fields.custom_field_create(
                    actor=request.user,
                    object_type=data["object_type"],
                    code=data["code"].strip(),
                    label=data["label"],
                    field_type=data["field_type"],
                    choices=form.choice_list(),
                    required=data["required"],
                    position=data["position"],
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Custom field “%(label)s” created.") % {"label": field.label},
                )
                return _to_field_list(field.object_type)
        status = 422
    return render(
        request,
        "web/settings/custom_field_form.html",
        {"form": form, "creating": True},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@permission_required("core.change_customfield", raise_exception=True)
def custom_field_edit(request, field_id):
    field = custom_fields.custom_field_get(field_id=field_id)
    initial = {
        "object_type": field.object_type,
        "code": field.code,
        "label": field.label,
        "field_type": field.field_type,
        "choices": "\n".join(field.choices),
        "required": field.required,
        "position": field.position,
        "is_active": field.is_active,
    }
    form = CustomFieldForm(
        request.POST or None,
        initial=initial,
        editing=True,
        object_types=custom_fields.object_types(),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                field = custom_fields.custom_field_update(
                    actor=request.user,
                    field_id=field.pk,
                    label=data["label"],
                    choices=form.choice_list(),
                    required=data["required"],
                    position=data["position"],
                    is_active=data["is_active"],
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Custom field “%(label)s” saved.") % {"label": field.label},
                )
                return _to_field_list(field.object_type)
        status = 422
    return render(
        request,
        "web/settings/custom_field_form.html",
        {"form": form, "creating": False, "field": field},
        status=status,
    )


# ------------------------------------------------------------------ audit trail


def _change_rows(changes) -> list[tuple[str, object, object]]:
    rows = []
    for name, value in (changes or {}).items():
        if isinstance(value, list) and len(value) == 2:
            rows.append((name, value[0], value[1]))
        else:
            rows.append((name, None, value))
    return rows


@require_GET
@permission_required("core.view_auditentry", raise_exception=True)
def audit_list(request):
    form = AuditFilterForm(
        request.GET or None,
        users=users.user_choices(),
        object_types=audit.audit_object_types(),
    )
    filters = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "actor_id": data["actor"],
            "action": data["action"].strip(),
            "content_type_id": data["object_type"],
            "date_from": data["date_from"],
            "date_to": data["date_to"],
        }
    entries = audit.audit_entry_list(**filters)
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.change_rows = _change_rows(entry.changes)
        entry.action_label = audit.action_label(entry.action)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/settings/audit.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
        },
    )


# ------------------------------------------------------------------ profile


@require_http_methods(["GET", "POST"])
def profile(request):
    user = request.user
    form = ProfileForm(
        request.POST or None,
        time_zones=users.time_zones(),
        initial={"language": user.language, "time_zone": user.time_zone},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                users.user_preferences_update(
                    actor=user,
                    language=form.cleaned_data["language"],
                    time_zone=form.cleaned_data["time_zone"],
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                # The message and the next page already speak the new language.
                translation.activate(user.language)
                messages.success(request, _("Your preferences were saved."))
                return redirect("profile")
        status = 422
    return render(request, "web/profile.html", {"form": form}, status=status)


# ------------------------------------------------------------------ API tokens


def _token_page(request, form, raw=None, status=200):
    return render(
        request,
        "web/tokens.html",
        {
            "form": form,
            "tokens": tokens.api_token_list(actor=request.user),
            "new_token": raw,
        },
        status=status,
    )


@require_GET
def token_list(request):
    return _token_page(request, TokenForm())


@require_POST
def token_create(request):
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _token_page(request, form, status=422)
    _token, raw = tokens.api_token_create(
        user=request.user, name=form.cleaned_data["name"], actor=request.user
    )
    # The raw token is shown on this response only; it is never stored.
    return _token_page(request, TokenForm(), raw=raw)


@require_POST
def token_revoke(request, token_id):
    tokens.api_token_revoke(token_id=token_id, actor=request.user)
    messages.success(request, _("The token was revoked."))
    return redirect("token_list")


# ------------------------------------------------------------------ jobs


@require_GET
def job_detail(request, job_id):
    """A job's progress page; htmx polls the `job_status` partial every second."""
    job = jobs.job_get(actor=request.user, job_id=job_id)
    context = {"job": job}
    if _is_partial(request):
        return render(request, "web/job.html#job_status", context)
    return render(request, "web/job.html", context)


# ---------------------------------------------------------------- users


@require_GET
@permission_required("core.view_user", raise_exception=True)
def user_list(request):
    active = {"1": True, "0": False}.get(request.GET.get("active", ""))
    listing = users.user_list(
        search=request.GET.get("q", "").strip(),
        role=request.GET.get("role", ""),
        active=active,
    )
    page = Paginator(listing, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    from satu.core import roles

    for user in page.object_list:
        user.role_labels = [roles.role_label(g.name) for g in user.groups.all()]
    return render(
        request,
        "web/settings/users.html",
        {
            "page": page,
            "query": query.urlencode(),
            "roles": roles.ROLES.items(),
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required("core.add_user", raise_exception=True)
def user_create(request):
    form = UserForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = users.user_create(
                    actor=request.user,
                    username=data["username"],
                    password=data["password"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    email=data["email"],
                    roles=data["roles"],
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(
                    request, _("User “%(name)s” created.") % {"name": user}
                )
                return redirect("user_list")
        status = 422
    return render(
        request,
        "web/settings/user_form.html",
        {"form": form, "creating": True},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@permission_required("core.change_user", raise_exception=True)
def user_edit(request, user_id):
    from satu.core.errors import NotFound
    from satu.core.models import User

    target = User.objects.filter(pk=user_id).prefetch_related("groups").first()
    if target is None:
        raise NotFound(_("User not found."))
    initial = {
        "username": target.username,
        "first_name": target.first_name,
        "last_name": target.last_name,
        "email": target.email,
        "roles": [g.name for g in target.groups.all()],
        "is_active": target.is_active,
    }
    form = UserForm(request.POST or None, initial=initial, editing=True)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    users.user_update(
                        actor=request.user,
                        user_id=target.pk,
                        first_name=data["first_name"],
                        last_name=data["last_name"],
                        email=data["email"],
                        roles=data["roles"],
                        is_active=data["is_active"],
                    )
                    if data["password"]:
                        users.user_password_set(
                            actor=request.user,
                            user_id=target.pk,
                            password=data["password"],
                        )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(
                    request, _("User “%(name)s” saved.") % {"name": target}
                )
                return redirect("user_list")
        status = 422
    return render(
        request,
        "web/settings/user_form.html",
        {"form": form, "creating": False, "target": target},
        status=status,
    )


# ---------------------------------------------------------------- documents


@require_GET
@permission_required("core.change_systemflag", raise_exception=True)
def document_template_list(request):
    rows = [
        {"document": doc, "customised": documents.customised(doc.code) is not None}
        for doc in documents.registered()
    ]
    return render(request, "web/settings/documents.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@permission_required("core.change_systemflag", raise_exception=True)
def document_template_edit(request, code: str):
    document = _document(code)
    form = DocumentTemplateForm(
        request.POST or None, initial={"html": documents.template_source(code)}
    )
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "reset":
            documents.template_reset(actor=request.user, code=code)
            messages.success(request, _("The shipped template is back in use."))
            return redirect("document_template_edit", code=code)
        if form.is_valid():
            try:
                documents.template_save(
                    actor=request.user, code=code, html=form.cleaned_data["html"]
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("Template saved."))
                return redirect("document_template_edit", code=code)
        status = 422
    context = {
        "document": document,
        "form": form,
        "customised": documents.customised(code) is not None,
    }
    return render(request, "web/settings/document_form.html", context, status=status)


@require_GET
@permission_required("core.change_systemflag", raise_exception=True)
def document_template_preview(request, code: str):
    document = _document(code)
    if document.sample is None:
        raise Http404
    pdf = documents.render_pdf(code, document.sample())
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{code}-preview.pdf"'
    return response


def _document(code: str):
    try:
        return documents.get(code)
    except DomainError:
        raise Http404 from None
