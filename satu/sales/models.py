"""Assortment, quotes, sales orders, tax computation (SAL-1..3).
See docs/domains/sales.md."""

from django.db import models  # noqa: F401
