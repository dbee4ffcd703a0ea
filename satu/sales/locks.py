"""Row locks of sales (pk order, inside the caller's transaction)."""

from django.db.models import QuerySet

from satu.sales.models import Quote, SalesOrder


def quotes_for_update(qs: QuerySet[Quote]) -> QuerySet[Quote]:
    return qs.order_by("pk").select_for_update(of=("self",))


def sales_orders_for_update(qs: QuerySet[SalesOrder]) -> QuerySet[SalesOrder]:
    return qs.order_by("pk").select_for_update(of=("self",))
