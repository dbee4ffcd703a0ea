"""Public reads of the parties domain. Every read takes the actor and sees
only what the record rules allow (a sales manager: own clients)."""

import difflib
import re
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Case,
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    When,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from satu.core import custom_fields
from satu.core.errors import NotFound
from satu.core.models import User
from satu.core.prepared import prepared
from satu.parties.models import (
    Channel,
    Client,
    ClientCounterparty,
    ClientGroup,
    Company,
    Contact,
    ContactMethod,
    ContactRole,
    Counterparty,
    CounterpartyDetail,
    TimelineEntry,
)

LEGAL_FORMS = {
    "pt",
    "cv",
    "tbk",
    "ud",
    "fa",
    "persero",
    "ltd",
    "llc",
    "inc",
    "co",
    "corp",
    "gmbh",
    "ag",
    "bv",
    "plc",
    "pte",
    "sdn",
    "bhd",
    "the",
}


def name_key(name: str) -> str:
    """Name without punctuation and legal forms, for duplicate matching."""
    words = re.findall(r"\w+", name.lower())
    return " ".join(w for w in words if w not in LEGAL_FORMS)[:200]


def search_terms(query: str) -> list[str]:
    """Lower-cased query; a phone-like query also as bare digits."""
    text = query.strip().lower()
    if not text:
        return []
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 4 and re.fullmatch(r"[\d\s+().-]+", text):
        return [digits]
    return [text]


def sees_all_clients(actor) -> bool:
    return actor.has_perm("parties.view_all_clients")


def clients_visible_to(actor) -> QuerySet[Client]:
    qs = Client.objects.all()
    if not actor.is_active:
        return qs.none()
    if sees_all_clients(actor):
        return qs
    return qs.filter(owner=actor)


def client_scope(actor) -> int | None | bool:
    """The record rule of `clients_visible_to` as a value, for prepared
    queries (`satu.core.prepared`): None — every client; an id — only the
    clients that user owns; False — none."""
    if actor is None or not actor.is_active:
        return False
    if sees_all_clients(actor):
        return None
    return actor.pk


def scoped(filters: dict, scope, owner_path: str = "owner_id") -> dict:
    """`filters` plus the owner condition of a `client_scope` (not False)."""
    return filters if scope is None else {**filters, owner_path: scope}


_CLIENT = prepared(lambda pk, scope: Client.objects.filter(**scoped({"pk": pk}, scope)))


def visible_client(actor, client_id) -> Client | None:
    """The client `client_id` if `actor` may see it (`clients_visible_to`;
    actor None: the system, sees every client), else None — also for an id
    that is not a number. One prepared statement (documents' hot path)."""
    scope = None if actor is None else client_scope(actor)
    if scope is False or not str(client_id).isdigit():
        return None
    return _CLIENT.first(pk=int(client_id), scope=scope)


def client_list(
    *,
    actor,
    search: str = "",
    status: str = "",
    owner_id: int | None = None,
    group_id: int | None = None,
    channel_id: int | None = None,
    archived: bool = False,
    custom: dict | None = None,
    segment_id: int | None = None,
) -> QuerySet[Client]:
    qs = clients_visible_to(actor).filter(is_archived=archived, merged_into=None)
    for term in search_terms(search):
        qs = qs.filter(search_text__contains=term)
    if status:
        qs = qs.filter(status=status)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    if group_id:
        qs = qs.filter(groups__id=group_id)
    if channel_id:
        qs = qs.filter(source_channel_id=channel_id)
    if segment_id:
        qs = qs.filter(pk__in=segment_client_ids(segment_id))
    if custom:
        qs = custom_fields.filter_queryset(qs, "parties.client", custom)
    return qs.select_related("owner", "source_channel").order_by("name", "id")


def client_groups() -> QuerySet[ClientGroup]:
    return ClientGroup.objects.order_by("name", "id")


