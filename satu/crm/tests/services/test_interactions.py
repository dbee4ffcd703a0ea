import pytest

from satu.core.errors import NotFound, ValidationFailed, VersionConflict
from satu.core.models import AuditEntry
from satu.crm import queries, services
from satu.crm.errors import InteractionStateInvalid
from satu.crm.models import Interaction
from satu.crm.tests.factories import ContactReasonFactory
from satu.parties.models import TimelineEntry
from satu.parties.tests.factories import (
    ChannelFactory,
    ContactFactory,
    ContactRoleFactory,
)

pytestmark = pytest.mark.django_db


def test_call_with_contacts_participants_channel_and_reason(
    manager, head_of_sales, client_of
):
    client = client_of(manager)
    contact = ContactFactory(first_name="Budi")
    ContactRoleFactory(contact=contact, client=client)
    channel = ChannelFactory(name="Website")
    reason = ContactReasonFactory(name="Price request")

    call = services.interaction_create(
        actor=manager,
        kind="call",
        direction="incoming",
        title="Asks for prices",
        client_id=client.pk,
        contact_ids=[contact.pk],
        participant_ids=[manager.pk, head_of_sales.pk],
        duration_seconds=185,
        result="Send the price list",
        channel_id=channel.pk,
        reason_id=reason.pk,
    )

    call.refresh_from_db()
    assert (call.state, call.direction, call.duration_seconds) == (
        "done",
        "incoming",
        185,
    )
    assert call.done_at is not None
    assert list(call.contacts.all()) == [contact]
    assert set(call.participants.all()) == {manager, head_of_sales}
    assert (call.channel, call.reason) == (channel, reason)
    entry = TimelineEntry.objects.get(kind="interaction.created")
    assert (entry.client, entry.summary) == (client, "Phone call: Asks for prices")
    assert AuditEntry.objects.filter(action="created", object_id=call.pk).exists()


def test_bad_input_is_refused_and_nothing_is_written(manager, client_of):
    client = client_of(manager)
    stranger = ContactFactory()

    with pytest.raises(ValidationFailed) as caught:
        services.interaction_create(
            actor=manager,
            kind="call",
            title="",
            client_id=client.pk,
            contact_ids=[stranger.pk],
            start_at="2030-01-01T10:00:00Z",
            end_at="2030-01-01T09:00:00Z",
        )

    assert sorted(caught.value.fields) == [
        "contact_ids",
        "direction",
        "end_at",
        "title",
    ]
    assert not Interaction.objects.exists()
    assert not TimelineEntry.objects.exists()


def test_direction_only_for_calls(manager, client_of):
    with pytest.raises(ValidationFailed) as caught:
        services.interaction_create(
            actor=manager,
            kind="meeting",
            direction="incoming",
            title="Visit",
            client_id=client_of(manager).pk,
        )
    assert caught.value.fields == {"direction": ["Only phone calls have a direction."]}


def test_client_of_another_manager_is_not_found(manager, other_manager, client_of):
    with pytest.raises(NotFound):
        services.interaction_create(
            actor=manager, kind="sms", title="Hi", client_id=client_of(other_manager).pk
        )
    assert not Interaction.objects.exists()


def test_from_a_deal_and_from_an_interaction_inherit_client_and_subject(
    manager, client_of, kind_and_stages
):
    kind, _stages = kind_and_stages
    client = client_of(manager)
    deal = services.deal_create(
        actor=manager, client_id=client.pk, kind_id=kind.pk, title="Pumps"
    )
    loose = services.interaction_create(
        actor=manager, kind="email", title="Hello", client_id=client.pk
    )

    first = services.interaction_create(
        actor=manager,
        kind="meeting",
        title="Kick-off",
        from_type="crm.deal",
        from_id=deal.pk,
    )
    reply = services.interaction_create(
        actor=manager,
        kind="email",
        title="Minutes",
        from_type="crm.interaction",
        from_id=first.pk,
    )
    answer = services.interaction_create(
        actor=manager,
        kind="sms",
        title="Got it",
        from_type="crm.interaction",
        from_id=loose.pk,
    )

    assert (first.client_id, first.subject_type, first.subject_id) == (
        client.pk,
        "crm.deal",
        deal.pk,
    )
    assert (reply.client_id, reply.subject_type, reply.subject_id) == (
        client.pk,
        "crm.deal",
        deal.pk,
    )
    assert (answer.subject_type, answer.subject_id) == ("crm.interaction", loose.pk)
    assert queries.interaction_thread(
        actor=manager, subject_type="crm.deal", subject_id=deal.pk
    ) == [first, reply]
    assert queries.interaction_thread(
        actor=manager, subject_type="crm.interaction", subject_id=loose.pk
    ) == [loose, answer]


