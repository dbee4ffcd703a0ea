"""From a web-form lead to a won deal, and what the marketing paid for it.

A visitor fills in the public form of a webinar; a manager qualifies the
lead into a new client with a deal; the deal moves through stages whose
rules must be met and is won; the client's touches and the first/last-touch
ROI of the webinar and its channels come out to the cent.
"""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from satu.crm import queries, services
from satu.crm.errors import StageRulesUnmet
from satu.crm.models import Lead
from satu.parties.models import Channel, TimelineEntry

pytestmark = pytest.mark.django_db


def roi(revenue, cost):
    revenue, cost = Decimal(revenue), Decimal(cost)
    return ((revenue - cost) / cost).quantize(Decimal("0.0001"))


def test_lead_from_web_form_to_won_deal(head_of_sales, manager):
    cache.clear()
    today = timezone.localdate()
    # Given a channel tree, a webinar and what they cost
    online = Channel.objects.create(name="Online")
    webinars = Channel.objects.create(name="Webinars", parent=online)
    referral = Channel.objects.create(name="Referral")
    webinar = services.marketing_event_create(
        actor=head_of_sales,
        name="Pumps for farms",
        kind="webinar",
        starts_on=today,
        channel_id=webinars.pk,
        budget="2000",
        currency="USD",
    )
    services.marketing_cost_create(
        actor=head_of_sales, event_id=webinar.pk, amount="1200.40", date=today
    )
    for channel, amount in ((webinars, "300.05"), (online, "100")):
        services.marketing_cost_create(
            actor=head_of_sales,
            channel_id=channel.pk,
            amount=amount,
            date=today,
            currency="USD",
        )
    services.lead_form_create(
        actor=head_of_sales,
        key="webinar",
        name="Register for the webinar",
        channel_id=webinars.pk,
        marketing_event_id=webinar.pk,
        owner_id=manager.pk,
    )
    # and a deal kind whose stages have rules
    kind = services.deal_kind_create(
        actor=head_of_sales,
        name="Farm pumps",
        control_mode="manual_stages",
        stages=[
            {
                "name": "Qualified",
                "probability": 20,
                "rules": [{"rule_type": "required_field", "field_name": "amount"}],
            },
            {
                "name": "Demo",
                "probability": 60,
                "rules": [
                    {
                        "rule_type": "interaction_since_entered",
                        "interaction_kind": "meeting",
                    }
                ],
            },
            {"name": "Contract", "probability": 90},
        ],
    )
    qualified_stage, demo, contract = kind.stages.order_by("position")

    # When a visitor sends the public form (CSRF enforced, as in a browser)
    visitor = Browser(enforce_csrf_checks=True)
    url = reverse("public_lead_form", args=["webinar"])
    visitor.get(url)
    sent = visitor.post(
        url,
        {
            "person_name": "Wayan Sudarta",
            "company_name": "CV Tani Makmur",
            "email": "wayan@tanimakmur.id",
            "phone": "0361 555 0123",
            "message": "We need 4 irrigation pumps",
            "csrfmiddlewaretoken": visitor.cookies["csrftoken"].value,
        },
    )
    assert sent.status_code == 302
    lead = Lead.objects.get()
    assert (
        lead.source,
        lead.owner,
        lead.channel,
        lead.marketing_event,
        lead.phone,
    ) == (
        "web_form",
        manager,
        webinars,
        webinar,
        "+623615550123",
    )

    # and the manager qualifies it into a new client with a deal
    services.lead_qualify(
        actor=manager,
        lead_id=lead.pk,
        create_deal=True,
        deal_kind_id=kind.pk,
        deal_title="4 irrigation pumps",
        currency="USD",
    )
    lead.refresh_from_db()
    client, deal = lead.client, lead.deal
    assert (client.name, client.source_channel, client.owner) == (
        "CV Tani Makmur",
        webinars,
        manager,
    )
    assert (deal.stage, deal.channel, deal.marketing_event) == (
        qualified_stage,
        webinars,
        webinar,
    )
    assert TimelineEntry.objects.filter(client=client, kind="lead.qualified").exists()

    # Then the deal cannot move on before its rules are met
    with pytest.raises(StageRulesUnmet):
        services.deal_move(actor=manager, deal_id=deal.pk, stage_id=demo.pk)
    services.deal_update(actor=manager, deal_id=deal.pk, amount="5000.00")
    services.deal_move(actor=manager, deal_id=deal.pk, stage_id=demo.pk)
    with pytest.raises(StageRulesUnmet):
        services.deal_move(actor=manager, deal_id=deal.pk, stage_id=contract.pk)
    services.interaction_create(
        actor=manager,
        kind="meeting",
        title="Demo on the farm",
        from_type="crm.deal",
        from_id=deal.pk,
    )
    services.deal_move(actor=manager, deal_id=deal.pk, stage_id=contract.pk)
    # the manager learns the client was in fact referred, and says so
    services.deal_update(actor=manager, deal_id=deal.pk, channel_id=referral.pk)
    services.deal_win(actor=manager, deal_id=deal.pk)

    # The client's touches: the lead, the deal, the refined deal
    touches = queries.client_touches(client=client)
    assert [(t.source_type, t.channel_id, t.event_id) for t in touches] == [
        ("crm.lead", webinars.pk, webinar.pk),
        ("crm.deal", webinars.pk, webinar.pk),
        ("crm.deal", referral.pk, webinar.pk),
    ]
    card = Browser()
    card.force_login(manager)
    page = card.get(reverse("client_detail", args=[client.pk])).content.decode()
    assert 'id="touches"' in page

    # and ROI to the cent: first touch credits the webinar's channel
    period = {"date_from": today, "date_to": today, "currency": "USD"}
    first = queries.marketing_roi(model="first", **period)
    assert [
        (r["event_id"], r["cost"], r["revenue"], r["roi"]) for r in first["events"]
    ] == [(webinar.pk, Decimal("1200.40"), Decimal("5000.00"), roi("5000", "1200.40"))]
    assert {
        r["name"]: (r["cost"], r["revenue"], r["roi"]) for r in first["channels"]
    } == {
        "Online": (Decimal("1600.45"), Decimal("5000.00"), roi("5000", "1600.45")),
        "Webinars": (Decimal("1500.45"), Decimal("5000.00"), roi("5000", "1500.45")),
    }
    # last touch credits the deal's own channel (refined to Referral)
    last = queries.marketing_roi(model="last", **period)
    assert {
        r["name"]: (r["cost"], r["revenue"], r["roi"]) for r in last["channels"]
    } == {
        "Online": (Decimal("1600.45"), Decimal("0.00"), Decimal("-1.0000")),
        "Webinars": (Decimal("1500.45"), Decimal("0.00"), Decimal("-1.0000")),
        "Referral": (Decimal("0.00"), Decimal("5000.00"), None),
    }
    assert last["events"][0]["revenue"] == Decimal("5000.00")
    assert last["totals"] == {
        "cost": Decimal("1600.45"),
        "revenue": Decimal("5000.00"),
        "roi": roi("5000", "1600.45"),
    }
