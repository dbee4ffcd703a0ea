"""Public writes of the parties domain: clients, counterparties, contacts and
the client timeline. Every function is one transaction; invalid input raises
a DomainError before anything is written."""

from collections.abc import Callable
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from satu.core import audit, custom_fields, features, prepared
from satu.core.errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
    VersionConflict,
)
from satu.core.events import publish_on_commit
from satu.core.identifiers import (
    normalize_bank_account,
    normalize_email,
    normalize_phone,
    normalize_tax_id,
)
from satu.core.models import Attachment, User
from satu.parties import queries
from satu.parties.errors import ClientArchived, MergeNotAllowed, PossibleDuplicate
from satu.parties.events import ClientCreated, ClientsMerged, ClientStatusChanged
from satu.parties.models import (
    BankAccount,
    Channel,
    Client,
    ClientCounterparty,
    ClientGroup,
    Contact,
    ContactMethod,
    ContactRole,
    Counterparty,
    CounterpartyDetail,
    TimelineEntry,
)

CLIENT_FIELDS = [
    "name",
    "kind",
    "status",
    "owner_id",
    "source_channel_id",
    "phone",
    "email",
    "website",
    "region",
    "address",
    "notes",
]
TEXT_LIMITS = {
    "name": 200,
    "phone": 64,
    "email": 254,
    "website": 200,
    "region": 100,
    "address": 2000,
    "notes": 10000,
}

# Higher domains (deals, orders, ...) register how to move their records
# from a merged client to the survivor: callback(actor=, merged=, survivor=).
_merge_handlers: list[Callable] = []


def register_merge_handler(handler: Callable) -> None:
    if handler not in _merge_handlers:
        _merge_handlers.append(handler)


# ---------------------------------------------------------------- helpers


