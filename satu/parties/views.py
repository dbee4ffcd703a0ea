"""Web screens of clients, counterparties and contact persons.

Views parse input with `parties.forms`, call `parties.services` / `queries`
and the core services, and render. A DomainError's message is shown to the
user and its fields land on the form fields; NotFound becomes a 404 and
PermissionDenied a 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from satu.core import attachments, audit, custom_fields, features
from satu.core.errors import DomainError
from satu.core.identifiers import format_phone, format_tax_id
from satu.core.web import fetch as _fetch
from satu.core.web import raise_http as _raise_http
from satu.core.web import require_feature as _require_feature
from satu.core.web import require_perm as _require_perm
from satu.parties import queries, services
from satu.parties.errors import PossibleDuplicate
from satu.parties.forms import (
    AttachmentForm,
    BankAccountForm,
    ClientFilterForm,
    ClientForm,
    ContactForm,
    ContactLinkForm,
    CounterpartyForm,
    CounterpartyLinkForm,
    LinkEndForm,
    MergeForm,
    SearchForm,
    apply_domain_error,
    error_messages,
)
from satu.parties.segments import segment_filter

PAGE_SIZE = 50
TIMELINE_PAGE = 20
AUDIT_LIMIT = 30
PICKER_LIMIT = 20

view_client = permission_required("parties.view_client", raise_exception=True)
view_contact = permission_required("parties.view_contact", raise_exception=True)
view_counterparty = permission_required(
    "parties.view_counterparty", raise_exception=True
)


# ---------------------------------------------------------------- helpers


def _enabled(request, code: str) -> bool:
    enabled = getattr(request, "features", None) or features.enabled_map()
    return enabled.get(code, True)


def _card_url(client_id: int, section: str) -> str:
    return reverse("client_detail", args=[client_id]) + f"#{section}"


def _phone(e164: str) -> str:
    return format_phone(e164) if e164 else ""


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _partial(
    request, template: str, name: str, context: dict, *, target: str, status: int = 200
):
    """The partial `name` when htmx asks to fill #`target`, else the page."""
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.target == target and not htmx.history_restore_request:
        template = f"{template}#{name}"
    params = request.GET.copy()
    params.pop("page", None)
    context.setdefault("query", params.urlencode())
    response = render(request, template, context, status=status)
    # The same URL answers a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _page(request, queryset, size: int = PAGE_SIZE):
    page = Paginator(queryset, size).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    return page


def _custom_display(object_type: str, stored: dict) -> list[tuple[str, str]]:
    return [
        (d.label, custom_fields.display_value(d, stored[d.code]))
        for d in custom_fields.definitions(object_type)
        if stored.get(d.code) is not None
    ]


def _kind_label(kind: str):
    return queries.timeline_kind_label(kind)


def _shown(value):
    if value == "" or value == []:
        return None
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def _change_rows(model, definitions: dict, changes: dict) -> list[tuple]:
    """(label, old, new) per changed field; custom values one row per field."""
    rows = []
    for key, pair in changes.items():
        old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
        dicts = isinstance(old or {}, dict) and isinstance(new or {}, dict)
        if key == "custom" and dicts:
            old, new = old or {}, new or {}
            for code in sorted(set(old) | set(new)):
                if old.get(code) == new.get(code):
                    continue
                definition = definitions.get(code)
                if definition is None:
                    rows.append((code, old.get(code), new.get(code)))
                    continue
                rows.append(
                    (
                        definition.label,
                        custom_fields.display_value(definition, old.get(code)) or None,
                        custom_fields.display_value(definition, new.get(code)) or None,
                    )
                )
            continue
        name = key.removesuffix("_id")
        try:
            field = model._meta.get_field(name)
        except Exception:  # noqa: BLE001 - not a model field: show the key
            rows.append((key.replace("_", " ").capitalize(), _shown(old), _shown(new)))
            continue
        if field.choices:
            labels = dict(field.flatchoices)
            old, new = labels.get(old, old), labels.get(new, new)
        rows.append((str(field.verbose_name).capitalize(), _shown(old), _shown(new)))
    return rows


