"""Contact person list, card and forms."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from satu.core import custom_fields, features
from satu.core.models import AuditEntry
from satu.parties import services
from satu.parties.models import Contact
from satu.parties.tests.factories import (
    ClientFactory,
    ContactMethodFactory,
    ContactRoleFactory,
)

pytestmark = pytest.mark.django_db


def names_in(response) -> list[str]:
    return re.findall(
        r'<a href="/contacts/\d+/">([^<]+)</a>', response.content.decode()
    )


def test_list_searches_by_phone(client, manager):
    services.contact_create(actor=manager, first_name="Sari", phones=["0812 1111 2222"])
    services.contact_create(actor=manager, first_name="Budi", phones=["0813 9999 8888"])
    client.force_login(manager)

    everyone = client.get(reverse("contact_list"))
    found = client.get(reverse("contact_list"), {"q": "+62 812 1111 2222"})
    fragment = client.get(
        reverse("contact_list"),
        {"q": "sari"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="contact-results",
    )

    assert sorted(names_in(everyone)) == ["Budi", "Sari"]
    assert names_in(found) == ["Sari"]
    assert fragment.content.decode().lstrip().startswith('<div id="contact-results"')


def test_list_query_count_does_not_grow(
    client, head_of_sales, django_assert_num_queries
):
    def add(n):
        for _i in range(n):
            ContactMethodFactory(contact=ContactRoleFactory().contact)

    add(1)
    client.force_login(head_of_sales)
    client.get(reverse("contact_list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("contact_list"))
    add(20)

    with django_assert_num_queries(len(few)):
        response = client.get(reverse("contact_list"))
    assert len(names_in(response)) == 21


def test_card_shows_roles_phones_emails_and_custom_fields(client, manager, admin_user):
    custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.contact",
        code="birthday",
        label="Birthday",
        field_type="date",
    )
    target = ClientFactory(owner=manager, name="PT Maju")
    contact = services.contact_create(
        actor=manager,
        first_name="Sari",
        last_name="Dewi",
        position="CFO",
        phones=["0812 1111 2222"],
        emails=["sari@maju.id"],
        notes="Prefers mornings",
        custom={"birthday": "1990-05-01"},
        client_roles=[{"client_id": target.pk, "role": "Finance"}],
    )
    client.force_login(manager)

    body = client.get(reverse("contact_detail", args=[contact.pk])).content.decode()

    assert "Sari Dewi" in body and "CFO" in body
    assert "+62 812-1111-2222" in body and "sari@maju.id" in body
    assert f'href="/clients/{target.pk}/">PT Maju</a>' in body and "Finance" in body
    assert "<dt>Birthday</dt><dd>1990-05-01</dd>" in body
    assert "Prefers mornings" in body


def test_create_with_several_phones_and_emails(client, manager):
    client.force_login(manager)

    response = client.post(
        reverse("contact_create"),
        {
            "first_name": "Sari",
            "last_name": "",
            "position": "",
            "phones": "0812 1111 2222\n\n021 5550123\n",
            "emails": "a@x.id\nb@x.id",
            "notes": "",
        },
    )

    contact = Contact.objects.get()
    assert response["Location"] == reverse("contact_detail", args=[contact.pk])
    assert list(contact.methods.values_list("kind", "value", "is_primary")) == [
        ("email", "a@x.id", True),
        ("email", "b@x.id", False),
        ("phone", "+6281211112222", True),
        ("phone", "+62215550123", False),
    ]


def test_bad_phone_is_shown_on_the_phones_field_and_nothing_saved(client, manager):
    client.force_login(manager)

    response = client.post(
        reverse("contact_create"),
        {
            "first_name": "Sari",
            "phones": "0812 1111 2222\n12",
            "emails": "",
        },
    )

    assert response.status_code == 422
    row = (
        response.content.decode()
        .split('class="field-phones')[1]
        .split('class="field-emails')[0]
    )
    assert "12: Enter a valid phone number" in row
    assert Contact.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_edit_replaces_phones_and_refuses_a_stale_version(client, manager):
    contact = services.contact_create(
        actor=manager, first_name="Sari", phones=["0812 1111 2222"]
    )
    client.force_login(manager)
    form = client.get(reverse("contact_edit", args=[contact.pk])).content.decode()
    assert "+6281211112222</textarea>" in form

    saved = client.post(
        reverse("contact_edit", args=[contact.pk]),
        {
            "first_name": "Sari",
            "last_name": "Dewi",
            "phones": "0813 9999 8888",
            "emails": "",
            "version": contact.version,
        },
    )
    stale = client.post(
        reverse("contact_edit", args=[contact.pk]),
        {
            "first_name": "Other",
            "phones": "",
            "emails": "",
            "version": contact.version,
        },
    )

    assert saved.status_code == 302
    assert stale.status_code == 409
    assert "changed by someone else" in stale.content.decode()
    contact.refresh_from_db()
    assert str(contact) == "Sari Dewi"
    assert list(contact.methods.values_list("value", flat=True)) == ["+6281399998888"]


def test_another_managers_contact_is_not_found(client, manager, other_manager):
    theirs = services.contact_create(actor=other_manager, first_name="Secret")
    client.force_login(manager)

    assert client.get(reverse("contact_detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("contact_edit", args=[theirs.pk])).status_code == 404
    assert "Secret" not in client.get(reverse("contact_list")).content.decode()


def test_director_views_but_may_not_create_or_edit(client, director, manager):
    contact = services.contact_create(actor=manager, first_name="Sari")
    client.force_login(director)

    card = client.get(reverse("contact_detail", args=[contact.pk]))
    assert card.status_code == 200
    assert reverse("contact_edit", args=[contact.pk]) not in card.content.decode()
    assert client.get(reverse("contact_create")).status_code == 403
    assert (
        client.post(reverse("contact_create"), {"first_name": "X"}).status_code == 403
    )
    response = client.post(
        reverse("contact_edit", args=[contact.pk]), {"first_name": "X"}
    )
    assert response.status_code == 403
    assert list(Contact.objects.values_list("first_name", flat=True)) == ["Sari"]


def test_switched_off_contacts_answer_404(client, manager, admin_user):
    features.feature_set(code="contacts", enabled=False, actor=admin_user)
    client.force_login(manager)

    assert client.get(reverse("contact_list")).status_code == 404
    assert client.get(reverse("contact_create")).status_code == 404


def test_card_hides_roles_at_clients_the_user_cannot_see(
    client, manager, other_manager
):
    contact = services.contact_create(
        actor=manager,
        first_name="Sari",
        client_roles=[{"client_id": ClientFactory(owner=manager, name="PT Mine").pk}],
    )
    ContactRoleFactory(
        contact=contact, client=ClientFactory(owner=other_manager, name="PT Theirs")
    )
    client.force_login(manager)

    body = client.get(reverse("contact_detail", args=[contact.pk])).content.decode()

    assert "PT Mine" in body
    assert "PT Theirs" not in body
