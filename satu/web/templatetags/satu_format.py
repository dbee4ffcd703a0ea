"""Locale-aware formatting in templates, following the user's language.

{% load satu_format %}
{{ order.total|money:order.currency }}  {{ qty|number:2 }}
{{ invoice.date|day }}  {{ entry.at|moment }}
"""

from datetime import datetime

from django import template
from django.utils import timezone

from satu.core import formatting

register = template.Library()


@register.filter
def money(amount, currency="IDR"):
    if amount in (None, ""):
        return ""
    return formatting.money(amount, currency or "IDR")


@register.filter
def number(value, digits=None):
    if value in (None, ""):
        return ""
    return formatting.number(value, None if digits in (None, "") else int(digits))


@register.filter
def day(value):
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        value = value.date()
    return formatting.day(value)


@register.filter
def moment(value):
    return formatting.moment(value)