def _audit_entries(subject, object_type: str) -> list:
    definitions = {d.code: d for d in custom_fields.definitions(object_type)}
    entries = list(audit.entries_for(subject)[:AUDIT_LIMIT])
    for entry in entries:
        entry.action_label = audit.action_label(entry.action)
        entry.change_rows = _change_rows(
            type(subject), definitions, entry.changes or {}
        )
    return entries


def _add_tax_id_display(counterparty) -> None:
    counterparty.tax_id_display = (
        format_tax_id(counterparty.tax_id, counterparty.country)
        if counterparty.tax_id
        else ""
    )


def _add_phone_display(contacts) -> None:
    for contact in contacts:
        methods = list(contact.methods.all())
        contact.phone_list = [
            format_phone(m.value) for m in methods if m.kind == "phone"
        ]
        contact.email_list = [m.value for m in methods if m.kind == "email"]


# ---------------------------------------------------------------- clients


@require_GET
@view_client
def client_list(request):
    form = ClientFilterForm(request.GET, actor=request.user)
    page, status = None, 200
    if form.is_valid():
        try:
            clients = queries.client_list(actor=request.user, **form.query_kwargs())
        except DomainError as exc:
            apply_domain_error(form, exc)
            status = exc.http_status
        else:
            page = _page(request, clients.prefetch_related("groups"))
            for client in page.object_list:
                client.phone_display = _phone(client.phone)
    else:
        status = 422
    filtered = any(form.data.get(k) for k in form.fields if k != "q")
    context = {"form": form, "page": page, "filtered": filtered}
    return _partial(
        request,
        "parties/client_list.html",
        "results",
        context,
        target="client-results",
        status=status,
    )


