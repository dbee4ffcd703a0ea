import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from satu.crm import services
from satu.crm.models import Deal, Interaction
from satu.crm.tests.factories import LossReasonFactory, StageRuleFactory
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client, manager):
    client.force_login(manager)
    return client


def _deals(manager, kind, n, start=0):
    mine = ClientFactory(owner=manager)
    return [
        services.deal_create(
            actor=manager,
            client_id=mine.pk,
            kind_id=kind.pk,
            title=f"Deal {start + i}",
            amount="1000" if i % 2 else None,
        )
        for i in range(n)
    ]


def test_kanban_shows_columns_and_cards(web, manager, kind_and_stages):
    kind, (lead, offer, _contract) = kind_and_stages
    deal = _deals(manager, kind, 1)[0]

    response = web.get(reverse("deal_board") + f"?kind={kind.pk}")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-stage="{offer.pk}"' in html
    assert f'id="deal-{deal.pk}"' in html
    assert "Deal 0" in html


def test_kanban_query_count_does_not_grow_with_deals(
    web, manager, kind_and_stages, django_assert_num_queries
):
    kind, _stages = kind_and_stages
    _deals(manager, kind, 2)
    url = reverse("deal_board") + f"?kind={kind.pk}"
    web.get(url)  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as small:
        web.get(url)
    _deals(manager, kind, 20, start=2)

    with django_assert_num_queries(len(small.captured_queries)):
        response = web.get(url)

    assert response.content.decode().count('class="kanban-card"') == 22


