from django.utils.translation import gettext_lazy as _

from satu.core.errors import DomainError, ValidationFailed


class NoPrice(DomainError):
    """No active price list in the currency has a price for the product."""

    code = "catalog.no_price"
    http_status = 404
    default_message = _("No price list has a price for this product.")


class UnknownUnit(ValidationFailed):
    code = "catalog.unknown_unit"
    http_status = 422
    default_message = _("This unit is not defined for the product.")


class InexactConversion(ValidationFailed):
    code = "catalog.inexact_conversion"
    http_status = 422
    default_message = _(
        "This quantity cannot be converted exactly; use the smaller unit."
    )


class ProductArchived(DomainError):
    code = "catalog.product_archived"
    http_status = 409
    default_message = _("This product is archived; restore it first.")
