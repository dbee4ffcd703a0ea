import json
from datetime import timedelta

import pytest
from django.utils import timezone

from satu.crm.models import Claim
from satu.crm.tests.factories import ClaimCategoryFactory
from satu.parties.models import TimelineEntry
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def post(api, url, body):
    return api.post(url, json.dumps(body), content_type="application/json")


def patch(api, url, body):
    return api.patch(url, json.dumps(body), content_type="application/json")


def soon(days=5):
    return (timezone.localdate() + timedelta(days=days)).isoformat()


@pytest.fixture
def mine(manager):
    return ClientFactory(owner=manager, name="PT Maju")


@pytest.fixture
def category(db):
    return ClaimCategoryFactory(name="Quality")


def create(api, client, category, **kw):
    body = {
        "client_id": client.pk,
        "category_id": category.pk,
        "description": "Pump leaks",
        "deadline": soon(),
    } | kw
    return post(api, "/api/v1/claims", body)


def test_create_get_patch_and_transition(api_client, manager, mine, category):
    api = api_client.as_user(manager)

    created = create(api, mine, category, product_ref="P-100")

    assert created.status_code == 201, created.content
    body = created.json()
    year = timezone.localdate().year
    assert (
        body["number"],
        body["state"],
        body["decision"],
        body["overdue"],
        body["client"]["name"],
        body["responsible"]["id"],
        body["product_ref"],
    ) == (f"CLM-{year}-0001", "registered", "", False, "PT Maju", manager.pk, "P-100")
    url = f"/api/v1/claims/{body['id']}"
    assert api.get(url).json()["number"] == f"CLM-{year}-0001"

    patched = patch(api, url, {"product_ref": "P-200", "version": 1})
    assert (patched.status_code, patched.json()["version"]) == (200, 2)
    stale = patch(api, url, {"product_ref": "P-300", "version": 1})
    assert (stale.status_code, stale.json()["code"]) == (409, "version_conflict")

    moved = post(api, f"{url}/transition", {"state": "investigating"})
    assert (moved.status_code, moved.json()["state"]) == (200, "investigating")
    decided = post(
        api, f"{url}/transition", {"state": "decision", "decision": "repair"}
    )
    assert decided.json()["decision"] == "repair"
    closed = post(api, f"{url}/transition", {"state": "closed", "outcome": "Fixed"})
    assert (closed.json()["state"], closed.json()["outcome"]) == ("closed", "Fixed")


def test_deadline_in_past_refused(api_client, manager, mine, category):
    api = api_client.as_user(manager)

    response = create(api, mine, category, deadline=soon(-1))

    assert response.status_code == 422
    assert response.json()["fields"] == {
        "deadline": ["The deadline cannot be in the past."]
    }
    assert Claim.objects.count() == 0


def test_bad_transition_is_409_naming_allowed(api_client, manager, mine, category):
    api = api_client.as_user(manager)
    claim_id = create(api, mine, category).json()["id"]

    response = post(api, f"/api/v1/claims/{claim_id}/transition", {"state": "closed"})

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "crm.claim_bad_transition"
    assert body["fields"] == {"state": ["Allowed: investigating."]}
    assert body["detail"] == (
        "A claim in state “Registered” can move only to: investigating."
    )
    assert Claim.objects.get(pk=claim_id).state == "registered"


def test_decision_missing_is_422(api_client, manager, mine, category):
    api = api_client.as_user(manager)
    claim_id = create(api, mine, category).json()["id"]
    url = f"/api/v1/claims/{claim_id}/transition"
    post(api, url, {"state": "investigating"})

    response = post(api, url, {"state": "decision"})

    assert response.status_code == 422
    assert response.json()["fields"] == {"decision": ["Choose the decision."]}
    claim = Claim.objects.get(pk=claim_id)
    assert (claim.state, claim.decision, claim.version) == ("investigating", "", 2)


def test_client_of_another_manager_is_404(api_client, manager, other_manager, category):
    foreign = ClientFactory(owner=other_manager)
    api = api_client.as_user(manager)

    response = create(api, foreign, category)

    assert response.status_code == 404
    assert Claim.objects.count() == 0
    assert TimelineEntry.objects.filter(kind__startswith="claim.").count() == 0
    other_claim = create(api_client.as_user(other_manager), foreign, category)
    api = api_client.as_user(manager)
    assert api.get(f"/api/v1/claims/{other_claim.json()['id']}").status_code == 404


def test_list_filters_and_query_count(
    api_client, manager, mine, category, django_assert_num_queries
):
    api = api_client.as_user(manager)
    ids = [create(api, mine, category).json()["id"] for _ in range(3)]
    Claim.objects.filter(pk=ids[0]).update(
        deadline=timezone.localdate() - timedelta(days=1)
    )

    api.get("/api/v1/claims")  # warm the token / permission caches
    with django_assert_num_queries(6):
        response = api.get("/api/v1/claims")
    assert response.json()["count"] == 3

    overdue = api.get("/api/v1/claims?overdue=true").json()
    assert [(i["id"], i["overdue"]) for i in overdue["items"]] == [(ids[0], True)]
    assert api.get(f"/api/v1/claims?category_id={category.pk}").json()["count"] == 3
    assert api.get("/api/v1/claims?state=closed").json()["count"] == 0
    assert api.get("/api/v1/claims?search=leaks").json()["count"] == 3


def test_categories_and_stats(api_client, head_of_sales, manager, mine, category):
    head = api_client.as_user(head_of_sales)
    created = post(head, "/api/v1/claim-categories", {"name": "Delivery"})
    assert created.status_code == 201
    names = [c["name"] for c in head.get("/api/v1/claim-categories").json()["items"]]
    assert names == ["Delivery", "Quality"]
    denied = post(
        api_client.as_user(manager), "/api/v1/claim-categories", {"name": "X"}
    )
    assert denied.status_code == 403

    create(api_client.as_user(manager), mine, category)
    head = api_client.as_user(head_of_sales)
    today = timezone.localdate().isoformat()
    stats = head.get(f"/api/v1/claims/stats?date_from={today}&date_to={today}")

    assert stats.status_code == 200, stats.content
    body = stats.json()
    assert (body["total"], body["overdue"], body["avg_days_to_close"]) == (1, 0, None)
    assert body["by_category"] == [
        {"category_id": category.pk, "name": "Quality", "count": 1}
    ]
    assert body["by_state"] == [{"value": "registered", "count": 1}]
    assert body["by_decision"] == [{"value": "", "count": 1}]
    assert body["by_product"] == [{"value": "", "count": 1}]
    assert body["by_responsible"][0]["responsible_id"] == manager.pk
    assert [m["count"] for m in body["by_month"]] == [1]
    bad = head.get("/api/v1/claims/stats?date_from=2026-02-01&date_to=2026-01-01")
    assert bad.status_code == 422


def test_claims_api_is_404_when_crm_is_off(api_client, manager, admin_user):
    from satu.core import features

    features.feature_set(code="crm", enabled=False, actor=admin_user)

    api = api_client.as_user(manager)
    assert api.get("/api/v1/claims").status_code == 404
    assert api.get("/api/v1/claim-categories").status_code == 404


def test_director_may_read_but_not_register(api_client, director, mine, category):
    api = api_client.as_user(director)

    response = create(api, mine, category)

    assert (response.status_code, response.json()["code"]) == (
        403,
        "permission_denied",
    )
    assert Claim.objects.count() == 0
    assert api.get("/api/v1/claims").json()["count"] == 0
