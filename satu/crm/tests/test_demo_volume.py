"""The CRM demo: the bulk part stores deals exactly as the services would."""

from collections import Counter

import pytest
from django.db import transaction

from satu.core.models import AuditEntry
from satu.crm import demo as crm_demo
from satu.crm import queries
from satu.crm.models import Claim, Deal, DealStageChange, Interaction, Task, Touch
from satu.demo import loader
from satu.parties.models import ClientGroup, TimelineEntry


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """A small demo where most deals go the bulk way; rolled back at the end."""
    saved = crm_demo.SERVICE_DEALS
    crm_demo.SERVICE_DEALS = 8
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            yield loader.load(clients=100)
            transaction.set_rollback(True)
    finally:
        crm_demo.SERVICE_DEALS = saved


@pytest.fixture(autouse=True)
def _db(db):
    pass


def test_volumes(demo):
    assert Deal.objects.count() == 40
    assert Interaction.objects.count() >= 240
    assert Task.objects.count() == 5 and Claim.objects.count() == 3
    statuses = Counter(Deal.objects.values_list("status", flat=True))
    assert statuses["won"] > 0 and statuses["lost"] > 0
    assert set(Deal.objects.values_list("kind__name", flat=True)) == {
        "Equipment sale",
        "Service contract",
    }


def test_every_deal_has_the_history_the_services_write(demo):
    for deal in Deal.objects.select_related("stage", "kind"):
        changes = list(DealStageChange.objects.filter(deal=deal).order_by("at", "pk"))
        assert changes[0].from_stage is None
        assert changes[-1].to_stage_id == deal.stage_id
        closed = deal.status != Deal.Status.IN_WORK
        assert deal.version >= len(changes) + closed
        kinds = Counter(
            TimelineEntry.objects.filter(
                subject_type="crm.deal", subject_id=deal.pk, kind__startswith="deal."
            ).values_list("kind", flat=True)
        )
        assert kinds["deal.created"] == 1
        assert kinds["deal.stage_changed"] == len(changes) - 1
        assert kinds["deal.won"] == (deal.status == Deal.Status.WON)
        assert kinds["deal.lost"] == (deal.status == Deal.Status.LOST)
        assert AuditEntry.objects.filter(
            object_id=deal.pk, content_type__model="deal", action="created"
        ).exists()
        if deal.status == Deal.Status.LOST:
            assert deal.loss_reason_id and deal.lost_at_stage_id == deal.stage_id
            if deal.won_to_id:
                assert deal.competitors.filter(pk=deal.won_to_id).exists()


def test_interactions_have_timeline_touch_and_audit(demo):
    for talk in Interaction.objects.order_by("?")[:50]:
        assert TimelineEntry.objects.filter(
            subject_type="crm.interaction", subject_id=talk.pk
        ).exists()
        assert AuditEntry.objects.filter(
            object_id=talk.pk, content_type__model="interaction"
        ).exists()
        assert Touch.objects.filter(
            source_type="crm.interaction", source_id=talk.pk
        ).exists() == bool(talk.reason_id or talk.channel_id)


def test_segments_are_computed(demo):
    segments = {s.name: s for s in ClientGroup.objects.exclude(kind="manual")}
    assert {"Active clients", "Open deals", "Hot prospects"} <= set(segments)
    for segment in segments.values():
        assert segment.recomputed_at is not None
        assert segment.member_count == segment.clients.count()
    assert segments["Active clients"].member_count > 0
    key = ClientGroup.objects.get(name="Key accounts")
    assert key.kind == "manual" and key.clients.count() > 0


def test_computed_probability_works_on_the_history(demo):
    deal = Deal.objects.filter(status=Deal.Status.IN_WORK).exclude(stage=None).first()
    assert deal is not None
    computed = queries.deal_probability_computed(deal)
    assert computed["by_kind"]["closed"] > 0
    assert computed["by_kind"]["percent"] is not None
