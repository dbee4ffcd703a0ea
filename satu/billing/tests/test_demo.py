import random

import pytest

from satu.billing import demo
from satu.billing.models import CashAccount, Contract
from satu.billing.tests.factories import CompanyFactory
from satu.core.models import SystemFlag
from satu.demo.data import COMPANY
from satu.parties.tests.factories import ClientCounterpartyFactory

pytestmark = pytest.mark.django_db


def test_demo_creates_accounts_and_contracts():
    CompanyFactory()
    SystemFlag.objects.create(key="company", value=COMPANY)
    for _ in range(10):
        ClientCounterpartyFactory()
    counts = demo.load(rng=random.Random("billing-1"))
    assert counts["cash_accounts"] == len(COMPANY["bank_accounts"]) + 1
    assert CashAccount.objects.filter(kind="cash").count() == 1
    assert set(
        CashAccount.objects.filter(kind="bank").values_list("account_number", flat=True)
    ) == {b["account_number"] for b in COMPANY["bank_accounts"]}
    assert Contract.objects.count() == counts["contracts"] > 0
