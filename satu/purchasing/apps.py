from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PurchasingConfig(AppConfig):
    name = "satu.purchasing"
    label = "purchasing"
    verbose_name = _("Purchasing")

    def ready(self):
        from satu.core import access, audit, events, features, roles
        from satu.purchasing import handlers, queries
        from satu.purchasing.models import PurchaseOrder, ReorderPoint, SupplierPrice

        features.register(
            "purchasing",
            _("Purchasing"),
            description=_(
                "Supplier prices, purchase orders, receipts and reorder proposals."
            ),
            web_prefixes=("/purchase-orders/", "/supplier-prices/", "/reorder/"),
            api_prefixes=(
                "/api/v1/purchase-orders",
                "/api/v1/supplier-prices",
                "/api/v1/reorder-points",
            ),
        )
        access.register(
            "purchasing.purchase_order",
            PurchaseOrder,
            queries.purchase_orders_visible_to,
            change_perm="purchasing.change_purchaseorder",
        )
        access.register(
            "purchasing.supplier_price",
            SupplierPrice,
            queries.supplier_prices_visible_to,
            change_perm="purchasing.change_supplierprice",
        )
        access.register(
            "purchasing.reorder_point",
            ReorderPoint,
            queries.reorder_points_visible_to,
            change_perm="purchasing.change_reorderpoint",
        )
        audit.register_action("state_changed", _("State changed"))

        # Receipts validated on the warehouse screens and invoices posted or
        # cancelled in billing update the order's received/billed figures.
        from satu.inventory.events import TransferCancelled, TransferDone

        events.subscribe(TransferDone, handlers.on_transfer_changed)
        events.subscribe(TransferCancelled, handlers.on_transfer_changed)
        from satu.billing.events import InvoiceCancelled, InvoicePosted

        events.subscribe(InvoicePosted, handlers.on_invoice_changed)
        events.subscribe(InvoiceCancelled, handlers.on_invoice_changed)

        models = ["purchaseorder", "purchaseorderline", "supplierprice", "reorderpoint"]
        viewing = [f"purchasing.view_{m}" for m in models]
        working = viewing + [
            f"purchasing.{verb}_{m}" for m in models for verb in ("add", "change")
        ]
        # A purchaser works in the warehouse role; the accountant bills.
        roles.grant(roles.WAREHOUSE, working)
        roles.grant(roles.ADMINISTRATOR, working + ["purchasing.bill_purchaseorder"])
        roles.grant(roles.ACCOUNTANT, viewing + ["purchasing.bill_purchaseorder"])
        roles.grant(roles.DIRECTOR, viewing)
