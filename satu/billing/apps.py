from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "satu.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self):
        from satu.billing import books, queries
        from satu.billing.models import Contract, Invoice, Payment
        from satu.core import access, audit, documents, features, roles
        from satu.core.books import register_book_check
        from satu.parties import queries as parties_queries

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
                "/settings/payment-purposes/",
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
        access.register(
            "billing.invoice",
            Invoice,
            queries.invoices_visible_to,
            change_perm="billing.change_invoice",
        )
        access.register(
            "billing.payment",
            Payment,
            queries.payments_visible_to,
            change_perm="billing.change_payment",
        )
        access.register(
            "billing.contract",
            Contract,
            queries.contracts_visible_to,
            change_perm="billing.change_contract",
        )
        for code, label in [
            ("posted", _("Posted")),
            ("cancelled", _("Cancelled")),
            ("sent", _("Sent by e-mail")),
            ("allocated", _("Allocated to invoices")),
            ("deallocated", _("Allocation removed")),
            ("imported", _("Imported")),
            ("deleted", _("Deleted")),
        ]:
            audit.register_action(code, label)

        def kind_label(data):
            try:
                return Invoice.Kind(data.get("kind")).label
            except ValueError:
                return _("Invoice")

        def invoice_summary(template):
            def render(data):
                return template % {"kind": kind_label(data), "number": data["number"]}

            return render

        def payment_summary(template):
            def render(data):
                from satu.core.formatting import money

                return template % {
                    "number": data["number"],
                    "amount": money(data.get("amount", "0"), data.get("currency"))
                    if data.get("currency")
                    else data.get("amount", ""),
                }

            return render

        for kind, label, summary in [
            (
                "invoice.posted",
                _("Invoice"),
                invoice_summary(_("%(kind)s %(number)s issued")),
            ),
            (
                "invoice.cancelled",
                _("Invoice cancelled"),
                invoice_summary(_("%(kind)s %(number)s cancelled")),
            ),
            (
                "payment.received",
                _("Payment received"),
                payment_summary(_("Payment %(number)s received: %(amount)s")),
            ),
            (
                "payment.made",
                _("Payment made"),
                payment_summary(_("Payment %(number)s made: %(amount)s")),
            ),
            (
                "payment.cancelled",
                _("Payment cancelled"),
                payment_summary(_("Payment %(number)s cancelled")),
            ),
        ]:
            parties_queries.register_timeline_kind(kind, label, summary)

        def balance_section(actor, client):
            if not actor.has_perm("billing.view_invoice"):
                return None
            balances = queries.client_balance(client_id=client.pk)
            if not balances:
                return None
            from satu.core.formatting import money

            main = balances[0]
            header = _("Receivable %(amount)s") % {
                "amount": money(main.receivable, main.currency)
            }
            if main.overdue:
                header += " " + _("(%(amount)s overdue)") % {
                    "amount": money(main.overdue, main.currency)
                }
            return parties_queries.CardSection(
                title=_("Balance"),
                template="billing/_client_balance.html",
                place="side",
                context={"balances": balances},
                header=header,
            )

        parties_queries.register_card_section(
            "billing.balance", balance_section, order=30
        )
        documents.register("billing.invoice", _("Invoice"), "billing/pdf/invoice.html")
        register_book_check("billing", books.check)

        viewing = [
            "billing.view_invoice",
            "billing.view_contract",
            "billing.view_payment",
        ]
        selling = viewing + ["billing.add_invoice"]
        everything = [
            f"billing.{action}_{model}"
            for model in (
                "invoice",
                "contract",
                "payment",
                "cashaccount",
                "paymentpurpose",
                "bankstatement",
            )
            for action in ("view", "add", "change")
        ] + ["billing.view_all_invoices"]
        roles.grant(roles.SALES_MANAGER, selling)
        roles.grant(roles.HEAD_OF_SALES, selling + ["billing.add_contract"])
        roles.grant(roles.ACCOUNTANT, everything)
        roles.grant(roles.ADMINISTRATOR, everything)
        roles.grant(
            roles.DIRECTOR,
            viewing
            + [
                "billing.view_cashaccount",
                "billing.view_paymentpurpose",
                "billing.view_bankstatement",
                "billing.view_all_invoices",
            ],
        )
