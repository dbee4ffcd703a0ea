"""Leads: create, update, disqualify, qualify (CRM-3)."""

from decimal import Decimal

import pytest

from satu.core.errors import NotFound, PermissionDenied, ValidationFailed
from satu.core.models import AuditEntry
from satu.crm import queries, services
from satu.crm.errors import LeadFormClosed, LeadNotNew
from satu.crm.models import Deal, Lead, LeadForm, Touch
from satu.crm.tests.factories import LeadFactory, MarketingEventFactory, pipeline
from satu.parties.errors import PossibleDuplicate
from satu.parties.models import Client, TimelineEntry
from satu.parties.tests.factories import ChannelFactory, ClientFactory

pytestmark = pytest.mark.django_db


def test_lead_create_normalises_phone_and_email(manager):
    channel = ChannelFactory(name="Website")

    lead = services.lead_create(
        actor=manager,
        source="api",
        company_name=" PT Sinar ",
        person_name="Budi Santoso",
        email="Budi@Sinar.CO.ID",
        phone="021 555 0123",
        channel_id=channel.pk,
    )

    lead.refresh_from_db()
    assert (
        lead.company_name,
        lead.email,
        lead.phone,
        lead.owner,
        lead.state,
        lead.source,
        lead.channel,
    ) == (
        "PT Sinar",
        "Budi@sinar.co.id",
        "+62215550123",
        manager,
        "new",
        "api",
        channel,
    )
    assert AuditEntry.objects.filter(action="created", object_id=lead.pk).exists()


def test_inbound_email_lead(manager):
    lead = services.lead_create(
        actor=manager, source="email", email="info@buyer.id", message="Quote please"
    )

    assert (lead.source, lead.email, lead.message) == (
        "email",
        "info@buyer.id",
        "Quote please",
    )


def test_lead_without_any_identity_is_refused(manager):
    with pytest.raises(ValidationFailed) as exc:
        services.lead_create(actor=manager, message="Hello")

    assert exc.value.http_status == 422
    assert "person_name" in exc.value.fields
    assert Lead.objects.count() == 0


def test_lead_with_bad_phone_is_refused(manager):
    with pytest.raises(ValidationFailed) as exc:
        services.lead_create(actor=manager, person_name="X", phone="12")

    assert list(exc.value.fields) == ["phone"]
    assert Lead.objects.count() == 0


def test_lead_update_and_disqualify(manager):
    lead = LeadFactory(owner=manager)

    services.lead_update(actor=manager, lead_id=lead.pk, company_name="CV Baru")
    services.lead_disqualify(actor=manager, lead_id=lead.pk, reason="Student")

    lead.refresh_from_db()
    assert (lead.company_name, lead.state, lead.disqualify_reason, lead.version) == (
        "CV Baru",
        "disqualified",
        "Student",
        3,
    )
    with pytest.raises(LeadNotNew):
        services.lead_update(actor=manager, lead_id=lead.pk, company_name="Y")


def test_disqualify_needs_a_reason(manager):
    lead = LeadFactory(owner=manager)

    with pytest.raises(ValidationFailed) as exc:
        services.lead_disqualify(actor=manager, lead_id=lead.pk, reason="  ")

    assert "reason" in exc.value.fields
    lead.refresh_from_db()
    assert lead.state == "new"


def test_manager_does_not_see_other_managers_leads(manager, other_manager):
    lead = LeadFactory(owner=other_manager)

    assert not queries.lead_list(actor=manager).filter(pk=lead.pk).exists()
    with pytest.raises(NotFound):
        services.lead_disqualify(actor=manager, lead_id=lead.pk, reason="x")


def test_qualify_into_new_client_and_deal(head_of_sales, manager):
    channel = ChannelFactory(name="Expo")
    event = MarketingEventFactory(responsible=head_of_sales, channel=channel)
    kind, stages = pipeline()
    lead = services.lead_create(
        actor=head_of_sales,
        company_name="PT Cahaya",
        person_name="Ani",
        phone="+62 21 555 0199",
        channel_id=channel.pk,
        marketing_event_id=event.pk,
        owner_id=manager.pk,
        message="Need 10 pumps",
    )

    services.lead_qualify(
        actor=head_of_sales,
        lead_id=lead.pk,
        create_deal=True,
        deal_kind_id=kind.pk,
        deal_title="Pumps",
        amount="1500000",
    )

    lead.refresh_from_db()
    client = lead.client
    deal = lead.deal
    assert (lead.state, client.name, client.owner, client.source_channel) == (
        "qualified",
        "PT Cahaya",
        manager,
        channel,
    )
    assert (
        deal.title,
        deal.amount,
        deal.channel,
        deal.marketing_event,
        deal.stage,
    ) == (
        "Pumps",
        Decimal("1500000.0000"),
        channel,
        event,
        stages[0],
    )
    assert [
        (t.source_type, t.channel_id, t.event_id)
        for t in queries.client_touches(client=client)
    ] == [
        ("crm.lead", channel.pk, event.pk),
        ("crm.deal", channel.pk, event.pk),
    ]
    assert (
        TimelineEntry.objects.filter(client=client, kind="lead.qualified").count() == 1
    )


