"""Errors of sales (stable codes; the API answers them as 4xx)."""

from django.utils.translation import gettext_lazy as _

from satu.core.errors import DomainError, ValidationFailed


class BadState(DomainError):
    """The quote's or order's state does not allow this (confirming a
    cancelled order, editing a sent quote...)."""

    code = "sales.bad_state"
    http_status = 409
    default_message = _("The document's state does not allow this.")


class InvalidPrice(ValidationFailed):
    code = "sales.invalid_price"
    http_status = 422
    default_message = _("The price has more decimals than the currency allows.")


class CreditLimitExceeded(DomainError):
    """Confirming would exceed the contract's credit limit or its overdue
    rule; a user with `sales.override_credit` may confirm with a reason."""

    code = "sales.credit_limit_exceeded"
    http_status = 409
    default_message = _("The client's credit limit would be exceeded.")


class OverShipment(ValidationFailed):
    code = "sales.over_shipment"
    http_status = 422
    default_message = _("You cannot ship more than was ordered.")


class OverInvoicing(ValidationFailed):
    code = "sales.over_invoicing"
    http_status = 422
    default_message = _("You cannot invoice more than was shipped.")


class CurrencyMismatch(ValidationFailed):
    code = "sales.currency_mismatch"
    http_status = 422
    default_message = _("The order's currency differs from the contract's.")


class CancelRefused(DomainError):
    code = "sales.cancel_refused"
    http_status = 409
    default_message = _(
        "Goods were shipped or invoices posted for this order: return the "
        "goods and issue a credit note first."
    )


class ReversalRequired(CancelRefused):
    """Goods left or invoices were posted: cancelling takes the goods back
    (customer returns) and credits the invoices (credit notes). The caller
    confirms with `reverse=True` and a reason; the error's `reversal`
    context lists what would be reversed."""

    code = "sales.reversal_required"
    http_status = 409
    default_message = _(
        "Goods were shipped or invoices posted for this order: cancelling "
        "takes the goods back and issues credit notes. Confirm the reversal "
        "and give a reason."
    )


class NothingToDo(ValidationFailed):
    code = "sales.nothing_to_do"
    http_status = 422
    default_message = _("There is nothing left to ship or invoice.")