@require_http_methods(["GET", "POST"])
@view_client
def client_create(request):
    _require_perm(request, "parties.add_client")
    form = ClientForm(request.POST or None, actor=request.user)
    duplicates, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            try:
                client = services.client_create(
                    actor=request.user,
                    allow_duplicate=form.cleaned_data.get("allow_duplicate", False),
                    **form.service_kwargs(),
                )
            except PossibleDuplicate as exc:
                duplicates = exc.context.get("candidates", [])
                status = exc.http_status
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
            else:
                messages.success(
                    request, _("Client “%(name)s” created.") % {"name": client}
                )
                return redirect("client_detail", pk=client.pk)
        else:
            status = 422
    context = {"form": form, "duplicates": duplicates, "client": None}
    return render(request, "parties/client_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@view_client
def client_edit(request, pk: int):
    client = _fetch(queries.client_get, actor=request.user, client_id=pk)
    _require_perm(request, "parties.change_client")
    form = ClientForm(request.POST or None, actor=request.user, client=client)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.client_update(
                    actor=request.user,
                    client_id=client.pk,
                    version=form.cleaned_data.get("version"),
                    **form.service_kwargs(),
                )
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
            else:
                messages.success(request, _("Changes saved."))
                return redirect("client_detail", pk=client.pk)
        else:
            status = 422
    context = {"form": form, "client": client}
    return render(request, "parties/client_form.html", context, status=status)


def _timeline_context(client, request) -> dict:
    kinds = [k for k in request.GET.getlist("kind") if k]
    before = _as_int(request.GET.get("before"))
    entries, next_before = queries.timeline_page(
        client=client, kinds=kinds or None, before_id=before, limit=TIMELINE_PAGE
    )
    for entry in entries:
        entry.kind_label = _kind_label(entry.kind)
    return {
        "timeline": entries,
        "timeline_next": next_before,
        "timeline_kinds": kinds,
        "timeline_paged": before is not None,
    }


def _client_card_context(request, client, **extra) -> dict:
    user = request.user
    today = timezone.localdate()
    on = {
        code: _enabled(request, code)
        for code in ("contacts", "counterparties", "attachments")
    }
    context = {
        "client": client,
        "custom_values": _custom_display("parties.client", client.custom),
        "features_on": on,
        "can_edit": user.has_perm("parties.change_client") and not client.is_archived,
        "can_archive": user.has_perm("parties.change_client")
        and client.merged_into_id is None,
        "can_merge": user.has_perm("parties.merge_clients") and not client.is_archived,
        "can_add_contact": user.has_perm("parties.add_contact")
        and user.has_perm("parties.change_client"),
        "can_add_counterparty": user.has_perm("parties.add_counterparty")
        and user.has_perm("parties.change_client"),
        "client_phone": _phone(client.phone),
        "audit_entries": _audit_entries(client, "parties.client"),
        "all_kinds": [
            (kind, _kind_label(kind)) for kind in queries.timeline_kinds(client=client)
        ],
        "today": today,
    }
    context.update(_timeline_context(client, request))
    sections = queries.card_sections(actor=user, client=client)
    context["card_side"] = [s for s in sections if s.place == "side"]
    context["card_main"] = [s for s in sections if s.place != "side"]
    context["card_headers"] = [s.header for s in sections if s.header]
    if on["contacts"]:
        roles = queries.client_contacts(client=client)
        _add_phone_display(role.contact for role in roles)
        context["contact_roles"] = roles
    if on["counterparties"]:
        links = queries.client_counterparty_links(client=client)
        for link in links:
            link.is_current = link.is_valid_on(today)
            link.tax_id_display = format_tax_id(
                link.counterparty.tax_id, link.counterparty.country
            )
        context["counterparty_links"] = links
    if on["attachments"]:
        context["attachments"] = attachments.attachments_for(client)
        context.setdefault("attachment_form", AttachmentForm())
    context.update(extra)
    return context


@require_GET
@view_client
def client_detail(request, pk: int):
    client = _fetch(queries.client_get, actor=request.user, client_id=pk)
    return render(
        request, "parties/client_detail.html", _client_card_context(request, client)
    )


@require_GET
@view_client
def client_timeline(request, pk: int):
    """Timeline fragment: a kind filter (whole list) or the next page (items)."""
    client = _fetch(queries.client_get, actor=request.user, client_id=pk)
    if not getattr(request, "htmx", False):
        query = request.GET.urlencode()
        url = reverse("client_detail", args=[client.pk])
        return redirect(f"{url}{'?' + query if query else ''}#timeline")
    context = {"client": client, **_timeline_context(client, request)}
    context["all_kinds"] = [
        (kind, _kind_label(kind)) for kind in queries.timeline_kinds(client=client)
    ]
    name = "timeline_items" if context["timeline_paged"] else "timeline"
    response = render(request, f"parties/client_detail.html#{name}", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
@view_client
def client_archive(request, pk: int):
    client = _fetch(queries.client_get, actor=request.user, client_id=pk)
    archived = request.POST.get("archived") == "1"
    try:
        services.client_archive(
            actor=request.user, client_id=client.pk, archived=archived
        )
    except DomainError as exc:
        _raise_http(exc)
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Client archived.") if archived else _("Client restored.")
        )
    return redirect("client_detail", pk=client.pk)


@require_POST
@view_client
def client_attachment_add(request, pk: int):
    _require_feature(request, "attachments")
    client = _fetch(queries.client_get, actor=request.user, client_id=pk)
    _require_perm(request, "parties.change_client")
    form = AttachmentForm(request.POST, request.FILES)
    status = 422
    if form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            attachments.attachment_add(
                actor=request.user,
                object_type="parties.client",
                object_id=client.pk,
                uploaded=uploaded,
            )
        except DomainError as exc:
            _raise_http(exc)
            apply_domain_error(form, exc)
            status = exc.http_status
        else:
            messages.success(
                request, _("File “%(name)s” attached.") % {"name": uploaded.name}
            )
            return redirect(_card_url(client.pk, "attachments"))
    context = _client_card_context(request, client, attachment_form=form)
    return render(request, "parties/client_detail.html", context, status=status)


@require_GET
def attachment_download(request, pk: int):
    try:
        attachment = attachments.attachment_get(actor=request.user, attachment_id=pk)
    except DomainError as exc:
        raise Http404(str(exc)) from None
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.mime_type,
    )


