"""Web screens of deals (kanban board, list, deal page) and interactions.

Views parse input with `crm.forms`, call `crm.services` / `queries` and
render. A DomainError's message is shown to the user; NotFound becomes a
404 and PermissionDenied a 403. The kanban's drag posts to `deal_move`
with htmx: a refused move answers the error status with a
`[data-error-message]` fragment, which the shared toast shows.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from satu.core import attachments, audit
from satu.core.errors import DomainError
from satu.core.web import fetch as _fetch
from satu.core.web import raise_http as _raise_http
from satu.core.web import require_feature
from satu.core.web import require_perm as _require_perm
from satu.crm import queries, services
from satu.crm.forms import (
    DealFilterForm,
    DealForm,
    InteractionForm,
    LoseForm,
    MoveForm,
    apply_domain_error,
)
from satu.crm.models import Deal, DealKind, Interaction
from satu.parties import queries as parties_queries

PAGE_SIZE = 50
view_deal = permission_required("crm.view_deal", raise_exception=True)
view_interaction = permission_required("crm.view_interaction", raise_exception=True)


def _feature(request) -> None:
    require_feature(request, "crm")


def _flash_error(request, exc: DomainError) -> None:
    _raise_http(exc)
    messages.error(request, str(exc.message))
    for field_messages in exc.fields.values():
        for message in field_messages:
            if message not in str(exc.message):
                messages.error(request, message)


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- deals


@require_GET
@view_deal
def deal_board(request):
    """Kanban of one deal kind: a column per stage, the deals in work."""
    _feature(request)
    kinds = [k for k in queries.deal_kinds() if k.has_stages]
    wanted = _as_int(request.GET.get("kind"))
    kind = next((k for k in kinds if k.pk == wanted), kinds[0] if kinds else None)
    owner_id = _as_int(request.GET.get("owner"))
    search = request.GET.get("q", "")[:200]
    columns = (
        queries.deal_board(
            actor=request.user, kind=kind, owner_id=owner_id, search=search
        )
        if kind
        else []
    )
    context = {
        "kinds": kinds,
        "kind": kind,
        "columns": columns,
        "search": search,
        "process_driven": kind is not None
        and kind.control_mode == DealKind.ControlMode.PROCESS,
        "can_move": request.user.has_perm("crm.change_deal"),
    }
    return render(request, "crm/deal_board.html", context)


@require_GET
@view_deal
def deal_list(request):
    _feature(request)
    form = DealFilterForm(request.GET or None)
    filters = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "search": data.get("q") or "",
            "kind_id": data["kind"].pk if data.get("kind") else None,
            "status": data.get("status") or "",
            "owner_id": data["owner"].pk if data.get("owner") else None,
        }
    qs = queries.deal_list(actor=request.user, **filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "crm/deal_list.html",
        {"form": form, "page": page, "query": params.urlencode()},
    )


@require_http_methods(["GET", "POST"])
@view_deal
def deal_create(request):
    _feature(request)
    _require_perm(request, "crm.add_deal")
    client_id = request.POST.get("client") or request.GET.get("client")
    client = _fetch(parties_queries.client_get, actor=request.user, client_id=client_id)
    form = DealForm(
        request.POST or None, client=client, initial={"owner": request.user.pk}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                deal = services.deal_create(
                    actor=request.user, client_id=client.pk, **form.service_kwargs()
                )
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
            else:
                messages.success(
                    request, _("Deal “%(title)s” opened.") % {"title": deal}
                )
                return redirect("deal_detail", pk=deal.pk)
        else:
            status = 422
    return render(
        request,
        "crm/deal_form.html",
        {"form": form, "client": client, "deal": None},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@view_deal
def deal_edit(request, pk: int):
    _feature(request)
    _require_perm(request, "crm.change_deal")
    deal = _fetch(queries.deal_get, actor=request.user, deal_id=pk)
    form = DealForm(request.POST or None, client=deal.client, deal=deal)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.deal_update(
                    actor=request.user,
                    deal_id=deal.pk,
                    version=form.cleaned_data.get("version"),
                    **form.service_kwargs(),
                )
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
            else:
                messages.success(request, _("Deal saved."))
                return redirect("deal_detail", pk=deal.pk)
        else:
            status = 422
    return render(
        request,
        "crm/deal_form.html",
        {"form": form, "client": deal.client, "deal": deal},
        status=status,
    )


@require_GET
@view_deal
def deal_detail(request, pk: int):
    _feature(request)
    deal = _fetch(queries.deal_get, actor=request.user, deal_id=pk)
    stages = queries.stages_of(deal.kind) if deal.kind.has_stages else []
    later = [s for s in stages if deal.stage and s.position > deal.stage.position]
    context = {
        "deal": deal,
        "stages": stages,
        "history": queries.deal_stage_history(deal=deal),
        "thread": queries.interaction_thread(
            actor=request.user, subject_type=queries.SUBJECT_DEAL, subject_id=deal.pk
        ),
        "probability": queries.deal_probability_computed(deal),
        "unmet": queries.unmet_rules(deal, [deal.stage])
        if deal.stage and later
        else [],
        "next_stage": later[0] if later else None,
        "lose_form": LoseForm(),
        "approvals": queries.approvals_open(deal=deal, actor=request.user),
        "files": attachments.attachments_for(deal),
        "audit_entries": list(audit.entries_for(deal)[:20]),
        "can_change": request.user.has_perm("crm.change_deal"),
        "can_override": request.user.has_perm("crm.override_stage_rules"),
        "in_work": deal.status == Deal.Status.IN_WORK,
        "process_driven": deal.kind.control_mode == DealKind.ControlMode.PROCESS,
    }
    return render(request, "crm/deal_detail.html", context)


@require_POST
@view_deal
def deal_move(request, pk: int):
    """Move a deal; htmx (the kanban) gets 204, or the error status with
    a message fragment for the toast."""
    _feature(request)
    form = MoveForm(request.POST)
    htmx = getattr(request, "htmx", None)
    try:
        if not form.is_valid():
            from satu.core.errors import ValidationFailed

            raise ValidationFailed(fields={"stage_id": [_("Choose a stage.")]})
        services.deal_move(
            actor=request.user,
            deal_id=pk,
            stage_id=form.cleaned_data["stage"],
            override_reason=form.cleaned_data.get("override_reason") or "",
        )
    except DomainError as exc:
        if htmx:
            return HttpResponse(
                format_html("<div data-error-message>{}</div>", exc.message),
                status=exc.http_status,
            )
        _flash_error(request, exc)
        return redirect("deal_detail", pk=pk)
    if htmx:
        return HttpResponse(status=204)
    messages.success(request, _("Deal moved."))
    return redirect("deal_detail", pk=pk)


@require_POST
@view_deal
def deal_attachment_add(request, pk: int):
    """Attach a file (quote, contract) to the deal; stage rules may ask for one."""
    _feature(request)
    uploaded = request.FILES.get("file")
    if uploaded is None:
        messages.error(request, _("Choose a file."))
        return redirect("deal_detail", pk=pk)
    try:
        attachments.attachment_add(
            actor=request.user, object_type="crm.deal", object_id=pk, uploaded=uploaded
        )
    except DomainError as exc:
        _flash_error(request, exc)
    else:
        messages.success(
            request, _("File “%(name)s” attached.") % {"name": uploaded.name}
        )
    return redirect("deal_detail", pk=pk)


@require_POST
@view_deal
def deal_approve(request, pk: int, rule_id: int):
    _feature(request)
    try:
        services.deal_approve(actor=request.user, deal_id=pk, rule_id=rule_id)
    except DomainError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Approved."))
    return redirect("deal_detail", pk=pk)


@require_POST
@view_deal
def deal_win(request, pk: int):
    _feature(request)
    try:
        services.deal_win(
            actor=request.user,
            deal_id=pk,
            override_reason=request.POST.get("override_reason", "")[:2000],
        )
    except DomainError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Deal won."))
    return redirect("deal_detail", pk=pk)


@require_POST
@view_deal
def deal_lose(request, pk: int):
    _feature(request)
    form = LoseForm(request.POST)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    try:
        services.deal_lose(
            actor=request.user,
            deal_id=pk,
            loss_reason_id=data["loss_reason"].pk if data.get("loss_reason") else None,
            competitor_id=data["competitor"].pk if data.get("competitor") else None,
            note=data.get("note") or "",
        )
    except DomainError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Deal closed as lost."))
    return redirect("deal_detail", pk=pk)


@require_POST
@view_deal
def deal_reopen(request, pk: int):
    _feature(request)
    try:
        services.deal_reopen(actor=request.user, deal_id=pk)
    except DomainError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Deal reopened."))
    return redirect("deal_detail", pk=pk)


# ---------------------------------------------------------------- interactions


@require_GET
@view_interaction
def interaction_list(request):
    _feature(request)
    qs = queries.interaction_list(
        actor=request.user,
        state=request.GET.get("state", "")
        if request.GET.get("state") in Interaction.State.values
        else "",
        search=request.GET.get("q", "")[:200],
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "crm/interaction_list.html",
        {"page": page, "query": params.urlencode(), "states": Interaction.State},
    )


@require_http_methods(["GET", "POST"])
@view_interaction
def interaction_create(request):
    """New interaction with a client (`?client=`) or from a document
    (`?from_type=crm.deal&from_id=`), inheriting its client and thread."""
    _feature(request)
    _require_perm(request, "crm.add_interaction")
    source = request.POST if request.method == "POST" else request.GET
    from_type = source.get("from_type", "")
    from_id = _as_int(source.get("from_id"))
    source_deal = source_interaction = None
    if from_type == queries.SUBJECT_DEAL:
        source_deal = _fetch(queries.deal_get, actor=request.user, deal_id=from_id)
        client = source_deal.client
    elif from_type == queries.SUBJECT_INTERACTION:
        source_interaction = _fetch(
            queries.interaction_get, actor=request.user, interaction_id=from_id
        )
        client = source_interaction.client
    else:
        from_type = ""
        client = _fetch(
            parties_queries.client_get,
            actor=request.user,
            client_id=source.get("client"),
        )
    form = InteractionForm(
        request.POST or None,
        client=client,
        initial={"kind": source.get("kind") or Interaction.Kind.CALL},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            kwargs = form.service_kwargs()
            if from_type:
                kwargs.update(from_type=from_type, from_id=from_id)
            else:
                kwargs["client_id"] = client.pk
            try:
                interaction = services.interaction_create(actor=request.user, **kwargs)
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
            else:
                messages.success(request, _("Interaction recorded."))
                if source_deal is not None:
                    return redirect("deal_detail", pk=source_deal.pk)
                return redirect("interaction_detail", pk=interaction.pk)
        else:
            status = 422
    context = {
        "form": form,
        "client": client,
        "from_type": from_type,
        "from_id": from_id,
        "source_deal": source_deal,
        "source_interaction": source_interaction,
    }
    return render(request, "crm/interaction_form.html", context, status=status)


@require_GET
@view_interaction
def interaction_detail(request, pk: int):
    _feature(request)
    interaction = _fetch(queries.interaction_get, actor=request.user, interaction_id=pk)
    if interaction.subject_type:
        subject = (interaction.subject_type, interaction.subject_id)
    else:
        subject = (queries.SUBJECT_INTERACTION, interaction.pk)
    deal = None
    if subject[0] == queries.SUBJECT_DEAL:
        deal = queries.deal_list(actor=request.user).filter(pk=subject[1]).first()
    context = {
        "interaction": interaction,
        "thread": queries.interaction_thread(
            actor=request.user, subject_type=subject[0], subject_id=subject[1]
        ),
        "deal": deal,
        "can_change": request.user.has_perm("crm.change_interaction"),
        "files": attachments.attachments_for(interaction),
    }
    return render(request, "crm/interaction_detail.html", context)


@require_POST
@view_interaction
def interaction_close(request, pk: int, action: str):
    _feature(request)
    try:
        if action == "complete":
            services.interaction_complete(
                actor=request.user,
                interaction_id=pk,
                result=request.POST.get("result") or None,
            )
        else:
            services.interaction_cancel(actor=request.user, interaction_id=pk)
    except DomainError as exc:
        _flash_error(request, exc)
    return redirect("interaction_detail", pk=pk)
