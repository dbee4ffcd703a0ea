"""REST endpoints of the parties domain: clients, counterparties, contact
persons, client groups and channels (under /api/v1/).

Endpoints parse input, call `services` (writes) and `queries` (reads, which
apply the record rules: a sales manager's request for another manager's
client answers 404) and shape the answer. Dates travel as ISO 8601; custom
field values as `custom: {code: value}` in the stored form (text, choice,
date `YYYY-MM-DD` and number as strings, yes/no as booleans).
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import PlainValidator, WithJsonSchema

from satu.core import audit, features
from satu.core.api import UserRef
from satu.parties import queries, services

router = Router(tags=["parties"])

ClientKind = Literal["company", "person"]
ClientStatus = Literal["lead", "prospect", "client", "former"]


def _scalar(value):
    # One check instead of a union, so a bad value is one message keyed
    # `custom.<code>` rather than one per union member.
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise ValueError(_("Use a string, a number, true/false or null."))


# Values as stored (see satu.core.custom_fields); numbers may also be sent as
# JSON numbers, null clears a value.
CustomValue = Annotated[
    Any,
    PlainValidator(_scalar),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {"type": "number"},
                {"type": "boolean"},
                {"type": "null"},
            ]
        }
    ),
]
ObjectId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Str40 = Annotated[str, Field(max_length=40)]
Phone = Annotated[str, Field(max_length=64)]
Email = Annotated[str, Field(max_length=254)]
CUSTOM_DOC = (
    "Custom field values keyed by field code (GET /api/v1/custom-fields). "
    "Text, choice, date (YYYY-MM-DD) and number (decimal string) values are "
    "strings, yes/no values booleans."
)


def _id(**extra):
    return Field(..., ge=1, le=2**63 - 1, **extra)


def _optional_id(**extra):
    return Field(None, ge=1, le=2**63 - 1, **extra)


# ------------------------------------------------------------------ schemas: shared


class GroupRef(Schema):
    id: int
    name: str


class ChannelRef(Schema):
    id: int
    name: str
    full_name: str = Field(description="“Parent / child” for a sub-channel.")

    @staticmethod
    def resolve_full_name(obj) -> str:
        return str(obj)


class ClientAuditOut(Schema):
    id: int
    at: datetime
    actor: UserRef | None
    action: str
    changes: dict = Field(description="{field: [old, new]}")


# ------------------------------------------------------------------ schemas: clients


class ClientOut(Schema):
    id: int
    name: str
    kind: ClientKind
    status: ClientStatus
    owner: UserRef | None
    groups: list[GroupRef]
    source_channel: ChannelRef | None
    phone: str = Field(description="E.164, e.g. +62215550123.")
    email: str
    website: str
    region: str
    address: str
    notes: str
    custom: dict[str, CustomValue] = Field(description=CUSTOM_DOC)
    is_archived: bool
    merged_into_id: int | None
    version: int = Field(
        description="Send it back on PATCH to detect concurrent edits."
    )
    created_at: datetime
    updated_at: datetime


class ClientIn(Schema):
    name: str = Field(min_length=1, max_length=200, examples=["PT Maju Jaya"])
    kind: ClientKind = "company"
    status: ClientStatus = "prospect"
    owner_id: int | None = _optional_id(description="Default: the caller.")
    group_ids: list[ObjectId] = Field(default_factory=list, max_length=100)
    source_channel_id: int | None = _optional_id()
    phone: str = Field("", max_length=64, examples=["+62 21 555 0123"])
    email: str = Field("", max_length=254, examples=["sales@majujaya.co.id"])
    website: str = Field("", max_length=200)
    region: str = Field("", max_length=100)
    address: str = Field("", max_length=2000)
    notes: str = Field("", max_length=10000)
    custom: dict[str, CustomValue] = Field(default_factory=dict, description=CUSTOM_DOC)
    allow_duplicate: bool = Field(
        False, description="Create even when similar clients exist (else 409)."
    )


class ClientPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: ClientKind | None = None
    status: ClientStatus | None = None
    owner_id: int | None = _optional_id()
    group_ids: list[ObjectId] | None = Field(None, max_length=100)
    source_channel_id: int | None = _optional_id()
    phone: str | None = Field(None, max_length=64)
    email: str | None = Field(None, max_length=254)
    website: str | None = Field(None, max_length=200)
    region: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=2000)
    notes: str | None = Field(None, max_length=10000)
    custom: dict[str, CustomValue] | None = Field(
        None, description=CUSTOM_DOC + " Only the codes given change."
    )
    version: int | None = Field(
        None,
        ge=1,
        le=2**31 - 1,
        description="The version read; a stale one answers 409 version_conflict.",
    )


class ClientFilters(Schema):
    search: str = Field(
        "",
        max_length=200,
        description="Substring of name, phone, email, tax id, contact or legal name.",
    )
    status: ClientStatus | None = None
    owner_id: int | None = _optional_id()
    group_id: int | None = _optional_id()
    channel_id: int | None = _optional_id()
    archived: bool = Field(False, description="List archived clients instead.")
    segment_id: int | None = _optional_id(description="Members of this segment.")


class MergeIn(Schema):
    merged_id: int = _id(description="The client that disappears into this one.")


class TimelineOut(Schema):
    id: int
    at: datetime
    kind: str
    summary: str
    actor: UserRef | None
    subject_type: str
    subject_id: int | None
    url: str
    data: dict


class TimelineParams(Schema):
    kind: list[Str40] | None = Field(
        None, description="Only these kinds (repeat the parameter or comma-separate)."
    )
    before: int | None = _optional_id(description="The last id of the previous page.")
    page_size: int = Field(50, ge=1, le=200)


class TimelinePage(Schema):
    items: list[TimelineOut]
    count: int
    next: str | None = Field(description="URL of the next (older) page, or null.")


class CounterpartyRef(Schema):
    id: int
    legal_name: str
    country: str
    tax_id: str


class ClientCounterpartyOut(Schema):
    id: int
    counterparty: CounterpartyRef
    valid_from: date
    valid_to: date | None


class LinkFilters(Schema):
    on: date | None = Field(None, description="Only links valid on this day.")


class CounterpartyLinkIn(Schema):
    counterparty_id: int = _id()
    valid_from: date | None = Field(None, description="Default: today.")
    valid_to: date | None = None


# ------------------------------------------------------------------ schemas: contacts


class ContactClientOut(Schema):
    id: int
    client_id: int
    client_name: str
    role: str
    is_primary: bool

    @staticmethod
    def resolve_client_name(obj) -> str:
        return obj.client.name


def _methods(contact, kind: str) -> list[str]:
    return [m.value for m in contact.methods.all() if m.kind == kind]


class ContactOut(Schema):
    id: int
    first_name: str
    last_name: str
    full_name: str
    position: str
    notes: str
    phones: list[str] = Field(description="E.164, primary first.")
    emails: list[str]
    clients: list[ContactClientOut] = Field(
        description="Roles at clients the caller sees."
    )
    custom: dict[str, CustomValue] = Field(description=CUSTOM_DOC)
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_full_name(obj) -> str:
        return str(obj)

    @staticmethod
    def resolve_phones(obj) -> list[str]:
        return _methods(obj, "phone")

    @staticmethod
    def resolve_emails(obj) -> list[str]:
        return _methods(obj, "email")

    @staticmethod
    def resolve_clients(obj) -> list:
        return list(obj.roles.all())


class ContactRef(Schema):
    id: int
    first_name: str
    last_name: str
    full_name: str
    position: str
    phones: list[str]
    emails: list[str]

    @staticmethod
    def resolve_full_name(obj) -> str:
        return str(obj)

    @staticmethod
    def resolve_phones(obj) -> list[str]:
        return _methods(obj, "phone")

    @staticmethod
    def resolve_emails(obj) -> list[str]:
        return _methods(obj, "email")


class ClientContactOut(Schema):
    id: int
    role: str
    is_primary: bool
    contact: ContactRef


class ClientRoleIn(Schema):
    client_id: int = _id()
    role: str = Field("", max_length=100, examples=["Purchaser"])
    is_primary: bool = False


class ContactIn(Schema):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field("", max_length=100)
    position: str = Field("", max_length=100)
    phones: list[Phone] = Field(
        default_factory=list, max_length=20, examples=[["+62 812 3456 7890"]]
    )
    emails: list[Email] = Field(
        default_factory=list, max_length=20, examples=[["budi@majujaya.co.id"]]
    )
    notes: str = Field("", max_length=10000)
    custom: dict[str, CustomValue] = Field(default_factory=dict, description=CUSTOM_DOC)
    client_roles: list[ClientRoleIn] = Field(default_factory=list, max_length=50)


class ContactPatch(Schema):
    first_name: str | None = Field(None, min_length=1, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    position: str | None = Field(None, max_length=100)
    phones: list[Phone] | None = Field(
        None, max_length=20, description="Replaces all phones when given."
    )
    emails: list[Email] | None = Field(
        None, max_length=20, description="Replaces all emails when given."
    )
    notes: str | None = Field(None, max_length=10000)
    custom: dict[str, CustomValue] | None = Field(None, description=CUSTOM_DOC)
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class ContactLinkIn(Schema):
    client_id: int = _id()
    role: str = Field("", max_length=100)
    is_primary: bool = False


class ContactFilters(Schema):
    search: str = Field("", max_length=200)
    client_id: int | None = _optional_id()
    segment_id: int | None = _optional_id(description="Contacts of this segment.")


# ----------------------------------------------------------- schemas: counterparties


class BankAccountOut(Schema):
    id: int
    bank_name: str
    account_number: str
    currency: str
    is_default: bool


class BankAccountIn(Schema):
    bank_name: str = Field(min_length=1, max_length=100, examples=["Bank Central Asia"])
    account_number: str = Field(min_length=1, max_length=64, examples=["1234567890"])
    currency: str = Field("IDR", min_length=3, max_length=3)
    is_default: bool = False


class CounterpartyDetailOut(Schema):
    valid_from: date
    legal_name: str
    registration_address: str


class CounterpartyListOut(Schema):
    id: int
    legal_name: str
    country: str
    tax_id: str
    registration_address: str
    custom: dict[str, CustomValue] = Field(description=CUSTOM_DOC)
    version: int
    created_at: datetime
    updated_at: datetime


class CounterpartyOut(CounterpartyListOut):
    bank_accounts: list[BankAccountOut]
    details: list[CounterpartyDetailOut] = Field(
        description="Dated legal name and address, newest first: a document uses "
        "the row valid on its date."
    )


class CounterpartyIn(Schema):
    legal_name: str = Field(min_length=1, max_length=255, examples=["PT Maju Jaya Tbk"])
    tax_id: str = Field("", max_length=64, examples=["013000666091000"])
    country: str = Field("ID", min_length=2, max_length=2)
    registration_address: str = Field("", max_length=2000)
    valid_from: date | None = Field(None, description="Start of the link and details.")
    custom: dict[str, CustomValue] = Field(default_factory=dict, description=CUSTOM_DOC)
    client_id: int | None = _optional_id(description="Link to this client at once.")
    bank_accounts: list[BankAccountIn] = Field(default_factory=list, max_length=20)


class CounterpartyPatch(Schema):
    legal_name: str | None = Field(None, min_length=1, max_length=255)
    tax_id: str | None = Field(None, max_length=64)
    country: str | None = Field(None, min_length=2, max_length=2)
    registration_address: str | None = Field(None, max_length=2000)
    custom: dict[str, CustomValue] | None = Field(None, description=CUSTOM_DOC)
    effective_date: date | None = Field(
        None, description="From when a new legal name or address holds (default today)."
    )
    version: int | None = Field(None, ge=1, le=2**31 - 1)


class CounterpartyFilters(Schema):
    search: str = Field("", max_length=200, description="Legal name or tax id.")


# ----------------------------------------------------------- schemas: groups, channels


class ClientGroupOut(Schema):
    id: int
    name: str
    description: str


class ClientGroupIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=2000)


class ChannelOut(Schema):
    id: int
    name: str
    full_name: str
    parent_id: int | None
    is_active: bool

    @staticmethod
    def resolve_full_name(obj) -> str:
        return str(obj)


class ChannelIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    parent_id: int | None = _optional_id()


# ------------------------------------------------------------------ clients


def _custom_filters(request) -> dict:
    return {k: v for k, v in request.GET.items() if k.startswith("cf_")}


@router.get("/clients", response=list[ClientOut])
@paginate
def list_clients(request, filters: Query[ClientFilters]):
    """Clients the caller may see, by name.

    Custom fields filter as `cf_<code>=value` (substring for text fields,
    exact otherwise).
    """
    return queries.client_list(
        actor=request.auth,
        search=filters.search,
        status=filters.status or "",
        owner_id=filters.owner_id,
        group_id=filters.group_id,
        channel_id=filters.channel_id,
        archived=filters.archived,
        custom=_custom_filters(request),
        segment_id=filters.segment_id,
    ).prefetch_related("groups")


@router.post("/clients", response={201: ClientOut})
def post_client(request, payload: ClientIn):
    """Create a client. Similar existing clients (same phone, email, tax id
    or a close name) answer 409 `parties.possible_duplicate` with
    `candidates`, unless `allow_duplicate` is true."""
    client = services.client_create(actor=request.auth, **payload.model_dump())
    return Status(201, queries.client_get(actor=request.auth, client_id=client.pk))


@router.get("/clients/{client_id}", response=ClientOut)
def get_client(request, client_id: int):
    return queries.client_get(actor=request.auth, client_id=client_id)


@router.patch("/clients/{client_id}", response=ClientOut)
def patch_client(request, client_id: int, payload: ClientPatch):
    """Change the fields given; with `version`, refuse if someone else
    changed the client since (409 `version_conflict`)."""
    changes = payload.model_dump(exclude_unset=True)
    services.client_update(actor=request.auth, client_id=client_id, **changes)
    return queries.client_get(actor=request.auth, client_id=client_id)


@router.post("/clients/{client_id}/archive", response=ClientOut)
def archive_client(request, client_id: int):
    """Hide the client from lists (it stays searchable with `archived=true`)."""
    services.client_archive(actor=request.auth, client_id=client_id, archived=True)
    return queries.client_get(actor=request.auth, client_id=client_id)


@router.post("/clients/{client_id}/restore", response=ClientOut)
def restore_client(request, client_id: int):
    services.client_archive(actor=request.auth, client_id=client_id, archived=False)
    return queries.client_get(actor=request.auth, client_id=client_id)


@router.post("/clients/{client_id}/merge", response=ClientOut)
def merge_client(request, client_id: int, payload: MergeIn):
    """Merge client `merged_id` into this one; answers the survivor."""
    services.client_merge(
        actor=request.auth, survivor_id=client_id, merged_id=payload.merged_id
    )
    return queries.client_get(actor=request.auth, client_id=client_id)


@router.get("/clients/{client_id}/timeline", response=TimelinePage)
def list_client_timeline(request, client_id: int, params: Query[TimelineParams]):
    """The client's history, newest first (keyset pages: follow `next`)."""
    client = queries.client_get(actor=request.auth, client_id=client_id)
    kinds = [
        k.strip() for value in params.kind or [] for k in value.split(",") if k.strip()
    ]
    entries, next_before = queries.timeline_page(
        client=client,
        kinds=kinds or None,
        before_id=params.before,
        limit=params.page_size,
    )
    count = (
        client.timeline.filter(kind__in=kinds).count()
        if kinds
        else (client.timeline.count())
    )
    next_url = None
    if next_before is not None:
        query = request.GET.copy()
        query["before"] = str(next_before)
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return {"items": entries, "count": count, "next": next_url}


