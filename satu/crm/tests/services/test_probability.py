from decimal import Decimal

import pytest

from satu.crm import queries, services
from satu.crm.tests.factories import LossReasonFactory
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_computed_probability_from_a_known_history(
    manager, other_manager, head_of_sales, kind_and_stages, django_assert_num_queries
):
    """History of the kind (Lead → Offer → Contract):
    1. manager, client A, passed Offer, won
    2. manager, client A, passed Offer, lost
    3. manager, client B, passed Offer, won
    4. other,   client B, passed Offer, lost
    5. manager, client A, stayed in Lead, lost
    6. other,   client B, passed Offer, still in work (not closed)
    The deal asked about: manager, client A, in Offer."""
    kind, (lead, offer, _contract) = kind_and_stages
    a = ClientFactory(owner=manager)
    b = ClientFactory(owner=manager)
    reason = LossReasonFactory()

    def deal(owner, client, *, offer_stage: bool, outcome: str | None):
        d = services.deal_create(
            actor=head_of_sales,
            client_id=client.pk,
            kind_id=kind.pk,
            title="D",
            owner_id=owner.pk,
        )
        if offer_stage:
            services.deal_move(actor=head_of_sales, deal_id=d.pk, stage_id=offer.pk)
        if outcome == "won":
            services.deal_win(actor=head_of_sales, deal_id=d.pk)
        elif outcome == "lost":
            services.deal_lose(
                actor=head_of_sales, deal_id=d.pk, loss_reason_id=reason.pk
            )
        return d

    deal(manager, a, offer_stage=True, outcome="won")
    deal(manager, a, offer_stage=True, outcome="lost")
    deal(manager, b, offer_stage=True, outcome="won")
    deal(other_manager, b, offer_stage=True, outcome="lost")
    deal(manager, a, offer_stage=False, outcome="lost")
    deal(other_manager, b, offer_stage=True, outcome=None)
    subject = deal(manager, a, offer_stage=True, outcome=None)
    subject.refresh_from_db()

    with django_assert_num_queries(1):
        result = queries.deal_probability_computed(subject)

    assert result == {
        "by_stage": {"won": 2, "closed": 4, "percent": Decimal("50.00")},
        "by_manager": {"won": 2, "closed": 3, "percent": Decimal("66.67")},
        "by_client": {"won": 1, "closed": 2, "percent": Decimal("50.00")},
        "by_kind": {"won": 2, "closed": 5, "percent": Decimal("40.00")},
        # (50 + 66.67 + 50 + 40) / 4
        "average": Decimal("51.67"),
    }


def test_no_history_gives_no_numbers(manager, client_of, kind_and_stages):
    kind, _stages = kind_and_stages
    subject = services.deal_create(
        actor=manager, client_id=client_of(manager).pk, kind_id=kind.pk, title="D"
    )
    result = queries.deal_probability_computed(subject)
    assert result["average"] is None
    assert result["by_stage"] == {"won": 0, "closed": 0, "percent": None}
