from decimal import Decimal

import pytest

from satu.core.errors import PermissionDenied, ValidationFailed
from satu.core.models import AuditEntry
from satu.crm import services
from satu.crm.errors import (
    DealClosed,
    DealHasNoStages,
    StageDrivenByProcess,
    StageRulesUnmet,
)
from satu.crm.events import DealStageChanged
from satu.crm.models import Deal, DealStageChange, StageRule
from satu.crm.tests.factories import (
    StageRuleFactory,
    pipeline,
)
from satu.parties.models import TimelineEntry

pytestmark = pytest.mark.django_db


def _deal(actor, client, kind, **kw):
    return services.deal_create(
        actor=actor, client_id=client.pk, kind_id=kind.pk, title="Pumps", **kw
    )


def _history(deal):
    return list(
        DealStageChange.objects.filter(deal=deal)
        .order_by("id")
        .values_list("from_stage__name", "to_stage__name", "override_reason")
    )


def test_forward_move_without_rules_records_history_timeline_and_event(
    manager,
    client_of,
    kind_and_stages,
    captured_events,
    django_capture_on_commit_callbacks,
):
    kind, (lead, offer, _contract) = kind_and_stages
    deal = _deal(manager, client_of(manager), kind)

    with django_capture_on_commit_callbacks(execute=True):
        services.deal_move(actor=manager, deal_id=deal.pk, stage_id=offer.pk)

    deal.refresh_from_db()
    assert deal.stage == offer
    assert deal.version == 2
    assert _history(deal) == [(None, "Lead", ""), ("Lead", "Offer", "")]
    entry = TimelineEntry.objects.filter(kind="deal.stage_changed").get()
    assert entry.summary == "Deal “Pumps” moved from Lead to Offer"
    assert (entry.subject_type, entry.subject_id) == ("crm.deal", deal.pk)
    assert AuditEntry.objects.filter(action="stage_changed").get().changes == {
        "stage": ["Lead", "Offer"]
    }
    assert DealStageChanged(deal.pk, lead.pk, offer.pk, False) in captured_events


def test_required_field_rule_blocks_forward_move_and_names_the_rule(
    manager, client_of, kind_and_stages
):
    kind, (lead, offer, _contract) = kind_and_stages
    StageRuleFactory(stage=lead, field_name="amount")
    StageRuleFactory(stage=lead, field_name="expected_close")
    deal = _deal(manager, client_of(manager), kind)

    with pytest.raises(StageRulesUnmet) as caught:
        services.deal_move(actor=manager, deal_id=deal.pk, stage_id=offer.pk)

    assert caught.value.http_status == 409
    assert caught.value.fields == {
        "stage_rules": [
            "“Lead”: fill in “amount”.",
            "“Lead”: fill in “expected close”.",
        ]
    }
    assert "“Lead”: fill in “amount”." in str(caught.value)
    deal.refresh_from_db()
    assert (deal.stage, deal.version) == (lead, 1)
    assert len(_history(deal)) == 1
    assert not TimelineEntry.objects.filter(kind="deal.stage_changed").exists()


def test_required_field_rule_met_lets_the_deal_move(
    manager, client_of, kind_and_stages
):
    kind, (lead, offer, _contract) = kind_and_stages
    StageRuleFactory(stage=lead, field_name="amount")
    deal = _deal(manager, client_of(manager), kind, amount="0")

    services.deal_move(actor=manager, deal_id=deal.pk, stage_id=offer.pk)

    deal.refresh_from_db()
    assert deal.stage == offer
    assert deal.amount == Decimal("0")


def test_contact_and_competitor_field_rules(manager, client_of, kind_and_stages):
    kind, (lead, offer, _contract) = kind_and_stages
    StageRuleFactory(stage=lead, field_name="contact")
    StageRuleFactory(stage=lead, field_name="competitors")
    client = client_of(manager)
    deal = _deal(manager, client, kind)
    with pytest.raises(StageRulesUnmet) as caught:
        services.deal_move(actor=manager, deal_id=deal.pk, stage_id=offer.pk)
    assert caught.value.fields["stage_rules"] == [
        "“Lead”: fill in “contact person”.",
        "“Lead”: fill in “competitors”.",
    ]


