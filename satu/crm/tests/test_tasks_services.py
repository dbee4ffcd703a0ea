"""Task services and queries (CRM-5): create/update/complete/cancel, record
rules, overdue, in-app reminders."""

from datetime import timedelta

import pytest
from django.utils import timezone

from satu.core.errors import NotFound, ValidationFailed, VersionConflict
from satu.core.models import AuditEntry
from satu.crm import queries, services
from satu.crm.errors import TaskStateInvalid
from satu.crm.models import Interaction, Task
from satu.crm.tests.factories import DealFactory, InteractionFactory, TaskFactory
from satu.parties.models import TimelineEntry

pytestmark = pytest.mark.django_db


def _actions(task):
    return list(
        AuditEntry.objects.filter(object_id=task.pk, content_type__model="task")
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_create_about_a_client_is_audited_and_on_the_timeline(manager, client_of):
    # given
    client = client_of(manager)
    due = timezone.now() + timedelta(days=2)
    # when
    task = services.task_create(
        actor=manager, title=" Call back ", client_id=client.pk, due_at=due
    )
    # then
    task.refresh_from_db()
    assert (task.title, task.client_id, task.responsible_id, task.created_by_id) == (
        "Call back",
        client.pk,
        manager.pk,
        manager.pk,
    )
    assert (task.state, task.due_at, task.version) == ("open", due, 1)
    assert _actions(task) == ["created"]
    entry = TimelineEntry.objects.get(client=client)
    assert (entry.kind, entry.subject_type, entry.subject_id, entry.url) == (
        "task.created",
        "crm.task",
        task.pk,
        f"/tasks/{task.pk}/",
    )


def test_a_deal_brings_its_client(manager, client_of, kind_and_stages):
    kind, _ = kind_and_stages
    deal = DealFactory(client=client_of(manager), kind=kind)
    task = services.task_create(
        actor=manager, title="Offer", deal_id=deal.pk, due_at=timezone.now()
    )
    assert (task.deal_id, task.client_id) == (deal.pk, deal.client_id)


def test_deal_of_another_client_is_refused(manager, client_of, kind_and_stages):
    kind, _ = kind_and_stages
    deal = DealFactory(client=client_of(manager), kind=kind)
    other = client_of(manager)
    with pytest.raises(ValidationFailed) as err:
        services.task_create(
            actor=manager,
            title="Offer",
            client_id=other.pk,
            deal_id=deal.pk,
            due_at=timezone.now(),
        )
    assert err.value.fields == {"deal_id": ["The deal belongs to another client."]}
    assert Task.objects.count() == 0


def test_invisible_client_is_not_found(manager, other_manager, client_of):
    foreign = client_of(other_manager)
    with pytest.raises(NotFound):
        services.task_create(
            actor=manager, title="X", client_id=foreign.pk, due_at=timezone.now()
        )
    assert Task.objects.count() == 0
    assert TimelineEntry.objects.count() == 0


def test_bad_fields_are_reported_together(manager):
    with pytest.raises(ValidationFailed) as err:
        services.task_create(
            actor=manager, title="  ", due_at="tomorrow", responsible_id=987654
        )
    assert err.value.fields == {
        "title": ["This field is required."],
        "due_at": ["Enter a valid date and time."],
        "responsible_id": ["Unknown or inactive user."],
    }
    assert Task.objects.count() == 0


def test_update_checks_the_version_and_rearms_the_reminder(manager):
    task = TaskFactory(responsible=manager, reminder_sent_at=timezone.now())
    later = timezone.now() + timedelta(days=5)
    with pytest.raises(VersionConflict):
        services.task_update(actor=manager, task_id=task.pk, version=7, title="New")
    task.refresh_from_db()
    assert (task.version, task.title.startswith("Task")) == (1, True)

    services.task_update(
        actor=manager, task_id=task.pk, version=1, title="New", due_at=later
    )
    task.refresh_from_db()
    assert (task.title, task.due_at, task.version, task.reminder_sent_at) == (
        "New",
        later,
        2,
        None,
    )
    assert _actions(task) == ["updated"]


def test_update_keeps_a_client_the_responsible_cannot_see(
    manager, other_manager, client_of
):
    # A task about another manager's client, assigned to `manager`.
    foreign = client_of(other_manager)
    task = TaskFactory(responsible=manager, client=foreign, created_by=other_manager)
    services.task_update(actor=manager, task_id=task.pk, title="Renamed")
    task.refresh_from_db()
    assert (task.title, task.client_id) == ("Renamed", foreign.pk)


def test_complete_then_cancel_is_refused(manager, client_of):
    client = client_of(manager)
    task = TaskFactory(responsible=manager, client=client)
    services.task_complete(actor=manager, task_id=task.pk)
    task.refresh_from_db()
    assert (task.state, task.done_at is not None, task.version) == ("done", True, 2)
    with pytest.raises(TaskStateInvalid):
        services.task_cancel(actor=manager, task_id=task.pk)
    with pytest.raises(TaskStateInvalid):
        services.task_update(actor=manager, task_id=task.pk, title="Late")
    task.refresh_from_db()
    assert (task.state, task.version) == ("done", 2)
    assert _actions(task) == ["completed"]
    assert list(TimelineEntry.objects.values_list("kind", flat=True)) == [
        "task.completed"
    ]


def test_cancel(manager):
    task = TaskFactory(responsible=manager)
    services.task_cancel(actor=manager, task_id=task.pk)
    task.refresh_from_db()
    assert (task.state, task.done_at) == ("cancelled", None)
    assert _actions(task) == ["cancelled"]


def test_record_rules(manager, other_manager, head_of_sales, client_of):
    mine = TaskFactory(responsible=manager)
    created = TaskFactory(responsible=other_manager, created_by=manager)
    of_my_client = TaskFactory(
        responsible=other_manager,
        created_by=other_manager,
        client=client_of(manager),
    )
    theirs = TaskFactory(responsible=other_manager, client=client_of(other_manager))
    assert set(queries.tasks_visible_to(manager)) == {mine, created, of_my_client}
    assert set(queries.tasks_visible_to(head_of_sales)) == {
        mine,
        created,
        of_my_client,
        theirs,
    }
    with pytest.raises(NotFound):
        services.task_complete(actor=manager, task_id=theirs.pk)
    theirs.refresh_from_db()
    assert theirs.state == "open"


def test_overdue_and_my_tasks_sections(manager):
    now = timezone.now()
    late = TaskFactory(responsible=manager, due_at=now - timedelta(hours=1))
    TaskFactory(
        responsible=manager, due_at=now - timedelta(hours=2), state=Task.State.DONE
    )
    upcoming = TaskFactory(responsible=manager, due_at=now + timedelta(days=3))
    assert list(queries.tasks_overdue(manager)) == [late]
    assert late.is_overdue is True
    sections = queries.my_tasks(actor=manager)
    assert (sections["overdue"], sections["upcoming"]) == ([late], [upcoming])


def test_notifications_list_due_tasks_and_planned_interactions(manager, client_of):
    now = timezone.now()
    reminded = TaskFactory(
        responsible=manager,
        due_at=now + timedelta(days=1),
        remind_at=now - timedelta(minutes=5),
    )
    TaskFactory(responsible=manager, remind_at=now + timedelta(hours=1))
    late = TaskFactory(responsible=manager, due_at=now - timedelta(hours=1))
    meeting = InteractionFactory(
        client=client_of(manager),
        state=Interaction.State.PLANNED,
        planned_at=now - timedelta(minutes=30),
        created_by=manager,
    )
    InteractionFactory(
        client=client_of(manager),
        state=Interaction.State.PLANNED,
        planned_at=now + timedelta(days=1),
        created_by=manager,
    )
    items = queries.notifications(actor=manager)
    assert [(i["type"], i["id"]) for i in items] == [
        ("task", late.pk),
        ("interaction", meeting.pk),
        ("task", reminded.pk),
    ]


def test_timeline_text_follows_the_language(manager, client_of):
    from django.utils import translation

    from satu.parties.queries import timeline_summary

    task = TaskFactory(responsible=manager, client=client_of(manager), title="Call")
    services.task_cancel(actor=manager, task_id=task.pk)
    entry = TimelineEntry.objects.get(kind="task.cancelled")
    assert timeline_summary(entry) == "Task cancelled: Call"
    with translation.override("id"):
        assert timeline_summary(entry) == "Tugas dibatalkan: Call"
