import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from satu.core.errors import NotFound, PermissionDenied
from satu.core.models import Attachment, AuditEntry
from satu.parties import services
from satu.parties.errors import MergeNotAllowed
from satu.parties.models import ClientCounterparty, ContactRole, TimelineEntry
from satu.parties.tests.factories import (
    ClientCounterpartyFactory,
    ClientFactory,
    ClientGroupFactory,
    ContactRoleFactory,
    TimelineEntryFactory,
)

pytestmark = pytest.mark.django_db


def test_moves_every_linked_record_to_the_survivor(head_of_sales):
    survivor = ClientFactory(name="PT Maju", phone="")
    merged = ClientFactory(name="Maju Jaya", phone="+62215550123", custom={"tier": "A"})
    group = ClientGroupFactory()
    merged.groups.add(group)
    link = ClientCounterpartyFactory(client=merged)
    role = ContactRoleFactory(client=merged)
    event = TimelineEntryFactory(client=merged)
    attachment = Attachment.objects.create(
        content_type=ContentType.objects.get_for_model(merged),
        object_id=merged.pk,
        file="x.pdf",
        name="x.pdf",
        size=1,
        mime_type="application/pdf",
    )

    result = services.client_merge(
        actor=head_of_sales, survivor_id=survivor.pk, merged_id=merged.pk
    )

    assert result == survivor
    merged.refresh_from_db()
    survivor.refresh_from_db()
    assert merged.merged_into == survivor and merged.is_archived
    assert ClientCounterparty.objects.get(pk=link.pk).client == survivor
    assert ContactRole.objects.get(pk=role.pk).client == survivor
    assert TimelineEntry.objects.get(pk=event.pk).client == survivor
    assert Attachment.objects.get(pk=attachment.pk).object_id == survivor.pk
    assert list(survivor.groups.all()) == [group]
    assert survivor.phone == "+62215550123"
    assert survivor.custom == {"tier": "A"}
    assert AuditEntry.objects.filter(object_id=survivor.pk, action="merged").exists()
    assert TimelineEntry.objects.filter(client=survivor, kind="client.merged").exists()


def test_calls_registered_merge_handlers(head_of_sales):
    survivor, merged = ClientFactory(), ClientFactory()
    calls = []

    def handler(**kwargs):
        calls.append((kwargs["merged"].pk, kwargs["survivor"].pk))

    services.register_merge_handler(handler)
    try:
        services.client_merge(
            actor=head_of_sales, survivor_id=survivor.pk, merged_id=merged.pk
        )
    finally:
        services._merge_handlers.remove(handler)
    assert calls == [(merged.pk, survivor.pk)]


def test_refuses_self_merge_and_double_merge(head_of_sales):
    a, b, c = ClientFactory(), ClientFactory(), ClientFactory()
    with pytest.raises(MergeNotAllowed):
        services.client_merge(actor=head_of_sales, survivor_id=a.pk, merged_id=a.pk)
    services.client_merge(actor=head_of_sales, survivor_id=a.pk, merged_id=b.pk)
    with pytest.raises(MergeNotAllowed):
        services.client_merge(actor=head_of_sales, survivor_id=c.pk, merged_id=b.pk)


def test_needs_merge_permission_and_visibility(manager, head_of_sales, other_manager):
    mine = ClientFactory(owner=manager)
    theirs = ClientFactory(owner=other_manager)
    with pytest.raises(PermissionDenied):
        services.client_merge(actor=manager, survivor_id=mine.pk, merged_id=theirs.pk)
    other_manager.user_permissions.add(Permission.objects.get(codename="merge_clients"))
    other_manager = type(other_manager).objects.get(pk=other_manager.pk)
    with pytest.raises(NotFound):
        services.client_merge(
            actor=other_manager, survivor_id=theirs.pk, merged_id=mine.pk
        )
    mine.refresh_from_db()
    assert mine.merged_into is None
