"""Money: per-currency rounding and currency-safe arithmetic (ADR 007)."""

from decimal import ROUND_HALF_UP, Decimal

import pytest

from satu.core.money import (
    CurrencyMismatch,
    Money,
    currency_valid,
    fits_currency,
    money_round,
)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("12345.5", "IDR", "12346"),  # half to even: 12345.5 → 12346
        ("12344.5", "IDR", "12344"),
        ("10.125", "USD", "10.12"),
        ("10.135", "USD", "10.14"),
        ("10.1349", "USD", "10.13"),
        ("999.5", "JPY", "1000"),
        ("1.2345", "BHD", "1.234"),
        ("1.2355", "BHD", "1.236"),
        ("-2.5", "IDR", "-2"),
    ],
)
def test_money_round_to_currency_precision_half_even(amount, currency, expected):
    result = money_round(Decimal(amount), currency)

    assert result == Decimal(expected)
    assert str(result) == expected


def test_money_round_other_mode_on_request():
    assert money_round(Decimal("12344.5"), "IDR", ROUND_HALF_UP) == Decimal("12345")


def test_money_adds_same_currency_and_rounds():
    total = Money(Decimal("10.005"), "USD") + Money("0.01", "USD")

    assert total == Money(Decimal("10.015"), "USD")
    assert total.rounded() == Money(Decimal("10.02"), "USD")
    assert (Money("3", "IDR") * 3).amount == Decimal("9")


def test_money_refuses_other_currency_and_floats():
    with pytest.raises(CurrencyMismatch) as info:
        Money(Decimal("1"), "USD") + Money(Decimal("1"), "IDR")
    assert info.value.code == "money.currency_mismatch"
    with pytest.raises(CurrencyMismatch):
        Money(Decimal("1"), "USD") - Money(Decimal("1"), "EUR")
    with pytest.raises(TypeError):
        Money(0.1, "USD")
    with pytest.raises(TypeError):
        Money("1", "USD") * 1.5


def test_money_is_frozen():
    money = Money(Decimal("1"), "IDR")
    with pytest.raises(AttributeError):
        money.amount = Decimal("2")


def test_currency_checks():
    assert currency_valid("IDR") and currency_valid("BHD")
    assert not currency_valid("XYZ") and not currency_valid("idr")
    assert fits_currency(Decimal("10.50"), "USD")
    assert not fits_currency(Decimal("10.5"), "IDR")
    assert fits_currency(Decimal("10.000"), "IDR")
