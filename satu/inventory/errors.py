"""Errors of the inventory domain (stable codes; the API maps them to 4xx)."""

from django.utils.translation import gettext_lazy as _

from satu.core.errors import DomainError, ValidationFailed


class InsufficientStock(DomainError):
    """Not enough stock (on hand for a move, available for a reservation).

    `shortages` lists every short product:
    [{"product_id", "warehouse_id", "requested", "available"}] (Decimals).
    """

    code = "inventory.insufficient_stock"
    http_status = 409
    default_message = _("Not enough stock.")

    def __init__(self, message=None, *, shortages: list[dict] | None = None, **kw):
        self.shortages = shortages or []
        super().__init__(message, shortages=self.shortages, **kw)


class InvalidQuantity(ValidationFailed):
    code = "inventory.invalid_quantity"
    http_status = 422
    default_message = _("Enter a quantity greater than zero with at most 6 decimals.")


class LotRequired(ValidationFailed):
    code = "inventory.lot_required"
    http_status = 422
    default_message = _("This product is tracked by lot or serial number; name one.")


class SerialQuantity(ValidationFailed):
    """A serial number moves one unit at a time and a location holds it once."""

    code = "inventory.serial_quantity"
    http_status = 422
    default_message = _("A serial number stands for exactly one unit.")


class BadState(DomainError):
    code = "inventory.bad_state"
    http_status = 409
    default_message = _("This document is not in a state that allows this.")


class InvalidLocation(ValidationFailed):
    code = "inventory.invalid_location"
    http_status = 422
    default_message = _("These locations cannot be used for this move.")


class NotStockable(ValidationFailed):
    code = "inventory.not_stockable"
    http_status = 422
    default_message = _("Only goods are kept in stock (not services or kits).")


class LotExpired(ValidationFailed):
    """An expired lot (expires_on before the move's date) cannot be shipped,
    issued or transferred out; it can still be written off or counted."""

    code = "inventory.lot_expired"
    http_status = 422
    default_message = _("This lot has expired; write it off instead of moving it out.")
