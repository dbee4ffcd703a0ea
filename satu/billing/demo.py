"""Demo billing data: the company's bank accounts and a cash desk, and sale
contracts with payment terms for some demo counterparties. Called once by
the demo loader inside its transaction, after parties (the company and the
counterparties) exist; everything goes through the services.

The bank accounts are `satu.demo.data.COMPANY["bank_accounts"]`, read from
the "company" system flag the loader records (billing may not import the
demo package: it sits above billing in the layers).

    from satu.billing import demo as billing_demo
    billing_demo.load(rng=random.Random(f"billing-{seed}"), progress=progress)
"""

import random
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import Group

from satu.billing import services
from satu.billing.models import CashAccount
from satu.core.models import SystemFlag
from satu.parties.models import ClientCounterparty, Counterparty
from satu.parties.queries import company_default

CONTRACT_SHARE = 0.4  # of counterparties linked to a client
PAYMENT_DAYS = [0, 7, 14, 30, 30, 45, 60]
LIMITS = [None, Decimal(25_000_000), Decimal(50_000_000), Decimal(100_000_000)]


def _actor():
    group = Group.objects.filter(name="accountant").first()
    user = group.user_set.order_by("pk").first() if group else None
    return user  # None = the system (allowed for demo loading)


def load(*, rng: random.Random, progress=None) -> dict:
    """Create cash accounts and contracts; returns counts."""
    progress = progress or (lambda message: None)
    actor = _actor()
    company = company_default()
    if company is None:
        return {"cash_accounts": 0, "contracts": 0}
    flag = SystemFlag.objects.filter(key="company").first()
    COMPANY = {  # noqa: N806 - the demo data's name
        "currency": company.currency,
        "bank_accounts": [],
        **(flag.value if flag else {}),
    }
    progress("billing: cash accounts")
    accounts = 0
    for bank in COMPANY["bank_accounts"]:
        services.cash_account_create(
            actor=actor,
            kind=CashAccount.Kind.BANK,
            name=f"{bank['bank_name']} {bank['account_number'][-4:]}",
            bank_name=bank["bank_name"],
            account_number=bank["account_number"],
            currency=bank["currency"],
            company_id=company.pk,
        )
        accounts += 1
    services.cash_account_create(
        actor=actor,
        kind=CashAccount.Kind.CASH,
        name="Kas Kelapa Gading",
        currency=COMPANY["currency"],
        company_id=company.pk,
    )
    accounts += 1

    progress("billing: contracts")
    links = list(
        ClientCounterparty.objects.filter(valid_to__isnull=True)
        .select_related("counterparty")
        .order_by("counterparty_id", "id")
    )
    seen: set[int] = set()
    contracts = 0
    for link in links:
        if link.counterparty_id in seen or rng.random() > CONTRACT_SHARE:
            continue
        seen.add(link.counterparty_id)
        start = date(2025, rng.randint(1, 12), 1)
        limit = rng.choice(LIMITS)
        services.contract_create(
            actor=actor,
            number=f"SPK/{start.year}/{contracts + 1:04d}",
            kind="sale",
            counterparty_id=link.counterparty_id,
            client_id=link.client_id,
            company_id=company.pk,
            currency=COMPANY["currency"],
            valid_from=start,
            payment_days=rng.choice(PAYMENT_DAYS),
            prepayment_percent=rng.choice([Decimal(0), Decimal(0), Decimal(30)]),
            credit_limit=limit,
            overdue_days_allowed=rng.choice([None, 15, 30]) if limit else None,
        )
        contracts += 1
    unlinked = Counterparty.objects.exclude(
        pk__in=ClientCounterparty.objects.values("counterparty_id")
    ).order_by("pk")[:5]
    for counterparty in unlinked:
        services.contract_create(
            actor=actor,
            number=f"PO-SUP/2025/{contracts + 1:04d}",
            kind="purchase",
            counterparty_id=counterparty.pk,
            company_id=company.pk,
            currency=COMPANY["currency"],
            valid_from=date(2025, 1, 1),
            payment_days=30,
        )
        contracts += 1
    return {"cash_accounts": accounts, "contracts": contracts}
