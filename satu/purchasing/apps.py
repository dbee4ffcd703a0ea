from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PurchasingConfig(AppConfig):
    name = "satu.purchasing"
    label = "purchasing"
    verbose_name = _("Purchasing")

    def ready(self):
        from satu.core import features

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
