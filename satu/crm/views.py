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
from satu.core.errors import DomainError, ValidationFailed
from satu.core.web import fetch as _fetch
from satu.core.web import raise_http as _raise_http
from satu.core.web import require_feature
from satu.core.web import require_perm as _require_perm
from satu.crm import queries, services
from satu.crm.errors import DealClosed
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
from satu.parties.segments import segment_filter

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
    segment = segment_filter(request, actor=request.user)
    qs = queries.deal_list(
        actor=request.user, segment_id=segment.pk if segment else None, **filters
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "crm/deal_list.html",
        {"form": form, "page": page, "query": params.urlencode(), "segment": segment},
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
    return render(request, "crm/deal_detail.html", _deal_context(request, deal))


def _deal_context(request, deal, lose_form: LoseForm | None = None) -> dict:
    """The deal page; `lose_form` a bound, refused "lose" form to show."""
    can_change = request.user.has_perm("crm.change_deal")
    in_work = deal.status == Deal.Status.IN_WORK
    if lose_form is None:
        lines = queries.deal_lines(deal=deal) if in_work and can_change else ()
        lose_form = LoseForm(lines=lines)
    stages = queries.stages_of(deal.kind) if deal.kind.has_stages else []
    later = [s for s in stages if deal.stage and s.position > deal.stage.position]
    return {
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
        "lose_form": lose_form,
        "approvals": queries.approvals_open(deal=deal, actor=request.user),
        "files": attachments.attachments_for(deal),
        "audit_entries": list(audit.entries_for(deal)[:20]),
        "can_change": can_change,
        "can_override": request.user.has_perm("crm.override_stage_rules"),
        "in_work": in_work,
        "process_driven": deal.kind.control_mode == DealKind.ControlMode.PROCESS,
        "deal_sections": queries.deal_sections(actor=request.user, deal=deal),
    }


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
    """Close a deal as lost: loss reason, competitor, note and, per product
    line, why its demand was not met (`deal_lose(unmet_lines=...)`). Refused
    input re-renders the deal page (422) with the service's messages on the
    form; nothing changes."""
    _feature(request)
    _require_perm(request, "crm.change_deal")
    deal = _fetch(queries.deal_get, actor=request.user, deal_id=pk)
    if deal.status != Deal.Status.IN_WORK:
        _flash_error(request, DealClosed())
        return redirect("deal_detail", pk=pk)
    form = LoseForm(request.POST, lines=queries.deal_lines(deal=deal))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.deal_lose(
                actor=request.user,
                deal_id=pk,
                loss_reason_id=_pk(data.get("loss_reason")),
                competitor_id=_pk(data.get("competitor")),
                note=data.get("note") or "",
                unmet_lines=form.unmet_lines(),
            )
        except ValidationFailed as exc:
            form.apply_service_error(exc)
        except DomainError as exc:
            _flash_error(request, exc)
            return redirect("deal_detail", pk=pk)
        else:
            messages.success(request, _("Deal closed as lost."))
            return redirect("deal_detail", pk=pk)
    return render(
        request,
        "crm/deal_detail.html",
        _deal_context(request, deal, lose_form=form),
        status=422,
    )


def _pk(obj) -> int | None:
    return obj.pk if obj is not None else None


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
    segment = segment_filter(request, actor=request.user)
    qs = queries.interaction_list(
        actor=request.user,
        state=request.GET.get("state", "")
        if request.GET.get("state") in Interaction.State.values
        else "",
        search=request.GET.get("q", "")[:200],
        segment_id=segment.pk if segment else None,
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "crm/interaction_list.html",
        {
            "page": page,
            "query": params.urlencode(),
            "states": Interaction.State,
            "segment": segment,
        },
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


# ---------------------------------------------------------------- tasks (CRM-5)

from datetime import date as _date  # noqa: E402
from datetime import timedelta as _timedelta  # noqa: E402

from django.http import Http404  # noqa: E402
from django.utils import timezone as _tz  # noqa: E402

from satu.core import features as _features  # noqa: E402
from satu.crm import ical  # noqa: E402
from satu.crm.forms import TaskForm, apply_task_error  # noqa: E402
from satu.crm.models import Task  # noqa: E402

view_task = permission_required("crm.view_task", raise_exception=True)


@require_GET
@view_task
def task_list(request):
    """The "My tasks" page: overdue / today / upcoming, reminders, calendar links."""
    _feature(request)
    segment = segment_filter(request, actor=request.user)
    context = {
        "segment": segment,
        "sections": queries.my_tasks(
            actor=request.user, segment_id=segment.pk if segment else None
        ),
        "notifications": queries.notifications(actor=request.user),
        "feeds": queries.calendar_feeds(actor=request.user),
        "can_add": request.user.has_perm("crm.add_task"),
    }
    return render(request, "crm/task_list.html", context)


def _task_form_page(request, form, task=None, status=200, client=None, deal=None):
    context = {"form": form, "task": task, "client": client, "deal": deal}
    return render(request, "crm/task_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@view_task
def task_create(request):
    """New task, optionally about a client (`?client=`) or a deal (`?deal=`)."""
    _feature(request)
    _require_perm(request, "crm.add_task")
    source = request.POST if request.method == "POST" else request.GET
    client = deal = None
    if source.get("deal"):
        deal = _fetch(queries.deal_get, actor=request.user, deal_id=source["deal"])
        client = deal.client
    elif source.get("client"):
        client = _fetch(
            parties_queries.client_get, actor=request.user, client_id=source["client"]
        )
    form = TaskForm(
        request.POST or None,
        initial={
            "responsible": request.user.pk,
            "client": client.pk if client else None,
            "deal": deal.pk if deal else None,
        },
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                task = services.task_create(actor=request.user, **form.service_kwargs())
            except DomainError as exc:
                _raise_http(exc)
                apply_task_error(form, exc)
                status = exc.http_status
            else:
                messages.success(request, _("Task created."))
                return redirect("task_detail", pk=task.pk)
        else:
            status = 422
    return _task_form_page(request, form, status=status, client=client, deal=deal)


@require_GET
@view_task
def task_detail(request, pk: int):
    _feature(request)
    task = _fetch(queries.task_get, actor=request.user, task_id=pk)
    context = {
        "task": task,
        "can_change": request.user.has_perm("crm.change_task")
        and task.state == Task.State.OPEN,
        "history": audit.entries_for(task),
    }
    return render(request, "crm/task_detail.html", context)


@require_http_methods(["GET", "POST"])
@view_task
def task_edit(request, pk: int):
    _feature(request)
    _require_perm(request, "crm.change_task")
    task = _fetch(queries.task_get, actor=request.user, task_id=pk)
    initial = {
        "title": task.title,
        "description": task.description,
        "responsible": task.responsible_id,
        "due_at": _tz.localtime(task.due_at),
        "remind_at": _tz.localtime(task.remind_at) if task.remind_at else None,
        "client": task.client_id,
        "deal": task.deal_id,
    }
    form = TaskForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            changes = form.service_kwargs()
            # Client and deal are fixed on this screen; unchanged values are
            # left out so the service does not re-check them.
            for key in ("client_id", "deal_id"):
                if changes[key] == getattr(task, key):
                    changes.pop(key)
            try:
                services.task_update(
                    actor=request.user,
                    task_id=pk,
                    version=_as_int(request.POST.get("version")),
                    **changes,
                )
            except DomainError as exc:
                _raise_http(exc)
                apply_task_error(form, exc)
                status = exc.http_status
            else:
                messages.success(request, _("Task saved."))
                return redirect("task_detail", pk=pk)
        else:
            status = 422
    return _task_form_page(
        request, form, task=task, status=status, client=task.client, deal=task.deal
    )


@require_POST
@view_task
def task_close(request, pk: int, action: str):
    _feature(request)
    try:
        if action == "complete":
            services.task_complete(actor=request.user, task_id=pk)
        else:
            services.task_cancel(actor=request.user, task_id=pk)
    except DomainError as exc:
        _flash_error(request, exc)
    if request.POST.get("next") == "list":
        return redirect("task_list")
    return redirect("task_detail", pk=pk)


def _week_start(value: str) -> _date:
    """Monday of an ISO week "YYYY-Www"; this week for a missing/bad value."""
    try:
        year, week = value.split("-W")
        return _date.fromisocalendar(int(year), int(week), 1)
    except (AttributeError, ValueError):
        today = _tz.localdate()
        return today - _timedelta(days=today.weekday())


def _iso_week(day: _date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


@require_GET
@view_task
def task_calendar(request):
    """The actor's week: tasks and planned interactions per day
    (`?view=day&date=YYYY-MM-DD`: one day, hour by hour)."""
    _feature(request)
    if request.GET.get("view") == "day":
        from satu.crm.views_calendar import calendar_day

        return calendar_day(request)
    monday = _week_start(request.GET.get("week", ""))
    context = {
        "days": queries.calendar_week(actor=request.user, monday=monday),
        "week": _iso_week(monday),
        "previous_week": _iso_week(monday - _timedelta(days=7)),
        "next_week": _iso_week(monday + _timedelta(days=7)),
        "today": _tz.localdate(),
    }
    return render(request, "crm/calendar_week.html", context)


@require_POST
@view_task
def calendar_feed_create(request):
    _feature(request)
    services.calendar_feed_create(actor=request.user)
    messages.success(request, _("Calendar link created."))
    return redirect("task_list")


@require_POST
@view_task
def calendar_feed_revoke(request, feed_id: int):
    _feature(request)
    try:
        services.calendar_feed_revoke(actor=request.user, feed_id=feed_id)
    except DomainError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Calendar link revoked."))
    return redirect("task_list")


@require_GET
def calendar_feed(request, token: str):
    """Public iCalendar feed; the secret token in the URL is the credential."""
    if not _features.is_enabled("crm"):
        raise Http404()
    feed = _fetch(queries.calendar_feed_by_token, token=token)
    tasks, planned = queries.calendar_feed_items(user=feed.user)
    body = ical.render(
        user=feed.user,
        tasks=tasks,
        interactions=planned,
        base=request.build_absolute_uri("/"),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


# ---------------------------------------------------------------- claims (CRM-7)

from django.utils import timezone  # noqa: E402

from satu.crm.forms import (  # noqa: E402
    ClaimFilterForm,
    ClaimForm,
    ClaimStatsForm,
    ClaimTransitionForm,
)
from satu.crm.models import Claim  # noqa: E402

view_claim = permission_required("crm.view_claim", raise_exception=True)


@require_GET
@view_claim
def claim_list(request):
    """Claims with filters; open claims past their deadline carry a badge."""
    _feature(request)
    form = ClaimFilterForm(request.GET or None)
    filters = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "search": data.get("q") or "",
            "state": data.get("state") or "",
            "category_id": data["category"].pk if data.get("category") else None,
            "responsible_id": (
                data["responsible"].pk if data.get("responsible") else None
            ),
            "overdue": True if data.get("overdue") else None,
        }
    segment = segment_filter(request, actor=request.user)
    qs = queries.claim_list(
        actor=request.user, segment_id=segment.pk if segment else None, **filters
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "crm/claim_list.html",
        {"form": form, "page": page, "query": params.urlencode(), "segment": segment},
    )


@require_http_methods(["GET", "POST"])
@view_claim
def claim_create(request):
    """Register a claim for a client (?client=) or from a deal (?deal=)."""
    _feature(request)
    _require_perm(request, "crm.add_claim")
    deal = None
    deal_id = request.POST.get("from_deal") or request.GET.get("deal")
    if deal_id:
        deal = _fetch(queries.deal_get, actor=request.user, deal_id=deal_id)
        client = deal.client
    else:
        client_id = request.POST.get("client") or request.GET.get("client")
        client = _fetch(
            parties_queries.client_get, actor=request.user, client_id=client_id
        )
    initial = {"responsible": request.user.pk}
    if deal is not None:
        initial["deal"] = deal.pk
    form = ClaimForm(
        request.POST or None, actor=request.user, client=client, initial=initial
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                claim = services.claim_create(
                    actor=request.user, client_id=client.pk, **form.service_kwargs()
                )
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
            else:
                messages.success(
                    request, _("Claim %(number)s registered.") % {"number": claim}
                )
                return redirect("claim_detail", pk=claim.pk)
        else:
            status = 422
    return render(
        request,
        "crm/claim_form.html",
        {"form": form, "client": client, "deal": deal},
        status=status,
    )


@require_GET
@view_claim
def claim_detail(request, pk: int):
    _feature(request)
    claim = _fetch(queries.claim_get, actor=request.user, claim_id=pk)
    allowed = [
        Claim.State(s) for s in services.CLAIM_TRANSITIONS[Claim.State(claim.state)]
    ]
    context = {
        "claim": claim,
        "allowed": allowed,
        "transition_form": ClaimTransitionForm(),
        "audit_entries": list(audit.entries_for(claim)[:20]),
        "can_change": request.user.has_perm("crm.change_claim"),
    }
    return render(request, "crm/claim_detail.html", context)


@require_POST
@view_claim
def claim_transition(request, pk: int):
    _feature(request)
    form = ClaimTransitionForm(request.POST)
    try:
        if not form.is_valid():
            from satu.core.errors import ValidationFailed

            raise ValidationFailed(fields={"state": [_("Choose a state.")]})
        services.claim_transition(
            actor=request.user,
            claim_id=pk,
            state=form.cleaned_data["state"],
            decision=form.cleaned_data.get("decision") or "",
            outcome=form.cleaned_data.get("outcome") or "",
        )
    except DomainError as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Claim updated."))
    return redirect("claim_detail", pk=pk)


def _stats_chart(labels: list[str], values: list[int]) -> dict:
    """ECharts option: claims per category."""
    return {
        "color": ["#2456d3"],
        "grid": {"left": 36, "right": 12, "top": 24, "bottom": 28},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {
                "name": _("Claims"),
                "type": "bar",
                "data": values,
                "barMaxWidth": 28,
            }
        ],
        "aria": {"enabled": True},
    }


@require_GET
@view_claim
def claim_stats(request):
    """Claims registered in a period (default: this year so far)."""
    _feature(request)
    today = timezone.localdate()
    form = ClaimStatsForm(
        request.GET or None,
        initial={"date_from": today.replace(month=1, day=1), "date_to": today},
    )
    date_from, date_to = today.replace(month=1, day=1), today
    if form.is_valid():
        picked = form.cleaned_data
        if picked["date_from"] <= picked["date_to"]:
            date_from, date_to = picked["date_from"], picked["date_to"]
    stats = queries.claim_stats(
        actor=request.user, date_from=date_from, date_to=date_to
    )
    decisions = dict(Claim.Decision.choices)
    states = dict(Claim.State.choices)
    for row in stats["by_decision"]:
        row["label"] = decisions.get(row["decision"], "—")
    for row in stats["by_state"]:
        row["label"] = states.get(row["state"], row["state"])
    context = {
        "form": form,
        "stats": stats,
        "date_from": date_from,
        "date_to": date_to,
        "chart": _stats_chart(
            [r["category__name"] for r in stats["by_category"]],
            [r["count"] for r in stats["by_category"]],
        ),
    }
    return render(request, "crm/claim_stats.html", context)
