from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "satu.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self):
        from satu.core import features

        features.register(
            "billing",
            _("Invoices and payments"),
            description=_(
                "Contracts, invoices, credit notes, payments with matching, "
                "receivables ageing."
            ),
            web_prefixes=(
                "/invoices/",
                "/payments/",
                "/contracts/",
                "/receivables/",
                "/cash-accounts/",
                "/bank-statements/",
            ),
            api_prefixes=(
                "/api/v1/invoices",
                "/api/v1/payments",
                "/api/v1/contracts",
                "/api/v1/receivables",
                "/api/v1/cash-accounts",
                "/api/v1/payment-purposes",
                "/api/v1/bank-statements",
            ),
        )
