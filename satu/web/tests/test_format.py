"""Template filters format money, numbers and dates the user's way."""

from datetime import UTC, date, datetime
from decimal import Decimal

from django.template import Context, Template
from django.utils import timezone, translation

TEMPLATE = Template(
    "{% load satu_format %}{{ amount|money:'IDR' }}|{{ amount|number:2 }}|"
    "{{ when|day }}|{{ at|moment }}|{{ missing|money }}"
)
VALUES = {
    "amount": Decimal("1234567.5"),
    "when": date(2025, 3, 9),
    "at": datetime(2025, 3, 9, 1, 30, tzinfo=UTC),
    "missing": None,
}


def render(language: str) -> str:
    with translation.override(language), timezone.override("Asia/Jakarta"):
        return TEMPLATE.render(Context(VALUES))


def test_english_formats():
    assert render("en") == (
        "IDR1,234,568|1,234,567.50|Mar 9, 2025|Mar 9, 2025, 8:30:00\u202fAM|"
    )


def test_indonesian_formats():
    assert render("id") == ("Rp1.234.568|1.234.567,50|9 Mar 2025|9 Mar 2025 08.30.00|")
