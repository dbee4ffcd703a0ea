"""Warehouses, locations, stock moves and balances, lots and serial numbers,
valuation, inventory counts (INV-1..3). See docs/domains/inventory.md."""

from django.db import models  # noqa: F401
