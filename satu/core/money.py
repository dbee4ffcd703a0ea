"""Money: Decimal amounts rounded to their currency's precision (ADR 007).

Babel (CLDR) knows how many decimals a currency uses: IDR and JPY none,
USD two, BHD three. Rounding is banker's rounding (ROUND_HALF_EVEN) unless a
caller asks otherwise, so sums of many rounded lines do not drift upwards.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from babel.numbers import get_currency_precision, is_currency
from django.utils.translation import gettext_lazy as _

from satu.core.errors import ValidationFailed


def currency_valid(currency: str) -> bool:
    """Whether `currency` is a known ISO 4217 code (upper case)."""
    return (
        isinstance(currency, str)
        and len(currency) == 3
        and currency.isupper()
        and is_currency(currency)
    )


def currency_precision(currency: str) -> int:
    """Decimals the currency uses (IDR 0, USD 2, BHD 3)."""
    return get_currency_precision(currency)


def money_round(amount, currency: str, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """`amount` rounded to the currency's precision."""
    exponent = Decimal(1).scaleb(-currency_precision(currency))
    return Decimal(amount).quantize(exponent, rounding=rounding)


def decimal_places(value: Decimal) -> int:
    """Significant decimals of `value` (trailing zeros do not count)."""
    value = Decimal(value)
    if not value.is_finite():
        return 0
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent)


def fits_currency(amount: Decimal, currency: str) -> bool:
    """Whether `amount` has no more decimals than the currency allows."""
    return decimal_places(amount) <= currency_precision(currency)


class CurrencyMismatch(ValidationFailed):
    code = "money.currency_mismatch"
    http_status = 422
    default_message = _("Amounts in different currencies cannot be combined.")


@dataclass(frozen=True)
class Money:
    """An amount in a currency. Adding or subtracting another currency raises
    CurrencyMismatch; `rounded()` applies the currency's precision."""

    amount: Decimal
    currency: str

    def __post_init__(self):
        if not isinstance(self.amount, Decimal):
            if isinstance(self.amount, float):
                raise TypeError("Money needs a Decimal (or int/str), not a float")
            object.__setattr__(self, "amount", Decimal(self.amount))

    def _same(self, other: "Money") -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(
                _("Cannot combine %(a)s and %(b)s amounts.")
                % {"a": self.currency, "b": other.currency}
            )

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor) -> "Money":
        if isinstance(factor, (Money, float)):
            raise TypeError("Money can only be multiplied by a Decimal or int")
        return Money(self.amount * Decimal(factor), self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> "Money":
        return Money(-self.amount, self.currency)

    def rounded(self, rounding: str = ROUND_HALF_EVEN) -> "Money":
        return Money(money_round(self.amount, self.currency, rounding), self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
