from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "satu.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from satu.core import features

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
