"""Supplier prices, purchase orders, receipts, reorder points (PUR-1).
See docs/domains/purchasing.md."""

from django.db import models  # noqa: F401