@router.get("/clients/{client_id}/counterparties", response=list[ClientCounterpartyOut])
@paginate
def list_client_counterparties(request, client_id: int, params: Query[LinkFilters]):
    """The legal entities the client trades through, with their periods."""
    features.require("counterparties")
    client = queries.client_get(actor=request.auth, client_id=client_id)
    return queries.client_counterparty_links(client=client, on=params.on)


@router.post(
    "/clients/{client_id}/counterparties", response={201: ClientCounterpartyOut}
)
def post_client_counterparty(request, client_id: int, payload: CounterpartyLinkIn):
    """Link an existing counterparty to the client for a period."""
    link = services.counterparty_link(
        actor=request.auth, client_id=client_id, **payload.model_dump()
    )
    return Status(201, link)


@router.get("/clients/{client_id}/contacts", response=list[ClientContactOut])
@paginate
def list_client_contacts(request, client_id: int):
    """The contact persons acting for the client, with their roles."""
    features.require("contacts")
    client = queries.client_get(actor=request.auth, client_id=client_id)
    return queries.client_contacts(client=client)


@router.get("/clients/{client_id}/audit", response=list[ClientAuditOut])
@paginate
def list_client_audit(request, client_id: int):
    """Who changed what on the client, newest first."""
    client = queries.client_get(actor=request.auth, client_id=client_id)
    return audit.entries_for(client).order_by("-at", "-id")