def test_refused_htmx_move_answers_409_with_message(web, manager, kind_and_stages):
    kind, (lead, offer, _contract) = kind_and_stages
    StageRuleFactory(stage=lead, field_name="amount")
    deal = _deals(manager, kind, 1)[0]

    response = web.post(
        reverse("deal_move", args=[deal.pk]),
        {"stage": offer.pk},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 409
    assert "“Lead”: fill in “amount”." in response.content.decode()
    assert "data-error-message" in response.content.decode()
    assert Deal.objects.get().stage == lead


def test_htmx_move_answers_204(web, manager, kind_and_stages):
    kind, (lead, offer, _contract) = kind_and_stages
    deal = _deals(manager, kind, 1)[0]
    response = web.post(
        reverse("deal_move", args=[deal.pk]),
        {"stage": offer.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    assert Deal.objects.get().stage == offer


def test_deal_page_shows_history_thread_and_actions(web, manager, kind_and_stages):
    kind, (lead, offer, _contract) = kind_and_stages
    StageRuleFactory(stage=lead, field_name="expected_close")
    deal = _deals(manager, kind, 1)[0]
    services.interaction_create(
        actor=manager,
        kind="email",
        title="Offer sent",
        from_type="crm.deal",
        from_id=deal.pk,
    )
    LossReasonFactory(name="Price")

    html = web.get(reverse("deal_detail", args=[deal.pk])).content.decode()

    assert "Offer sent" in html
    assert 'id="stage-history"' in html
    assert "“Lead”: fill in “expected close”." in html
    assert '<option value="' in html and "Price" in html


def test_create_deal_from_client_card(web, manager, kind_and_stages):
    kind, (lead, *_rest) = kind_and_stages
    mine = ClientFactory(owner=manager)
    card = web.get(reverse("client_detail", args=[mine.pk])).content.decode()
    assert f"/deals/new/?client={mine.pk}" in card
    assert f"/interactions/new/?client={mine.pk}" in card

    response = web.post(
        reverse("deal_create"),
        {"client": mine.pk, "title": "Pumps", "kind": kind.pk, "currency": "IDR"},
    )

    deal = Deal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("deal_detail", args=[deal.pk])
    assert (deal.client, deal.stage, deal.owner) == (mine, lead, manager)


def test_create_deal_for_invisible_client_is_404(web, other_manager, kind_and_stages):
    kind, _stages = kind_and_stages
    theirs = ClientFactory(owner=other_manager)
    response = web.post(
        reverse("deal_create"),
        {"client": theirs.pk, "title": "X", "kind": kind.pk, "currency": "IDR"},
    )
    assert response.status_code == 404
    assert not Deal.objects.exists()


def test_lose_without_reason_shows_the_error(web, manager, kind_and_stages):
    kind, _stages = kind_and_stages
    deal = _deals(manager, kind, 1)[0]
    response = web.post(reverse("deal_lose", args=[deal.pk]), {}, follow=True)
    assert "Choose why the deal was lost." in response.content.decode()
    assert Deal.objects.get().status == "in_work"


def test_interaction_from_a_deal_inherits_client_and_subject(
    web, manager, kind_and_stages
):
    kind, _stages = kind_and_stages
    deal = _deals(manager, kind, 1)[0]
    form = web.get(
        reverse("interaction_create") + f"?from_type=crm.deal&from_id={deal.pk}"
    )
    assert form.status_code == 200

    response = web.post(
        reverse("interaction_create"),
        {
            "from_type": "crm.deal",
            "from_id": deal.pk,
            "kind": "call",
            "direction": "outgoing",
            "title": "Follow-up call",
            "state": "done",
            "duration_minutes": 3,
        },
    )

    assert response.status_code == 302
    call = Interaction.objects.get()
    assert (call.client_id, call.subject_type, call.subject_id) == (
        deal.client_id,
        "crm.deal",
        deal.pk,
    )
    assert call.duration_seconds == 180
    detail = web.get(reverse("interaction_detail", args=[call.pk]))
    assert "Follow-up call" in detail.content.decode()


def test_interaction_form_errors_are_shown(web, manager):
    mine = ClientFactory(owner=manager)
    response = web.post(
        reverse("interaction_create"),
        {"client": mine.pk, "kind": "call", "title": "No direction", "state": "done"},
    )
    assert response.status_code == 422
    assert "Say whether the call was incoming or outgoing." in response.content.decode()
    assert not Interaction.objects.exists()


def test_list_views(web, manager, kind_and_stages):
    kind, _stages = kind_and_stages
    _deals(manager, kind, 2)
    assert web.get(reverse("deal_list")).status_code == 200
    assert web.get(reverse("interaction_list")).status_code == 200


def test_head_of_sales_approves_from_the_deal_page(
    client, manager, head_of_sales, kind_and_stages
):
    kind, (lead, offer, _contract) = kind_and_stages
    rule = StageRuleFactory(
        stage=lead, rule_type="approval", field_name="", role_code="head_of_sales"
    )
    deal = _deals(manager, kind, 1)[0]
    client.force_login(manager)
    assert (
        "Approve “Lead”"
        not in client.get(reverse("deal_detail", args=[deal.pk])).content.decode()
    )
    client.force_login(head_of_sales)
    page = client.get(reverse("deal_detail", args=[deal.pk])).content.decode()
    assert "Approve “Lead”" in page

    response = client.post(reverse("deal_approve", args=[deal.pk, rule.pk]))

    assert response.status_code == 302
    services.deal_move(actor=manager, deal_id=deal.pk, stage_id=offer.pk)
    assert Deal.objects.get().stage == offer


def test_client_card_timeline_shows_deal_and_interaction(web, manager, kind_and_stages):
    kind, (_lead, offer, _contract) = kind_and_stages
    deal = _deals(manager, kind, 1)[0]
    services.deal_move(actor=manager, deal_id=deal.pk, stage_id=offer.pk)
    services.interaction_create(
        actor=manager,
        kind="meeting",
        title="Site visit",
        from_type="crm.deal",
        from_id=deal.pk,
    )

    html = web.get(reverse("client_detail", args=[deal.client_id])).content.decode()

    assert "Deal “Deal 0” opened" in html
    assert "Deal “Deal 0” moved from Lead to Offer" in html
    assert "Meeting: Site visit" in html


def test_switched_off_module_hides_pages(web, manager):
    from satu.core.models import FeatureToggle

    FeatureToggle.objects.create(code="crm", enabled=False)
    assert web.get(reverse("deal_board")).status_code == 404
    assert "/deals/" not in web.get(reverse("home")).content.decode()


def test_attach_a_file_on_the_deal_page(web, manager, kind_and_stages):
    from django.core.files.uploadedfile import SimpleUploadedFile

    kind, _stages = kind_and_stages
    deal = _deals(manager, kind, 1)[0]
    response = web.post(
        reverse("deal_attachment_add", args=[deal.pk]),
        {"file": SimpleUploadedFile("quote.pdf", b"%PDF-1.4 q", "application/pdf")},
        follow=True,
    )
    html = response.content.decode()
    assert "File “quote.pdf” attached." in html
    assert 'id="files"' in html and "quote.pdf" in html