def _picker(
    request,
    client,
    *,
    template: str,
    search,
    exclude_pk=None,
    extra=None,
    decorate=None,
):
    form = SearchForm(request.GET)
    query = form.data.get("q", "").strip()
    results = []
    if form.is_valid() and query:
        found = search(actor=request.user, search=query)
        if exclude_pk is not None:
            found = found.exclude(pk=exclude_pk)
        results = list(found[:PICKER_LIMIT])
        for item in results:
            if decorate is not None:
                decorate(item)
    context = {
        "client": client,
        "form": form,
        "search": query,
        "results": results,
        **(extra or {}),
    }
    return _partial(request, template, "results", context, target="picker-results")


@require_GET
@view_client
def client_merge(request, pk: int):
    """Step 1 of a merge: find the other client."""
    client = _fetch(queries.client_get, actor=request.user, client_id=pk)
    _require_perm(request, "parties.merge_clients")
    return _picker(
        request,
        client,
        template="parties/client_merge.html",
        search=queries.client_list,
        exclude_pk=client.pk,
    )


def _merge_summary(request, client) -> dict:
    on = {
        code: _enabled(request, code)
        for code in ("contacts", "counterparties", "attachments")
    }
    return {
        "client": client,
        "phone": _phone(client.phone),
        "contacts": len(queries.client_contacts(client=client))
        if on["contacts"]
        else None,
        "counterparties": len(queries.client_counterparty_links(client=client))
        if on["counterparties"]
        else None,
        "attachments": len(attachments.attachments_for(client))
        if on["attachments"]
        else None,
    }


@require_http_methods(["GET", "POST"])
@view_client
def client_merge_confirm(request, pk: int, other: int):
    """Step 2: explain what moves, choose the client to keep, merge."""
    client = _fetch(queries.client_get, actor=request.user, client_id=pk)
    other_client = _fetch(queries.client_get, actor=request.user, client_id=other)
    _require_perm(request, "parties.merge_clients")
    form = MergeForm(request.POST or None, first=client, second=other_client)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            survivor_id = int(form.cleaned_data["survivor"])
            merged_id = other_client.pk if survivor_id == client.pk else client.pk
            try:
                survivor = services.client_merge(
                    actor=request.user, survivor_id=survivor_id, merged_id=merged_id
                )
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
            else:
                messages.success(
                    request, _("Clients merged into “%(name)s”.") % {"name": survivor}
                )
                return redirect("client_detail", pk=survivor.pk)
        else:
            status = 422
    context = {
        "client": client,
        "other": other_client,
        "form": form,
        "sides": [
            _merge_summary(request, client),
            _merge_summary(request, other_client),
        ],
    }
    return render(request, "parties/client_merge_confirm.html", context, status=status)


@require_http_methods(["GET", "POST"])
@view_client
def client_contact_link(request, pk: int):
    """Let an existing contact act for this client."""
    _require_feature(request, "contacts")
    client = _fetch(queries.client_get, actor=request.user, client_id=pk)
    _require_perm(request, "parties.change_client")
    error, status = None, 200
    if request.method == "POST":
        form = ContactLinkForm(request.POST)
        if form.is_valid():
            try:
                services.contact_link(
                    actor=request.user,
                    client_id=client.pk,
                    contact_id=form.cleaned_data["contact"],
                    role=form.cleaned_data["role"],
                )
            except DomainError as exc:
                _raise_http(exc)
                error, status = error_messages(exc), exc.http_status
            else:
                messages.success(request, _("Contact linked."))
                return redirect(_card_url(client.pk, "contacts"))
        else:
            error, status = error_messages(form.errors), 422
    response = _picker(
        request,
        client,
        template="parties/client_link_contact.html",
        search=queries.contact_list,
        extra={"error": error},
    )
    if error is not None:
        response.status_code = status
    return response


@require_http_methods(["GET", "POST"])
@view_client
def client_counterparty_link(request, pk: int):
    """Link an existing counterparty to this client for a period."""
    _require_feature(request, "counterparties")
    client = _fetch(queries.client_get, actor=request.user, client_id=pk)
    _require_perm(request, "parties.change_client")
    error, status = None, 200
    if request.method == "POST":
        form = CounterpartyLinkForm(request.POST)
        if form.is_valid():
            try:
                services.counterparty_link(
                    actor=request.user,
                    client_id=client.pk,
                    counterparty_id=form.cleaned_data["counterparty"],
                    valid_from=form.cleaned_data["valid_from"],
                    valid_to=form.cleaned_data["valid_to"],
                )
            except DomainError as exc:
                _raise_http(exc)
                error, status = error_messages(exc), exc.http_status
            else:
                messages.success(request, _("Counterparty linked."))
                return redirect(_card_url(client.pk, "counterparties"))
        else:
            error, status = error_messages(form.errors), 422
    response = _picker(
        request,
        client,
        template="parties/client_link_counterparty.html",
        search=queries.counterparty_list,
        extra={"error": error, "today": timezone.localdate()},
        decorate=_add_tax_id_display,
    )
    if error is not None:
        response.status_code = status
    return response