# ------------------------------------------------------------------ counterparties


@router.get("/counterparties", response=list[CounterpartyListOut])
@paginate
def list_counterparties(request, filters: Query[CounterpartyFilters]):
    """Legal entities the caller may see (linked to his clients or created
    by him; everyone's with `parties.view_all_clients`)."""
    return queries.counterparty_list(actor=request.auth, search=filters.search)


@router.post("/counterparties", response={201: CounterpartyOut})
def post_counterparty(request, payload: CounterpartyIn):
    """Register a legal entity (tax id checked per country), optionally
    linked to a client and with bank accounts."""
    counterparty = services.counterparty_create(
        actor=request.auth, **payload.model_dump()
    )
    return Status(
        201,
        queries.counterparty_get(actor=request.auth, counterparty_id=counterparty.pk),
    )


@router.get("/counterparties/{counterparty_id}", response=CounterpartyOut)
def get_counterparty(request, counterparty_id: int):
    return queries.counterparty_get(actor=request.auth, counterparty_id=counterparty_id)


@router.patch("/counterparties/{counterparty_id}", response=CounterpartyOut)
def patch_counterparty(request, counterparty_id: int, payload: CounterpartyPatch):
    """Change a counterparty; a new legal name or address is dated from
    `effective_date`, so documents dated before keep the old one."""
    features.require("counterparties")
    services.counterparty_update(
        actor=request.auth,
        counterparty_id=counterparty_id,
        **payload.model_dump(exclude_unset=True),
    )
    return queries.counterparty_get(actor=request.auth, counterparty_id=counterparty_id)


