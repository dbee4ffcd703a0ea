from decimal import Decimal

from django import template

from satu.catalog.queries import plain

register = template.Library()


@register.filter
def normalize(value):
    """A quantity or percentage without trailing zeros: 12.000000 → 12."""
    if value in (None, ""):
        return ""
    return plain(Decimal(value))
