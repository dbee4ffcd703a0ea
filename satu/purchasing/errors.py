"""Errors of the purchasing domain (stable codes; the API maps them to 4xx)."""

from django.utils.translation import gettext_lazy as _

from satu.core.errors import DomainError, ValidationFailed


class BadState(DomainError):
    """The order's state does not allow this (confirming a cancelled order,
    editing a confirmed one, receiving a draft)."""

    code = "purchasing.bad_state"
    http_status = 409
    default_message = _("This purchase order is not in a state that allows this.")


class OverReceipt(ValidationFailed):
    code = "purchasing.over_receipt"
    http_status = 422
    default_message = _("You cannot receive more than was ordered and not received.")


class OverBilling(ValidationFailed):
    code = "purchasing.over_billing"
    http_status = 422
    default_message = _(
        "You cannot bill more than was received (services: more than was ordered)."
    )


class NothingToDo(DomainError):
    code = "purchasing.nothing_to_do"
    http_status = 409
    default_message = _("There is nothing left to receive or bill on this order.")


class CurrencyMismatch(ValidationFailed):
    code = "purchasing.currency_mismatch"
    http_status = 422
    default_message = _("The order's currency differs from the contract's currency.")


class InvalidContract(ValidationFailed):
    code = "purchasing.invalid_contract"
    http_status = 422
    default_message = _(
        "Pick an active purchase contract with this supplier for this order."
    )
