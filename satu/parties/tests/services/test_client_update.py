import pytest

from satu.core import custom_fields
from satu.core.errors import NotFound, ValidationFailed, VersionConflict
from satu.core.models import AuditEntry
from satu.parties import services
from satu.parties.errors import ClientArchived
from satu.parties.events import ClientStatusChanged
from satu.parties.models import Client, TimelineEntry
from satu.parties.tests.factories import ClientFactory, ClientGroupFactory

pytestmark = pytest.mark.django_db


def test_changes_fields_records_old_and_new_values(
    manager, captured_events, django_capture_on_commit_callbacks
):
    client = ClientFactory(
        owner=manager, status=Client.Status.PROSPECT, region="Jakarta"
    )
    group = ClientGroupFactory(name="Wholesale")

    with django_capture_on_commit_callbacks(execute=True):
        services.client_update(
            actor=manager,
            client_id=client.pk,
            version=1,
            status="client",
            region="Bandung",
            group_ids=[group.pk],
        )

    client.refresh_from_db()
    assert (client.status, client.region, client.version) == ("client", "Bandung", 2)
    entry = AuditEntry.objects.get(object_id=client.pk, action="updated")
    assert entry.changes == {
        "groups": [[], ["Wholesale"]],
        "region": ["Jakarta", "Bandung"],
        "status": ["prospect", "client"],
    }
    assert entry.actor == manager
    timeline = TimelineEntry.objects.get(client=client, kind="client.status_changed")
    assert timeline.data == {"old": "prospect", "new": "client"}
    assert captured_events == [ClientStatusChanged(client.pk, "prospect", "client")]


def test_stale_version_is_refused_and_changes_nothing(manager):
    client = ClientFactory(owner=manager, name="Old name", version=3)

    with pytest.raises(VersionConflict):
        services.client_update(
            actor=manager, client_id=client.pk, version=2, name="New"
        )

    client.refresh_from_db()
    assert (client.name, client.version) == ("Old name", 3)
    assert not AuditEntry.objects.exists()


def test_manager_cannot_touch_another_managers_client(manager, other_manager):
    client = ClientFactory(owner=other_manager, name="Theirs")

    with pytest.raises(NotFound):
        services.client_update(actor=manager, client_id=client.pk, name="Mine now")

    client.refresh_from_db()
    assert client.name == "Theirs"


def test_head_of_sales_reassigns_owner(head_of_sales, manager, other_manager):
    client = ClientFactory(owner=manager)

    services.client_update(
        actor=head_of_sales, client_id=client.pk, owner_id=other_manager.pk
    )

    client.refresh_from_db()
    assert client.owner == other_manager


def test_manager_cannot_reassign_owner(manager, other_manager):
    client = ClientFactory(owner=manager)

    with pytest.raises(ValidationFailed) as excinfo:
        services.client_update(
            actor=manager, client_id=client.pk, owner_id=other_manager.pk
        )
    assert "owner_id" in excinfo.value.fields


def test_custom_values_are_validated_and_merged(manager, admin_user):
    custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.client",
        code="industry",
        label="Industry",
        field_type="choice",
        choices=["Retail", "Food"],
    )
    custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.client",
        code="rating",
        label="Rating",
        field_type="number",
    )
    client = ClientFactory(owner=manager, custom={"rating": "5"})

    services.client_update(
        actor=manager, client_id=client.pk, custom={"industry": "Food"}
    )
    client.refresh_from_db()
    assert client.custom == {"rating": "5", "industry": "Food"}

    with pytest.raises(ValidationFailed) as excinfo:
        services.client_update(
            actor=manager, client_id=client.pk, custom={"industry": "Cars"}
        )
    assert "custom.industry" in excinfo.value.fields
    client.refresh_from_db()
    assert client.custom == {"rating": "5", "industry": "Food"}


def test_archived_client_cannot_be_edited_until_restored(manager):
    client = ClientFactory(owner=manager)
    services.client_archive(actor=manager, client_id=client.pk)

    with pytest.raises(ClientArchived):
        services.client_update(actor=manager, client_id=client.pk, name="X")

    services.client_archive(actor=manager, client_id=client.pk, archived=False)
    services.client_update(actor=manager, client_id=client.pk, name="X")
    client.refresh_from_db()
    assert client.name == "X"
    kinds = list(
        TimelineEntry.objects.filter(client=client).values_list("kind", flat=True)
    )
    assert sorted(kinds) == ["client.archived", "client.restored"]
