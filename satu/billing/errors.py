"""Errors of billing (stable codes; the API answers them as 4xx)."""

from django.utils.translation import gettext_lazy as _

from satu.core.errors import DomainError, ValidationFailed
from satu.core.money import CurrencyMismatch  # noqa: F401  (money.currency_mismatch)


class BadState(DomainError):
    """The document's state does not allow this (posting twice, editing a
    posted invoice, cancelling a paid one)."""

    code = "billing.bad_state"
    http_status = 409
    default_message = _("The document's state does not allow this.")


class InvoiceCancelled(DomainError):
    code = "billing.invoice_cancelled"
    http_status = 409
    default_message = _("This invoice is cancelled; it cannot be paid.")


class OverCredit(ValidationFailed):
    code = "billing.over_credit"
    http_status = 422
    default_message = _(
        "A credit note cannot credit more than was invoiced minus what was "
        "already credited."
    )


class OverAllocation(ValidationFailed):
    """More than the payment's unallocated amount or the invoice's due."""

    code = "billing.over_allocation"
    http_status = 422
    default_message = _(
        "The amount is more than the payment's unallocated amount or the "
        "invoice's amount due."
    )


class PartyMismatch(ValidationFailed):
    code = "billing.party_mismatch"
    http_status = 422
    default_message = _("The payment and the invoice belong to different parties.")


class DirectionMismatch(ValidationFailed):
    code = "billing.direction_mismatch"
    http_status = 422
    default_message = _(
        "Money received pays customer invoices and supplier credit notes; money "
        "paid out pays supplier invoices and customer credit notes."
    )


class TooManyDecimals(ValidationFailed):
    code = "money.too_many_decimals"
    http_status = 422
    default_message = _("The amount has more decimals than the currency allows.")


class CreditLimitExceeded(DomainError):
    """Raised by callers (sales) through `credit_check`."""

    code = "billing.credit_limit_exceeded"
    http_status = 409
    default_message = _("The client's credit limit would be exceeded.")


class StatementInvalid(ValidationFailed):
    code = "billing.statement_invalid"
    http_status = 422
    default_message = _("The bank statement cannot be imported.")