def _require_perm(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied()


def _national_digits(e164: str) -> str:
    digits = e164.lstrip("+")
    return "0" + digits[2:] if digits.startswith("62") else ""


def _phone_terms(e164: str) -> list[str]:
    return [t for t in (e164.lstrip("+"), _national_digits(e164)) if t]


def refresh_search_text(client_ids) -> None:
    """Rebuild the denormalised search column of the given clients."""
    clients = Client.objects.filter(pk__in=list(client_ids)).prefetch_related(
        "contact_roles__contact__methods", "counterparty_links__counterparty"
    )
    for client in clients:
        parts = [client.name.lower(), client.email.lower()]
        if client.phone:
            parts += _phone_terms(client.phone)
        for link in client.counterparty_links.all():
            cp = link.counterparty
            parts += [cp.legal_name.lower(), cp.tax_id.lower()]
        for role in client.contact_roles.all():
            contact = role.contact
            parts.append(str(contact).lower())
            for method in contact.methods.all():
                if method.kind == ContactMethod.Kind.PHONE:
                    parts += _phone_terms(method.value)
                else:
                    parts.append(method.value.lower())
        text = " | ".join(p for p in parts if p)
        if text != client.search_text:
            Client.objects.filter(pk=client.pk).update(search_text=text)


def _refresh_contact_search(contact: Contact) -> None:
    parts = [str(contact).lower(), contact.position.lower()]
    for method in contact.methods.all():
        if method.kind == ContactMethod.Kind.PHONE:
            parts += _phone_terms(method.value)
        else:
            parts.append(method.value.lower())
    Contact.objects.filter(pk=contact.pk).update(
        search_text=" | ".join(p for p in parts if p)
    )


def _clean_text(data: dict, errors: dict) -> None:
    for key, limit in TEXT_LIMITS.items():
        if key in data and data[key] is not None:
            value = str(data[key]).strip()
            if len(value) > limit:
                errors[key] = [_("At most %(n)d characters.") % {"n": limit}]
            data[key] = value


def _clean_client(data: dict, *, creating: bool) -> dict:
    """Validate and normalise client fields; raise ValidationFailed on errors."""
    errors: dict[str, list] = {}
    _clean_text(data, errors)
    if creating or "name" in data:
        if not data.get("name"):
            errors["name"] = [_("This field is required.")]
    if "kind" in data and data["kind"] not in Client.Kind.values:
        errors["kind"] = [
            _("Choose one of: %(c)s.") % {"c": ", ".join(Client.Kind.values)}
        ]
    if "status" in data and data["status"] not in Client.Status.values:
        errors["status"] = [
            _("Choose one of: %(c)s.") % {"c": ", ".join(Client.Status.values)}
        ]
    if data.get("phone"):
        try:
            data["phone"] = normalize_phone(data["phone"])
        except ValueError as exc:
            errors["phone"] = [str(exc)]
    if data.get("email"):
        try:
            data["email"] = normalize_email(data["email"])
        except ValueError as exc:
            errors["email"] = [str(exc)]
    if data.get("owner_id") is not None:
        if not User.objects.filter(pk=data["owner_id"], is_active=True).exists():
            errors["owner_id"] = [_("Unknown or inactive user.")]
    if data.get("source_channel_id") is not None:
        if not Channel.objects.filter(pk=data["source_channel_id"]).exists():
            errors["source_channel_id"] = [_("Unknown channel.")]
    if data.get("group_ids"):
        ids = set(data["group_ids"])
        known = dict(ClientGroup.objects.filter(pk__in=ids).values_list("pk", "kind"))
        if len(known) != len(ids):
            errors["group_ids"] = [_("Unknown client group.")]
        elif ClientGroup.Kind.RULE in known.values():
            errors["group_ids"] = [
                _("The members of a rule segment are computed; change its rules.")
            ]
    if errors:
        raise ValidationFailed(fields=errors)
    return data


def _check_version(obj, version: int | None) -> None:
    if version is not None and version != obj.version:
        raise VersionConflict()


def _editable_client(actor, client_id, *, lock: bool = True) -> Client:
    _require_perm(actor, "parties.change_client")
    qs = queries.clients_visible_to(actor)
    if lock:
        qs = qs.select_for_update(of=("self",))
    try:
        client = qs.filter(pk=int(client_id)).first()
    except (TypeError, ValueError):
        client = None
    if client is None:
        raise NotFound(_("Client not found."))
    return client


# ---------------------------------------------------------------- timeline


def timeline_record(
    *,
    client_id: int,
    kind: str,
    summary: str,
    actor=None,
    subject_type: str = "",
    subject_id: int | None = None,
    url: str = "",
    at=None,
    data: dict | None = None,
) -> TimelineEntry:
    """Append an event to a client's timeline (call inside your transaction;
    inside `prepared.deferred_inserts()` it is written when that block ends)."""
    entry = TimelineEntry(
        client_id=client_id,
        kind=kind,
        summary=str(summary)[:500],
        actor=actor if actor is not None and actor.pk else None,
        subject_type=subject_type,
        subject_id=subject_id,
        url=url,
        at=at or timezone.now(),
        data=data or {},
    )
    prepared.insert_later(entry)
    return entry


# ---------------------------------------------------------------- clients


@transaction.atomic
def client_create(
    *,
    actor,
    name: str,
    kind: str = Client.Kind.COMPANY,
    status: str = Client.Status.PROSPECT,
    owner_id: int | None = None,
    group_ids: list[int] | None = None,
    source_channel_id: int | None = None,
    phone: str = "",
    email: str = "",
    website: str = "",
    region: str = "",
    address: str = "",
    notes: str = "",
    custom: dict | None = None,
    allow_duplicate: bool = False,
) -> Client:
    """Create a client owned by `owner_id` (default: the actor).

    Raises ValidationFailed for bad fields, PossibleDuplicate when a client
    with the same phone, email or a close name exists and `allow_duplicate`
    is false, PermissionDenied without `parties.add_client`.
    """
    _require_perm(actor, "parties.add_client")
    data = _clean_client(
        {
            "name": name,
            "kind": kind,
            "status": status,
            "owner_id": owner_id if owner_id is not None else actor.pk,
            "group_ids": group_ids or [],
            "source_channel_id": source_channel_id,
            "phone": phone,
            "email": email,
            "website": website,
            "region": region,
            "address": address,
            "notes": notes,
        },
        creating=True,
    )
    if data["owner_id"] != actor.pk and not queries.sees_all_clients(actor):
        raise ValidationFailed(
            fields={"owner_id": [_("You may only create clients you manage yourself.")]}
        )
    cleaned_custom = custom_fields.clean_values("parties.client", custom)
    if features.is_enabled("parties.duplicate_check") and not allow_duplicate:
        candidates = queries.client_duplicates(
            name=data["name"], phone=data["phone"], email=data["email"]
        )
        if candidates:
            raise PossibleDuplicate(candidates=candidates)
    group_ids = data.pop("group_ids")
    client = Client.objects.create(
        **data, custom=cleaned_custom, name_key=queries.name_key(data["name"])
    )
    if group_ids:
        client.groups.set(group_ids)
    refresh_search_text([client.pk])
    audit.record(actor=actor, subject=client, action="created")
    timeline_record(
        client_id=client.pk,
        kind="client.created",
        actor=actor,
        summary=_("Client registered by %(user)s") % {"user": actor},
        data={"user": str(actor)},
    )
    publish_on_commit(ClientCreated(client_id=client.pk))
    return client


@transaction.atomic
def client_update(
    *, actor, client_id: int, version: int | None = None, **changes
) -> Client:
    """Change the given fields of a client (partial update).

    Locks the client row. Accepts the fields of `client_create` plus
    `group_ids` and `custom` (merged into the stored values). Raises
    VersionConflict when `version` is stale, ClientArchived for an archived
    client, NotFound when the actor cannot see it.
    """
    client = _editable_client(actor, client_id)
    _check_version(client, version)
    if client.is_archived:
        raise ClientArchived()
    allowed = set(CLIENT_FIELDS) | {"group_ids", "custom"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(fields={k: [_("Unknown field.")] for k in unknown})
    if "owner_id" in changes and changes["owner_id"] != client.owner_id:
        if not queries.sees_all_clients(actor):
            raise ValidationFailed(
                fields={"owner_id": [_("Only a head of sales can reassign clients.")]}
            )
    custom = changes.pop("custom", None)
    data = _clean_client(dict(changes), creating=False)
    # Relations are audited by name, not id, so the trail reads as people expect.
    tracked = [f.removesuffix("_id") for f in CLIENT_FIELDS] + ["custom"]
    before = audit.snapshot(client, tracked)
    before["groups"] = sorted(client.groups.values_list("name", flat=True))
    group_ids = data.pop("group_ids", None)
    for key, value in data.items():
        setattr(client, key, value if value is not None or key.endswith("_id") else "")
    if custom is not None:
        client.custom = custom_fields.clean_values(
            "parties.client", custom, existing=client.custom, partial=True
        )
    else:
        client.custom = custom_fields.clean_values(
            "parties.client", {}, existing=client.custom, partial=True
        )
    client.name_key = queries.name_key(client.name)
    client.version += 1
    client.save()
    if group_ids is not None:
        # Only manual groups are picked by hand; rule segments stay as computed.
        rule_ids = client.groups.filter(kind=ClientGroup.Kind.RULE).values_list(
            "pk", flat=True
        )
        client.groups.set([*group_ids, *rule_ids])
    after = audit.snapshot(client, tracked)
    after["groups"] = sorted(client.groups.values_list("name", flat=True))
    changed = audit.diff(before, after)
    if changed:
        audit.record(actor=actor, subject=client, action="updated", changes=changed)
    if "status" in changed:
        old, new = changed["status"]
        timeline_record(
            client_id=client.pk,
            kind="client.status_changed",
            actor=actor,
            summary=_("Status changed from %(old)s to %(new)s")
            % {"old": Client.Status(old).label, "new": Client.Status(new).label},
            data={"old": old, "new": new},
        )
        publish_on_commit(ClientStatusChanged(client.pk, old, new))
    refresh_search_text([client.pk])
    return client


@transaction.atomic
def client_archive(*, actor, client_id: int, archived: bool = True) -> Client:
    """Archive (hide from lists) or restore a client; audited and on the timeline."""
    client = _editable_client(actor, client_id)
    if client.is_archived == archived:
        return client
    client.is_archived = archived
    client.version += 1
    client.save(update_fields=["is_archived", "version", "updated_at"])
    action = "archived" if archived else "restored"
    audit.record(
        actor=actor,
        subject=client,
        action=action,
        changes={"is_archived": [not archived, archived]},
    )
    timeline_record(
        client_id=client.pk,
        kind=f"client.{action}",
        actor=actor,
        summary=_("Client archived") if archived else _("Client restored"),
    )
    return client


@transaction.atomic
def client_merge(*, actor, survivor_id: int, merged_id: int) -> Client:
    """Merge client `merged_id` into `survivor_id`.

    Moves counterparty links, contact roles, timeline entries, attachments,
    groups and custom values missing on the survivor, then every record that
    higher domains registered through `register_merge_handler`. The merged
    client stays archived with `merged_into` set (its audit trail remains).
    Locks both clients in pk order.
    """
    _require_perm(actor, "parties.merge_clients")
    if int(survivor_id) == int(merged_id):
        raise MergeNotAllowed(_("A client cannot be merged into itself."))
    locked = {
        c.pk: c
        for c in queries.clients_visible_to(actor)
        .filter(pk__in=[survivor_id, merged_id])
        .order_by("pk")
        .select_for_update(of=("self",))
    }
    survivor, merged = locked.get(int(survivor_id)), locked.get(int(merged_id))
    if survivor is None or merged is None:
        raise NotFound(_("Client not found."))
    if merged.merged_into_id or survivor.merged_into_id:
        raise MergeNotAllowed(_("One of these clients was already merged."))

    existing_links = set(
        ClientCounterparty.objects.filter(client=survivor).values_list(
            "counterparty_id", "valid_from"
        )
    )
    for link in ClientCounterparty.objects.filter(client=merged):
        if (link.counterparty_id, link.valid_from) in existing_links:
            link.delete()
        else:
            link.client = survivor
            link.save(update_fields=["client"])
    existing_roles = set(
        ContactRole.objects.filter(client=survivor).values_list("contact_id", "role")
    )
    for role in ContactRole.objects.filter(client=merged):
        if (role.contact_id, role.role) in existing_roles:
            role.delete()
        else:
            role.client = survivor
            role.save(update_fields=["client"])
    moved_events = TimelineEntry.objects.filter(client=merged).update(client=survivor)
    Attachment.objects.filter(
        content_type__app_label="parties",
        content_type__model="client",
        object_id=merged.pk,
    ).update(object_id=survivor.pk)
    survivor.groups.add(*merged.groups.all())
    for key, value in merged.custom.items():
        survivor.custom.setdefault(key, value)
    for field in ("phone", "email", "website", "region", "address"):
        if not getattr(survivor, field) and getattr(merged, field):
            setattr(survivor, field, getattr(merged, field))
    if merged.notes:
        survivor.notes = (survivor.notes + "\n\n" + merged.notes).strip()
    survivor.version += 1
    survivor.save()
    for handler in _merge_handlers:
        handler(actor=actor, merged=merged, survivor=survivor)

    merged.merged_into = survivor
    merged.is_archived = True
    merged.version += 1
    merged.save(update_fields=["merged_into", "is_archived", "version", "updated_at"])
    audit.record(
        actor=actor,
        subject=survivor,
        action="merged",
        changes={"merged_client": [None, f"{merged.name} (#{merged.pk})"]},
    )
    audit.record(
        actor=actor,
        subject=merged,
        action="merged_into",
        changes={"merged_into": [None, f"{survivor.name} (#{survivor.pk})"]},
    )
    timeline_record(
        client_id=survivor.pk,
        kind="client.merged",
        actor=actor,
        summary=_("Client “%(name)s” merged into this one (%(n)d events moved)")
        % {"name": merged.name, "n": moved_events},
        data={"merged_id": merged.pk, "name": merged.name, "n": moved_events},
    )
    refresh_search_text([survivor.pk])
    publish_on_commit(ClientsMerged(survivor_id=survivor.pk, merged_id=merged.pk))
    return survivor


@transaction.atomic
def client_group_create(*, actor, name: str, description: str = "") -> ClientGroup:
    _require_perm(actor, "parties.add_clientgroup")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed(
            fields={"name": [_("Enter a name of at most 100 characters.")]}
        )
    if ClientGroup.objects.filter(name__iexact=name).exists():
        raise ValidationFailed(fields={"name": [_("A group with this name exists.")]})
    group = ClientGroup.objects.create(name=name, description=description)
    audit.record(actor=actor, subject=group, action="created")
    return group


@transaction.atomic
def channel_create(*, actor, name: str, parent_id: int | None = None) -> Channel:
    _require_perm(actor, "parties.add_channel")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed(
            fields={"name": [_("Enter a name of at most 100 characters.")]}
        )
    if parent_id is not None and not Channel.objects.filter(pk=parent_id).exists():
        raise ValidationFailed(fields={"parent_id": [_("Unknown channel.")]})
    if Channel.objects.filter(parent_id=parent_id, name__iexact=name).exists():
        raise ValidationFailed(fields={"name": [_("A channel with this name exists.")]})
    channel = Channel.objects.create(name=name, parent_id=parent_id)
    audit.record(actor=actor, subject=channel, action="created")
    return channel


# ---------------------------------------------------------------- counterparties


def _clean_counterparty(data: dict, *, creating: bool) -> dict:
    errors: dict[str, list] = {}
    for key, limit in {
        "legal_name": 255,
        "registration_address": 2000,
        "tax_id": 64,
    }.items():
        if key in data and data[key] is not None:
            data[key] = str(data[key]).strip()
            if len(data[key]) > limit:
                errors[key] = [_("At most %(n)d characters.") % {"n": limit}]
    if (creating or "legal_name" in data) and not data.get("legal_name"):
        errors["legal_name"] = [_("This field is required.")]
    country = (data.get("country") or "ID").strip().upper()
    if len(country) != 2 or not country.isalpha():
        errors["country"] = [_("Use a two-letter country code, e.g. ID.")]
    data["country"] = country
    if data.get("tax_id") and "tax_id" not in errors and "country" not in errors:
        try:
            data["tax_id"] = normalize_tax_id(data["tax_id"], country)
        except ValueError as exc:
            errors["tax_id"] = [str(exc)]
    if errors:
        raise ValidationFailed(fields=errors)
    return data


def _editable_counterparty(actor, counterparty_id) -> Counterparty:
    _require_perm(actor, "parties.change_counterparty")
    try:
        pk = int(counterparty_id)
    except (TypeError, ValueError):
        raise NotFound(_("Counterparty not found.")) from None
    cp = (
        queries.counterparties_visible_to(actor)
        .select_for_update(of=("self",))
        .filter(pk=pk)
        .first()
    )
    if cp is None:
        raise NotFound(_("Counterparty not found."))
    return cp


@transaction.atomic
def counterparty_create(
    *,
    actor,
    legal_name: str,
    tax_id: str = "",
    country: str = "ID",
    registration_address: str = "",
    valid_from: date | None = None,
    custom: dict | None = None,
    client_id: int | None = None,
    bank_accounts: list[dict] | None = None,
) -> Counterparty:
    """Create a legal entity, optionally linked to a client from `valid_from`.

    Raises ValidationFailed for a malformed or already registered tax id.
    """
    features.require("counterparties")
    _require_perm(actor, "parties.add_counterparty")
    data = _clean_counterparty(
        {
            "legal_name": legal_name,
            "tax_id": tax_id,
            "country": country,
            "registration_address": registration_address,
        },
        creating=True,
    )
    if (
        data["tax_id"]
        and Counterparty.objects.filter(
            tax_id=data["tax_id"], country=data["country"]
        ).exists()
    ):
        raise ValidationFailed(
            fields={
                "tax_id": [_("A counterparty with this tax id is already registered.")]
            }
        )
    cleaned_custom = custom_fields.clean_values("parties.counterparty", custom)
    start = valid_from or timezone.localdate()
    client = None
    if client_id is not None:
        client = _editable_client(actor, client_id)
    cp = Counterparty.objects.create(**data, custom=cleaned_custom, created_by=actor)
    CounterpartyDetail.objects.create(
        counterparty=cp,
        valid_from=start,
        legal_name=cp.legal_name,
        registration_address=cp.registration_address,
    )
    for account in bank_accounts or []:
        bank_account_add(actor=actor, counterparty_id=cp.pk, **account)
    audit.record(actor=actor, subject=cp, action="created")
    if client is not None:
        counterparty_link(
            actor=actor, client_id=client.pk, counterparty_id=cp.pk, valid_from=start
        )
    return cp


@transaction.atomic
def counterparty_update(
    *,
    actor,
    counterparty_id: int,
    version: int | None = None,
    effective_date: date | None = None,
    **changes,
) -> Counterparty:
    """Change a counterparty. A new legal name or address is dated from
    `effective_date` (default today), so older documents keep the old one."""
    cp = _editable_counterparty(actor, counterparty_id)
    _check_version(cp, version)
    allowed = {"legal_name", "tax_id", "country", "registration_address", "custom"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(fields={k: [_("Unknown field.")] for k in unknown})
    custom = changes.pop("custom", None)
    if "country" not in changes:
        changes["country"] = cp.country
    data = _clean_counterparty(changes, creating=False)
    if (
        data.get("tax_id")
        and Counterparty.objects.filter(tax_id=data["tax_id"], country=data["country"])
        .exclude(pk=cp.pk)
        .exists()
    ):
        raise ValidationFailed(
            fields={
                "tax_id": [_("A counterparty with this tax id is already registered.")]
            }
        )
    tracked = ["legal_name", "tax_id", "country", "registration_address", "custom"]
    before = audit.snapshot(cp, tracked)
    for key, value in data.items():
        setattr(cp, key, value)
    cp.custom = custom_fields.clean_values(
        "parties.counterparty", custom or {}, existing=cp.custom, partial=True
    )
    cp.version += 1
    cp.save()
    changed = audit.diff(before, audit.snapshot(cp, tracked))
    if "legal_name" in changed or "registration_address" in changed:
        day = effective_date or timezone.localdate()
        CounterpartyDetail.objects.update_or_create(
            counterparty=cp,
            valid_from=day,
            defaults={
                "legal_name": cp.legal_name,
                "registration_address": cp.registration_address,
            },
        )
    if changed:
        audit.record(actor=actor, subject=cp, action="updated", changes=changed)
        client_ids = list(cp.client_links.values_list("client_id", flat=True))
        refresh_search_text(client_ids)
    return cp


@transaction.atomic
def counterparty_link(
    *,
    actor,
    client_id: int,
    counterparty_id: int,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> ClientCounterparty:
    """Record that a client trades through a counterparty for a period.

    Raises ValidationFailed when the period is reversed or overlaps an
    existing link of the same pair.
    """
    features.require("counterparties")
    client = _editable_client(actor, client_id)
    cp = queries.counterparties_visible_to(actor).filter(pk=counterparty_id).first()
    if cp is None:
        raise NotFound(_("Counterparty not found."))
    start = valid_from or timezone.localdate()
    if valid_to is not None and valid_to < start:
        raise ValidationFailed(fields={"valid_to": [_("The end is before the start.")]})
    for link in ClientCounterparty.objects.filter(client=client, counterparty=cp):
        ends = link.valid_to or date.max
        if start <= ends and (valid_to or date.max) >= link.valid_from:
            raise ValidationFailed(
                fields={
                    "valid_from": [
                        _(
                            "This counterparty is already linked "
                            "for an overlapping period."
                        )
                    ]
                }
            )
    link = ClientCounterparty.objects.create(
        client=client, counterparty=cp, valid_from=start, valid_to=valid_to
    )
    audit.record(
        actor=actor,
        subject=client,
        action="counterparty_linked",
        changes={"counterparty": [None, f"{cp.legal_name} from {start}"]},
    )
    timeline_record(
        client_id=client.pk,
        kind="counterparty.linked",
        actor=actor,
        summary=_("Trades through %(name)s from %(start)s")
        % {"name": cp.legal_name, "start": start.isoformat()},
        subject_type="parties.counterparty",
        subject_id=cp.pk,
        data={"name": cp.legal_name, "start": start.isoformat()},
    )
    refresh_search_text([client.pk])
    return link


@transaction.atomic
def counterparty_link_end(*, actor, link_id: int, valid_to: date) -> ClientCounterparty:
    """Close a client–counterparty link on `valid_to`."""
    link = (
        ClientCounterparty.objects.select_related("counterparty")
        .filter(pk=link_id)
        .first()
    )
    if link is None:
        raise NotFound()
    client = _editable_client(actor, link.client_id)
    if valid_to < link.valid_from:
        raise ValidationFailed(fields={"valid_to": [_("The end is before the start.")]})
    link.valid_to = valid_to
    link.save(update_fields=["valid_to"])
    audit.record(
        actor=actor,
        subject=client,
        action="counterparty_link_ended",
        changes={"counterparty": [link.counterparty.legal_name, f"until {valid_to}"]},
    )
    timeline_record(
        client_id=client.pk,
        kind="counterparty.unlinked",
        actor=actor,
        summary=_("Stops trading through %(name)s after %(end)s")
        % {"name": link.counterparty.legal_name, "end": valid_to.isoformat()},
        subject_type="parties.counterparty",
        subject_id=link.counterparty_id,
        data={"name": link.counterparty.legal_name, "end": valid_to.isoformat()},
    )
    return link


@transaction.atomic
def bank_account_add(
    *,
    actor,
    counterparty_id: int,
    bank_name: str,
    account_number: str,
    currency: str = "IDR",
    is_default: bool = False,
) -> BankAccount:
    cp = _editable_counterparty(actor, counterparty_id)
    errors = {}
    if not (bank_name or "").strip() or len(bank_name) > 100:
        errors["bank_name"] = [_("Enter the bank name (at most 100 characters).")]
    try:
        number = normalize_bank_account(account_number or "")
    except ValueError as exc:
        errors["account_number"] = [str(exc)]
    currency = (currency or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = [_("Use a three-letter currency code, e.g. IDR.")]
    if errors:
        raise ValidationFailed(fields=errors)
    if is_default:
        cp.bank_accounts.update(is_default=False)
    account = BankAccount.objects.create(
        counterparty=cp,
        bank_name=bank_name.strip(),
        account_number=number,
        currency=currency,
        is_default=is_default or not cp.bank_accounts.exists(),
    )
    audit.record(
        actor=actor,
        subject=cp,
        action="bank_account_added",
        changes={"bank_account": [None, str(account)]},
    )
    return account


# ---------------------------------------------------------------- contacts


def _clean_methods(phones, emails, errors) -> list[ContactMethod]:
    methods = []
    for i, raw in enumerate(p for p in phones or [] if p and str(p).strip()):
        try:
            methods.append(
                ContactMethod(
                    kind="phone", value=normalize_phone(str(raw)), is_primary=i == 0
                )
            )
        except ValueError as exc:
            errors.setdefault("phones", []).append(f"{raw}: {exc}")
    for i, raw in enumerate(e for e in emails or [] if e and str(e).strip()):
        try:
            methods.append(
                ContactMethod(
                    kind="email", value=normalize_email(str(raw)), is_primary=i == 0
                )
            )
        except ValueError as exc:
            errors.setdefault("emails", []).append(f"{raw}: {exc}")
    return methods


def _clean_contact(data: dict, errors: dict, *, creating: bool) -> None:
    for key, limit in {
        "first_name": 100,
        "last_name": 100,
        "position": 100,
        "notes": 10000,
    }.items():
        if key in data and data[key] is not None:
            data[key] = str(data[key]).strip()
            if len(data[key]) > limit:
                errors[key] = [_("At most %(n)d characters.") % {"n": limit}]
    if (creating or "first_name" in data) and not data.get("first_name"):
        errors["first_name"] = [_("This field is required.")]


@transaction.atomic
def contact_create(
    *,
    actor,
    first_name: str,
    last_name: str = "",
    position: str = "",
    phones: list[str] | None = None,
    emails: list[str] | None = None,
    notes: str = "",
    custom: dict | None = None,
    client_roles: list[dict] | None = None,
) -> Contact:
    """Create a contact person and link it to clients
    (`client_roles=[{"client_id": 1, "role": "Purchaser"}]`)."""
    features.require("contacts")
    _require_perm(actor, "parties.add_contact")
    errors: dict[str, list] = {}
    data = {
        "first_name": first_name,
        "last_name": last_name,
        "position": position,
        "notes": notes,
    }
    _clean_contact(data, errors, creating=True)
    methods = _clean_methods(phones, emails, errors)
    try:
        cleaned_custom = custom_fields.clean_values("parties.contact", custom)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        cleaned_custom = {}
    clients = []
    for i, entry in enumerate(client_roles or []):
        client = (
            queries.clients_visible_to(actor).filter(pk=entry.get("client_id")).first()
        )
        if client is None:
            errors[f"client_roles.{i}.client_id"] = [_("Client not found.")]
        elif len(entry.get("role") or "") > 100:
            errors[f"client_roles.{i}.role"] = [
                _("At most %(n)d characters.") % {"n": 100}
            ]
        else:
            clients.append(
                (
                    client,
                    (entry.get("role") or "").strip(),
                    bool(entry.get("is_primary")),
                )
            )
    if errors:
        raise ValidationFailed(fields=errors)
    contact = Contact.objects.create(**data, custom=cleaned_custom, created_by=actor)
    for method in methods:
        method.contact = contact
    ContactMethod.objects.bulk_create(methods)
    audit.record(actor=actor, subject=contact, action="created")
    for client, role, primary in clients:
        _contact_link(actor, contact, client, role, primary)
    _refresh_contact_search(contact)
    refresh_search_text([c.pk for c, _r, _p in clients])
    return contact


def _contact_link(actor, contact, client, role, primary) -> ContactRole:
    link, created = ContactRole.objects.get_or_create(
        contact=contact, client=client, role=role, defaults={"is_primary": primary}
    )
    if created:
        audit.record(
            actor=actor,
            subject=client,
            action="contact_linked",
            changes={
                "contact": [None, f"{contact} ({role})" if role else str(contact)]
            },
        )
        timeline_record(
            client_id=client.pk,
            kind="contact.linked",
            actor=actor,
            summary=_("Contact person %(name)s added%(role)s")
            % {"name": contact, "role": f" — {role}" if role else ""},
            subject_type="parties.contact",
            subject_id=contact.pk,
            data={"name": str(contact), "role": f" — {role}" if role else ""},
        )
    return link


@transaction.atomic
def contact_update(
    *,
    actor,
    contact_id: int,
    version: int | None = None,
    phones: list[str] | None = None,
    emails: list[str] | None = None,
    **changes,
) -> Contact:
    """Change a contact; `phones`/`emails` when given replace the stored lists."""
    features.require("contacts")
    _require_perm(actor, "parties.change_contact")
    contact = (
        queries.contacts_visible_to(actor)
        .select_for_update(of=("self",))
        .filter(pk=contact_id)
        .first()
    )
    if contact is None:
        raise NotFound(_("Contact not found."))
    _check_version(contact, version)
    allowed = {"first_name", "last_name", "position", "notes", "custom"}
    unknown = set(changes) - allowed
    errors: dict[str, list] = {k: [_("Unknown field.")] for k in unknown}
    custom = changes.pop("custom", None)
    _clean_contact(changes, errors, creating=False)
    methods = (
        _clean_methods(phones, emails, errors)
        if (phones is not None or emails is not None)
        else None
    )
    try:
        new_custom = custom_fields.clean_values(
            "parties.contact", custom or {}, existing=contact.custom, partial=True
        )
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    tracked = ["first_name", "last_name", "position", "notes", "custom"]
    before = audit.snapshot(contact, tracked)
    before["methods"] = sorted(contact.methods.values_list("value", flat=True))
    for key in set(changes) - unknown:
        setattr(contact, key, changes[key])
    contact.custom = new_custom
    contact.version += 1
    contact.save()
    if methods is not None:
        replaced = {
            kind
            for kind, given in (("phone", phones), ("email", emails))
            if given is not None
        }
        contact.methods.filter(kind__in=replaced).delete()
        for method in methods:
            method.contact = contact
        ContactMethod.objects.bulk_create(methods)
    after = audit.snapshot(contact, tracked)
    after["methods"] = sorted(contact.methods.values_list("value", flat=True))
    changed = audit.diff(before, after)
    if changed:
        audit.record(actor=actor, subject=contact, action="updated", changes=changed)
    _refresh_contact_search(contact)
    refresh_search_text(contact.roles.values_list("client_id", flat=True))
    return contact


@transaction.atomic
def contact_link(
    *, actor, contact_id: int, client_id: int, role: str = "", is_primary: bool = False
) -> ContactRole:
    """Make a contact act for a (further) client in a role."""
    features.require("contacts")
    client = _editable_client(actor, client_id)
    contact = queries.contacts_visible_to(actor).filter(pk=contact_id).first()
    if contact is None:
        raise NotFound(_("Contact not found."))
    if len(role or "") > 100:
        raise ValidationFailed(
            fields={"role": [_("At most %(n)d characters.") % {"n": 100}]}
        )
    link = _contact_link(actor, contact, client, (role or "").strip(), is_primary)
    refresh_search_text([client.pk])
    return link


# ---------------------------------------------------------------- companies

COMPANY_FIELDS = (
    "name",
    "legal_name",
    "tax_id",
    "address",
    "phone",
    "email",
    "website",
    "country",
    "currency",
)


@transaction.atomic
def company_save(*, actor, code: str, **fields):
    """Create or update our legal entity `code` (the first one becomes the
    default). Needs `parties.change_company`; raises ValidationFailed."""
    from satu.parties.models import Company

    if actor is not None:
        _require_perm(actor, "parties.change_company")
    unknown = set(fields) - set(COMPANY_FIELDS) - {"is_default"}
    if unknown:
        raise ValidationFailed(fields={name: [_("Unknown field.")] for name in unknown})
    errors = {}
    code = (code or "").strip()
    if not code or len(code) > 16:
        errors["code"] = [_("Give a code of at most 16 characters.")]
    currency = fields.get("currency")
    if currency is not None and (len(currency) != 3 or not currency.isalpha()):
        errors["currency"] = [_("Use a three-letter currency code.")]
    company = Company.objects.select_for_update().filter(code=code).first()
    if company is None and not (fields.get("name") or "").strip():
        errors["name"] = [_("This field is required.")]
    if errors:
        raise ValidationFailed(fields=errors)
    creating = company is None
    if creating:
        company = Company(code=code)
        if not Company.objects.exists():
            company.is_default = True
    old = {name: getattr(company, name) for name in COMPANY_FIELDS}
    make_default = fields.pop("is_default", False)
    for name, value in fields.items():
        setattr(company, name, value.upper() if name == "currency" else value)
    if make_default and not company.is_default:
        Company.objects.filter(is_default=True).update(is_default=False)
        company.is_default = True
    company.save()
    changes = {
        name: [old[name], getattr(company, name)]
        for name in COMPANY_FIELDS
        if old[name] != getattr(company, name)
    }
    audit.record(
        actor=actor,
        subject=company,
        action="created" if creating else "updated",
        changes=changes,
    )
    return company


# ------------------------------------------------------------------ segments
# Segments are client groups (ADR 009): manual ones are picked by hand, rule
# ones are computed from `rules` by `satu.parties.segments` and stored in the
# same Client.groups table.

SEGMENT_FIELDS = ("name", "description", "kind", "rules", "is_active")


def _segment_clean(data: dict, *, segment: ClientGroup | None) -> dict:
    from satu.parties import segments

    errors: dict[str, list] = {}
    if "name" in data or segment is None:
        data["name"] = str(data.get("name") or "").strip()
        if not data["name"]:
            errors["name"] = [_("This field is required.")]
        elif len(data["name"]) > 100:
            errors["name"] = [_("At most %(n)d characters.") % {"n": 100}]
        else:
            same = ClientGroup.objects.filter(name__iexact=data["name"])
            if segment is not None:
                same = same.exclude(pk=segment.pk)
            if same.exists():
                errors["name"] = [_("A group with this name exists.")]
    if "description" in data:
        data["description"] = str(data["description"] or "").strip()
    kind = data.get("kind", segment.kind if segment else ClientGroup.Kind.MANUAL)
    if kind not in ClientGroup.Kind.values:
        errors["kind"] = [
            _("Choose one of: %(c)s.") % {"c": ", ".join(ClientGroup.Kind.values)}
        ]
    if errors:
        raise ValidationFailed(fields=errors)
    if kind == ClientGroup.Kind.RULE and (
        "rules" in data or segment is None or segment.kind != kind
    ):
        data["rules"] = segments.rules_clean(data.get("rules") or {})
    elif kind == ClientGroup.Kind.MANUAL:
        data["rules"] = {}
    return data


@transaction.atomic
def segment_create(
    *,
    actor,
    name: str,
    description: str = "",
    kind: str = ClientGroup.Kind.MANUAL,
    rules: dict | None = None,
    client_ids: list[int] | None = None,
) -> ClientGroup:
    """Create a segment. A rule segment's rules are checked (unknown field, bad
    operator or value -> SegmentRuleInvalid 422, nothing stored) and its
    members computed at once; a manual one may start with `client_ids`
    (clients the actor can see). Needs parties.add_clientgroup."""
    _require_perm(actor, "parties.add_clientgroup")
    data = _segment_clean(
        {"name": name, "description": description, "kind": kind, "rules": rules},
        segment=None,
    )
    segment = ClientGroup.objects.create(**data)
    audit.record(
        actor=actor,
        subject=segment,
        action="created",
        changes={"kind": segment.kind, "rules": segment.rules},
    )
    if segment.kind == ClientGroup.Kind.RULE:
        _segment_recompute(segment)
    elif client_ids:
        _segment_add(actor, segment, client_ids)
    return segment


@transaction.atomic
def segment_update(
    *, actor, segment_id: int, version: int | None = None, **changes
) -> ClientGroup:
    """Change a segment's name, description, kind, rules or active flag; new
    rules are checked as on create and the members recomputed. Locks the
    segment. Raises ValidationFailed, SegmentRuleInvalid, VersionConflict."""
    from satu.parties.locks import segments_for_update

    _require_perm(actor, "parties.change_clientgroup")
    unknown = set(changes) - set(SEGMENT_FIELDS)
    if unknown:
        raise ValidationFailed(
            fields={k: [_("This field cannot be changed.")] for k in sorted(unknown)}
        )
    segment = segments_for_update(ClientGroup.objects.filter(pk=segment_id)).first()
    if segment is None:
        raise NotFound(_("Segment not found."))
    _check_version(segment, version)
    data = _segment_clean(dict(changes), segment=segment)
    before = audit.snapshot(segment, list(SEGMENT_FIELDS))
    for key, value in data.items():
        setattr(segment, key, value)
    segment.version += 1
    segment.save()
    changed = audit.diff(before, audit.snapshot(segment, list(SEGMENT_FIELDS)))
    if changed:
        audit.record(actor=actor, subject=segment, action="updated", changes=changed)
    # A rule segment turned manual keeps its last computed members to start.
    if segment.kind == ClientGroup.Kind.RULE and segment.is_active:
        _segment_recompute(segment)
    return segment


def _segment_recompute(segment: ClientGroup) -> tuple[int, int]:
    from satu.parties import segments

    through = Client.groups.through
    wanted = set(segments.rules_queryset(segment.rules).values_list("pk", flat=True))
    current = set(
        through.objects.filter(clientgroup_id=segment.pk).values_list(
            "client_id", flat=True
        )
    )
    added, removed = wanted - current, current - wanted
    if removed:
        through.objects.filter(
            clientgroup_id=segment.pk, client_id__in=removed
        ).delete()
    if added:
        through.objects.bulk_create(
            [through(clientgroup_id=segment.pk, client_id=pk) for pk in added],
            batch_size=1000,
        )
    ClientGroup.objects.filter(pk=segment.pk).update(
        member_count=len(wanted), recomputed_at=timezone.now()
    )
    segment.member_count = len(wanted)
    return len(added), len(removed)


@transaction.atomic
def segment_recompute(*, actor, segment_id: int) -> dict:
    """Recompute a rule segment's stored members from its rules; returns
    {"members", "added", "removed"}. Locks the segment (a second recompute
    waits). `actor=None` is the scheduler. Raises SegmentNotEditable for a
    manual group."""
    from satu.parties.errors import SegmentNotEditable
    from satu.parties.locks import segments_for_update

    if actor is not None:
        _require_perm(actor, "parties.change_clientgroup")
    segment = segments_for_update(ClientGroup.objects.filter(pk=segment_id)).first()
    if segment is None:
        raise NotFound(_("Segment not found."))
    if segment.kind != ClientGroup.Kind.RULE:
        raise SegmentNotEditable(_("Only rule segments are recomputed."))
    added, removed = _segment_recompute(segment)
    return {"members": segment.member_count, "added": added, "removed": removed}


def segments_recompute_all() -> int:
    """Recompute every active rule segment, each in its own transaction (the
    hourly schedule). Returns how many were recomputed."""
    ids = list(
        ClientGroup.objects.filter(
            kind=ClientGroup.Kind.RULE, is_active=True
        ).values_list("pk", flat=True)
    )
    for pk in ids:
        segment_recompute(actor=None, segment_id=pk)
    return len(ids)


def _segment_add(actor, segment: ClientGroup, client_ids) -> int:
    ids = set(
        queries.clients_visible_to(actor)
        .filter(pk__in=list(client_ids))
        .values_list("pk", flat=True)
    )
    if len(ids) != len(set(client_ids)):
        raise ValidationFailed(fields={"client_ids": [_("Unknown client.")]})
    through = Client.groups.through
    present = set(
        through.objects.filter(
            clientgroup_id=segment.pk, client_id__in=ids
        ).values_list("client_id", flat=True)
    )
    through.objects.bulk_create(
        [through(clientgroup_id=segment.pk, client_id=pk) for pk in ids - present]
    )
    count = through.objects.filter(clientgroup_id=segment.pk).count()
    ClientGroup.objects.filter(pk=segment.pk).update(member_count=count)
    segment.member_count = count
    return len(ids - present)


@transaction.atomic
def segment_members_change(
    *, actor, segment_id: int, add: list[int] = (), remove: list[int] = ()
) -> ClientGroup:
    """Add clients to / remove them from a manual segment (clients the actor
    can see). Locks the segment. Raises SegmentNotEditable for a rule segment,
    ValidationFailed for an unknown client."""
    from satu.parties.errors import SegmentNotEditable
    from satu.parties.locks import segments_for_update

    _require_perm(actor, "parties.change_clientgroup")
    segment = segments_for_update(ClientGroup.objects.filter(pk=segment_id)).first()
    if segment is None:
        raise NotFound(_("Segment not found."))
    if segment.kind == ClientGroup.Kind.RULE:
        raise SegmentNotEditable()
    added = _segment_add(actor, segment, list(add)) if add else 0
    removed = 0
    if remove:
        visible = queries.clients_visible_to(actor).filter(pk__in=list(remove))
        removed, _rows = Client.groups.through.objects.filter(
            clientgroup_id=segment.pk, client_id__in=visible.values("pk")
        ).delete()
        segment.member_count = Client.groups.through.objects.filter(
            clientgroup_id=segment.pk
        ).count()
        ClientGroup.objects.filter(pk=segment.pk).update(
            member_count=segment.member_count
        )
    if added or removed:
        audit.record(
            actor=actor,
            subject=segment,
            action="members_changed",
            changes={"added": sorted(add), "removed": sorted(remove)},
        )
    return segment
