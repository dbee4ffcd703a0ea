"""Locale-aware formatting with babel (money, numbers, dates)."""

from datetime import date, datetime
from decimal import Decimal

from babel import numbers
from babel.dates import format_date, format_datetime
from django.utils import timezone
from django.utils.translation import get_language

_LOCALES = {"en": "en_US", "id": "id_ID"}


def current_locale() -> str:
    return _LOCALES.get((get_language() or "en").split("-")[0], "en_US")


def money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return ""
    return numbers.format_currency(amount, currency, locale=current_locale())


def number(value, digits: int | None = None) -> str:
    if value is None:
        return ""
    if digits is not None:
        return numbers.format_decimal(
            value,
            format=f"#,##0.{'0' * digits}" if digits else "#,##0",
            locale=current_locale(),
        )
    return numbers.format_decimal(value, locale=current_locale())


def day(value: date | None) -> str:
    if value is None:
        return ""
    return format_date(value, format="medium", locale=current_locale())


def moment(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(
        timezone.localtime(value),
        format="medium",
        locale=current_locale(),
        tzinfo=timezone.get_current_timezone(),
    )
