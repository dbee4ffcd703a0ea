"""The web "lose deal" form with per-line unmet-demand reasons (CRM-4):
/deals/<id>/ renders the lines, /deals/<id>/lose/ passes them to
`deal_lose(unmet_lines=...)` and shows its messages on the form."""

import pytest
from django.urls import reverse

from satu.core.testing.helpers import make_user
from satu.crm import services
from satu.crm.models import Deal, DealLine, UnmetDemandReason
from satu.crm.tests.factories import LossReasonFactory, pipeline
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def deal(manager):
    kind, _stages = pipeline()
    return services.deal_create(
        actor=manager,
        client_id=ClientFactory(owner=manager).pk,
        kind_id=kind.pk,
        title="Pumps",
        lines=[
            {"description": "Pump P-100", "quantity": "3", "unit": "pcs"},
            {"description": "Valve V-2"},
        ],
    )


@pytest.fixture
def reasons(db):
    stock = UnmetDemandReason.objects.create(name="Out of stock")
    price = UnmetDemandReason.objects.create(name="Price too high")
    UnmetDemandReason.objects.create(name="Retired reason", is_active=False)
    return stock, price


def lines_of(deal):
    return list(deal.lines.order_by("position"))


def unmet(deal):
    return list(
        DealLine.objects.filter(deal=deal)
        .order_by("position")
        .values_list("unmet_reason__name", "unmet_note")
    )


def lose_url(deal):
    return reverse("deal_lose", args=[deal.pk])


def test_deal_page_renders_a_reason_and_note_per_line(web, deal, reasons):
    pump, valve = lines_of(deal)

    html = web.get(reverse("deal_detail", args=[deal.pk])).content.decode()

    form = html[
        html.index('id="lose-form"') : html.index(
            "</form>", html.index('id="lose-form"')
        )
    ]
    assert 'id="lose-lines"' in form
    assert "Pump P-100" in form and "Valve V-2" in form
    for line in (pump, valve):
        assert f'name="line_{line.pk}_reason"' in form
        assert f'name="line_{line.pk}_note"' in form
    assert form.count(">Out of stock</option>") == 2
    assert form.count(">Price too high</option>") == 2
    assert "Retired reason" not in form  # only the active reasons


def test_deal_without_lines_keeps_the_plain_form(web, manager, reasons):
    kind, _stages = pipeline()
    bare = services.deal_create(
        actor=manager,
        client_id=ClientFactory(owner=manager).pk,
        kind_id=kind.pk,
        title="No lines",
    )

    html = web.get(reverse("deal_detail", args=[bare.pk])).content.decode()

    assert 'id="lose-form"' in html
    assert 'id="lose-lines"' not in html
    assert 'name="loss_reason"' in html