@router.post(
    "/counterparties/{counterparty_id}/bank-accounts", response={201: BankAccountOut}
)
def post_counterparty_bank_account(
    request, counterparty_id: int, payload: BankAccountIn
):
    features.require("counterparties")
    account = services.bank_account_add(
        actor=request.auth, counterparty_id=counterparty_id, **payload.model_dump()
    )
    return Status(201, account)


# ------------------------------------------------------------------ contacts


@router.get("/contacts", response=list[ContactOut])
@paginate
def list_contacts(request, filters: Query[ContactFilters]):
    """Contact persons the caller may see (acting for his clients or created
    by him), by name; `search` matches name, position, phone and email."""
    return queries.contact_list(
        actor=request.auth,
        search=filters.search,
        client_id=filters.client_id,
        segment_id=filters.segment_id,
    )


@router.post("/contacts", response={201: ContactOut})
def post_contact(request, payload: ContactIn):
    """Create a contact person with phones, emails and roles at clients."""
    contact = services.contact_create(actor=request.auth, **payload.model_dump())
    return Status(201, queries.contact_get(actor=request.auth, contact_id=contact.pk))


@router.get("/contacts/{contact_id}", response=ContactOut)
def get_contact(request, contact_id: int):
    return queries.contact_get(actor=request.auth, contact_id=contact_id)


