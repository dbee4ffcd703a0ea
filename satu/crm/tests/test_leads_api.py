"""API of leads, marketing events and costs, ROI, deal lines (CRM-3/4/6)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from satu.core.testing.helpers import make_user
from satu.crm.models import Deal, Lead, MarketingCost, MarketingEvent
from satu.crm.tests.factories import LeadFactory, MarketingEventFactory, pipeline
from satu.parties.models import Client
from satu.parties.tests.factories import ChannelFactory, ClientFactory

pytestmark = pytest.mark.django_db


def post(api, url, body):
    return api.post(url, json.dumps(body), content_type="application/json")


def patch(api, url, body):
    return api.patch(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def marketer(db):
    return make_user("marketer", role="marketer")


def test_lead_create_list_get_patch(api_client, manager, django_assert_num_queries):
    api = api_client.as_user(manager)

    created = post(
        api,
        "/api/v1/leads",
        {"company_name": "PT Baru", "phone": "021 555 0123", "email": "a@b.id"},
    )

    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["phone"], body["source"], body["state"], body["owner"]["id"]) == (
        "+62215550123",
        "api",
        "new",
        manager.pk,
    )
    for _ in range(2):
        post(api, "/api/v1/leads", {"person_name": "X"})
    api.get("/api/v1/leads")
    with django_assert_num_queries(6):
        listed = api.get("/api/v1/leads")
    assert listed.json()["count"] == 3
    assert api.get("/api/v1/leads?search=baru").json()["count"] == 1
    changed = patch(
        api, f"/api/v1/leads/{body['id']}", {"person_name": "Ani", "version": 1}
    )
    assert changed.json()["person_name"] == "Ani"
    stale = patch(
        api, f"/api/v1/leads/{body['id']}", {"person_name": "B", "version": 1}
    )
    assert stale.status_code == 409


def test_lead_without_identity_answers_422(api_client, manager):
    response = post(api_client.as_user(manager), "/api/v1/leads", {"message": "hello"})

    assert response.status_code == 422
    assert "person_name" in response.json()["fields"]
    assert Lead.objects.count() == 0


def test_qualify_and_twice(api_client, manager):
    api = api_client.as_user(manager)
    kind, _stages = pipeline()
    lead = LeadFactory(owner=manager, company_name="PT Qualify Satu")

    first = post(
        api,
        f"/api/v1/leads/{lead.pk}/qualify",
        {"create_deal": True, "deal_kind_id": kind.pk, "amount": "100.50"},
    )
    second = post(api, f"/api/v1/leads/{lead.pk}/qualify", {})

    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["state"], body["client"]["name"]) == ("qualified", "PT Qualify Satu")
    assert Deal.objects.get(pk=body["deal_id"]).amount == 100.5
    assert (second.status_code, second.json()["code"]) == (409, "crm.lead_not_new")


def test_qualify_duplicate_answers_409_with_candidates(api_client, manager):
    api = api_client.as_user(manager)
    existing = ClientFactory(owner=manager, name="PT Dupe Jaya", email="x@dupe.id")
    lead = LeadFactory(owner=manager, company_name="PT Dupe Jaya", email="x@dupe.id")
    clients = Client.objects.count()

    response = post(api, f"/api/v1/leads/{lead.pk}/qualify", {})

    assert response.status_code == 409
    assert response.json()["code"] == "parties.possible_duplicate"
    assert [c["id"] for c in response.json()["candidates"]] == [existing.pk]
    assert Client.objects.count() == clients


def test_qualify_to_invisible_client_answers_404(api_client, manager, other_manager):
    theirs = ClientFactory(owner=other_manager)
    lead = LeadFactory(owner=manager)

    response = post(
        api_client.as_user(manager),
        f"/api/v1/leads/{lead.pk}/qualify",
        {"client_id": theirs.pk},
    )

    assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.state == "new"


def test_disqualify(api_client, manager):
    lead = LeadFactory(owner=manager)

    response = post(
        api_client.as_user(manager),
        f"/api/v1/leads/{lead.pk}/disqualify",
        {"reason": "Spam"},
    )

    assert (response.json()["state"], response.json()["disqualify_reason"]) == (
        "disqualified",
        "Spam",
    )


def test_events_costs_participants(
    api_client, marketer, manager, django_assert_num_queries
):
    api = api_client.as_user(marketer)
    channel = ChannelFactory()

    created = post(
        api,
        "/api/v1/marketing-events",
        {
            "name": "Webinar pumps",
            "kind": "webinar",
            "starts_on": "2026-04-01",
            "channel_id": channel.pk,
            "budget": "1000.00",
            "currency": "USD",
        },
    )
    assert created.status_code == 201, created.content
    event_id = created.json()["id"]
    cost = post(
        api,
        "/api/v1/marketing-costs",
        {"event_id": event_id, "date": "2026-04-01", "amount": "250.10"},
    )
    assert (cost.status_code, cost.json()["currency"]) == (201, "USD")
    client = ClientFactory(owner=marketer)
    participant = post(
        api,
        f"/api/v1/marketing-events/{event_id}/participants",
        {"client_id": client.pk},
    )
    assert participant.status_code == 201, participant.content
    MarketingEventFactory(responsible=marketer)
    MarketingEventFactory(responsible=manager)
    api.get("/api/v1/marketing-events")
    with django_assert_num_queries(6):
        listed = api.get("/api/v1/marketing-events")
    first = listed.json()["items"][0]
    assert (first["cost_total"], first["participant_count"]) == ("250.1000", 1)
    touches = api.get(f"/api/v1/marketing/touches?client_id={client.pk}").json()
    assert [t["event_id"] for t in touches] == [event_id]
    # managers see events but may not plan them
    api.as_user(manager)
    assert api.get(f"/api/v1/marketing-events/{event_id}").status_code == 200
    refused = post(
        api,
        "/api/v1/marketing-events",
        {"name": "X", "kind": "other", "starts_on": "2026-04-01"},
    )
    assert refused.status_code == 403


def test_event_dates_and_negative_cost_answer_422(api_client, marketer):
    api = api_client.as_user(marketer)
    event = MarketingEventFactory(responsible=marketer)

    bad_event = post(
        api,
        "/api/v1/marketing-events",
        {
            "name": "X",
            "kind": "seminar",
            "starts_on": "2026-04-02",
            "ends_on": "2026-04-01",
        },
    )
    bad_cost = post(
        api,
        "/api/v1/marketing-costs",
        {"event_id": event.pk, "date": "2026-04-01", "amount": "-5"},
    )

    assert (bad_event.status_code, list(bad_event.json()["fields"])) == (
        422,
        ["ends_on"],
    )
    assert (bad_cost.status_code, list(bad_cost.json()["fields"])) == (422, ["amount"])
    assert MarketingEvent.objects.count() == 1
    assert MarketingCost.objects.count() == 0


def test_roi_endpoint(api_client, marketer):
    api = api_client.as_user(marketer)
    channel = ChannelFactory()
    today = timezone.localdate()
    post(
        api,
        "/api/v1/marketing-costs",
        {
            "channel_id": channel.pk,
            "date": today.isoformat(),
            "amount": "10.00",
            "currency": "USD",
        },
    )

    ok = api.get(
        f"/api/v1/marketing/roi?model=last&date_from={today}&date_to={today}"
        "&currency=USD"
    )
    bad = api.get(
        f"/api/v1/marketing/roi?date_from={today}&date_to={today - timedelta(days=1)}"
    )

    assert ok.status_code == 200, ok.content
    assert ok.json()["channels"] == [
        {
            "channel_id": channel.pk,
            "name": channel.name,
            "parent_id": None,
            "depth": 0,
            "cost": "10.00",
            "revenue": "0.00",
            "roi": "-1.0000",
        }
    ]
    assert (bad.status_code, list(bad.json()["fields"])) == (422, ["date_to"])


def test_deal_lines_in_api(api_client, manager):
    api = api_client.as_user(manager)
    kind, _stages = pipeline()
    client = ClientFactory(owner=manager)
    reason = post(api, "/api/v1/unmet-demand-reasons", {"name": "Out of stock"})
    assert reason.status_code == 403  # configuring is for heads of sales

    created = post(
        api,
        "/api/v1/deals",
        {
            "client_id": client.pk,
            "kind_id": kind.pk,
            "title": "Pumps",
            "currency": "USD",
            "lines": [
                {"description": "Pump 5kW", "quantity": "2", "price": "150.00"},
                {"description": "Install", "unit": "h", "quantity": "3.5"},
            ],
        },
    )
    assert created.status_code == 201, created.content
    deal = created.json()
    assert [(x["description"], x["quantity"]) for x in deal["lines"]] == [
        ("Pump 5kW", "2.000000"),
        ("Install", "3.500000"),
    ]
    replaced = patch(
        api,
        f"/api/v1/deals/{deal['id']}",
        {"lines": [{"description": "Pump 7kW", "quantity": "1"}]},
    )
    assert [x["description"] for x in replaced.json()["lines"]] == ["Pump 7kW"]
    bad = patch(
        api,
        f"/api/v1/deals/{deal['id']}",
        {"lines": [{"description": "", "quantity": "1"}]},
    )
    assert (bad.status_code, list(bad.json()["fields"])) == (
        422,
        ["lines.0.description"],
    )
    head = make_user("head2", role="head_of_sales")
    api.as_user(head)
    reason_id = post(api, "/api/v1/unmet-demand-reasons", {"name": "Too dear"}).json()[
        "id"
    ]
    line_id = replaced.json()["lines"][0]["id"]
    api.as_user(manager)
    unmet = post(
        api,
        f"/api/v1/deals/{deal['id']}/lines/{line_id}/unmet",
        {"unmet_reason_id": reason_id, "note": "Budget"},
    )
    assert (unmet.json()["unmet_reason"]["name"], unmet.json()["dropped"]) == (
        "Too dear",
        True,
    )


def test_lead_forms_api(api_client, marketer, manager):
    api = api_client.as_user(marketer)

    created = post(api, "/api/v1/lead-forms", {"key": "expo-2026", "name": "Expo"})

    assert (created.status_code, created.json()["owner_id"]) == (201, marketer.pk)
    assert api.get("/api/v1/lead-forms").json()["count"] == 1


def test_lose_with_unmet_lines(api_client, manager, head_of_sales):
    from satu.crm import services
    from satu.crm.models import DealLine
    from satu.crm.tests.factories import LossReasonFactory

    kind, _stages = pipeline()
    client = ClientFactory(owner=manager)
    deal = services.deal_create(
        actor=manager,
        client_id=client.pk,
        kind_id=kind.pk,
        title="Pumps",
        lines=[{"description": "Pump"}, {"description": "Valve"}],
    )
    pump, valve = deal.lines.order_by("position")
    reason = services.unmet_demand_reason_create(actor=head_of_sales, name="No stock")
    loss = LossReasonFactory()
    api = api_client.as_user(manager)

    bad = post(
        api,
        f"/api/v1/deals/{deal.pk}/lose",
        {
            "loss_reason_id": loss.pk,
            "unmet_lines": [{"line_id": 999999, "unmet_reason_id": reason.pk}],
        },
    )
    assert (bad.status_code, list(bad.json()["fields"])) == (
        422,
        ["unmet_lines.0.line_id"],
    )
    assert Deal.objects.get(pk=deal.pk).status == "in_work"

    ok = post(
        api,
        f"/api/v1/deals/{deal.pk}/lose",
        {
            "loss_reason_id": loss.pk,
            "unmet_lines": [
                {"line_id": valve.pk, "unmet_reason_id": reason.pk, "note": "Q3"}
            ],
        },
    )

    assert ok.json()["status"] == "lost"
    assert list(
        DealLine.objects.order_by("position").values_list(
            "unmet_reason__name", "unmet_note"
        )
    ) == [(None, ""), ("No stock", "Q3")]
    assert pump.pk != valve.pk
