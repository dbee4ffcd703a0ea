"""Factories of billing; documents that must be consistent (totals, numbers)
are made through the services (see `invoice` in conftest)."""

from datetime import date
from decimal import Decimal

import factory

from satu.billing.models import CashAccount, Contract
from satu.parties.models import Company
from satu.parties.tests.factories import CounterpartyFactory


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        django_get_or_create = ("code",)

    code = "SATU"
    name = "Satu Niaga"
    legal_name = "PT Satu Niaga Nusantara"
    address = "Jl. Boulevard Raya 12, Jakarta"
    email = "halo@satuniaga.test"
    tax_id = "01.234.567.8-073.000"
    is_default = True


class CashAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CashAccount

    company = factory.SubFactory(CompanyFactory)
    kind = CashAccount.Kind.BANK
    name = factory.Sequence(lambda n: f"BCA {n}")
    bank_name = "Bank Central Asia"
    account_number = factory.Sequence(lambda n: f"03530{n:05d}")
    currency = "IDR"


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    number = factory.Sequence(lambda n: f"K-{n:04d}")
    kind = Contract.Kind.SALE
    company = factory.SubFactory(CompanyFactory)
    counterparty = factory.SubFactory(CounterpartyFactory)
    currency = "IDR"
    valid_from = date(2026, 1, 1)
    payment_days = 30
    prepayment_percent = Decimal(0)
