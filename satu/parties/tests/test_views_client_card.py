"""The client card: header, contacts, counterparties, files, audit, timeline."""

import re
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from satu.core import custom_fields, features
from satu.core.models import Attachment
from satu.parties import services
from satu.parties.models import (
    BankAccount,
    ClientCounterparty,
    Contact,
    ContactRole,
    Counterparty,
)
from satu.parties.tests.factories import (
    ClientCounterpartyFactory,
    ClientFactory,
    ContactFactory,
    ContactMethodFactory,
    ContactRoleFactory,
    TimelineEntryFactory,
)

pytestmark = pytest.mark.django_db

NPWP = "013000666091000"
PDF = b"%PDF-1.4\n%test\n"


def card(client, target):
    return client.get(reverse("client_detail", args=[target.pk]))


def timeline_ids(body: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-entry="(\d+)"', body)]


# ---------------------------------------------------------------- the card


def test_card_shows_header_sections_and_audit(client, manager, admin_user):
    custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.client",
        code="tier",
        label="Tier",
        field_type="choice",
        choices=["Gold", "Silver"],
    )
    target = services.client_create(
        actor=manager,
        name="PT Maju",
        status="client",
        phone="0812 3456 7890",
        custom={"tier": "Gold"},
    )
    services.contact_create(
        actor=manager,
        first_name="Budi",
        last_name="Santoso",
        phones=["081298765432"],
        emails=["budi@maju.id"],
        client_roles=[{"client_id": target.pk, "role": "Buyer"}],
    )
    services.counterparty_create(
        actor=manager,
        legal_name="PT Maju Tbk",
        tax_id=NPWP,
        client_id=target.pk,
        valid_from=date(2024, 1, 1),
    )
    client.force_login(manager)

    body = card(client, target).content.decode()

    assert '<span class="badge badge-client">Client</span>' in body
    assert "Manager: Manager" in body
    assert "<dt>Tier</dt><dd data-custom>Gold</dd>" in body
    assert "Budi Santoso" in body and "Buyer" in body
    assert "+62 812-9876-5432" in body and "budi@maju.id" in body
    assert "PT Maju Tbk" in body and "01.300.066.6-091.000" in body
    assert '<tr class="current">' in body
    assert "Client registered by Manager" in body
    assert "Counterparty linked" in body
    assert "Contact person added" in body or "Contact person Budi Santoso added" in body
    assert "<strong>Created</strong>" in body


def test_ended_counterparty_link_is_not_highlighted(client, manager):
    target = ClientFactory(owner=manager)
    ClientCounterpartyFactory(
        client=target, valid_from=date(2020, 1, 1), valid_to=date(2020, 12, 31)
    )
    client.force_login(manager)

    body = card(client, target).content.decode()

    assert '<tr class="past">' in body
    assert '<tr class="current">' not in body


def test_card_query_count_does_not_grow(client, manager, django_assert_num_queries):
    target = ClientFactory(owner=manager)

    def add(n):
        for _i in range(n):
            ContactMethodFactory(contact=ContactRoleFactory(client=target).contact)
            ClientCounterpartyFactory(client=target)
            TimelineEntryFactory(client=target, kind="note")
            TimelineEntryFactory(client=target, kind="call")

    add(1)
    client.force_login(manager)
    card(client, target)
    with CaptureQueriesContext(connection) as few:
        card(client, target)
    add(25)

    with django_assert_num_queries(len(few)):
        response = card(client, target)
    assert response.content.decode().count('class="timeline-item"') == 20


def test_switched_off_modules_vanish_from_the_card(client, manager, admin_user):
    target = ClientFactory(owner=manager)
    ContactRoleFactory(client=target, contact=ContactFactory(first_name="Hidden"))
    features.feature_set(code="contacts", enabled=False, actor=admin_user)
    features.feature_set(code="counterparties", enabled=False, actor=admin_user)
    client.force_login(manager)

    body = card(client, target).content.decode()

    assert 'id="contacts"' not in body and "Hidden" not in body
    assert 'id="counterparties"' not in body
    assert (
        client.get(reverse("client_contact_link", args=[target.pk])).status_code == 404
    )
    assert (
        client.get(reverse("client_counterparty_link", args=[target.pk])).status_code
        == 404
    )


# ---------------------------------------------------------------- timeline


def test_timeline_is_newest_first_with_kind_chips(client, manager):
    target = ClientFactory(owner=manager)
    start = timezone.now() - timedelta(days=10)
    old = TimelineEntryFactory(client=target, kind="note", at=start)
    new = TimelineEntryFactory(client=target, kind="call", at=start + timedelta(days=1))
    client.force_login(manager)

    body = card(client, target).content.decode()

    assert timeline_ids(body) == [new.pk, old.pk]
    assert 'data-kind="call"' in body and 'data-kind="note"' in body


