"""Row locks of billing (pk order, inside the caller's transaction).

Order across tables, everywhere: invoices first, then payments. A credit
note and the invoice it credits are both invoices, locked together in pk
order."""

from django.db.models import QuerySet

from satu.billing.models import Contract, Invoice, Payment


def contracts_for_update(qs: QuerySet[Contract]) -> QuerySet[Contract]:
    return qs.order_by("pk").select_for_update(of=("self",))


def invoices_for_update(qs: QuerySet[Invoice]) -> QuerySet[Invoice]:
    return qs.order_by("pk").select_for_update(of=("self",))


def payments_for_update(qs: QuerySet[Payment]) -> QuerySet[Payment]:
    return qs.order_by("pk").select_for_update(of=("self",))
