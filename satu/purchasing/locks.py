"""Row locks of purchasing (pk order, inside the caller's transaction).

Order of locking in a purchasing service: PurchaseOrder → (inventory's
Transfer → Quant → StockLevel) → (billing's invoice counters)."""

from django.db.models import QuerySet

from satu.purchasing.models import PurchaseOrder, ReorderPoint, SupplierPrice


def purchase_orders_for_update(qs: QuerySet[PurchaseOrder]) -> QuerySet[PurchaseOrder]:
    return qs.order_by("pk").select_for_update(of=("self",))


def supplier_prices_for_update(qs: QuerySet[SupplierPrice]) -> QuerySet[SupplierPrice]:
    return qs.order_by("pk").select_for_update(of=("self",))


def reorder_points_for_update(qs: QuerySet[ReorderPoint]) -> QuerySet[ReorderPoint]:
    return qs.order_by("pk").select_for_update(of=("self",))
