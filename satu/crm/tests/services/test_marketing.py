"""Marketing events, costs, participants, touches and ROI (CRM-6, P6)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from satu.core.errors import PermissionDenied, ValidationFailed
from satu.crm import queries, services
from satu.crm.models import MarketingCost, MarketingEvent, Touch
from satu.crm.tests.factories import (
    ContactReasonFactory,
    MarketingEventFactory,
    pipeline,
)
from satu.parties.tests.factories import ChannelFactory, ClientFactory

pytestmark = pytest.mark.django_db


def make_user(name, role):
    from satu.core.testing.helpers import make_user

    return make_user(name, role=role)


@pytest.fixture
def marketer(db):
    return make_user("marketer", "marketer")


def test_event_create_and_update(marketer):
    channel = ChannelFactory()

    event = services.marketing_event_create(
        actor=marketer,
        name="Jakarta Expo",
        kind="exhibition",
        starts_on=date(2026, 5, 1),
        ends_on=date(2026, 5, 3),
        channel_id=channel.pk,
        budget="25000000",
    )
    services.marketing_event_update(
        actor=marketer, event_id=event.pk, version=1, name="Jakarta Expo 2026"
    )

    event.refresh_from_db()
    assert (event.name, event.budget, event.responsible, event.version) == (
        "Jakarta Expo 2026",
        Decimal("25000000.0000"),
        marketer,
        2,
    )


def test_event_ending_before_it_starts_is_refused(marketer):
    with pytest.raises(ValidationFailed) as exc:
        services.marketing_event_create(
            actor=marketer,
            name="X",
            kind="seminar",
            starts_on=date(2026, 5, 3),
            ends_on=date(2026, 5, 1),
        )

    assert list(exc.value.fields) == ["ends_on"]
    assert MarketingEvent.objects.count() == 0


def test_event_update_checks_dates_against_stored_ones(marketer):
    event = MarketingEventFactory(responsible=marketer)

    with pytest.raises(ValidationFailed) as exc:
        services.marketing_event_update(
            actor=marketer, event_id=event.pk, ends_on=date(2026, 2, 1)
        )

    assert "ends_on" in exc.value.fields
    event.refresh_from_db()
    assert event.ends_on == date(2026, 3, 2)


def test_managers_view_but_do_not_manage_events(manager):
    assert manager.has_perm("crm.view_marketingevent")
    with pytest.raises(PermissionDenied):
        services.marketing_event_create(
            actor=manager, name="X", kind="other", starts_on=date(2026, 1, 1)
        )


def test_negative_cost_is_refused(marketer):
    event = MarketingEventFactory(responsible=marketer)

    with pytest.raises(ValidationFailed) as exc:
        services.marketing_cost_create(
            actor=marketer, event_id=event.pk, amount="-1", date=date(2026, 3, 1)
        )

    assert list(exc.value.fields) == ["amount"]
    assert MarketingCost.objects.count() == 0


def test_cost_needs_exactly_one_target(marketer):
    event = MarketingEventFactory(responsible=marketer)
    channel = ChannelFactory()

    for kwargs in ({}, {"event_id": event.pk, "channel_id": channel.pk}):
        with pytest.raises(ValidationFailed) as exc:
            services.marketing_cost_create(
                actor=marketer, amount="10", date=date(2026, 3, 1), **kwargs
            )
        assert "event_id" in exc.value.fields
    assert MarketingCost.objects.count() == 0


def test_participant_records_a_touch(marketer, head_of_sales):
    channel = ChannelFactory()
    event = MarketingEventFactory(responsible=marketer, channel=channel)
    client = ClientFactory(owner=head_of_sales)

    services.event_participant_add(
        actor=head_of_sales, event_id=event.pk, client_id=client.pk
    )

    touch = Touch.objects.get()
    assert (touch.client, touch.event, touch.channel, touch.source_type) == (
        client,
        event,
        channel,
        "crm.eventparticipant",
    )


def test_interaction_refinement_records_a_touch(manager):
    client = ClientFactory(owner=manager)
    reason = ContactReasonFactory()
    channel = ChannelFactory()
    interaction = services.interaction_create(
        actor=manager, kind="meeting", title="Intro", client_id=client.pk
    )
    assert Touch.objects.count() == 0

    services.interaction_update(
        actor=manager, interaction_id=interaction.pk, reason_id=reason.pk
    )
    services.interaction_update(actor=manager, interaction_id=interaction.pk, title="x")
    services.interaction_update(
        actor=manager, interaction_id=interaction.pk, channel_id=channel.pk
    )

    assert [
        (t.source_type, t.reason_id, t.channel_id)
        for t in queries.client_touches(client=client)
    ] == [
        ("crm.interaction", reason.pk, None),
        ("crm.interaction", reason.pk, channel.pk),
    ]
    # The client's "how did you learn about us" is left alone.
    client.refresh_from_db()
    assert client.source_channel is None


def test_claim_carries_attribution(manager):
    from satu.crm.tests.factories import ClaimCategoryFactory

    client = ClientFactory(owner=manager)
    channel = ChannelFactory()
    claim = services.claim_create(
        actor=manager,
        client_id=client.pk,
        category_id=ClaimCategoryFactory().pk,
        description="Broken",
        deadline=timezone.localdate(),
        channel_id=channel.pk,
    )

    assert claim.channel == channel
    assert Touch.objects.get().source_type == "crm.claim"


def _won(actor, client, kind, amount, **kw):
    deal = services.deal_create(
        actor=actor,
        client_id=client.pk,
        kind_id=kind.pk,
        title="D",
        amount=amount,
        currency="USD",
        **kw,
    )
    return services.deal_win(actor=actor, deal_id=deal.pk)


def test_roi_first_and_last_touch_to_the_cent(head_of_sales, marketer):
    today = timezone.localdate()
    online = ChannelFactory(name="Online")
    ads = ChannelFactory(name="Ads", parent=online)
    other = ChannelFactory(name="Radio")
    event = MarketingEventFactory(responsible=marketer, channel=ads, currency="USD")
    cost = services.marketing_cost_create
    cost(actor=marketer, event_id=event.pk, amount="1000000.50", date=today)
    cost(
        actor=marketer,
        channel_id=ads.pk,
        amount="500000.25",
        date=today,
        currency="USD",
    )
    cost(
        actor=marketer,
        channel_id=online.pk,
        amount="200000",
        date=today,
        currency="USD",
    )
    cost(
        actor=marketer,
        channel_id=online.pk,
        amount="999",
        date=today - timedelta(days=400),
        currency="USD",
    )
    cost(actor=marketer, channel_id=other.pk, amount="7", date=today, currency="IDR")
    kind, _stages = pipeline(names=("Only",))
    a = ClientFactory(owner=head_of_sales)
    b = ClientFactory(owner=head_of_sales)
    lead = services.lead_create(
        actor=head_of_sales, person_name="A", marketing_event_id=event.pk
    )
    services.lead_qualify(actor=head_of_sales, lead_id=lead.pk, client_id=a.pk)
    services.interaction_create(
        actor=head_of_sales,
        kind="meeting",
        title="Hi",
        client_id=a.pk,
        channel_id=online.pk,
    )
    _won(head_of_sales, a, kind, "2000000.00")
    _won(head_of_sales, b, kind, "300000.10", channel_id=ads.pk)
    period = {
        "date_from": today - timedelta(days=30),
        "date_to": today,
        "currency": "USD",
    }

    first = queries.marketing_roi(model="first", **period)
    last = queries.marketing_roi(model="last", **period)

    def roi(rev, cost):
        return ((Decimal(rev) - Decimal(cost)) / Decimal(cost)).quantize(
            Decimal("0.0001")
        )

    assert first["events"] == [
        {
            "event_id": event.pk,
            "name": event.name,
            "kind": "exhibition",
            "cost": Decimal("1000000.50"),
            "revenue": Decimal("2000000.00"),
            "roi": roi("2000000.00", "1000000.50"),
        }
    ]
    by_channel = {
        r["channel_id"]: (r["cost"], r["revenue"], r["roi"]) for r in first["channels"]
    }
    assert by_channel == {
        online.pk: (
            Decimal("1700000.75"),
            Decimal("2300000.10"),
            roi("2300000.10", "1700000.75"),
        ),
        ads.pk: (
            Decimal("1500000.75"),
            Decimal("2300000.10"),
            roi("2300000.10", "1500000.75"),
        ),
    }
    assert first["totals"]["cost"] == Decimal("1700000.75")
    by_channel = {r["channel_id"]: (r["cost"], r["revenue"]) for r in last["channels"]}
    assert by_channel == {
        online.pk: (Decimal("1700000.75"), Decimal("2300000.10")),
        ads.pk: (Decimal("1500000.75"), Decimal("300000.10")),
    }
    assert [(r["event_id"], r["revenue"]) for r in last["events"]] == [
        (event.pk, Decimal("0.00"))
    ]


def test_roi_revenue_sources_are_pluggable(marketer):
    channel = ChannelFactory()
    today = timezone.localdate()
    services.marketing_cost_create(
        actor=marketer, channel_id=channel.pk, amount="100", date=today, currency="USD"
    )

    def invoiced(*, model, date_from, date_to, currency):
        return [{"event_id": None, "channel_id": channel.pk, "amount": Decimal("250")}]

    queries.register_revenue_source(invoiced)
    try:
        roi = queries.marketing_roi(
            model="first", date_from=today, date_to=today, currency="USD"
        )
    finally:
        queries._revenue_sources.remove(invoiced)

    assert roi["channels"][0]["roi"] == Decimal("1.5000")


def test_merging_clients_moves_touches_and_leads(head_of_sales, marketer):
    from satu.crm.models import Lead
    from satu.parties import services as parties_services

    survivor = ClientFactory(owner=head_of_sales, name="PT Maju")
    merged = ClientFactory(owner=head_of_sales, name="Maju Jaya")
    event = MarketingEventFactory(responsible=marketer)
    services.event_participant_add(
        actor=head_of_sales, event_id=event.pk, client_id=merged.pk
    )
    lead = services.lead_create(actor=head_of_sales, person_name="Ani")
    services.lead_qualify(actor=head_of_sales, lead_id=lead.pk, client_id=merged.pk)

    parties_services.client_merge(
        actor=head_of_sales, survivor_id=survivor.pk, merged_id=merged.pk
    )

    assert {t.client_id for t in Touch.objects.all()} == {survivor.pk}
    assert Lead.objects.get(pk=lead.pk).client == survivor
    assert event.participants.get().client == survivor
