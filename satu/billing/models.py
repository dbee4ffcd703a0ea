"""Contracts, customer and supplier invoices, credit notes, payments, bank
accounts and cash desks, receivables and payables (SAL-4).
See docs/domains/billing.md."""

from django.db import models  # noqa: F401
