import json

import pytest

from satu.crm.models import Deal, DealStageChange, Interaction
from satu.crm.tests.factories import (
    CompetitorFactory,
    LossReasonFactory,
    StageRuleFactory,
)
from satu.parties.models import TimelineEntry
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def post(api, url, body):
    return api.post(url, json.dumps(body), content_type="application/json")


def patch(api, url, body):
    return api.patch(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def mine(manager):
    return ClientFactory(owner=manager, name="PT Maju")


def test_create_get_and_list_deals(api_client, manager, mine, kind_and_stages):
    kind, (lead, *_rest) = kind_and_stages
    api = api_client.as_user(manager)

    created = post(
        api,
        "/api/v1/deals",
        {
            "client_id": mine.pk,
            "kind_id": kind.pk,
            "title": "Pumps",
            "amount": "1500.5",
        },
    )

    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["title"], body["amount"], body["currency"], body["status"]) == (
        "Pumps",
        "1500.5000",
        "IDR",
        "in_work",
    )
    assert body["stage"] == {"id": lead.pk, "name": "Lead", "position": 1}
    assert body["client"] == {"id": mine.pk, "name": "PT Maju"}
    listed = api.get(f"/api/v1/deals?kind_id={kind.pk}&status=in_work&search=pump")
    assert [d["id"] for d in listed.json()["items"]] == [body["id"]]
    assert api.get(f"/api/v1/deals/{body['id']}").json()["id"] == body["id"]


def test_deal_list_query_count_is_constant(
    api_client, manager, mine, kind_and_stages, django_assert_max_num_queries
):
    kind, _stages = kind_and_stages
    api = api_client.as_user(manager)
    for i in range(12):
        post(
            api,
            "/api/v1/deals",
            {"client_id": mine.pk, "kind_id": kind.pk, "title": f"D{i}"},
        )
    with django_assert_max_num_queries(12):
        response = api.get("/api/v1/deals")
    assert response.json()["count"] == 12