def channels() -> QuerySet[Channel]:
    """Active channels, for pickers (the tree is shown as "parent / child")."""
    return (
        Channel.objects.filter(is_active=True)
        .select_related("parent")
        .order_by("parent__name", "name", "id")
    )


def owner_choices() -> QuerySet[User]:
    """Users a client can be assigned to."""
    return User.objects.filter(is_active=True).order_by(
        "first_name", "last_name", "username"
    )


def client_get(*, actor, client_id) -> Client:
    try:
        pk = int(client_id)
    except (TypeError, ValueError):
        raise NotFound(_("Client not found.")) from None
    client = (
        clients_visible_to(actor)
        .select_related("owner", "source_channel", "merged_into")
        .prefetch_related("groups")
        .filter(pk=pk)
        .first()
    )
    if client is None:
        raise NotFound(_("Client not found."))
    return client


def client_duplicates(
    *,
    name: str = "",
    phone: str = "",
    email: str = "",
    tax_ids: list[str] | None = None,
    exclude_id: int | None = None,
    limit: int = 10,
) -> list[dict]:
    """Clients that look like the same business: same tax id, phone or email,
    or a close name. Looks at all clients (a duplicate owned by someone else
    is still a duplicate) but returns only ids, names and reasons."""
    found: dict[int, dict] = {}

    def add(client_id: int, client_name: str, reason: str) -> None:
        entry = found.setdefault(
            client_id, {"id": client_id, "name": client_name, "reasons": []}
        )
        if reason not in entry["reasons"]:
            entry["reasons"].append(reason)

    base = Client.objects.filter(merged_into=None)
    if exclude_id:
        base = base.exclude(pk=exclude_id)
    if phone:
        for cid, cname in base.filter(
            Q(phone=phone) | Q(contact_roles__contact__methods__value=phone)
        ).values_list("id", "name")[:limit]:
            add(cid, cname, _("same phone"))
    if email:
        for cid, cname in base.filter(
            Q(email__iexact=email)
            | Q(contact_roles__contact__methods__value__iexact=email)
        ).values_list("id", "name")[:limit]:
            add(cid, cname, _("same email"))
    for tax_id in tax_ids or []:
        for cid, cname in base.filter(
            counterparty_links__counterparty__tax_id=tax_id
        ).values_list("id", "name")[:limit]:
            add(cid, cname, _("same tax id"))
    key = name_key(name)
    if key:
        candidates = base.filter(name_key__startswith=key[:4]).values_list(
            "id", "name", "name_key"
        )[:300]
        for cid, cname, ckey in candidates:
            if ckey == key or difflib.SequenceMatcher(None, ckey, key).ratio() >= 0.88:
                add(cid, cname, _("similar name"))
    return list(found.values())[:limit]


def counterparties_visible_to(actor) -> QuerySet[Counterparty]:
    if sees_all_clients(actor):
        return Counterparty.objects.all()
    linked = ClientCounterparty.objects.filter(
        counterparty=OuterRef("pk"), client__in=clients_visible_to(actor)
    )
    return Counterparty.objects.filter(Q(Exists(linked)) | Q(created_by=actor))


def counterparty_list(*, actor, search: str = "") -> QuerySet[Counterparty]:
    qs = counterparties_visible_to(actor)
    if search:
        text = search.strip()
        qs = qs.filter(Q(legal_name__icontains=text) | Q(tax_id__icontains=text))
    return qs.order_by("legal_name", "id")


def counterparty_get(*, actor, counterparty_id) -> Counterparty:
    try:
        pk = int(counterparty_id)
    except (TypeError, ValueError):
        raise NotFound(_("Counterparty not found.")) from None
    counterparty = (
        counterparties_visible_to(actor)
        .prefetch_related("bank_accounts", "details")
        .filter(pk=pk)
        .first()
    )
    if counterparty is None:
        raise NotFound(_("Counterparty not found."))
    return counterparty


