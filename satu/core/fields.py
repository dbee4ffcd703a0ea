"""Model fields for money and quantities (ARCHITECTURE §6, ADR 007).

Amounts carry four decimals so unit prices and intermediate sums keep more
precision than any currency; they are rounded per currency (`money_round`)
at line and document totals. Quantities carry six decimals (kilograms,
litres, fractions of a box).
"""

from django.db import models

AMOUNT_DIGITS, AMOUNT_PLACES = 20, 4
QUANTITY_DIGITS, QUANTITY_PLACES = 20, 6


class AmountField(models.DecimalField):
    """A money amount; the currency is a separate 3-letter field."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", AMOUNT_DIGITS)
        kwargs.setdefault("decimal_places", AMOUNT_PLACES)
        super().__init__(*args, **kwargs)


class QuantityField(models.DecimalField):
    """A quantity of goods in some unit of measure."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", QUANTITY_DIGITS)
        kwargs.setdefault("decimal_places", QUANTITY_PLACES)
        super().__init__(*args, **kwargs)