@require_POST
@view_client
def client_counterparty_link_end(request, pk: int, link_id: int):
    _require_feature(request, "counterparties")
    client = _fetch(queries.client_get, actor=request.user, client_id=pk)
    form = LinkEndForm(request.POST)
    if form.is_valid():
        try:
            services.counterparty_link_end(
                actor=request.user,
                link_id=link_id,
                valid_to=form.cleaned_data["valid_to"],
            )
        except DomainError as exc:
            _raise_http(exc)
            for message in error_messages(exc):
                messages.error(request, message)
        else:
            messages.success(request, _("The link ends on the given day."))
    else:
        messages.error(request, _("Enter the last day of the link."))
    return redirect(_card_url(client.pk, "counterparties"))


# ---------------------------------------------------------------- contacts


@require_GET
@view_contact
def contact_list(request):
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    segment = segment_filter(request, actor=request.user)
    contacts = queries.contact_list(
        actor=request.user, search=query, segment_id=segment.pk if segment else None
    )
    page = _page(request, contacts)
    _add_phone_display(page.object_list)
    context = {"form": form, "page": page, "search": query, "segment": segment}
    return _partial(
        request,
        "parties/contact_list.html",
        "results",
        context,
        target="contact-results",
    )


@require_GET
@view_contact
def contact_detail(request, pk: int):
    contact = _fetch(queries.contact_get, actor=request.user, contact_id=pk)
    _add_phone_display([contact])
    context = {
        "contact": contact,
        "custom_values": _custom_display("parties.contact", contact.custom),
        "can_edit": request.user.has_perm("parties.change_contact"),
    }
    return render(request, "parties/contact_detail.html", context)