def test_deal_for_another_managers_client_is_404(
    api_client, manager, other_manager, kind_and_stages
):
    kind, _stages = kind_and_stages
    theirs = ClientFactory(owner=other_manager)
    api = api_client.as_user(manager)

    response = post(
        api, "/api/v1/deals", {"client_id": theirs.pk, "kind_id": kind.pk, "title": "X"}
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not Deal.objects.exists()
    other = api_client.as_user(other_manager)
    deal_id = post(
        other,
        "/api/v1/deals",
        {"client_id": theirs.pk, "kind_id": kind.pk, "title": "X"},
    ).json()["id"]
    api = api_client.as_user(manager)
    assert api.get(f"/api/v1/deals/{deal_id}").status_code == 404
    assert post(api, f"/api/v1/deals/{deal_id}/win", {}).status_code == 404


def test_out_of_order_move_is_409_naming_each_rule(
    api_client, manager, mine, kind_and_stages
):
    kind, (lead, offer, contract) = kind_and_stages
    StageRuleFactory(stage=lead, field_name="amount")
    StageRuleFactory(stage=offer, field_name="expected_close")
    api = api_client.as_user(manager)
    deal_id = post(
        api, "/api/v1/deals", {"client_id": mine.pk, "kind_id": kind.pk, "title": "X"}
    ).json()["id"]

    response = post(api, f"/api/v1/deals/{deal_id}/move", {"stage_id": contract.pk})

    assert response.status_code == 409
    assert response.json() == {
        "code": "crm.stage_rules_unmet",
        "detail": "The deal cannot move on: “Lead”: fill in “amount”. "
        "“Offer”: fill in “expected close”.",
        "fields": {
            "stage_rules": [
                "“Lead”: fill in “amount”.",
                "“Offer”: fill in “expected close”.",
            ]
        },
    }
    assert Deal.objects.get().stage == lead
    assert DealStageChange.objects.count() == 1


def test_move_after_filling_fields_and_override(
    api_client, manager, head_of_sales, mine, kind_and_stages
):
    kind, (lead, offer, contract) = kind_and_stages
    StageRuleFactory(stage=offer, field_name="expected_close")
    api = api_client.as_user(manager)
    deal_id = post(
        api, "/api/v1/deals", {"client_id": mine.pk, "kind_id": kind.pk, "title": "X"}
    ).json()["id"]

    moved = post(api, f"/api/v1/deals/{deal_id}/move", {"stage_id": offer.pk})
    assert moved.status_code == 200
    assert moved.json()["stage"]["name"] == "Offer"

    refused = post(
        api,
        f"/api/v1/deals/{deal_id}/move",
        {"stage_id": contract.pk, "override_reason": "Urgent"},
    )
    assert refused.status_code == 403

    boss = api_client.as_user(head_of_sales)
    forced = post(
        boss,
        f"/api/v1/deals/{deal_id}/move",
        {"stage_id": contract.pk, "override_reason": "Urgent"},
    )
    assert forced.status_code == 200
    history = boss.get(f"/api/v1/deals/{deal_id}/stage-history").json()
    assert [(h["to_stage"]["name"], h["override_reason"]) for h in history] == [
        ("Lead", ""),
        ("Offer", ""),
        ("Contract", "Urgent"),
    ]


def test_patch_with_stale_version_is_409(api_client, manager, mine, kind_and_stages):
    kind, _stages = kind_and_stages
    api = api_client.as_user(manager)
    deal_id = post(
        api, "/api/v1/deals", {"client_id": mine.pk, "kind_id": kind.pk, "title": "X"}
    ).json()["id"]
    ok = patch(api, f"/api/v1/deals/{deal_id}", {"amount": "10", "version": 1})
    assert ok.status_code == 200
    assert ok.json()["version"] == 2
    stale = patch(api, f"/api/v1/deals/{deal_id}", {"title": "Y", "version": 1})
    assert stale.status_code == 409
    assert Deal.objects.get().title == "X"


def test_lose_without_reason_is_422_then_with_reason(
    api_client, manager, mine, kind_and_stages
):
    kind, (lead, *_rest) = kind_and_stages
    api = api_client.as_user(manager)
    deal_id = post(
        api, "/api/v1/deals", {"client_id": mine.pk, "kind_id": kind.pk, "title": "X"}
    ).json()["id"]

    refused = post(api, f"/api/v1/deals/{deal_id}/lose", {"note": "Too expensive"})

    assert refused.status_code == 422
    assert refused.json()["fields"] == {
        "loss_reason_id": ["Choose why the deal was lost."]
    }
    assert Deal.objects.get().status == "in_work"
    assert not TimelineEntry.objects.filter(kind="deal.lost").exists()

    reason = LossReasonFactory(name="Price")
    rival = CompetitorFactory(name="PT Rival")
    lost = post(
        api,
        f"/api/v1/deals/{deal_id}/lose",
        {"loss_reason_id": reason.pk, "competitor_id": rival.pk},
    )
    assert lost.status_code == 200
    body = lost.json()
    assert (body["status"], body["loss_reason"]["name"], body["lost_at_stage_id"]) == (
        "lost",
        "Price",
        lead.pk,
    )
    assert body["won_to"] == {"id": rival.pk, "name": "PT Rival"}
    reopened = post(api, f"/api/v1/deals/{deal_id}/reopen", {})
    assert reopened.json()["status"] == "in_work"


def test_probability_endpoint(api_client, manager, mine, kind_and_stages):
    kind, _stages = kind_and_stages
    api = api_client.as_user(manager)
    deal_id = post(
        api,
        "/api/v1/deals",
        {"client_id": mine.pk, "kind_id": kind.pk, "title": "X", "probability": 30},
    ).json()["id"]
    body = api.get(f"/api/v1/deals/{deal_id}/probability").json()
    assert body["typed"] == 30
    assert body["by_stage"] == {"won": 0, "closed": 0, "percent": None}
    assert body["average"] is None


def test_deal_kind_with_stages_and_rules(api_client, head_of_sales, manager):
    api = api_client.as_user(head_of_sales)
    response = post(
        api,
        "/api/v1/deal-kinds",
        {
            "name": "Equipment",
            "stages": [
                {
                    "name": "Lead",
                    "rules": [{"rule_type": "required_field", "field_name": "amount"}],
                },
                {
                    "name": "Offer",
                    "probability": 40,
                    "rules": [
                        {
                            "rule_type": "interaction_since_entered",
                            "interaction_kind": "meeting",
                        },
                        {"rule_type": "approval", "role_code": "head_of_sales"},
                    ],
                },
            ],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(s["name"], s["position"], len(s["rules"])) for s in body["stages"]] == [
        ("Lead", 1, 1),
        ("Offer", 2, 2),
    ]
    bad = post(
        api,
        "/api/v1/deal-kinds",
        {
            "name": "Bad",
            "stages": [
                {
                    "name": "A",
                    "rules": [{"rule_type": "required_field", "field_name": "colour"}],
                }
            ],
        },
    )
    assert bad.status_code == 422
    assert list(bad.json()["fields"]) == ["stages.0.rules.0.field_name"]
    added = post(api, f"/api/v1/deal-kinds/{body['id']}/stages", {"name": "Won?"})
    assert added.json()["position"] == 3
    rule = post(
        api,
        f"/api/v1/deal-kinds/{body['id']}/stages/{added.json()['id']}/rules",
        {"rule_type": "required_field", "field_name": "contact"},
    )
    assert rule.status_code == 201
    manager_api = api_client.as_user(manager)
    assert post(manager_api, "/api/v1/deal-kinds", {"name": "M"}).status_code == 403
    listed = manager_api.get("/api/v1/deal-kinds").json()
    assert [k["name"] for k in listed["items"]] == ["Equipment"]


def test_competitors_and_loss_reasons(api_client, head_of_sales):
    api = api_client.as_user(head_of_sales)
    assert post(api, "/api/v1/competitors", {"name": "PT Rival"}).status_code == 201
    assert post(api, "/api/v1/competitors", {"name": "PT Rival"}).status_code == 422
    assert post(api, "/api/v1/loss-reasons", {"name": "Price"}).status_code == 201
    assert [c["name"] for c in api.get("/api/v1/competitors").json()["items"]] == [
        "PT Rival"
    ]
    assert [r["name"] for r in api.get("/api/v1/loss-reasons").json()["items"]] == [
        "Price"
    ]


def test_feature_switched_off_answers_404(api_client, manager):
    from satu.core.models import FeatureToggle

    FeatureToggle.objects.create(code="crm", enabled=False)
    response = api_client.as_user(manager).get("/api/v1/deals")
    assert response.status_code == 404
    assert response.json()["code"] == "feature_disabled"
    assert Interaction.objects.count() == 0
