"""Event handlers and registry providers of sales."""

from django.utils.translation import gettext_lazy as _

from satu.parties.queries import CardSection
from satu.sales import queries, services


def on_transfer_done(event) -> None:
    """A delivery of an order was posted by the warehouse: update the
    order's shipped quantities, statuses and state."""
    if event.origin_type != services.ORDER_ORIGIN or event.origin_id is None:
        return
    if services.transfer_already_applied(event.transfer_id):
        return
    services.sales_order_refresh(order_id=event.origin_id)


def client_card_section(actor, client):
    """Open quotes and orders on the client card (two queries)."""
    if not (
        actor.has_perm("sales.view_quote") or actor.has_perm("sales.view_salesorder")
    ):
        return None
    docs = queries.open_documents_for_client(actor=actor, client_id=client.pk)
    if not docs["quotes"] and not docs["orders"]:
        return None
    return CardSection(
        title=_("Open quotes and orders"),
        template="sales/_documents_section.html",
        place="main",
        context=docs,
    )


def deal_section(actor, deal):
    """Quotes and orders of a deal on the deal page (two queries), with a
    link to quote it."""
    if not (
        actor.has_perm("sales.view_quote") or actor.has_perm("sales.view_salesorder")
    ):
        return None
    docs = queries.documents_for_deal(actor=actor, deal_id=deal.pk)
    docs["deal"] = deal
    docs["can_quote"] = actor.has_perm("sales.add_quote")
    return CardSection(
        title=_("Quotes and orders"),
        template="sales/_documents_section.html",
        place="main",
        context=docs,
    )
