"""Event handlers of purchasing: keep an order's received and billed
figures in step when inventory or billing change them on their own
screens (a receipt validated by the warehouse, an invoice cancelled)."""

from satu.purchasing import services

ORIGIN = services.ORIGIN


def on_transfer_changed(event) -> None:
    if event.origin_type == ORIGIN and event.origin_id:
        services.purchase_order_sync(order_id=event.origin_id)


def on_invoice_changed(event) -> None:
    if getattr(event, "origin_type", "") == ORIGIN and event.origin_id:
        services.purchase_order_sync(order_id=event.origin_id)
