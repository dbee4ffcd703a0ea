from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "satu.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from satu.core import access, audit, documents, events, features, roles
        from satu.parties import queries as parties_queries
        from satu.sales import handlers, queries
        from satu.sales.models import Quote, SalesOrder

        features.register(
            "sales",
            _("Quotes and sales orders"),
            description=_(
                "Commercial proposals with PDF, sales orders with reservation, "
                "shipping and invoicing."
            ),
            web_prefixes=("/quotes/", "/sales-orders/", "/assortment/"),
            api_prefixes=(
                "/api/v1/quotes",
                "/api/v1/sales-orders",
                "/api/v1/assortment",
            ),
        )
        access.register(
            "sales.quote",
            Quote,
            queries.quotes_visible_to,
            change_perm="sales.change_quote",
        )
        access.register(
            "sales.order",
            SalesOrder,
            queries.sales_orders_visible_to,
            change_perm="sales.change_salesorder",
        )
        documents.register("sales.quote", _("Quote"), "sales/pdf/quote.html")

        for code, label in [
            ("sent", _("Sent")),
            ("accepted", _("Accepted")),
            ("rejected", _("Rejected")),
            ("confirmed", _("Confirmed")),
            ("shipped", _("Shipped")),
            ("delivery_created", _("Delivery created")),
            ("invoiced", _("Invoiced")),
            ("cancelled", _("Cancelled")),
            ("credit_override", _("Credit limit overridden")),
        ]:
            audit.register_action(code, label)

        for kind, label, summary in [
            ("sales.quote_created", _("Quote"), _("Quote %(number)s: %(total)s")),
            ("sales.quote_sent", _("Quote sent"), _("Quote %(number)s sent")),
            (
                "sales.quote_accepted",
                _("Quote accepted"),
                _("Quote %(number)s accepted (%(total)s)"),
            ),
            (
                "sales.quote_rejected",
                _("Quote rejected"),
                _("Quote %(number)s rejected"),
            ),
            (
                "sales.order_created",
                _("Sales order"),
                _("Sales order %(number)s: %(total)s"),
            ),
            (
                "sales.order_confirmed",
                _("Order confirmed"),
                _("Sales order %(number)s confirmed (%(total)s)"),
            ),
            (
                "sales.order_cancelled",
                _("Order cancelled"),
                _("Sales order %(number)s cancelled"),
            ),
            (
                "sales.order_reversed",
                _("Order cancelled and reversed"),
                _(
                    "Sales order %(number)s cancelled and reversed: returns "
                    "%(returns)s, credit notes %(credit_notes)s (%(reason)s)"
                ),
            ),
        ]:
            parties_queries.register_timeline_kind(kind, label, summary)

        parties_queries.register_card_section(
            "sales.open_documents", handlers.client_card_section, order=60
        )
        from satu.crm import queries as crm_queries

        crm_queries.register_deal_section("sales.documents", handlers.deal_section)
        from satu.inventory.events import TransferDone

        events.subscribe(TransferDone, handlers.on_transfer_done)
        from satu.core.schedules import register_schedule
        from satu.sales.tasks import expire_quotes

        register_schedule(
            "sales.quotes_expire", "15 0 * * *", expire_quotes, _("Expire quotes")
        )

        viewing = [
            "sales.view_quote",
            "sales.view_salesorder",
            "sales.view_assortmentrule",
        ]
        working = viewing + [
            "sales.add_quote",
            "sales.change_quote",
            "sales.add_salesorder",
            "sales.change_salesorder",
            # Confirming reserves, shipping creates deliveries, invoicing
            # creates invoices: through inventory's and billing's services.
            "inventory.add_reservation",
            "inventory.add_transfer",
            "inventory.change_transfer",
            "billing.add_invoice",
            "billing.change_invoice",
        ]
        configuring = [
            "sales.add_assortmentrule",
            "sales.change_assortmentrule",
            "sales.override_credit",
            "catalog.add_taxrule",
            "catalog.change_taxrule",
            "catalog.view_taxrule",
        ]
        roles.grant(roles.SALES_MANAGER, working)
        roles.grant(roles.HEAD_OF_SALES, working + configuring)
        roles.grant(roles.ADMINISTRATOR, working + configuring)
        roles.grant(roles.DIRECTOR, viewing)
        roles.grant(roles.ACCOUNTANT, viewing + ["catalog.view_taxrule"])
        roles.grant(roles.WAREHOUSE, ["sales.view_salesorder"])