@router.patch("/contacts/{contact_id}", response=ContactOut)
def patch_contact(request, contact_id: int, payload: ContactPatch):
    """Change the fields given; `phones`/`emails` replace the stored lists."""
    services.contact_update(
        actor=request.auth,
        contact_id=contact_id,
        **payload.model_dump(exclude_unset=True),
    )
    return queries.contact_get(actor=request.auth, contact_id=contact_id)


@router.post("/contacts/{contact_id}/clients", response={201: ContactClientOut})
def post_contact_client(request, contact_id: int, payload: ContactLinkIn):
    """Make the contact act for a (further) client in a role."""
    link = services.contact_link(
        actor=request.auth, contact_id=contact_id, **payload.model_dump()
    )
    return Status(201, link)


# ------------------------------------------------------------------ groups, channels


@router.get("/client-groups", response=list[ClientGroupOut])
@paginate
def list_client_groups(request):
    return queries.client_groups()


@router.post("/client-groups", response={201: ClientGroupOut})
def post_client_group(request, payload: ClientGroupIn):
    group = services.client_group_create(actor=request.auth, **payload.model_dump())
    return Status(201, group)


@router.get("/channels", response=list[ChannelOut])
@paginate
def list_channels(request):
    """Active advertising channels (a tree: `parent_id`)."""
    return queries.channels()


@router.post("/channels", response={201: ChannelOut})
def post_channel(request, payload: ChannelIn):
    channel = services.channel_create(actor=request.auth, **payload.model_dump())
    return Status(201, channel)


# ------------------------------------------------------------------ segments
# Segments are client groups (ADR 009); /client-groups stays for pickers.