def test_qualify_into_existing_client(manager):
    client = ClientFactory(owner=manager)
    lead = LeadFactory(owner=manager)

    services.lead_qualify(actor=manager, lead_id=lead.pk, client_id=client.pk)

    lead.refresh_from_db()
    assert (lead.client, lead.deal, lead.state) == (client, None, "qualified")


def test_qualify_warns_about_duplicates(manager):
    ClientFactory(owner=manager, name="PT Cahaya Abadi", phone="+62215550199")
    lead = LeadFactory(
        owner=manager, company_name="PT Cahaya Abadi", phone="+62215550199"
    )
    clients = Client.objects.count()

    with pytest.raises(PossibleDuplicate) as exc:
        services.lead_qualify(actor=manager, lead_id=lead.pk)

    assert exc.value.http_status == 409
    assert exc.value.context["candidates"]
    assert Client.objects.count() == clients
    lead.refresh_from_db()
    assert lead.state == "new"

    services.lead_qualify(actor=manager, lead_id=lead.pk, create_anyway=True)

    assert Client.objects.count() == clients + 1


def test_qualify_to_invisible_client_is_not_found(manager, other_manager):
    theirs = ClientFactory(owner=other_manager)
    lead = LeadFactory(owner=manager)

    with pytest.raises(NotFound):
        services.lead_qualify(actor=manager, lead_id=lead.pk, client_id=theirs.pk)

    lead.refresh_from_db()
    assert (lead.state, lead.client) == ("new", None)
    assert Touch.objects.count() == 0


def test_qualifying_twice_is_a_conflict(manager):
    client = ClientFactory(owner=manager)
    lead = LeadFactory(owner=manager)
    services.lead_qualify(actor=manager, lead_id=lead.pk, client_id=client.pk)

    with pytest.raises(LeadNotNew) as exc:
        services.lead_qualify(actor=manager, lead_id=lead.pk, client_id=client.pk)

    assert exc.value.http_status == 409


def test_qualify_with_bad_deal_creates_nothing(manager):
    lead = LeadFactory(owner=manager, company_name="PT Unik Sekali")
    clients = Client.objects.count()

    with pytest.raises(ValidationFailed):
        services.lead_qualify(
            actor=manager, lead_id=lead.pk, create_deal=True, deal_kind_id=999999
        )

    assert Client.objects.count() == clients
    assert Deal.objects.count() == 0
    lead.refresh_from_db()
    assert lead.state == "new"


def test_public_submission_uses_form_defaults(manager, head_of_sales):
    channel = ChannelFactory()
    form = services.lead_form_create(
        actor=head_of_sales,
        key="contact-us",
        name="Contact us",
        channel_id=channel.pk,
        owner_id=manager.pk,
    )

    lead = services.lead_submit_public(
        form_key="contact-us", person_name="Rina", email="rina@x.id"
    )

    assert (lead.source, lead.owner, lead.channel, lead.form, lead.created_by) == (
        "web_form",
        manager,
        channel,
        form,
        None,
    )
    LeadForm.objects.filter(pk=form.pk).update(is_active=False)
    with pytest.raises(LeadFormClosed):
        services.lead_submit_public(form_key="contact-us", person_name="Rina")


def test_lead_form_key_is_validated(head_of_sales, manager):
    with pytest.raises(ValidationFailed) as exc:
        services.lead_form_create(actor=head_of_sales, key="Bad Key!", name="X")
    assert "key" in exc.value.fields
    with pytest.raises(PermissionDenied):
        services.lead_form_create(actor=manager, key="ok-key", name="X")


def test_manager_cannot_create_leads_for_others(manager, other_manager):
    with pytest.raises(ValidationFailed) as exc:
        services.lead_create(actor=manager, person_name="X", owner_id=other_manager.pk)

    assert list(exc.value.fields) == ["owner_id"]
    assert Lead.objects.count() == 0


def test_import_xlsx_with_channel_by_name(manager):
    import io

    from openpyxl import Workbook

    channel = ChannelFactory(name="Trade fair")
    book = Workbook()
    sheet = book.active
    sheet.append(["Company", "Name", "E-mail", "Channel"])
    sheet.append(["PT Satu", "Ani", "ani@satu.id", "trade fair"])
    sheet.append(["PT Dua", "Budi", "", ""])
    data = io.BytesIO()
    book.save(data)

    result = services.lead_import(
        actor=manager, data=data.getvalue(), filename="x.xlsx"
    )

    assert result == {"created": 2, "errors": []}
    assert sorted(Lead.objects.values_list("company_name", "channel_id", "source")) == [
        ("PT Dua", None, "import"),
        ("PT Satu", channel.pk, "import"),
    ]


def test_import_unknown_channel_imports_nothing(manager):
    data = b"name,channel\nAni,Nowhere\nBudi,\n"

    result = services.lead_import(actor=manager, data=data, filename="x.csv")

    assert result == {
        "created": 0,
        "errors": [{"row": 2, "fields": {"channel": ["Unknown channel."]}}],
    }
    assert Lead.objects.count() == 0
