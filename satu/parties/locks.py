"""Row locks of the parties domain (pk order, inside the caller's transaction)."""

from django.db.models import QuerySet

from satu.parties.models import ClientGroup


def segments_for_update(qs: QuerySet[ClientGroup]) -> QuerySet[ClientGroup]:
    return qs.order_by("pk").select_for_update(of=("self",))