def test_timeline_kind_filter_fragment(client, manager):
    target = ClientFactory(owner=manager)
    note = TimelineEntryFactory(client=target, kind="note")
    TimelineEntryFactory(client=target, kind="call")
    client.force_login(manager)

    response = client.get(
        reverse("client_timeline", args=[target.pk]),
        {"kind": "note"},
        HTTP_HX_REQUEST="true",
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="timeline"')
    assert timeline_ids(body) == [note.pk]
    assert 'class="chip active" data-kind="note"' in body


def test_timeline_load_more_uses_keyset_pages(client, manager):
    target = ClientFactory(owner=manager)
    start = timezone.now() - timedelta(days=100)
    entries = [
        TimelineEntryFactory(client=target, at=start + timedelta(hours=i))
        for i in range(35)
    ]
    newest_first = [e.pk for e in reversed(entries)]
    client.force_login(manager)

    first = card(client, target).content.decode()
    assert timeline_ids(first) == newest_first[:20]
    more = re.search(r'hx-get="([^"]+before=\d+[^"]*)"', first).group(1)

    response = client.get(more.replace("&amp;", "&"), HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert body.lstrip().startswith('<li class="timeline-item"')
    assert timeline_ids(body) == newest_first[20:]
    assert "Load more" not in body


def test_timeline_fragment_url_without_htmx_goes_to_the_card(client, manager):
    target = ClientFactory(owner=manager)
    client.force_login(manager)

    response = client.get(
        reverse("client_timeline", args=[target.pk]), {"kind": "note"}
    )

    assert response.status_code == 302
    assert response["Location"] == (
        reverse("client_detail", args=[target.pk]) + "?kind=note#timeline"
    )


# ---------------------------------------------------------------- contacts


def test_new_contact_for_the_client(client, manager):
    target = ClientFactory(owner=manager)
    client.force_login(manager)
    form = client.get(reverse("contact_create"), {"client": target.pk})
    assert 'name="role"' in form.content.decode()

    response = client.post(
        reverse("contact_create"),
        {
            "client": target.pk,
            "first_name": "Sari",
            "last_name": "Dewi",
            "role": "Purchaser",
            "phones": "0812 1111 2222\n021 5550123",
            "emails": "",
        },
    )

    assert response.status_code == 302
    assert (
        response["Location"] == reverse("client_detail", args=[target.pk]) + "#contacts"
    )
    role = ContactRole.objects.get(client=target)
    assert (str(role.contact), role.role) == ("Sari Dewi", "Purchaser")
    assert sorted(role.contact.methods.values_list("value", flat=True)) == [
        "+62215550123",
        "+6281211112222",
    ]


def test_link_an_existing_contact(client, manager):
    target = ClientFactory(owner=manager)
    contact = services.contact_create(
        actor=manager, first_name="Rina", phones=["081233334444"]
    )
    client.force_login(manager)

    picker = client.get(reverse("client_contact_link", args=[target.pk]), {"q": "rina"})
    assert f'name="contact" value="{contact.pk}"' in picker.content.decode()
    response = client.post(
        reverse("client_contact_link", args=[target.pk]),
        {"contact": contact.pk, "role": "Finance"},
    )

    assert response.status_code == 302
    assert ContactRole.objects.get(client=target).role == "Finance"


def test_cannot_link_another_managers_contact(client, manager, other_manager):
    target = ClientFactory(owner=manager)
    theirs = services.contact_create(actor=other_manager, first_name="Secret")
    client.force_login(manager)

    response = client.post(
        reverse("client_contact_link", args=[target.pk]), {"contact": theirs.pk}
    )

    assert response.status_code == 404
    assert ContactRole.objects.count() == 0


# ---------------------------------------------------------------- counterparties


def test_new_counterparty_for_the_client_with_a_bank_account(client, manager):
    target = ClientFactory(owner=manager)
    client.force_login(manager)

    response = client.post(
        reverse("counterparty_create"),
        {
            "client": target.pk,
            "legal_name": "PT Maju Tbk",
            "tax_id": NPWP,
            "country": "ID",
            "registration_address": "Jl. Sudirman 1",
            "valid_from": "2024-01-01",
            "bank_name": "BCA",
            "account_number": "123-456-7890",
            "currency": "IDR",
        },
    )

    assert response.status_code == 302
    link = ClientCounterparty.objects.get(client=target)
    assert (link.counterparty.tax_id, link.valid_from) == (NPWP, date(2024, 1, 1))
    account = BankAccount.objects.get()
    assert (account.bank_name, account.account_number) == ("BCA", "1234567890")


def test_bad_tax_id_is_shown_and_nothing_is_saved(client, manager):
    target = ClientFactory(owner=manager)
    client.force_login(manager)

    response = client.post(
        reverse("counterparty_create"),
        {
            "client": target.pk,
            "legal_name": "PT Salah",
            "tax_id": "123",
            "country": "ID",
            "valid_from": "2024-01-01",
        },
    )

    assert response.status_code == 422
    body = response.content.decode()
    tax_row = body.split('class="field-tax_id')[1].split('class="field-country')[0]
    assert "is not a valid tax id for ID" in tax_row
    assert Counterparty.objects.count() == 0
    assert ClientCounterparty.objects.count() == 0


def test_link_existing_counterparty_for_a_period_and_refuse_overlap(client, manager):
    target = ClientFactory(owner=manager)
    cp = services.counterparty_create(actor=manager, legal_name="CV Lama")
    client.force_login(manager)
    url = reverse("client_counterparty_link", args=[target.pk])

    ok = client.post(
        url,
        {"counterparty": cp.pk, "valid_from": "2024-01-01", "valid_to": "2024-12-31"},
    )
    overlap = client.post(url, {"counterparty": cp.pk, "valid_from": "2024-06-01"})

    assert ok.status_code == 302
    assert overlap.status_code == 422
    assert "already linked for an overlapping period" in overlap.content.decode()
    assert ClientCounterparty.objects.filter(client=target).count() == 1


def test_end_a_counterparty_link(client, manager):
    target = ClientFactory(owner=manager)
    link = ClientCounterpartyFactory(client=target, valid_from=date(2024, 1, 1))
    client.force_login(manager)

    response = client.post(
        reverse("client_counterparty_link_end", args=[target.pk, link.pk]),
        {"valid_to": "2024-06-30"},
    )

    assert response.status_code == 302
    link.refresh_from_db()
    assert link.valid_to == date(2024, 6, 30)


def test_end_before_start_is_refused(client, manager):
    target = ClientFactory(owner=manager)
    link = ClientCounterpartyFactory(client=target, valid_from=date(2024, 1, 1))
    client.force_login(manager)

    response = client.post(
        reverse("client_counterparty_link_end", args=[target.pk, link.pk]),
        {"valid_to": "2023-06-30"},
        follow=True,
    )

    assert "The end is before the start." in response.content.decode()
    link.refresh_from_db()
    assert link.valid_to is None


# ---------------------------------------------------------------- files


def test_upload_and_download_a_file(client, manager):
    target = ClientFactory(owner=manager)
    client.force_login(manager)

    response = client.post(
        reverse("client_attachment_add", args=[target.pk]),
        {"file": SimpleUploadedFile("contract.pdf", PDF, "application/pdf")},
    )

    assert response.status_code == 302
    attachment = Attachment.objects.get()
    body = card(client, target).content.decode()
    assert reverse("attachment_download", args=[attachment.pk]) in body
    assert "File attached: contract.pdf" in body
    download = client.get(reverse("attachment_download", args=[attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert 'filename="contract.pdf"' in download["Content-Disposition"]


def test_too_large_file_is_refused(client, manager, settings):
    settings.SATU_ATTACHMENT_MAX_BYTES = 10
    target = ClientFactory(owner=manager)
    client.force_login(manager)

    response = client.post(
        reverse("client_attachment_add", args=[target.pk]),
        {"file": SimpleUploadedFile("big.pdf", PDF, "application/pdf")},
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert "The file is larger than 0 MB." in body and "File too large." in body
    assert Attachment.objects.count() == 0


def test_wrong_file_type_is_refused(client, manager):
    target = ClientFactory(owner=manager)
    client.force_login(manager)

    response = client.post(
        reverse("client_attachment_add", args=[target.pk]),
        {
            "file": SimpleUploadedFile(
                "run.exe", b"MZ\x90\x00", "application/octet-stream"
            )
        },
    )

    assert response.status_code == 422
    assert "cannot be attached" in response.content.decode()
    assert Attachment.objects.count() == 0


def test_another_manager_cannot_download(client, manager, other_manager):
    target = ClientFactory(owner=manager)
    client.force_login(manager)
    client.post(
        reverse("client_attachment_add", args=[target.pk]),
        {"file": SimpleUploadedFile("contract.pdf", PDF, "application/pdf")},
    )
    attachment = Attachment.objects.get()
    client.force_login(other_manager)

    response = client.get(reverse("attachment_download", args=[attachment.pk]))

    assert response.status_code == 404


def test_director_cannot_upload(client, director):
    target = ClientFactory()
    client.force_login(director)

    response = client.post(
        reverse("client_attachment_add", args=[target.pk]),
        {"file": SimpleUploadedFile("contract.pdf", PDF, "application/pdf")},
    )

    assert response.status_code == 403
    assert Attachment.objects.count() == 0
    assert Contact.objects.count() == 0


def test_other_domains_add_sections_and_header_facts_to_the_card(client, manager):
    from satu.parties import queries

    target = ClientFactory(owner=manager, name="Toko Makmur")
    seen = []

    def balance(actor, shown):
        seen.append((actor, shown.pk))
        return queries.CardSection(
            title="Balance",
            template="parties/tests/card_section.html",
            place="side",
            context={"text": "Owes 1,000"},
            header="Receivable 1,000",
        )

    def nothing(actor, shown):
        return None

    saved = dict(queries.CARD_SECTIONS)
    queries.register_card_section("test.balance", balance, order=1)
    queries.register_card_section("test.nothing", nothing)
    try:
        client.force_login(manager)
        body = card(client, target).content.decode()
    finally:
        queries.CARD_SECTIONS.clear()
        queries.CARD_SECTIONS.update(saved)
    assert seen == [(manager, target.pk)]
    assert '<section class="card" data-test-section="side"><h2>Balance</h2>' in body
    assert "Owes 1,000 Toko Makmur" in body
    assert "· Receivable 1,000" in body