def test_interaction_rule_counts_only_done_interactions_since_entering(
    manager, client_of, kind_and_stages
):
    kind, (lead, offer, contract) = kind_and_stages
    StageRuleFactory(
        stage=offer,
        rule_type=StageRule.Type.INTERACTION,
        field_name="",
        interaction_kind="meeting",
    )
    deal = _deal(manager, client_of(manager), kind)
    # A meeting while the deal was still in Lead does not count for Offer.
    services.interaction_create(
        actor=manager,
        kind="meeting",
        title="Intro",
        from_type="crm.deal",
        from_id=deal.pk,
    )
    services.deal_move(actor=manager, deal_id=deal.pk, stage_id=offer.pk)
    services.interaction_create(
        actor=manager,
        kind="call",
        direction="outgoing",
        title="Call",
        from_type="crm.deal",
        from_id=deal.pk,
    )
    planned = services.interaction_create(
        actor=manager,
        kind="meeting",
        title="Visit",
        state="planned",
        planned_at="2030-01-01T10:00:00Z",
        from_type="crm.deal",
        from_id=deal.pk,
    )

    with pytest.raises(StageRulesUnmet) as caught:
        services.deal_move(actor=manager, deal_id=deal.pk, stage_id=contract.pk)
    assert caught.value.fields["stage_rules"] == [
        "“Offer”: record a done “Meeting” since the deal entered its stage."
    ]

    services.interaction_complete(actor=manager, interaction_id=planned.pk)
    services.deal_move(actor=manager, deal_id=deal.pk, stage_id=contract.pk)
    deal.refresh_from_db()
    assert deal.stage == contract


def test_approval_rule_needs_an_approval_by_the_role(
    manager, head_of_sales, client_of, kind_and_stages
):
    kind, (lead, offer, _contract) = kind_and_stages
    rule = StageRuleFactory(
        stage=lead,
        rule_type=StageRule.Type.APPROVAL,
        field_name="",
        role_code="head_of_sales",
    )
    deal = _deal(manager, client_of(manager), kind)
    with pytest.raises(StageRulesUnmet) as caught:
        services.deal_move(actor=manager, deal_id=deal.pk, stage_id=offer.pk)
    assert caught.value.fields["stage_rules"] == [
        "“Lead”: needs approval by a “Head of sales”."
    ]
    with pytest.raises(PermissionDenied):
        services.deal_approve(actor=manager, deal_id=deal.pk, rule_id=rule.pk)

    services.deal_approve(actor=head_of_sales, deal_id=deal.pk, rule_id=rule.pk)
    services.deal_move(actor=manager, deal_id=deal.pk, stage_id=offer.pk)

    deal.refresh_from_db()
    assert deal.stage == offer


def test_multi_stage_forward_move_checks_every_skipped_stage(
    manager, client_of, kind_and_stages
):
    kind, (lead, offer, contract) = kind_and_stages
    StageRuleFactory(stage=offer, field_name="expected_close")
    StageRuleFactory(stage=contract, field_name="initial_demand")
    deal = _deal(manager, client_of(manager), kind)

    with pytest.raises(StageRulesUnmet) as caught:
        services.deal_move(actor=manager, deal_id=deal.pk, stage_id=contract.pk)

    # Contract's own rule is for leaving Contract, not for entering it.
    assert caught.value.fields["stage_rules"] == ["“Offer”: fill in “expected close”."]
    deal.refresh_from_db()
    assert deal.stage == lead


def test_backward_move_is_free(manager, client_of, kind_and_stages):
    kind, (lead, offer, _contract) = kind_and_stages
    deal = _deal(manager, client_of(manager), kind)
    services.deal_move(actor=manager, deal_id=deal.pk, stage_id=offer.pk)
    StageRuleFactory(stage=offer, field_name="amount")
    StageRuleFactory(stage=lead, field_name="amount")

    services.deal_move(actor=manager, deal_id=deal.pk, stage_id=lead.pk)

    deal.refresh_from_db()
    assert deal.stage == lead
    assert _history(deal)[-1] == ("Offer", "Lead", "")


