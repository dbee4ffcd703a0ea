import pytest

from satu.core.errors import NotFound, ValidationFailed
from satu.parties import queries, services
from satu.parties.models import Contact, ContactMethod
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_contact_acts_for_several_clients_and_is_found_by_phone(manager):
    first, second = ClientFactory(owner=manager), ClientFactory(owner=manager)

    contact = services.contact_create(
        actor=manager,
        first_name="Budi",
        last_name="Santoso",
        position="Purchasing",
        phones=["0812-1111-2222", "+62 21 555 0199"],
        emails=["budi@example.co.id"],
        client_roles=[{"client_id": first.pk, "role": "Purchaser", "is_primary": True}],
    )
    services.contact_link(
        actor=manager, contact_id=contact.pk, client_id=second.pk, role="Director"
    )

    assert sorted(contact.methods.values_list("value", flat=True)) == [
        "+62215550199",
        "+6281211112222",
        "budi@example.co.id",
    ]
    assert list(queries.client_list(actor=manager, search="0812 1111 2222")) == sorted(
        [first, second], key=lambda c: (c.name, c.pk)
    )
    assert list(queries.contact_list(actor=manager, search="budi@")) == [contact]
    assert first.timeline.filter(kind="contact.linked").count() == 1


def test_bad_phone_or_email_refused_and_nothing_written(manager):
    with pytest.raises(ValidationFailed) as excinfo:
        services.contact_create(
            actor=manager, first_name="Ani", phones=["123"], emails=["not-mail"]
        )
    assert set(excinfo.value.fields) == {"phones", "emails"}
    assert Contact.objects.count() == 0


def test_cannot_link_contact_to_invisible_client(manager, other_manager):
    theirs = ClientFactory(owner=other_manager)
    with pytest.raises(ValidationFailed) as excinfo:
        services.contact_create(
            actor=manager, first_name="Ani", client_roles=[{"client_id": theirs.pk}]
        )
    assert "client_roles.0.client_id" in excinfo.value.fields
    assert Contact.objects.count() == 0


def test_update_replaces_phones_and_keeps_emails(manager):
    contact = services.contact_create(
        actor=manager, first_name="Ani", phones=["081211112222"], emails=["ani@x.id"]
    )
    services.contact_update(
        actor=manager,
        contact_id=contact.pk,
        version=1,
        phones=["081233334444"],
        position="CEO",
    )
    contact.refresh_from_db()
    assert contact.position == "CEO"
    assert sorted(
        ContactMethod.objects.filter(contact=contact).values_list("value", flat=True)
    ) == [
        "+6281233334444",
        "ani@x.id",
    ]


def test_other_manager_cannot_see_the_contact(manager, other_manager):
    contact = services.contact_create(
        actor=manager,
        first_name="Ani",
        client_roles=[{"client_id": ClientFactory(owner=manager).pk}],
    )
    with pytest.raises(NotFound):
        queries.contact_get(actor=other_manager, contact_id=contact.pk)
