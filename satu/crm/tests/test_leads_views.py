"""Screens of leads, marketing events, channels, ROI, deal lines, the public
form and the client card's touches (CRM-3/4/6, P6)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client as WebClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from satu.core.testing.helpers import make_user
from satu.crm import services
from satu.crm.models import Lead, MarketingCost, MarketingEvent
from satu.crm.tests.factories import LeadFactory, MarketingEventFactory, pipeline
from satu.parties.tests.factories import ChannelFactory, ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(db):
    return make_user("marketer", role="marketer")


@pytest.fixture
def web(client, manager):
    client.force_login(manager)
    return client


def _same_queries(web, url, grow, django_assert_num_queries):
    web.get(url)
    with CaptureQueriesContext(connection) as small:
        web.get(url)
    grow()
    with django_assert_num_queries(len(small.captured_queries)):
        return web.get(url)


def test_lead_list_query_count_does_not_grow(web, manager, django_assert_num_queries):
    channel = ChannelFactory()
    LeadFactory(owner=manager, channel=channel)

    response = _same_queries(
        web,
        reverse("lead_list"),
        lambda: [LeadFactory(owner=manager, channel=channel) for _ in range(10)],
        django_assert_num_queries,
    )

    assert response.content.decode().count('<td><a href="/leads/') == 11


def test_lead_create_shows_the_service_message(web):
    refused = web.post(reverse("lead_create"), {"message": "hi"})

    assert refused.status_code == 422
    assert "Give at least a name, a company, an email or a phone." in (
        refused.content.decode()
    )
    assert Lead.objects.count() == 0
    created = web.post(reverse("lead_create"), {"person_name": "Ani"})
    lead = Lead.objects.get()
    assert created.url == reverse("lead_detail", args=[lead.pk])


def test_qualify_screen_shows_duplicates_then_creates(web, manager):
    ClientFactory(owner=manager, name="PT Sama Persis", phone="+62215550111")
    lead = LeadFactory(owner=manager, company_name="PT Sama Persis")
    url = reverse("lead_qualify", args=[lead.pk])

    page = web.get(url).content.decode()
    refused = web.post(url, {"currency": "IDR"})
    done = web.post(url, {"currency": "IDR", "create_anyway": "on"})

    assert "Possible duplicates" in page
    assert refused.status_code == 409
    assert "Possible duplicate of" in refused.content.decode()
    assert done.status_code == 302
    lead.refresh_from_db()
    assert lead.state == "qualified"


def test_disqualify_from_detail(web, manager):
    lead = LeadFactory(owner=manager)

    web.post(reverse("lead_disqualify", args=[lead.pk]), {"reason": "Competitor"})

    lead.refresh_from_db()
    assert (lead.state, lead.disqualify_reason) == ("disqualified", "Competitor")
    page = web.get(reverse("lead_detail", args=[lead.pk])).content.decode()
    assert "Competitor" in page


def test_invisible_lead_is_404(web, other_manager):
    lead = LeadFactory(owner=other_manager)

    assert web.get(reverse("lead_detail", args=[lead.pk])).status_code == 404


def test_import_all_or_nothing(web):
    bad = b"company,name,email\nPT A,Ani,a@a.id\n,,not-an-email\n"
    good = b"company,name,phone\nPT A,Ani,021 555 0123\nPT B,Budi,\n"
    url = reverse("lead_import")

    refused = web.post(url, {"file": _upload("leads.csv", bad)})
    assert refused.status_code == 422
    assert "Nothing was imported" in refused.content.decode()
    assert Lead.objects.count() == 0

    web.post(url, {"file": _upload("leads.csv", good)})
    assert sorted(Lead.objects.values_list("company_name", "phone", "source")) == [
        ("PT A", "+62215550123", "import"),
        ("PT B", "", "import"),
    ]


def _upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_public_form_csrf_honeypot_throttle(manager, settings):
    settings.SATU_LEAD_FORM_LIMIT = 2
    cache.clear()
    services.lead_form_create(
        actor=make_user("boss", role="head_of_sales"),
        key="site",
        name="Website",
        owner_id=manager.pk,
    )
    browser = WebClient(enforce_csrf_checks=True)
    url = reverse("public_lead_form", args=["site"])

    page = browser.get(url)
    assert page.status_code == 200
    assert "X-Frame-Options" not in page.headers
    token = browser.cookies["csrftoken"].value
    no_token = browser.post(url, {"person_name": "Bot"})
    assert no_token.status_code == 403
    bot = browser.post(
        url, {"person_name": "Bot", "website": "spam", "csrfmiddlewaretoken": token}
    )
    assert bot.status_code == 302 and Lead.objects.count() == 0
    for n in range(2):
        sent = browser.post(
            url, {"person_name": f"Rina {n}", "csrfmiddlewaretoken": token}
        )
        assert sent.url == reverse("public_lead_thanks", args=["site"])
    throttled = browser.post(
        url, {"person_name": "Rina 3", "csrfmiddlewaretoken": token}
    )
    assert throttled.status_code == 429
    assert Lead.objects.count() == 2
    empty = browser.post(url, {"message": "hi", "csrfmiddlewaretoken": token})
    assert empty.status_code in (422, 429)
    assert browser.get(reverse("public_lead_form", args=["nope"])).status_code == 404


def test_event_screens(client, marketer, django_assert_num_queries):
    client.force_login(marketer)
    channel = ChannelFactory()
    MarketingEventFactory(responsible=marketer, channel=channel)

    _same_queries(
        client,
        reverse("marketing_event_list"),
        lambda: [
            MarketingEventFactory(responsible=marketer, channel=channel)
            for _ in range(5)
        ],
        django_assert_num_queries,
    )
    bad = client.post(
        reverse("marketing_event_create"),
        {
            "name": "Expo",
            "kind": "exhibition",
            "starts_on": "2026-05-02",
            "ends_on": "2026-05-01",
            "currency": "IDR",
        },
    )
    assert bad.status_code == 422
    assert "The event ends before it starts." in bad.content.decode()
    good = client.post(
        reverse("marketing_event_create"),
        {
            "name": "Expo",
            "kind": "exhibition",
            "starts_on": "2026-05-02",
            "currency": "USD",
        },
    )
    event = MarketingEvent.objects.get(name="Expo")
    assert good.url == reverse("marketing_event_detail", args=[event.pk])
    client.post(
        reverse("marketing_event_cost_add", args=[event.pk]),
        {"date": "2026-05-02", "amount": "-3"},
    )
    assert MarketingCost.objects.count() == 0
    client.post(
        reverse("marketing_event_cost_add", args=[event.pk]),
        {"date": "2026-05-02", "amount": "12.5"},
    )
    page = client.get(reverse("marketing_event_detail", args=[event.pk]))
    assert MarketingCost.objects.get().amount == Decimal("12.5")
    assert page.status_code == 200


def test_channel_costs_and_roi_screens(client, marketer):
    client.force_login(marketer)
    parent = ChannelFactory(name="Online")
    child = ChannelFactory(name="Search ads", parent=parent)
    today = timezone.localdate()

    client.post(
        reverse("marketing_channel_detail", args=[child.pk]),
        {"date": today.isoformat(), "amount": "40", "currency": "IDR"},
    )
    tree = client.get(reverse("marketing_channel_list")).content.decode()
    roi = client.get(reverse("marketing_roi"))
    bad = client.get(
        reverse("marketing_roi"),
        {"date_from": today, "date_to": today - timedelta(days=1), "model": "first"},
    )

    assert MarketingCost.objects.get().channel == child
    assert "Search ads" in tree and "Online" in tree
    assert roi.status_code == 200 and 'id="roi-channel-chart"' in roi.content.decode()
    assert bad.status_code == 422
    assert "The period ends before it starts." in bad.content.decode()


def test_manager_cannot_see_costs(web):
    assert web.get(reverse("marketing_roi")).status_code == 403
    assert web.get(reverse("marketing_event_list")).status_code == 200


def test_deal_lines_panel(web, manager):
    kind, _stages = pipeline()
    client = ClientFactory(owner=manager)
    deal = services.deal_create(
        actor=manager, client_id=client.pk, kind_id=kind.pk, title="D"
    )
    url = reverse("deal_lines", args=[deal.pk])

    assert (
        f'hx-get="{url}"'
        in web.get(reverse("deal_detail", args=[deal.pk])).content.decode()
    )
    refused = web.post(url, {"quantity": "1"})
    web.post(url, {"description": "Pump", "quantity": "2", "price": "10"})

    assert refused.status_code == 422
    assert "Choose a product or describe it." in refused.content.decode()
    assert [x.description for x in deal.lines.all()] == ["Pump"]
    assert "Pump" in web.get(url).content.decode()


def test_client_card_shows_touches(web, manager):
    channel = ChannelFactory(name="Radio Satu")
    client = ClientFactory(owner=manager)
    services.interaction_create(
        actor=manager,
        kind="meeting",
        title="Intro",
        client_id=client.pk,
        channel_id=channel.pk,
    )

    card = web.get(reverse("client_detail", args=[client.pk])).content.decode()

    assert 'id="touches"' in card and "Radio Satu" in card


def test_deal_and_claim_forms_carry_attribution(web, manager, head_of_sales):
    from satu.crm.models import Claim, Deal, Touch
    from satu.crm.tests.factories import ClaimCategoryFactory, ContactReasonFactory

    kind, _stages = pipeline()
    client = ClientFactory(owner=manager)
    event = MarketingEventFactory(responsible=head_of_sales)
    reason = ContactReasonFactory()

    web.post(
        reverse("deal_create"),
        {
            "client": client.pk,
            "title": "Via expo",
            "kind": kind.pk,
            "currency": "IDR",
            "marketing_event": event.pk,
            "reason": reason.pk,
        },
    )
    web.post(
        reverse("claim_create"),
        {
            "client": client.pk,
            "category": ClaimCategoryFactory().pk,
            "description": "Leaks",
            "responsible": manager.pk,
            "deadline": timezone.localdate().isoformat(),
            "reason": reason.pk,
        },
    )

    deal = Deal.objects.get()
    assert (deal.marketing_event, deal.reason) == (event, reason)
    assert Claim.objects.get().reason == reason
    assert [t.source_type for t in Touch.objects.order_by("id")] == [
        "crm.deal",
        "crm.claim",
    ]