SegmentKind = Literal["manual", "rule"]
RULES_DOC = (
    '{"groups": [[{"field": "status", "operator": "eq", "value": "client"}, '
    "...], ...]}: the conditions of one inner list must all hold, a client "
    "matching any inner list is a member. Fields and operators: "
    "GET /api/v1/segments/fields."
)


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    kind: SegmentKind
    rules: dict
    is_active: bool
    member_count: int = Field(description="Members at the last recompute.")
    members: int = Field(description="Members stored now.")
    recomputed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class SegmentIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    kind: SegmentKind = "manual"
    rules: dict | None = Field(None, description=RULES_DOC)
    client_ids: list[ObjectId] = Field(
        default_factory=list,
        max_length=1000,
        description="First members of a manual segment.",
    )


class SegmentPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=2000)
    kind: SegmentKind | None = None
    rules: dict | None = Field(None, description=RULES_DOC)
    is_active: bool | None = None
    version: int | None = None


class SegmentFilters(Schema):
    search: str = Field("", max_length=100)
    kind: SegmentKind | None = None
    active: bool | None = None


class SegmentMembersIn(Schema):
    add: list[ObjectId] = Field(default_factory=list, max_length=1000)
    remove: list[ObjectId] = Field(default_factory=list, max_length=1000)


class SegmentRecomputeOut(Schema):
    members: int
    added: int
    removed: int


class SegmentFieldOut(Schema):
    code: str
    label: str
    type: str
    operators: list[dict]
    choices: list[dict]


@router.get("/segments", response=list[SegmentOut])
@paginate
def list_segments(request, filters: Query[SegmentFilters]):
    """Segments (manual and rule client groups), by name."""
    return queries.segment_list(
        actor=request.auth,
        search=filters.search,
        kind=filters.kind or "",
        active=filters.active,
    )


@router.get("/segments/fields", response=list[SegmentFieldOut])
def list_segment_fields(request):
    """What a rule may test: each field with its operators (and whether they
    take a value: one, list, text, int, date, number or null) and choices."""
    from satu.parties import segments

    return segments.field_catalogue()


@router.post("/segments", response={201: SegmentOut})
def post_segment(request, payload: SegmentIn):
    """Create a segment; a rule segment's members are computed at once. A rule
    on an unknown field, or an operator/value the field does not take,
    answers 422 `parties.segment_rule_invalid` and nothing is stored."""
    segment = services.segment_create(actor=request.auth, **payload.model_dump())
    return Status(201, queries.segment_get(actor=request.auth, segment_id=segment.pk))


@router.get("/segments/{segment_id}", response=SegmentOut)
def get_segment(request, segment_id: int):
    return queries.segment_get(actor=request.auth, segment_id=segment_id)


@router.patch("/segments/{segment_id}", response=SegmentOut)
def patch_segment(request, segment_id: int, payload: SegmentPatch):
    """Change the fields given; new rules are checked and the members
    recomputed. With `version`, a stale edit answers 409."""
    changes = payload.model_dump(exclude_unset=True)
    services.segment_update(actor=request.auth, segment_id=segment_id, **changes)
    return queries.segment_get(actor=request.auth, segment_id=segment_id)


@router.post("/segments/{segment_id}/recompute", response=SegmentRecomputeOut)
def recompute_segment(request, segment_id: int):
    """Recompute a rule segment's stored members now (409 for a manual one)."""
    queries.segment_get(actor=request.auth, segment_id=segment_id)
    return services.segment_recompute(actor=request.auth, segment_id=segment_id)


@router.get("/segments/{segment_id}/members", response=list[ClientOut])
@paginate
def list_segment_members(request, segment_id: int):
    """The stored members the caller may see, by name."""
    segment = queries.segment_get(actor=request.auth, segment_id=segment_id)
    return queries.segment_members(
        actor=request.auth, segment=segment
    ).prefetch_related("groups")


@router.post("/segments/{segment_id}/members", response=SegmentOut)
def post_segment_members(request, segment_id: int, payload: SegmentMembersIn):
    """Add clients to / remove them from a manual segment."""
    queries.segment_get(actor=request.auth, segment_id=segment_id)
    services.segment_members_change(
        actor=request.auth,
        segment_id=segment_id,
        add=payload.add,
        remove=payload.remove,
    )
    return queries.segment_get(actor=request.auth, segment_id=segment_id)