def test_override_with_reason_is_recorded(
    manager,
    head_of_sales,
    client_of,
    kind_and_stages,
    captured_events,
    django_capture_on_commit_callbacks,
):
    kind, (lead, offer, _contract) = kind_and_stages
    StageRuleFactory(stage=lead, field_name="amount")
    deal = _deal(manager, client_of(manager), kind)

    with django_capture_on_commit_callbacks(execute=True):
        services.deal_move(
            actor=head_of_sales,
            deal_id=deal.pk,
            stage_id=offer.pk,
            override_reason="Framework contract",
        )

    deal.refresh_from_db()
    assert deal.stage == offer
    assert _history(deal)[-1] == ("Lead", "Offer", "Framework contract")
    assert AuditEntry.objects.filter(action="stage_changed").get().changes == {
        "stage": ["Lead", "Offer"],
        "override_reason": [None, "Framework contract"],
    }
    assert DealStageChanged(deal.pk, lead.pk, offer.pk, True) in captured_events


def test_override_needs_the_permission_and_a_reason(
    manager, head_of_sales, client_of, kind_and_stages
):
    kind, (lead, offer, _contract) = kind_and_stages
    StageRuleFactory(stage=lead, field_name="amount")
    deal = _deal(manager, client_of(manager), kind)

    with pytest.raises(PermissionDenied):
        services.deal_move(
            actor=manager,
            deal_id=deal.pk,
            stage_id=offer.pk,
            override_reason="Trust me",
        )
    with pytest.raises(StageRulesUnmet):
        services.deal_move(
            actor=head_of_sales,
            deal_id=deal.pk,
            stage_id=offer.pk,
            override_reason="  ",
        )
    deal.refresh_from_db()
    assert deal.stage == lead


def test_process_kind_refuses_manual_moves(manager, client_of):
    kind, (first, second) = pipeline(("A", "B"), mode="process")
    deal = _deal(manager, client_of(manager), kind)

    with pytest.raises(StageDrivenByProcess) as caught:
        services.deal_move(actor=manager, deal_id=deal.pk, stage_id=second.pk)
    assert caught.value.code == "crm.stage_driven_by_process"

    services.deal_move(
        actor=manager, deal_id=deal.pk, stage_id=second.pk, by_process=True
    )
    deal.refresh_from_db()
    assert deal.stage == second


def test_status_only_kind_has_no_stages(manager, client_of):
    kind, _stages = pipeline((), mode="status_only")
    deal = _deal(manager, client_of(manager), kind)
    assert deal.stage is None
    with pytest.raises(DealHasNoStages):
        services.deal_move(actor=manager, deal_id=deal.pk, stage_id=1)


def test_stage_of_another_kind_is_refused(manager, client_of, kind_and_stages):
    kind, (lead, *_rest) = kind_and_stages
    _other, (foreign,) = pipeline(("Elsewhere",))
    deal = _deal(manager, client_of(manager), kind)
    with pytest.raises(ValidationFailed) as caught:
        services.deal_move(actor=manager, deal_id=deal.pk, stage_id=foreign.pk)
    assert list(caught.value.fields) == ["stage_id"]


def test_closed_deal_cannot_move(manager, client_of, kind_and_stages):
    kind, (lead, offer, _contract) = kind_and_stages
    deal = _deal(manager, client_of(manager), kind)
    services.deal_win(actor=manager, deal_id=deal.pk)
    with pytest.raises(DealClosed):
        services.deal_move(actor=manager, deal_id=deal.pk, stage_id=offer.pk)
    assert Deal.objects.get().stage == lead


def test_document_rule_needs_a_file_attached_since_entering(
    manager, client_of, kind_and_stages
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from satu.core import attachments

    kind, (lead, offer, _contract) = kind_and_stages
    StageRuleFactory(
        stage=lead, rule_type=StageRule.Type.DOCUMENT, field_name="signed quote"
    )
    deal = _deal(manager, client_of(manager), kind)
    with pytest.raises(StageRulesUnmet) as caught:
        services.deal_move(actor=manager, deal_id=deal.pk, stage_id=offer.pk)
    assert caught.value.fields["stage_rules"] == [
        "“Lead”: attach a document (signed quote) to the deal."
    ]

    attachments.attachment_add(
        actor=manager,
        object_type="crm.deal",
        object_id=deal.pk,
        uploaded=SimpleUploadedFile("quote.pdf", b"%PDF-1.4 q", "application/pdf"),
    )
    services.deal_move(actor=manager, deal_id=deal.pk, stage_id=offer.pk)

    deal.refresh_from_db()
    assert deal.stage == offer
