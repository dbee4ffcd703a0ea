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
        from satu.core import audit, roles
        from satu.core.books import register_book_check
        from satu.inventory import books

        register_book_check("inventory", books.check_inventory)
        audit.register_action("state_changed", _("State changed"))
        from satu.parties import queries as parties_queries

        parties_queries.register_timeline_kind(
            "inventory.delivered",
            _("Delivery shipped"),
            _("Delivery %(number)s shipped (%(lines)s lines)"),
        )
        parties_queries.register_timeline_kind(
            "inventory.returned",
            _("Goods returned"),
            _("Return %(number)s received (%(lines)s lines)"),
        )

        models = [
            "warehouse",
            "location",
            "lot",
            "stockmove",
            "stocklevel",
            "reservation",
            "transfer",
            "inventorycount",
            "writeoffreason",
        ]
        viewing = [f"inventory.view_{m}" for m in models]
        working = viewing + [
            f"inventory.{verb}_{m}" for m in models for verb in ("add", "change")
        ]
        roles.grant(roles.WAREHOUSE, working)
        roles.grant(roles.ADMINISTRATOR, working)
        # Sales reserve stock and open deliveries when they confirm orders.
        sales = viewing + [
            "inventory.add_reservation",
            "inventory.change_reservation",
            "inventory.add_transfer",
        ]
        roles.grant(roles.SALES_MANAGER, sales)
        roles.grant(roles.HEAD_OF_SALES, sales)
        roles.grant(roles.DIRECTOR, viewing)
        roles.grant(roles.ACCOUNTANT, viewing)
