import pytest

from satu.core.errors import PermissionDenied, ValidationFailed
from satu.core.models import AuditEntry
from satu.parties import services
from satu.parties.errors import PossibleDuplicate
from satu.parties.events import ClientCreated
from satu.parties.models import Client, TimelineEntry

pytestmark = pytest.mark.django_db


def test_creates_client_owned_by_actor_with_audit_and_timeline(
    manager, captured_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client = services.client_create(
            actor=manager,
            name="PT Maju Jaya",
            phone="0812 3456 7890",
            email="Sales@MajuJaya.CO.ID",
        )

    client.refresh_from_db()
    assert client.owner == manager
    assert client.phone == "+6281234567890"
    assert client.email == "Sales@majujaya.co.id"
    assert client.name_key == "maju jaya"
    assert "081234567890" in client.search_text
    assert "6281234567890" in client.search_text
    assert AuditEntry.objects.filter(object_id=client.pk, action="created").count() == 1
    assert list(
        TimelineEntry.objects.filter(client=client).values_list("kind", flat=True)
    ) == ["client.created"]
    assert captured_events == [ClientCreated(client_id=client.pk)]


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "A", "phone": "12"}, "phone"),
        ({"name": "A", "email": "not-an-email"}, "email"),
        ({"name": "A", "status": "vip"}, "status"),
        ({"name": "A", "kind": "robot"}, "kind"),
        ({"name": "A", "owner_id": 999999}, "owner_id"),
        ({"name": "A", "custom": {"nope": 1}}, "custom.nope"),
    ],
)
def test_refuses_bad_input_and_writes_nothing(manager, fields, error_field):
    with pytest.raises(ValidationFailed) as excinfo:
        services.client_create(actor=manager, **fields)

    assert error_field in excinfo.value.fields
    assert Client.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_warns_about_a_duplicate_until_confirmed(manager):
    first = services.client_create(
        actor=manager, name="PT Sinar Abadi", phone="+62215550123"
    )

    with pytest.raises(PossibleDuplicate) as excinfo:
        services.client_create(actor=manager, name="CV Sinar  Abadi")
    assert excinfo.value.code == "parties.possible_duplicate"
    assert excinfo.value.context["candidates"][0]["id"] == first.pk

    with pytest.raises(PossibleDuplicate) as excinfo:
        services.client_create(actor=manager, name="Other", phone="021-555-0123")
    assert "same phone" in excinfo.value.context["candidates"][0]["reasons"]
    assert Client.objects.count() == 1

    services.client_create(actor=manager, name="CV Sinar Abadi", allow_duplicate=True)
    assert Client.objects.count() == 2


def test_manager_cannot_create_client_for_someone_else(manager, other_manager):
    with pytest.raises(ValidationFailed) as excinfo:
        services.client_create(actor=manager, name="X", owner_id=other_manager.pk)
    assert "owner_id" in excinfo.value.fields


def test_director_is_read_only(director):
    with pytest.raises(PermissionDenied):
        services.client_create(actor=director, name="X")
    assert Client.objects.count() == 0