@require_http_methods(["GET", "POST"])
@view_contact
def contact_create(request):
    _require_perm(request, "parties.add_contact")
    client_id = request.POST.get("client") or request.GET.get("client")
    for_client = None
    if client_id:
        for_client = _fetch(queries.client_get, actor=request.user, client_id=client_id)
    form = ContactForm(request.POST or None, for_client=for_client)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            kwargs = form.service_kwargs()
            if for_client is not None:
                kwargs["client_roles"] = [
                    {"client_id": for_client.pk, "role": form.cleaned_data["role"]}
                ]
            try:
                contact = services.contact_create(actor=request.user, **kwargs)
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
            else:
                messages.success(
                    request, _("Contact “%(name)s” created.") % {"name": contact}
                )
                if for_client is not None:
                    return redirect(_card_url(for_client.pk, "contacts"))
                return redirect("contact_detail", pk=contact.pk)
        else:
            status = 422
    context = {"form": form, "contact": None, "for_client": for_client}
    return render(request, "parties/contact_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@view_contact
def contact_edit(request, pk: int):
    contact = _fetch(queries.contact_get, actor=request.user, contact_id=pk)
    _require_perm(request, "parties.change_contact")
    form = ContactForm(request.POST or None, contact=contact)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.contact_update(
                    actor=request.user,
                    contact_id=contact.pk,
                    version=form.cleaned_data.get("version"),
                    **form.service_kwargs(),
                )
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
            else:
                messages.success(request, _("Changes saved."))
                return redirect("contact_detail", pk=contact.pk)
        else:
            status = 422
    context = {"form": form, "contact": contact, "for_client": None}
    return render(request, "parties/contact_form.html", context, status=status)


# ---------------------------------------------------------------- counterparties


@require_GET
@view_counterparty
def counterparty_list(request):
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    page = _page(request, queries.counterparty_list(actor=request.user, search=query))
    for cp in page.object_list:
        _add_tax_id_display(cp)
    context = {"form": form, "page": page, "search": query}
    return _partial(
        request,
        "parties/counterparty_list.html",
        "results",
        context,
        target="counterparty-results",
    )


def _counterparty_card_context(request, counterparty, **extra) -> dict:
    user = request.user
    today = timezone.localdate()
    links = queries.counterparty_client_links(actor=user, counterparty=counterparty)
    for link in links:
        link.is_current = link.is_valid_on(today)
    can_edit = user.has_perm("parties.change_counterparty")
    context = {
        "counterparty": counterparty,
        "tax_id_display": format_tax_id(counterparty.tax_id, counterparty.country)
        if counterparty.tax_id
        else "",
        "custom_values": _custom_display("parties.counterparty", counterparty.custom),
        "details": list(counterparty.details.all()),
        "bank_accounts": list(counterparty.bank_accounts.all()),
        "links": links,
        "can_edit": can_edit,
        "bank_form": BankAccountForm() if can_edit else None,
    }
    context.update(extra)
    return context


@require_GET
@view_counterparty
def counterparty_detail(request, pk: int):
    counterparty = _fetch(
        queries.counterparty_get, actor=request.user, counterparty_id=pk
    )
    return render(
        request,
        "parties/counterparty_detail.html",
        _counterparty_card_context(request, counterparty),
    )


@require_http_methods(["GET", "POST"])
@view_counterparty
def counterparty_create(request):
    _require_perm(request, "parties.add_counterparty")
    client_id = request.POST.get("client") or request.GET.get("client")
    for_client = None
    if client_id:
        for_client = _fetch(queries.client_get, actor=request.user, client_id=client_id)
        _require_perm(request, "parties.change_client")
    form = CounterpartyForm(request.POST or None, for_client=for_client)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            kwargs = form.service_kwargs()
            if for_client is not None:
                kwargs["client_id"] = for_client.pk
            try:
                counterparty = services.counterparty_create(
                    actor=request.user, **kwargs
                )
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
            else:
                messages.success(
                    request,
                    _("Counterparty “%(name)s” created.") % {"name": counterparty},
                )
                if for_client is not None:
                    return redirect(_card_url(for_client.pk, "counterparties"))
                return redirect("counterparty_detail", pk=counterparty.pk)
        else:
            status = 422
    context = {"form": form, "counterparty": None, "for_client": for_client}
    return render(request, "parties/counterparty_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@view_counterparty
def counterparty_edit(request, pk: int):
    counterparty = _fetch(
        queries.counterparty_get, actor=request.user, counterparty_id=pk
    )
    _require_perm(request, "parties.change_counterparty")
    form = CounterpartyForm(request.POST or None, counterparty=counterparty)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.counterparty_update(
                    actor=request.user,
                    counterparty_id=counterparty.pk,
                    version=form.cleaned_data.get("version"),
                    **form.service_kwargs(),
                )
            except DomainError as exc:
                _raise_http(exc)
                apply_domain_error(form, exc)
                status = exc.http_status
            else:
                messages.success(request, _("Changes saved."))
                return redirect("counterparty_detail", pk=counterparty.pk)
        else:
            status = 422
    context = {"form": form, "counterparty": counterparty, "for_client": None}
    return render(request, "parties/counterparty_form.html", context, status=status)


@require_POST
@view_counterparty
def counterparty_bank_account_add(request, pk: int):
    counterparty = _fetch(
        queries.counterparty_get, actor=request.user, counterparty_id=pk
    )
    _require_perm(request, "parties.change_counterparty")
    form = BankAccountForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.bank_account_add(
                actor=request.user, counterparty_id=counterparty.pk, **form.cleaned_data
            )
        except DomainError as exc:
            _raise_http(exc)
            apply_domain_error(form, exc)
            status = exc.http_status
        else:
            messages.success(request, _("Bank account added."))
            url = reverse("counterparty_detail", args=[counterparty.pk])
            return redirect(f"{url}#bank-accounts")
    context = _counterparty_card_context(request, counterparty, bank_form=form)
    return render(request, "parties/counterparty_detail.html", context, status=status)
