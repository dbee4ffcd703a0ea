from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "satu.inventory"
    label = "inventory"
    verbose_name = _("Inventory")

    def ready(self):
        from satu.core import features

        features.register(
            "inventory",
            _("Warehouse"),
            description=_(
                "Warehouses, stock moves, transfers, inventory counts and valuation."
            ),
            web_prefixes=(
                "/stock/",
                "/warehouses/",
                "/transfers/",
                "/inventory-counts/",
            ),
            api_prefixes=(
                "/api/v1/warehouses",
                "/api/v1/locations",
                "/api/v1/stock",
                "/api/v1/stock-moves",
                "/api/v1/transfers",
                "/api/v1/lots",
                "/api/v1/inventory-counts",
            ),
        )
