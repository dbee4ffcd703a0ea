"""vCard 3.0 of a contact person, on the web and in the API."""

import pytest
import vobject

from satu.core import features
from satu.parties.tests.factories import (
    ClientFactory,
    ContactFactory,
    ContactMethodFactory,
    ContactRoleFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def budi(manager, other_manager):
    contact = ContactFactory(
        first_name="Budi",
        last_name="Santoso",
        position="Purchasing manager",
        notes="internal remark",
    )
    ContactMethodFactory(
        contact=contact, kind="phone", value="+6281234567890", is_primary=True
    )
    ContactMethodFactory(contact=contact, kind="phone", value="+62215550123")
    ContactMethodFactory(
        contact=contact, kind="email", value="budi@maju.co.id", is_primary=True
    )
    ContactRoleFactory(
        contact=contact,
        role="Purchaser",
        client=ClientFactory(name="PT Maju Jaya", owner=manager),
    )
    ContactRoleFactory(
        contact=contact,
        role="Owner",
        is_primary=True,
        client=ClientFactory(name="CV Sinar", owner=manager),
    )
    ContactRoleFactory(
        contact=contact,
        role="Adviser",
        client=ClientFactory(name="PT Rahasia", owner=other_manager),
    )
    return contact


def _parse(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="budi-santoso.vcf"'
    return vobject.readOne(response.content.decode())


def test_web_vcard_holds_name_title_clients_phones_and_emails(client, manager, budi):
    client.force_login(manager)

    card = _parse(client.get(f"/contacts/{budi.pk}/vcard"))

    assert card.version.value == "3.0"
    assert card.fn.value == "Budi Santoso"
    assert (card.n.value.family, card.n.value.given) == ("Santoso", "Budi")
    assert card.title.value == "Purchasing manager"
    # primary client first; the other manager's client stays hidden
    assert [org.value for org in card.org_list] == [["CV Sinar"], ["PT Maju Jaya"]]
    assert [(t.value, t.params["TYPE"]) for t in card.tel_list] == [
        ("+6281234567890", ["CELL", "PREF"]),
        ("+62215550123", ["WORK", "VOICE"]),
    ]
    assert [(e.value, e.params["TYPE"]) for e in card.email_list] == [
        ("budi@maju.co.id", ["INTERNET", "PREF"]),
    ]
    assert "note" not in card.contents  # internal notes do not leave Satu
    assert card.uid.value == f"satu-contact-{budi.pk}"


def test_api_vcard_is_the_same_card(api_client, manager, budi):
    card = _parse(api_client.as_user(manager).get(f"/api/v1/contacts/{budi.pk}/vcard"))

    assert card.fn.value == "Budi Santoso"
    assert len(card.tel_list) == 2


def test_invisible_contact_answers_404(client, api_client, other_manager, manager):
    stranger = ContactFactory(first_name="Stranger")
    ContactRoleFactory(contact=stranger, client=ClientFactory(owner=other_manager))
    client.force_login(manager)

    assert client.get(f"/contacts/{stranger.pk}/vcard").status_code == 404
    assert client.get("/contacts/999999/vcard").status_code == 404
    response = api_client.as_user(manager).get(f"/api/v1/contacts/{stranger.pk}/vcard")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_vcard_disappears_with_the_contacts_module(client, admin_user, budi):
    features.feature_set(code="contacts", enabled=False, actor=admin_user)
    client.force_login(admin_user)

    assert client.get(f"/contacts/{budi.pk}/vcard").status_code == 404
