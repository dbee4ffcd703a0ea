"""Row locks of the CRM domain (pk order, inside the caller's transaction)."""

from django.db.models import QuerySet

from satu.crm.models import Deal, Interaction


def deals_for_update(qs: QuerySet[Deal]) -> QuerySet[Deal]:
    return qs.order_by("pk").select_for_update(of=("self",))


def interactions_for_update(qs: QuerySet[Interaction]) -> QuerySet[Interaction]:
    return qs.order_by("pk").select_for_update(of=("self",))


def marketing_events_for_update(qs):
    return qs.order_by("pk").select_for_update(of=("self",))


def leads_for_update(qs):
    return qs.order_by("pk").select_for_update(of=("self",))