def counterparty_details_on(
    counterparty: Counterparty, day: date
) -> CounterpartyDetail | None:
    """The legal name and address valid on `day` (what a document dated then shows)."""
    return (
        CounterpartyDetail.objects.filter(
            counterparty=counterparty, valid_from__lte=day
        )
        .order_by("-valid_from")
        .first()
    )


def counterparty_client_links(*, actor, counterparty: Counterparty):
    """The counterparty's links to clients the actor may see, newest first."""
    return list(
        ClientCounterparty.objects.filter(
            counterparty=counterparty, client__in=clients_visible_to(actor)
        )
        .select_related("client")
        .order_by("-valid_from", "id")
    )


def client_counterparty_links(*, client: Client, on: date | None = None):
    qs = ClientCounterparty.objects.filter(client=client).select_related("counterparty")
    if on is not None:
        qs = qs.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=on), valid_from__lte=on
        )
    return list(qs)


def contacts_visible_to(actor) -> QuerySet[Contact]:
    if sees_all_clients(actor):
        return Contact.objects.all()
    linked = ContactRole.objects.filter(
        contact=OuterRef("pk"), client__in=clients_visible_to(actor)
    )
    return Contact.objects.filter(Q(Exists(linked)) | Q(created_by=actor))


def contact_list(
    *,
    actor,
    search: str = "",
    client_id: int | None = None,
    segment_id: int | None = None,
) -> QuerySet[Contact]:
    qs = contacts_visible_to(actor)
    for term in search_terms(search):
        qs = qs.filter(search_text__contains=term)
    if client_id:
        qs = qs.filter(roles__client_id=client_id).distinct()
    if segment_id:
        qs = qs.filter(
            Exists(
                ContactRole.objects.filter(
                    contact=OuterRef("pk"),
                    client_id__in=segment_client_ids(segment_id),
                )
            )
        )
    # A contact's roles at clients the actor may not see would leak those
    # clients' names.
    roles = ContactRole.objects.select_related("client")
    if not sees_all_clients(actor):
        roles = roles.filter(client__in=clients_visible_to(actor))
    return qs.prefetch_related(
        Prefetch(
            "methods",
            queryset=ContactMethod.objects.order_by("kind", "-is_primary", "id"),
        ),
        Prefetch("roles", queryset=roles),
    ).order_by("last_name", "first_name", "id")


def contact_get(*, actor, contact_id) -> Contact:
    try:
        pk = int(contact_id)
    except (TypeError, ValueError):
        raise NotFound(_("Contact not found.")) from None
    contact = contact_list(actor=actor).filter(pk=pk).first()
    if contact is None:
        raise NotFound(_("Contact not found."))
    return contact


def client_contacts(*, client: Client) -> list[ContactRole]:
    return list(
        ContactRole.objects.filter(client=client)
        .select_related("contact")
        .prefetch_related("contact__methods")
    )