def test_from_an_invisible_deal_is_not_found(
    manager, other_manager, client_of, kind_and_stages
):
    kind, _stages = kind_and_stages
    deal = services.deal_create(
        actor=other_manager,
        client_id=client_of(other_manager).pk,
        kind_id=kind.pk,
        title="Theirs",
    )
    with pytest.raises(NotFound):
        services.interaction_create(
            actor=manager, kind="sms", title="Hi", from_type="crm.deal", from_id=deal.pk
        )


def test_planned_then_completed(manager, client_of):
    planned = services.interaction_create(
        actor=manager,
        kind="planned",
        title="Call back",
        client_id=client_of(manager).pk,
        planned_at="2030-01-01T10:00:00Z",
    )
    assert (planned.state, planned.done_at) == ("planned", None)

    services.interaction_complete(
        actor=manager, interaction_id=planned.pk, result="Agreed"
    )

    planned.refresh_from_db()
    assert (planned.state, planned.result, planned.version) == ("done", "Agreed", 2)
    assert planned.done_at is not None
    assert list(
        TimelineEntry.objects.order_by("id").values_list("kind", flat=True)
    ) == ["interaction.planned", "interaction.completed"]
    with pytest.raises(InteractionStateInvalid):
        services.interaction_cancel(actor=manager, interaction_id=planned.pk)


def test_planned_needs_a_time(manager, client_of):
    with pytest.raises(ValidationFailed) as caught:
        services.interaction_create(
            actor=manager,
            kind="planned",
            title="Later",
            client_id=client_of(manager).pk,
        )
    assert list(caught.value.fields) == ["planned_at"]


def test_cancel(manager, client_of):
    planned = services.interaction_create(
        actor=manager,
        kind="meeting",
        state="planned",
        title="Visit",
        client_id=client_of(manager).pk,
        planned_at="2030-01-01T10:00:00Z",
    )
    services.interaction_cancel(actor=manager, interaction_id=planned.pk)
    planned.refresh_from_db()
    assert planned.state == "cancelled"


def test_update_with_version_check(manager, client_of):
    sms = services.interaction_create(
        actor=manager, kind="sms", title="Hi", client_id=client_of(manager).pk
    )
    services.interaction_update(
        actor=manager, interaction_id=sms.pk, version=1, notes="Replied"
    )
    with pytest.raises(VersionConflict):
        services.interaction_update(
            actor=manager, interaction_id=sms.pk, version=1, notes="Again"
        )
    sms.refresh_from_db()
    assert (sms.notes, sms.version) == ("Replied", 2)
    assert AuditEntry.objects.filter(action="updated").get().changes == {
        "notes": ["", "Replied"]
    }


def test_list_shows_only_visible_clients(manager, other_manager, client_of):
    mine = services.interaction_create(
        actor=manager, kind="sms", title="Mine", client_id=client_of(manager).pk
    )
    services.interaction_create(
        actor=other_manager,
        kind="sms",
        title="Theirs",
        client_id=client_of(other_manager).pk,
    )
    assert list(queries.interaction_list(actor=manager)) == [mine]


def test_recording_file_attaches_to_a_call(manager, client_of):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from satu.core import attachments

    call = services.interaction_create(
        actor=manager,
        kind="call",
        direction="incoming",
        title="Recorded",
        client_id=client_of(manager).pk,
    )
    recording = SimpleUploadedFile("call.mp3", b"ID3 recording", "audio/mpeg")

    attachments.attachment_add(
        actor=manager,
        object_type="crm.interaction",
        object_id=call.pk,
        uploaded=recording,
    )

    assert [a.name for a in attachments.attachments_for(call)] == ["call.mp3"]
