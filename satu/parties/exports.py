"""Columns and row sources for exporting clients, contacts and counterparties.

Rows come from the same `queries` the lists use, with the same filters and
record rules; related names (groups, clients of a contact...) are prefetched
per chunk and limited to records the actor may see. Custom fields become
columns headed by their label. Headers are the names the importer
recognises, so an exported file can be edited and imported again.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from satu.core import custom_fields, features
from satu.core.errors import PermissionDenied
from satu.core.exports import FORMATS, Column, UnknownFormat, export_response, iterate
from satu.core.models import CustomField
from satu.parties import queries
from satu.parties.models import (
    BankAccount,
    ClientCounterparty,
    ClientGroup,
    ContactMethod,
    ContactRole,
)


def _label(model, field: str) -> str:
    return capfirst(str(model._meta.get_field(field).verbose_name))


def _typed(definition: CustomField, value):
    """A stored custom value as the type a spreadsheet cell should hold."""
    if value is None:
        return None
    kind = definition.field_type
    if kind == CustomField.Type.NUMBER:
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return str(value)
    if kind == CustomField.Type.DATE:
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            return str(value)
    return value


def custom_columns(object_type: str) -> list[Column]:
    return [
        (d.label, lambda obj, d=d: _typed(d, (obj.custom or {}).get(d.code)))
        for d in custom_fields.definitions(object_type)
    ]


# ---------------------------------------------------------------- clients


def client_columns() -> list[Column]:
    from satu.parties.models import Client

    def owner(c):
        return c.owner.username if c.owner_id else ""

    def counterparties(c):
        return [
            f"{link.counterparty.legal_name} ({link.counterparty.tax_id})"
            if link.counterparty.tax_id
            else link.counterparty.legal_name
            for link in c.export_links
        ]

    kinds = {value: str(label) for value, label in Client.Kind.choices}
    statuses = {value: str(label) for value, label in Client.Status.choices}
    columns = [
        ("ID", lambda c: c.pk),
        (_label(Client, "name"), lambda c: c.name),
        (_label(Client, "kind"), lambda c: kinds.get(c.kind, c.kind)),
        (_label(Client, "status"), lambda c: statuses.get(c.status, c.status)),
        (_label(Client, "owner"), owner),
        (_label(Client, "groups"), lambda c: [g.name for g in c.export_groups]),
        (
            _label(Client, "source_channel"),
            lambda c: str(c.source_channel) if c.source_channel_id else "",
        ),
        (_label(Client, "phone"), lambda c: c.phone),
        (_label(Client, "email"), lambda c: c.email),
        (_label(Client, "website"), lambda c: c.website),
        (_label(Client, "region"), lambda c: c.region),
        (_label(Client, "address"), lambda c: c.address),
        (_("Counterparties"), counterparties),
        (_label(Client, "notes"), lambda c: c.notes),
        (_("Created"), lambda c: c.created_at),
        *custom_columns("parties.client"),
    ]
    if not features.is_enabled("counterparties"):
        columns = [c for c in columns if c[1] is not counterparties]
    return columns


def client_rows(*, actor, filters: dict):
    """Clients of the list (`queries.client_list` filters), related rows prefetched."""
    qs = queries.client_list(actor=actor, **filters)
    # Prefetched into plain lists (to_attr): no queryset is built per row.
    qs = qs.select_related("source_channel__parent").prefetch_related(
        Prefetch(
            "groups",
            queryset=ClientGroup.objects.order_by("name"),
            to_attr="export_groups",
        ),
        Prefetch(
            "counterparty_links",
            queryset=ClientCounterparty.objects.select_related("counterparty").order_by(
                "-valid_from", "id"
            ),
            to_attr="export_links",
        ),
    )
    return iterate(qs)


# ---------------------------------------------------------------- contacts


def contact_columns() -> list[Column]:
    from satu.parties.models import Contact

    def methods(kind):
        return lambda c: [m.value for m in c.export_methods if m.kind == kind]

    def clients(c):
        return [
            f"{r.client.name} ({r.role})" if r.role else r.client.name
            for r in c.export_roles
        ]

    return [
        ("ID", lambda c: c.pk),
        (_label(Contact, "first_name"), lambda c: c.first_name),
        (_label(Contact, "last_name"), lambda c: c.last_name),
        (_label(Contact, "position"), lambda c: c.position),
        (_("Phones"), methods(ContactMethod.Kind.PHONE)),
        (_("Emails"), methods(ContactMethod.Kind.EMAIL)),
        (_("Clients"), clients),
        (_label(Contact, "notes"), lambda c: c.notes),
        (_("Created"), lambda c: c.created_at),
        *custom_columns("parties.contact"),
    ]


def visible_roles(actor):
    """Contact roles at clients the actor may see (names of others stay hidden)."""
    return (
        ContactRole.objects.filter(client__in=queries.clients_visible_to(actor))
        .select_related("client")
        .order_by("-is_primary", "id")
    )


def contact_rows(*, actor, filters: dict):
    """Contacts of the list (`queries.contact_list` filters: search, client_id)."""
    qs = queries.contact_list(actor=actor, **filters)
    qs = qs.prefetch_related(None).prefetch_related(
        Prefetch(
            "methods",
            queryset=ContactMethod.objects.order_by("kind", "-is_primary", "id"),
            to_attr="export_methods",
        ),
        Prefetch("roles", queryset=visible_roles(actor), to_attr="export_roles"),
    )
    return iterate(qs)


# ---------------------------------------------------------------- counterparties


def counterparty_columns() -> list[Column]:
    from satu.parties.models import Counterparty

    def clients(cp):
        return [link.client.name for link in cp.export_links]

    def accounts(cp):
        return [
            f"{a.bank_name} {a.account_number} {a.currency}" for a in cp.export_accounts
        ]

    return [
        ("ID", lambda cp: cp.pk),
        (_label(Counterparty, "legal_name"), lambda cp: cp.legal_name),
        (_label(Counterparty, "tax_id"), lambda cp: cp.tax_id),
        (_label(Counterparty, "country"), lambda cp: cp.country),
        (
            _label(Counterparty, "registration_address"),
            lambda cp: cp.registration_address,
        ),
        (_("Clients"), clients),
        (_("Bank accounts"), accounts),
        (_("Created"), lambda cp: cp.created_at),
        *custom_columns("parties.counterparty"),
    ]


def counterparty_rows(*, actor, filters: dict):
    """Counterparties of the list (`queries.counterparty_list` filters: search)."""
    qs = queries.counterparty_list(actor=actor, **filters)
    qs = qs.prefetch_related(
        Prefetch(
            "client_links",
            queryset=ClientCounterparty.objects.filter(
                client__in=queries.clients_visible_to(actor)
            )
            .select_related("client")
            .order_by("-valid_from", "id"),
            to_attr="export_links",
        ),
        Prefetch(
            "bank_accounts",
            queryset=BankAccount.objects.order_by("-is_default", "id"),
            to_attr="export_accounts",
        ),
    )
    return iterate(qs)


# ---------------------------------------------------------------- entry point

FEATURES = {"contacts": "contacts", "counterparties": "counterparties"}

EXPORTS = {
    "clients": (client_rows, client_columns, "parties.view_client"),
    "contacts": (contact_rows, contact_columns, "parties.view_contact"),
    "counterparties": (
        counterparty_rows,
        counterparty_columns,
        "parties.view_counterparty",
    ),
}


def export(*, actor, what: str, fmt: str, filters: dict):
    """The download of the `what` list (clients, contacts, counterparties) as
    `fmt` (csv or xlsx), filtered like the list (`filters` are the keyword
    arguments of its query) and limited to what the actor may see.

    Raises PermissionDenied without the list's view permission,
    FeatureDisabled for a switched-off module, ValidationFailed for
    malformed custom field filters, UnknownFormat, ExportTooLarge (XLSX).
    """
    rows, columns, perm = EXPORTS[what]
    if not actor.has_perm(perm):
        raise PermissionDenied()
    if fmt not in FORMATS:
        raise UnknownFormat(
            _("Unknown export format “%(fmt)s”; use csv or xlsx.") % {"fmt": fmt}
        )
    if what in FEATURES:
        features.require(FEATURES[what])
    items = rows(actor=actor, filters=filters)
    stamp = timezone.localdate().isoformat()
    titles = {
        "clients": _("Clients"),
        "contacts": _("Contacts"),
        "counterparties": _("Counterparties"),
    }
    return export_response(fmt, items, columns(), f"{what}-{stamp}", title=titles[what])
