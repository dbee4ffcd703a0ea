"""Screens of leads, lead forms, marketing events and costs, ROI, deal lines
(CRM-3, CRM-4, CRM-6, P6), and the public lead form.

Views parse input with `crm.forms_marketing`, call `crm.services` /
`queries` and render; a DomainError's message is shown on the form (the same
text the API answers), NotFound is a 404, PermissionDenied a 403.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from satu.core.errors import DomainError, ValidationFailed
from satu.core.web import apply_domain_error, require_feature
from satu.core.web import fetch as _fetch
from satu.core.web import raise_http as _raise_http
from satu.core.web import require_perm as _require_perm
from satu.crm import queries, services
from satu.crm.errors import TooManySubmissions
from satu.crm.forms_marketing import (
    CostForm,
    DealLineForm,
    DisqualifyForm,
    LeadFilterForm,
    LeadForm,
    LeadFormConfigForm,
    LeadImportForm,
    MarketingEventForm,
    ParticipantForm,
    PublicLeadForm,
    QualifyForm,
    RoiForm,
    UnmetForm,
)
from satu.crm.models import MarketingEvent

PAGE_SIZE = 50
view_lead = permission_required("crm.view_lead", raise_exception=True)
view_event = permission_required("crm.view_marketingevent", raise_exception=True)
view_cost = permission_required("crm.view_marketingcost", raise_exception=True)


def _feature(request) -> None:
    require_feature(request, "crm")


def _flash_error(request, exc: DomainError) -> None:
    _raise_http(exc)
    messages.error(request, str(exc.message))
    for field_messages in exc.fields.values():
        for message in field_messages:
            if message not in str(exc.message):
                messages.error(request, str(message))


def _page(request, qs):
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return page, params.urlencode()


# ---------------------------------------------------------------- leads


@require_GET
@view_lead
def lead_list(request):
    """Leads with search and state/source filters, newest first."""
    _feature(request)
    form = LeadFilterForm(request.GET or None)
    filters = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "search": data.get("q") or "",
            "state": data.get("state") or "",
            "source": data.get("source") or "",
        }
    page, query = _page(request, queries.lead_list(actor=request.user, **filters))
    return render(
        request,
        "crm/lead_list.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "can_add": request.user.has_perm("crm.add_lead"),
            "can_forms": request.user.has_perm("crm.view_leadform"),
        },
    )


@require_http_methods(["GET", "POST"])
@view_lead
def lead_create(request):
    _feature(request)
    _require_perm(request, "crm.add_lead")
    form = LeadForm(request.POST or None, initial={"owner": request.user.pk})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                lead = services.lead_create(
                    actor=request.user, source="manual", **form.service_kwargs()
                )
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
            else:
                messages.success(request, _("Lead registered."))
                return redirect("lead_detail", pk=lead.pk)
        else:
            status = 422
    return render(
        request, "crm/lead_form.html", {"form": form, "lead": None}, status=status
    )


@require_http_methods(["GET", "POST"])
@view_lead
def lead_edit(request, pk: int):
    _feature(request)
    _require_perm(request, "crm.change_lead")
    lead = _fetch(queries.lead_get, actor=request.user, lead_id=pk)
    initial = {
        "company_name": lead.company_name,
        "person_name": lead.person_name,
        "email": lead.email,
        "phone": lead.phone,
        "message": lead.message,
        "channel": lead.channel_id,
        "marketing_event": lead.marketing_event_id,
        "reason": lead.reason_id,
        "owner": lead.owner_id,
    }
    form = LeadForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.service_kwargs()
            data["owner_id"] = data["owner_id"] or lead.owner_id
            try:
                services.lead_update(
                    actor=request.user,
                    lead_id=lead.pk,
                    version=int(request.POST.get("version") or lead.version),
                    **data,
                )
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
            else:
                messages.success(request, _("Lead saved."))
                return redirect("lead_detail", pk=lead.pk)
        else:
            status = 422
    return render(
        request, "crm/lead_form.html", {"form": form, "lead": lead}, status=status
    )


@require_GET
@view_lead
def lead_detail(request, pk: int):
    _feature(request)
    lead = _fetch(queries.lead_get, actor=request.user, lead_id=pk)
    from satu.core import audit

    return render(
        request,
        "crm/lead_detail.html",
        {
            "lead": lead,
            "disqualify_form": DisqualifyForm(),
            "can_change": request.user.has_perm("crm.change_lead"),
            "audit_entries": list(audit.entries_for(lead)[:20]),
        },
    )


@require_http_methods(["GET", "POST"])
@view_lead
def lead_qualify(request, pk: int):
    """Turn the lead into a client (new or existing) and maybe a deal; a
    possible duplicate is shown with the candidates and a confirm box."""
    _feature(request)
    _require_perm(request, "crm.change_lead")
    lead = _fetch(queries.lead_get, actor=request.user, lead_id=pk)
    form = QualifyForm(
        request.POST or None,
        actor=request.user,
        initial={"client_name": lead.company_name or lead.person_name},
    )
    candidates = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.lead_qualify(
                    actor=request.user, lead_id=lead.pk, **form.service_kwargs()
                )
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc)
                candidates = exc.context.get("candidates", [])
                status = exc.http_status
            else:
                messages.success(request, _("Lead qualified."))
                return redirect("lead_detail", pk=lead.pk)
        else:
            status = 422
    elif lead.state == lead.State.NEW:
        candidates = queries.lead_duplicates(lead=lead)
    return render(
        request,
        "crm/lead_qualify.html",
        {"lead": lead, "form": form, "candidates": candidates},
        status=status,
    )


@require_POST
@view_lead
def lead_disqualify(request, pk: int):
    _feature(request)
    form = DisqualifyForm(request.POST)
    form.is_valid()
    try:
        services.lead_disqualify(
            actor=request.user,
            lead_id=pk,
            reason=form.cleaned_data.get("reason") or "",
        )
    except DomainError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Lead disqualified."))
    return redirect("lead_detail", pk=pk)


@require_http_methods(["GET", "POST"])
@view_lead
def lead_import(request):
    """Upload a CSV/XLSX of leads; all rows or none are imported."""
    _feature(request)
    _require_perm(request, "crm.add_lead")
    form = LeadImportForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            from satu.parties.imports import read_upload

            try:
                data = read_upload(form.cleaned_data["file"])
                result = services.lead_import(
                    actor=request.user,
                    data=data,
                    filename=form.cleaned_data["file"].name,
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
                status = exc.http_status
            else:
                if result["errors"]:
                    status = 422
                else:
                    messages.success(
                        request,
                        _("%(n)d leads imported.") % {"n": result["created"]},
                    )
                    return redirect("lead_list")
        else:
            status = 422
    return render(
        request, "crm/lead_import.html", {"form": form, "result": result}, status=status
    )


@require_http_methods(["GET", "POST"])
@permission_required("crm.view_leadform", raise_exception=True)
def lead_form_list(request):
    """Configured public forms, with a form to add one."""
    _feature(request)
    form = LeadFormConfigForm(
        request.POST or None, initial={"owner": request.user.pk, "is_active": True}
    )
    status = 200
    if request.method == "POST":
        _require_perm(request, "crm.add_leadform")
        if form.is_valid():
            try:
                services.lead_form_create(actor=request.user, **form.service_kwargs())
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
            else:
                messages.success(request, _("Lead form created."))
                return redirect("lead_form_list")
        else:
            status = 422
    return render(
        request,
        "crm/lead_form_list.html",
        {
            "forms": list(queries.lead_forms()),
            "form": form,
            "can_add": request.user.has_perm("crm.add_leadform"),
        },
        status=status,
    )


@require_POST
@permission_required("crm.change_leadform", raise_exception=True)
def lead_form_toggle(request, pk: int):
    _feature(request)
    form = queries.lead_forms().filter(pk=pk).first()
    if form is None:
        from django.http import Http404

        raise Http404
    try:
        services.lead_form_update(
            actor=request.user, form_id=pk, is_active=not form.is_active
        )
    except DomainError as exc:
        _flash_error(request, exc)
    return redirect("lead_form_list")


# ---------------------------------------------------------------- public form


def _client_ip(request) -> str:
    # Behind a proxy the deployment sets REMOTE_ADDR (e.g. gunicorn
    # --forwarded-allow-ips); never trust a client-sent header here.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _throttle(request) -> None:
    """At most SATU_LEAD_FORM_LIMIT submissions per address per window."""
    limit = int(getattr(settings, "SATU_LEAD_FORM_LIMIT", 5))
    window = int(getattr(settings, "SATU_LEAD_FORM_WINDOW", 600))
    key = f"crm:lead-form:{_client_ip(request)}"
    if cache.add(key, 1, window):
        return
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, window)
        return
    if count > limit:
        raise TooManySubmissions()


@xframe_options_exempt
@ensure_csrf_cookie
@csrf_protect
@require_http_methods(["GET", "POST"])
def public_lead_form(request, key: str):
    """The public web form (no login; embeddable in an iframe; CSRF
    protected — the page sets the token; per-address limit; a honeypot)."""
    _feature(request)
    lead_form = _fetch(queries.lead_form_public, key=key)
    form = PublicLeadForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if form.cleaned_data.get("website"):
                # A bot filled the hidden field: thank it and keep nothing.
                return redirect("public_lead_thanks", key=key)
            data = {k: v for k, v in form.cleaned_data.items() if k != "website"}
            try:
                _throttle(request)
                services.lead_submit_public(form_key=key, **data)
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
            else:
                return redirect("public_lead_thanks", key=key)
        else:
            status = 422
    return render(
        request,
        "crm/public_lead_form.html",
        {"form": form, "lead_form": lead_form},
        status=status,
    )


@xframe_options_exempt
@require_GET
def public_lead_thanks(request, key: str):
    _feature(request)
    lead_form = _fetch(queries.lead_form_public, key=key)
    return render(request, "crm/public_lead_thanks.html", {"lead_form": lead_form})


# ---------------------------------------------------------------- events


@require_GET
@view_event
def marketing_event_list(request):
    _feature(request)
    search = (request.GET.get("q") or "")[:200]
    kind = request.GET.get("kind") or ""
    if kind not in MarketingEvent.Kind.values:
        kind = ""
    page, query = _page(request, queries.marketing_event_list(search=search, kind=kind))
    return render(
        request,
        "crm/marketing_event_list.html",
        {
            "page": page,
            "query": query,
            "search": search,
            "kind": kind,
            "kinds": MarketingEvent.Kind.choices,
            "can_add": request.user.has_perm("crm.add_marketingevent"),
            "can_costs": request.user.has_perm("crm.view_marketingcost"),
        },
    )


def _event_form_view(request, event=None):
    initial = {"responsible": request.user.pk, "currency": "IDR"}
    if event is not None:
        initial = {
            "name": event.name,
            "kind": event.kind,
            "channel": event.channel_id,
            "starts_on": event.starts_on,
            "ends_on": event.ends_on,
            "budget": event.budget,
            "currency": event.currency,
            "responsible": event.responsible_id,
            "description": event.description,
        }
    form = MarketingEventForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if event is None:
                    event = services.marketing_event_create(
                        actor=request.user, **form.service_kwargs()
                    )
                else:
                    data = form.service_kwargs()
                    data["responsible_id"] = (
                        data["responsible_id"] or event.responsible_id
                    )
                    services.marketing_event_update(
                        actor=request.user,
                        event_id=event.pk,
                        version=int(request.POST.get("version") or event.version),
                        **data,
                    )
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
            else:
                messages.success(request, _("Marketing event saved."))
                return redirect("marketing_event_detail", pk=event.pk)
        else:
            status = 422
    return render(
        request,
        "crm/marketing_event_form.html",
        {"form": form, "event": event},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@view_event
def marketing_event_create(request):
    _feature(request)
    _require_perm(request, "crm.add_marketingevent")
    return _event_form_view(request)


@require_http_methods(["GET", "POST"])
@view_event
def marketing_event_edit(request, pk: int):
    _feature(request)
    _require_perm(request, "crm.change_marketingevent")
    event = _fetch(queries.marketing_event_get, event_id=pk)
    return _event_form_view(request, event)


@require_GET
@view_event
def marketing_event_detail(request, pk: int):
    _feature(request)
    event = _fetch(queries.marketing_event_get, event_id=pk)
    can_costs = request.user.has_perm("crm.view_marketingcost")
    return render(
        request,
        "crm/marketing_event_detail.html",
        {
            "event": event,
            "costs": list(queries.marketing_cost_list(event_id=event.pk))
            if can_costs
            else None,
            "participants": queries.event_participants(event=event),
            "cost_form": CostForm(initial={"date": timezone.localdate()}),
            "participant_form": ParticipantForm(actor=request.user),
            "can_manage": request.user.has_perm("crm.change_marketingevent"),
            "can_add_cost": request.user.has_perm("crm.add_marketingcost"),
        },
    )


def _cost_post(request, **target):
    form = CostForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed(
                fields={k: [str(m) for m in v] for k, v in form.errors.items()}
            )
        services.marketing_cost_create(
            actor=request.user, **target, **form.service_kwargs()
        )
    except DomainError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Cost recorded."))


@require_POST
@view_event
def marketing_event_cost_add(request, pk: int):
    _feature(request)
    _fetch(queries.marketing_event_get, event_id=pk)
    _cost_post(request, event_id=pk)
    return redirect("marketing_event_detail", pk=pk)


@require_POST
@view_event
def marketing_event_participant_add(request, pk: int):
    _feature(request)
    form = ParticipantForm(request.POST, actor=request.user)
    try:
        if not form.is_valid():
            raise ValidationFailed(
                fields={k: [str(m) for m in v] for k, v in form.errors.items()}
            )
        services.event_participant_add(
            actor=request.user,
            event_id=pk,
            client_id=form.cleaned_data["client"].pk,
            status=form.cleaned_data["status"],
        )
    except DomainError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Participant registered."))
    return redirect("marketing_event_detail", pk=pk)


@require_POST
@view_event
def marketing_participant_status(request, pk: int, participant_id: int):
    _feature(request)
    try:
        services.event_participant_set_status(
            actor=request.user,
            participant_id=participant_id,
            status=request.POST.get("status") or "",
        )
    except DomainError as exc:
        _flash_error(request, exc)
    return redirect("marketing_event_detail", pk=pk)


@require_POST
@view_cost
def marketing_cost_delete(request, cost_id: int):
    _feature(request)
    back = request.POST.get("next") or ""
    try:
        services.marketing_cost_delete(actor=request.user, cost_id=cost_id)
    except DomainError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Cost removed."))
    if back.startswith("/marketing/"):
        return redirect(back)
    return redirect("marketing_channel_list")


# ---------------------------------------------------------------- channels


@require_GET
@view_cost
def marketing_channel_list(request):
    """The channel tree with this year's costs (a channel includes its
    sub-channels and their events)."""
    _feature(request)
    today = timezone.localdate()
    start = today.replace(month=1, day=1)
    roi = queries.marketing_roi(model="first", date_from=start, date_to=today)
    by_id = {r["channel_id"]: r for r in roi["channels"]}
    rows = [
        {
            "channel": row["channel"],
            "depth": row["depth"],
            "roi": by_id.get(row["channel"].pk),
        }
        for row in queries.channel_tree()
    ]
    return render(
        request,
        "crm/marketing_channel_list.html",
        {
            "rows": rows,
            "date_from": start,
            "date_to": today,
            "currency": roi["currency"],
        },
    )


@require_http_methods(["GET", "POST"])
@view_cost
def marketing_channel_detail(request, pk: int):
    """Cost lines booked on a channel itself; add one."""
    _feature(request)
    channel = _fetch(queries.channel_get, channel_id=pk)
    if request.method == "POST":
        _cost_post(request, channel_id=channel.pk)
        return redirect("marketing_channel_detail", pk=pk)
    page, query = _page(
        request, queries.marketing_cost_list(channel_id=channel.pk, channel_only=True)
    )
    return render(
        request,
        "crm/marketing_channel_detail.html",
        {
            "channel": channel,
            "page": page,
            "query": query,
            "cost_form": CostForm(
                initial={"date": timezone.localdate(), "currency": "IDR"}
            ),
            "can_add_cost": request.user.has_perm("crm.add_marketingcost"),
        },
    )


# ---------------------------------------------------------------- ROI


def _roi_chart(rows: list[dict], title_cost: str, title_revenue: str) -> dict:
    """ECharts option: cost and revenue bars per event or channel."""
    return {
        "color": ["#c0392b", "#2456d3"],
        "grid": {"left": 80, "right": 12, "top": 32, "bottom": 60},
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [title_cost, title_revenue]},
        "xAxis": {
            "type": "category",
            "data": [r["name"] for r in rows],
            "axisLabel": {"interval": 0, "rotate": 30},
        },
        "yAxis": {"type": "value"},
        "series": [
            {
                "name": title_cost,
                "type": "bar",
                "data": [str(r["cost"]) for r in rows],
                "barMaxWidth": 28,
            },
            {
                "name": title_revenue,
                "type": "bar",
                "data": [str(r["revenue"]) for r in rows],
                "barMaxWidth": 28,
            },
        ],
        "aria": {"enabled": True},
    }


@require_GET
@view_cost
def marketing_roi(request):
    """ROI per event and per channel (default: this year so far, first touch)."""
    _feature(request)
    today = timezone.localdate()
    start = today.replace(month=1, day=1)
    form = RoiForm(
        request.GET or None,
        initial={
            "model": "first",
            "date_from": start,
            "date_to": today,
            "currency": "IDR",
        },
    )
    params = {"model": "first", "date_from": start, "date_to": today, "currency": "IDR"}
    status = 200
    if request.GET:
        if form.is_valid():
            data = form.cleaned_data
            if data["date_from"] > data["date_to"]:
                form.add_error("date_to", _("The period ends before it starts."))
                status = 422
            else:
                params = {
                    "model": data.get("model") or "first",
                    "date_from": data["date_from"],
                    "date_to": data["date_to"],
                    "currency": (data.get("currency") or "IDR").upper(),
                }
        else:
            status = 422
    roi = queries.marketing_roi(**params)
    return render(
        request,
        "crm/marketing_roi.html",
        {
            "form": form,
            "roi": roi,
            "event_chart": _roi_chart(roi["events"], _("Cost"), _("Revenue")),
            "channel_chart": _roi_chart(
                [r for r in roi["channels"] if r["depth"] == 0], _("Cost"), _("Revenue")
            ),
        },
        status=status,
    )


# ---------------------------------------------------------------- deal lines


def _lines_as_dicts(lines) -> list[dict]:
    return [
        {
            "product_id": x.product_id,
            "description": x.description,
            "quantity": x.quantity,
            "unit": x.unit,
            "price": x.price,
            "dropped": x.dropped,
            "unmet_reason_id": x.unmet_reason_id,
            "unmet_note": x.unmet_note,
        }
        for x in lines
    ]


def _lines_panel(request, deal, form=None, status=200):
    return render(
        request,
        "crm/_deal_lines.html",
        {
            "deal": deal,
            "lines": queries.deal_lines(deal=deal),
            "line_form": form or DealLineForm(),
            "unmet_form": UnmetForm(),
            "can_change": request.user.has_perm("crm.change_deal"),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@permission_required("crm.view_deal", raise_exception=True)
def deal_lines(request, pk: int):
    """The deal's product lines panel (loaded into the deal page); POST adds
    a line."""
    _feature(request)
    deal = _fetch(queries.deal_get, actor=request.user, deal_id=pk)
    if request.method == "GET":
        return _lines_panel(request, deal)
    form = DealLineForm(request.POST)
    if not form.is_valid():
        return _lines_panel(request, deal, form, 422)
    data = form.cleaned_data
    lines = _lines_as_dicts(queries.deal_lines(deal=deal)) + [
        {
            "product_id": data["product"].pk if data.get("product") else None,
            "description": data.get("description") or "",
            "quantity": data["quantity"],
            "unit": data.get("unit") or "",
            "price": data.get("price"),
        }
    ]
    try:
        services.deal_lines_set(actor=request.user, deal_id=deal.pk, lines=lines)
    except DomainError as exc:
        _raise_http(exc)
        fields = {k.rsplit(".", 1)[-1]: v for k, v in exc.fields.items()}
        apply_domain_error(form, ValidationFailed(exc.message, fields=fields))
        return _lines_panel(request, deal, form, exc.http_status)
    if request.htmx:
        return _lines_panel(request, deal)
    return redirect("deal_detail", pk=pk)


@require_POST
@permission_required("crm.change_deal", raise_exception=True)
def deal_line_remove(request, pk: int, line_id: int):
    _feature(request)
    deal = _fetch(queries.deal_get, actor=request.user, deal_id=pk)
    lines = [x for x in queries.deal_lines(deal=deal) if x.pk != line_id]
    try:
        services.deal_lines_set(
            actor=request.user, deal_id=deal.pk, lines=_lines_as_dicts(lines)
        )
    except DomainError as exc:
        _flash_error(request, exc)
    if request.htmx:
        return _lines_panel(request, deal)
    return redirect("deal_detail", pk=pk)


@require_POST
@permission_required("crm.change_deal", raise_exception=True)
def deal_line_unmet(request, pk: int, line_id: int):
    _feature(request)
    form = UnmetForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("unmet_reason")
    try:
        services.deal_line_mark_unmet(
            actor=request.user,
            deal_id=pk,
            line_id=line_id,
            unmet_reason_id=reason.pk if reason else None,
            note=form.cleaned_data.get("note") or "",
        )
    except DomainError as exc:
        _flash_error(request, exc)
    deal = _fetch(queries.deal_get, actor=request.user, deal_id=pk)
    if request.htmx:
        return _lines_panel(request, deal)
    return redirect("deal_detail", pk=pk)