def timeline_page(
    *,
    client: Client,
    kinds: list[str] | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> tuple[list[TimelineEntry], int | None]:
    """One page of the client's timeline, newest first, in one query.

    Keyset pagination on (at, id): pass the last entry's id as `before_id`.
    Returns (entries, next_before_id or None).
    """
    qs = TimelineEntry.objects.filter(client=client).select_related("actor")
    if kinds:
        qs = qs.filter(kind__in=kinds)
    if before_id:
        anchor = (
            TimelineEntry.objects.filter(pk=before_id, client=client)
            .values("at")
            .first()
        )
        if anchor:
            qs = qs.filter(
                Q(at__lt=anchor["at"]) | Q(at=anchor["at"], id__lt=before_id)
            )
    entries = list(qs.order_by("-at", "-id")[: limit + 1])
    more = len(entries) > limit
    entries = entries[:limit]
    return entries, (entries[-1].pk if more else None)


def timeline_kinds(*, client: Client) -> list[str]:
    return list(
        TimelineEntry.objects.filter(client=client)
        .values_list("kind", flat=True)
        .distinct()
        .order_by("kind")
    )


def global_search(*, actor, query: str, limit: int = 8) -> dict:
    """Clients, contacts and counterparties matching `query`, for the top bar."""
    if len(query.strip()) < 2:
        return {"clients": [], "contacts": [], "counterparties": []}
    return {
        "clients": list(client_list(actor=actor, search=query)[:limit]),
        "contacts": list(contact_list(actor=actor, search=query)[:limit]),
        "counterparties": list(counterparty_list(actor=actor, search=query)[:limit]),
    }


def client_counts_by_status(*, actor) -> dict[str, int]:
    """Active clients the actor sees, counted per lifecycle status (one query)."""
    rows = (
        clients_visible_to(actor)
        .filter(is_archived=False, merged_into=None)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
    )
    counts = {status: 0 for status in Client.Status.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def clients_created_by_month(*, actor, months: int = 12) -> list[tuple[date, int]]:
    """New clients per calendar month (current time zone) for the last `months`
    months, oldest first, months without clients included as 0 (one query)."""
    today = timezone.localdate()
    first = today.replace(day=1)
    starts = []
    for _i in range(months):
        starts.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    starts.reverse()
    zone = timezone.get_current_timezone()
    since = datetime.combine(starts[0], time.min, tzinfo=zone)
    rows = (
        clients_visible_to(actor)
        .filter(created_at__gte=since, merged_into=None)
        .order_by()
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(n=Count("id"))
    )
    found = {}
    for row in rows:
        month = row["month"]
        key = month.date() if isinstance(month, datetime) else month
        found[key.replace(day=1)] = row["n"]
    return [(start, found.get(start, 0)) for start in starts]


def timeline_recent(*, actor, limit: int = 10) -> list[TimelineEntry]:
    """The newest timeline entries across the clients the actor sees."""
    return list(
        TimelineEntry.objects.filter(client__in=clients_visible_to(actor))
        .select_related("client", "actor")
        .order_by("-at", "-id")[:limit]
    )


# Labels of timeline kinds. Each domain registers the kinds it records (in its
# AppConfig.ready); unknown kinds read as their code ("deal.won" -> "Deal won").
_timeline_kind_labels: dict[str, str] = {}
# Summaries are rendered when shown, in the reader's language, from the
# entry's data: a lazy format string ("%(name)s ...") or a callable(data).
_timeline_summaries: dict[str, object] = {}


def register_timeline_kind(kind: str, label, summary=None) -> None:
    _timeline_kind_labels[kind] = label
    if summary is not None:
        _timeline_summaries[kind] = summary


def timeline_summary(entry: TimelineEntry) -> str:
    """The entry's text in the current language; the stored text as fallback."""
    template = _timeline_summaries.get(entry.kind)
    if template is None:
        return entry.summary
    try:
        if callable(template):
            return str(template(entry.data))
        return str(template) % entry.data
    except (KeyError, TypeError, ValueError):
        return entry.summary


def timeline_kind_label(kind: str):
    readable = kind.replace(".", " ").replace("_", " ").capitalize()
    return _timeline_kind_labels.get(kind) or readable


# ---------------------------------------------------------------- companies


_COMPANY_DEFAULT = prepared(
    lambda: Company.objects.order_by(
        Case(When(is_default=True, then=0), default=1), "pk"
    )
)


def company_default():
    """Our default legal entity (seller on documents), or None before setup."""
    return _COMPANY_DEFAULT.first()


def company_list():
    from satu.parties.models import Company

    return Company.objects.all()


# ---------------------------------------------------------------- client card
# Higher domains add sections to the client card (balance, segments, touches,
# open orders...) without parties importing them: each registers a provider
# called with (actor, client) that returns a CardSection or None (nothing to
# show, or the actor may not see it). Providers must run a fixed number of
# queries: the card is one of the busiest pages.

CARD_SECTIONS: dict[str, tuple[int, object]] = {}


class CardSection:
    """One block of the client card. `place` is "side" (left column, facts)
    or "main" (right column, above the timeline); `template` is rendered with
    `section` (this object) and `client` in its context."""

    def __init__(
        self,
        *,
        title,
        template: str,
        place: str = "side",
        context: dict | None = None,
        header: str = "",
    ):
        self.title = title
        self.template = template
        self.place = place
        self.context = context or {}
        self.header = header  # a short text shown beside the client's status

    def __repr__(self) -> str:
        return f"CardSection({self.title!r}, {self.template!r})"


def register_card_section(code: str, provider, *, order: int = 100) -> None:
    """Register `provider(actor, client) -> CardSection | None` under `code`
    (registering the same code again replaces it). Lower `order` comes first."""
    CARD_SECTIONS[code] = (order, provider)


def sections_from(registry: dict, actor, subject) -> list[CardSection]:
    """Call each `(order, provider)` of a section registry in order; keep the
    sections that are not None. Shared by the client card and the deal page."""
    sections = []
    for _order, provider in sorted(registry.values(), key=lambda item: item[0]):
        section = provider(actor, subject)
        if section is not None:
            sections.append(section)
    return sections


def card_sections(*, actor, client) -> list[CardSection]:
    return sections_from(CARD_SECTIONS, actor, client)


# ------------------------------------------------------------------ segments
# Segments are client groups (ADR 009). Other lists cut by a segment with
# `segment_client_ids(segment_id)`: one subquery on the stored membership.


def segment_list(*, actor, search: str = "", kind: str = "", active=None):
    """Segments (every user who may see clients sees the segment list; the
    members shown are limited by the record rules)."""
    if not actor.has_perm("parties.view_clientgroup"):
        return ClientGroup.objects.none()
    qs = ClientGroup.objects.all()
    if search:
        qs = qs.filter(name__icontains=search.strip())
    if kind:
        qs = qs.filter(kind=kind)
    if active is not None:
        qs = qs.filter(is_active=active)
    # Stored rows now (manual groups change with every client edit; for a
    # rule segment this equals member_count as of recomputed_at).
    return qs.annotate(members=Count("clients", distinct=True)).order_by("name", "id")


def segment_get(*, actor, segment_id) -> ClientGroup:
    try:
        pk = int(segment_id)
    except (TypeError, ValueError):
        raise NotFound(_("Segment not found.")) from None
    segment = segment_list(actor=actor).filter(pk=pk).first()
    if segment is None:
        raise NotFound(_("Segment not found."))
    return segment


def segment_client_ids(segment_id) -> QuerySet:
    """A subquery of the client ids stored as members of the segment, for
    `.filter(client_id__in=segment_client_ids(pk))` in any list."""
    return Client.groups.through.objects.filter(clientgroup_id=segment_id).values(
        "client_id"
    )


def segment_members(*, actor, segment: ClientGroup) -> QuerySet[Client]:
    """Members of the segment the actor may see (live clients, by name)."""
    return (
        clients_visible_to(actor)
        .filter(
            pk__in=segment_client_ids(segment.pk),
            is_archived=False,
            merged_into=None,
        )
        .select_related("owner", "source_channel")
        .order_by("name", "id")
    )


def segment_preview_count(*, actor, rules: dict) -> int:
    """How many clients a (cleaned) rule set matches now, of those the actor
    may see: the builder's live count."""
    from satu.parties import segments

    visible = clients_visible_to(actor)
    return segments.rules_queryset(rules).filter(pk__in=visible.values("pk")).count()


def client_segments(*, client) -> list[ClientGroup]:
    """The client's segments (uses a prefetched `groups` when there is one)."""
    return [g for g in client.groups.all() if g.is_active]
