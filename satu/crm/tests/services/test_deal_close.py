from decimal import Decimal

import pytest

from satu.core.errors import NotFound, ValidationFailed, VersionConflict
from satu.core.models import AuditEntry
from satu.crm import services
from satu.crm.errors import DealClosed, DealNotClosed, StageRulesUnmet
from satu.crm.events import DealLost, DealWon
from satu.crm.models import Deal
from satu.crm.tests.factories import (
    CompetitorFactory,
    LossReasonFactory,
    StageRuleFactory,
)
from satu.parties.models import TimelineEntry

pytestmark = pytest.mark.django_db


def _deal(actor, client, kind, **kw):
    return services.deal_create(
        actor=actor, client_id=client.pk, kind_id=kind.pk, title="Pumps", **kw
    )


def test_create_puts_the_deal_in_the_first_stage_with_unknown_amount(
    manager, client_of, kind_and_stages
):
    kind, (lead, *_rest) = kind_and_stages
    client = client_of(manager)

    deal = _deal(manager, client, kind, initial_demand="Two pumps, maybe three")

    assert (deal.stage, deal.owner, deal.amount, deal.currency) == (
        lead,
        manager,
        None,
        "IDR",
    )
    assert deal.status == Deal.Status.IN_WORK
    entry = TimelineEntry.objects.get(client=client, kind="deal.created")
    assert entry.summary == f"Deal “Pumps” opened ({kind.name})"
    assert entry.url == f"/deals/{deal.pk}/"


def test_create_for_another_managers_client_is_not_found(
    manager, other_manager, client_of, kind_and_stages
):
    kind, _stages = kind_and_stages
    with pytest.raises(NotFound):
        _deal(manager, client_of(other_manager), kind)
    assert not Deal.objects.exists()


def test_create_validates_fields(manager, client_of, kind_and_stages):
    kind, _stages = kind_and_stages
    with pytest.raises(ValidationFailed) as caught:
        _deal(
            manager,
            client_of(manager),
            kind,
            amount="-1",
            currency="rupiah",
            probability=101,
        )
    assert sorted(caught.value.fields) == ["amount", "currency", "probability"]
    assert not Deal.objects.exists()


def test_update_checks_version_and_audits(manager, client_of, kind_and_stages):
    kind, _stages = kind_and_stages
    deal = _deal(manager, client_of(manager), kind)
    competitor = CompetitorFactory(name="PT Rival")

    services.deal_update(
        actor=manager,
        deal_id=deal.pk,
        version=1,
        amount="1500000.5",
        competitor_ids=[competitor.pk],
    )
    with pytest.raises(VersionConflict):
        services.deal_update(actor=manager, deal_id=deal.pk, version=1, title="X")

    deal.refresh_from_db()
    assert (deal.amount, deal.version, deal.title) == (Decimal("1500000.5"), 2, "Pumps")
    assert AuditEntry.objects.filter(action="updated").get().changes == {
        "amount": [None, "1500000.5000"],
        "competitors": [[], ["PT Rival"]],
    }


def test_win_closes_the_deal(
    manager,
    client_of,
    kind_and_stages,
    captured_events,
    django_capture_on_commit_callbacks,
):
    kind, _stages = kind_and_stages
    deal = _deal(manager, client_of(manager), kind)

    with django_capture_on_commit_callbacks(execute=True):
        services.deal_win(actor=manager, deal_id=deal.pk)

    deal.refresh_from_db()
    assert deal.status == Deal.Status.WON
    assert deal.closed_at is not None
    assert captured_events[-1] == DealWon(deal.pk)
    assert TimelineEntry.objects.filter(kind="deal.won").get().summary == (
        "Deal “Pumps” won"
    )


def test_win_checks_the_rules_of_the_remaining_stages(
    manager, head_of_sales, client_of, kind_and_stages
):
    kind, (_lead, _offer, contract) = kind_and_stages
    StageRuleFactory(stage=contract, field_name="amount")
    deal = _deal(manager, client_of(manager), kind)

    with pytest.raises(StageRulesUnmet) as caught:
        services.deal_win(actor=manager, deal_id=deal.pk)
    assert caught.value.fields == {"stage_rules": ["“Contract”: fill in “amount”."]}
    assert Deal.objects.get().status == Deal.Status.IN_WORK

    services.deal_win(actor=head_of_sales, deal_id=deal.pk, override_reason="Paid")
    assert Deal.objects.get().status == Deal.Status.WON


def test_lose_requires_a_reason_and_changes_nothing_without(
    manager, client_of, kind_and_stages
):
    kind, _stages = kind_and_stages
    deal = _deal(manager, client_of(manager), kind)

    with pytest.raises(ValidationFailed) as caught:
        services.deal_lose(actor=manager, deal_id=deal.pk, loss_reason_id=None)

    assert caught.value.http_status == 422
    assert caught.value.fields == {"loss_reason_id": ["Choose why the deal was lost."]}
    deal.refresh_from_db()
    assert (deal.status, deal.version, deal.lost_at_stage) == ("in_work", 1, None)
    assert not TimelineEntry.objects.filter(kind="deal.lost").exists()


def test_lose_records_reason_stage_and_competitor(
    manager,
    client_of,
    kind_and_stages,
    captured_events,
    django_capture_on_commit_callbacks,
):
    kind, (lead, offer, _contract) = kind_and_stages
    deal = _deal(manager, client_of(manager), kind)
    services.deal_move(actor=manager, deal_id=deal.pk, stage_id=offer.pk)
    reason = LossReasonFactory(name="Price")
    rival = CompetitorFactory(name="PT Rival")

    with django_capture_on_commit_callbacks(execute=True):
        services.deal_lose(
            actor=manager,
            deal_id=deal.pk,
            loss_reason_id=reason.pk,
            competitor_id=rival.pk,
            note="10% cheaper",
        )

    deal.refresh_from_db()
    assert (deal.status, deal.loss_reason, deal.lost_at_stage, deal.won_to) == (
        "lost",
        reason,
        offer,
        rival,
    )
    assert list(deal.competitors.all()) == [rival]
    assert captured_events[-1] == DealLost(deal.pk, reason.pk, rival.pk)
    assert TimelineEntry.objects.filter(kind="deal.lost").get().summary == (
        "Deal “Pumps” lost: Price"
    )


def test_reopen_puts_a_closed_deal_back_in_work(manager, client_of, kind_and_stages):
    kind, (lead, *_rest) = kind_and_stages
    deal = _deal(manager, client_of(manager), kind)
    reason = LossReasonFactory()
    with pytest.raises(DealNotClosed):
        services.deal_reopen(actor=manager, deal_id=deal.pk)
    services.deal_lose(actor=manager, deal_id=deal.pk, loss_reason_id=reason.pk)
    with pytest.raises(DealClosed):
        services.deal_win(actor=manager, deal_id=deal.pk)

    services.deal_reopen(actor=manager, deal_id=deal.pk)

    deal.refresh_from_db()
    assert (deal.status, deal.loss_reason, deal.lost_at_stage, deal.stage) == (
        "in_work",
        None,
        None,
        lead,
    )


def test_only_a_head_of_sales_assigns_deals_to_others(
    manager, other_manager, head_of_sales, client_of, kind_and_stages
):
    kind, _stages = kind_and_stages
    client = client_of(manager)
    with pytest.raises(ValidationFailed) as caught:
        _deal(manager, client, kind, owner_id=other_manager.pk)
    assert list(caught.value.fields) == ["owner_id"]

    deal = _deal(head_of_sales, client, kind, owner_id=other_manager.pk)
    assert deal.owner == other_manager
