from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from satu.crm import services
from satu.crm.models import Claim
from satu.crm.tests.factories import ClaimCategoryFactory, DealFactory
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def category(db):
    return ClaimCategoryFactory(name="Quality")


def soon(days=5):
    return timezone.localdate() + timedelta(days=days)


def _claims(manager, category, n):
    mine = ClientFactory(owner=manager)
    return [
        services.claim_create(
            actor=manager,
            client_id=mine.pk,
            category_id=category.pk,
            description=f"Problem {i}",
            deadline=soon(),
        )
        for i in range(n)
    ]


def test_list_flags_overdue_and_filters(web, manager, category):
    late, on_time = _claims(manager, category, 2)
    Claim.objects.filter(pk=late.pk).update(deadline=soon(-3))

    html = web.get(reverse("claim_list")).content.decode()
    assert html.count("data-overdue") == 1
    assert late.number in html and on_time.number in html

    only = web.get(reverse("claim_list") + "?overdue=on").content.decode()
    assert late.number in only and on_time.number not in only


def test_list_query_count_does_not_grow(
    web, manager, category, django_assert_num_queries
):
    _claims(manager, category, 2)
    url = reverse("claim_list")
    web.get(url)
    with CaptureQueriesContext(connection) as small:
        web.get(url)
    _claims(manager, category, 10)

    with django_assert_num_queries(len(small.captured_queries)):
        response = web.get(url)
    assert response.content.decode().count('<td><a href="/claims/') == 12


def test_create_from_client_card(web, manager, category):
    mine = ClientFactory(owner=manager)
    card = web.get(reverse("client_detail", args=[mine.pk])).content.decode()
    assert f"/claims/new/?client={mine.pk}" in card

    response = web.post(
        reverse("claim_create"),
        {
            "client": mine.pk,
            "category": category.pk,
            "description": "Broken on arrival",
            "responsible": manager.pk,
            "deadline": soon().isoformat(),
        },
    )

    claim = Claim.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("claim_detail", args=[claim.pk])
    assert (claim.client, claim.description) == (mine, "Broken on arrival")


def test_create_from_deal_page(web, manager, category):
    deal = DealFactory(client=ClientFactory(owner=manager))
    page = web.get(reverse("deal_detail", args=[deal.pk])).content.decode()
    assert f"/claims/new/?deal={deal.pk}" in page
    form = web.get(reverse("claim_create") + f"?deal={deal.pk}")
    assert form.status_code == 200

    web.post(
        reverse("claim_create"),
        {
            "client": deal.client_id,
            "from_deal": deal.pk,
            "category": category.pk,
            "description": "Wrong size",
            "responsible": manager.pk,
            "deadline": soon().isoformat(),
            "deal": deal.pk,
        },
    )
    assert Claim.objects.get().deal == deal


def test_create_with_past_deadline_shows_error(web, manager, category):
    mine = ClientFactory(owner=manager)

    response = web.post(
        reverse("claim_create"),
        {
            "client": mine.pk,
            "category": category.pk,
            "description": "Late",
            "responsible": manager.pk,
            "deadline": soon(-1).isoformat(),
        },
    )

    assert response.status_code == 422
    assert "The deadline cannot be in the past." in response.content.decode()
    assert Claim.objects.count() == 0


def test_detail_buttons_and_transitions(web, manager, category):
    claim = _claims(manager, category, 1)[0]
    url = reverse("claim_detail", args=[claim.pk])
    html = web.get(url).content.decode()
    assert 'data-state="investigating"' in html
    assert 'data-state="closed"' not in html

    web.post(reverse("claim_transition", args=[claim.pk]), {"state": "investigating"})
    refused = web.post(
        reverse("claim_transition", args=[claim.pk]), {"state": "decision"}, follow=True
    )
    assert "Choose the decision." in refused.content.decode()
    web.post(
        reverse("claim_transition", args=[claim.pk]),
        {"state": "decision", "decision": "replacement"},
    )

    claim.refresh_from_db()
    assert (claim.state, claim.decision) == ("decision", "replacement")
    html = web.get(url).content.decode()
    assert 'data-state="closed"' in html and 'data-state="investigating"' in html


def test_other_managers_claim_is_404(client, other_manager, manager, category):
    claim = _claims(manager, category, 1)[0]
    client.force_login(other_manager)

    assert client.get(reverse("claim_detail", args=[claim.pk])).status_code == 404


def test_stats_page_has_chart_and_tables(web, manager, category):
    _claims(manager, category, 2)

    response = web.get(reverse("claim_stats"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-chart="claim-chart-data"' in html
    assert 'id="claim-chart-data"' in html
    assert "<td>Quality</td><td>2</td>" in html


def test_navigation_has_claims(web):
    html = web.get(reverse("claim_list")).content.decode()
    assert 'href="/claims/"' in html


def test_claims_are_404_when_crm_is_off(web, admin_user):
    from satu.core import features

    features.feature_set(code="crm", enabled=False, actor=admin_user)

    assert web.get(reverse("claim_list")).status_code == 404