def test_lose_saves_the_reasons_of_the_lines_given(web, deal, reasons):
    stock, _price = reasons
    pump, valve = lines_of(deal)
    loss = LossReasonFactory()

    response = web.post(
        lose_url(deal),
        {
            "loss_reason": loss.pk,
            f"line_{pump.pk}_reason": "",
            f"line_{pump.pk}_note": "",
            f"line_{valve.pk}_reason": stock.pk,
            f"line_{valve.pk}_note": "  back in Q3 ",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("deal_detail", args=[deal.pk])
    deal.refresh_from_db()
    assert (deal.status, deal.loss_reason_id) == ("lost", loss.pk)
    assert unmet(deal) == [(None, ""), ("Out of stock", "back in Q3")]


def test_unknown_reason_id_is_a_form_error_and_changes_nothing(web, deal, reasons):
    pump, valve = lines_of(deal)
    loss = LossReasonFactory()

    response = web.post(
        lose_url(deal),
        {
            "loss_reason": loss.pk,
            f"line_{pump.pk}_reason": 999999,
            f"line_{valve.pk}_reason": reasons[0].pk,
        },
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="id_line_{pump.pk}_reason_error"' in html
    assert "Unknown unmet demand reason." in html  # the service's message
    assert "The deal cannot be closed as lost." in html
    assert f'id="id_line_{valve.pk}_reason_error"' not in html
    # the refused form keeps what was typed
    assert f'<option value="{reasons[0].pk}" selected>' in html
    assert Deal.objects.get(pk=deal.pk).status == "in_work"
    assert unmet(deal) == [(None, ""), (None, "")]


def test_inactive_reason_is_refused_by_the_service(web, deal, reasons):
    pump, _valve = lines_of(deal)
    retired = UnmetDemandReason.objects.get(name="Retired reason")

    response = web.post(
        lose_url(deal),
        {"loss_reason": LossReasonFactory().pk, f"line_{pump.pk}_reason": retired.pk},
    )

    assert response.status_code == 422
    assert "Unknown unmet demand reason." in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).status == "in_work"


@pytest.mark.parametrize(
    ("value", "message"),
    [("abc", "Enter a whole number."), ("0", "greater than or equal to 1")],
)
def test_malformed_reason_is_a_form_error(web, deal, reasons, value, message):
    pump, _valve = lines_of(deal)

    response = web.post(
        lose_url(deal),
        {"loss_reason": LossReasonFactory().pk, f"line_{pump.pk}_reason": value},
    )

    assert response.status_code == 422
    assert message in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).status == "in_work"


def test_note_without_reason_is_refused(web, deal, reasons):
    pump, _valve = lines_of(deal)

    response = web.post(
        lose_url(deal),
        {"loss_reason": LossReasonFactory().pk, f"line_{pump.pk}_note": "why?"},
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="id_line_{pump.pk}_reason_error"' in html
    assert "Choose why the demand was not met." in html
    assert Deal.objects.get(pk=deal.pk).status == "in_work"


def test_missing_loss_reason_shows_the_service_message_on_the_field(web, deal, reasons):
    pump, _valve = lines_of(deal)

    response = web.post(lose_url(deal), {f"line_{pump.pk}_reason": reasons[0].pk})

    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_loss_reason_error"' in html
    assert "Choose why the deal was lost." in html
    assert unmet(deal) == [(None, ""), (None, "")]


def test_too_long_note_is_refused(web, deal, reasons):
    pump, _valve = lines_of(deal)

    response = web.post(
        lose_url(deal),
        {
            "loss_reason": LossReasonFactory().pk,
            f"line_{pump.pk}_reason": reasons[0].pk,
            f"line_{pump.pk}_note": "x" * 5001,
        },
    )

    assert response.status_code == 422
    assert f'id="id_line_{pump.pk}_note_error"' in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).status == "in_work"


def test_user_without_change_permission_is_refused(client, deal, reasons):
    director = make_user("boss", role="director")  # sees every deal, edits none
    client.force_login(director)
    pump, _valve = lines_of(deal)

    response = client.post(
        lose_url(deal),
        {"loss_reason": LossReasonFactory().pk, f"line_{pump.pk}_reason": "abc"},
    )

    assert response.status_code == 403
    assert Deal.objects.get(pk=deal.pk).status == "in_work"


def test_user_without_view_permission_is_refused(client, deal, reasons):
    client.force_login(make_user("keeper", role="warehouse"))

    response = client.post(lose_url(deal), {"loss_reason": LossReasonFactory().pk})

    assert response.status_code == 403
    assert Deal.objects.get(pk=deal.pk).status == "in_work"


def test_invisible_deal_is_404(client, other_manager, deal, reasons):
    client.force_login(other_manager)
    pump, _valve = lines_of(deal)

    response = client.post(
        lose_url(deal),
        {"loss_reason": LossReasonFactory().pk, f"line_{pump.pk}_reason": 999999},
    )

    assert response.status_code == 404
    assert Deal.objects.get(pk=deal.pk).status == "in_work"


def test_closed_deal_is_refused_with_a_message(web, manager, deal, reasons):
    loss = LossReasonFactory()
    services.deal_lose(actor=manager, deal_id=deal.pk, loss_reason_id=loss.pk)

    response = web.post(lose_url(deal), {"loss_reason": loss.pk}, follow=True)

    assert "The deal is closed; reopen it first." in response.content.decode()
    assert unmet(deal) == [(None, ""), (None, "")]


def test_lines_with_a_reason_already_are_prefilled(web, manager, deal, reasons):
    stock, _price = reasons
    pump, _valve = lines_of(deal)
    services.deal_line_mark_unmet(
        actor=manager,
        deal_id=deal.pk,
        line_id=pump.pk,
        unmet_reason_id=stock.pk,
        note="earlier",
    )

    html = web.get(reverse("deal_detail", args=[deal.pk])).content.decode()

    assert f'<option value="{stock.pk}" selected>' in html
    assert f'name="line_{pump.pk}_note" value="earlier"' in html
