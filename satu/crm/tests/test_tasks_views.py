"""Task screens, the calendar, the iCalendar feed and e-mail reminders
(CRM-5)."""

from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from icalendar import Calendar

from satu.core import features
from satu.crm.models import CalendarFeed, Interaction, Task
from satu.crm.tasks import send_due_reminders
from satu.crm.tests.factories import InteractionFactory, TaskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client, manager):
    client.force_login(manager)
    return client


def test_my_tasks_sections_and_overdue_in_red(web, manager, other_manager):
    now = timezone.now()
    late = TaskFactory(
        responsible=manager, title="Late one", due_at=now - timedelta(hours=2)
    )
    TaskFactory(responsible=manager, title="Next week", due_at=now + timedelta(days=7))
    TaskFactory(responsible=other_manager, title="Not mine")

    response = web.get("/tasks/")

    assert response.status_code == 200
    html = response.content.decode()
    overdue = html.split('id="tasks-overdue"')[1].split("</section>")[0]
    upcoming = html.split('id="tasks-upcoming"')[1].split("</section>")[0]
    assert "Late one" in overdue and 'class="overdue"' in overdue
    assert "Next week" in upcoming and "Late one" not in upcoming
    assert "Not mine" not in html
    # the overdue task is also an in-app reminder
    assert f'href="/tasks/{late.pk}/"' in html.split('id="notifications"')[1]
    assert 'href="/tasks/"' in html  # navigation entry


def test_create_edit_complete_on_screens(web, manager, client_of):
    client = client_of(manager)
    page = web.get(f"/tasks/new/?client={client.pk}")
    assert page.status_code == 200
    response = web.post(
        "/tasks/new/",
        {
            "title": "Visit",
            "responsible": manager.pk,
            "due_at": "2030-03-04T10:00",
            "client": client.pk,
        },
    )
    task = Task.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/tasks/{task.pk}/"
    assert (task.title, task.client_id) == ("Visit", client.pk)

    edited = web.post(
        f"/tasks/{task.pk}/edit/",
        {
            "title": "Visit the plant",
            "responsible": manager.pk,
            "due_at": "2030-03-05T10:00",
            "client": client.pk,
            "version": 1,
        },
    )
    assert edited.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.version) == ("Visit the plant", 2)

    web.post(f"/tasks/{task.pk}/complete/")
    task.refresh_from_db()
    assert task.state == "done"
    assert "Visit the plant" in web.get(f"/tasks/{task.pk}/").content.decode()


def test_bad_form_shows_errors_and_changes_nothing(web, manager):
    response = web.post(
        "/tasks/new/", {"title": "", "responsible": manager.pk, "due_at": "soon"}
    )
    assert response.status_code == 422
    assert Task.objects.count() == 0


def test_other_managers_task_is_404(web, other_manager, client_of):
    task = TaskFactory(responsible=other_manager, client=client_of(other_manager))
    assert web.get(f"/tasks/{task.pk}/").status_code == 404


def test_week_calendar(web, manager, client_of):
    monday = timezone.make_aware(datetime(2030, 3, 4, 9, 0))
    TaskFactory(responsible=manager, title="Monday task", due_at=monday)
    InteractionFactory(
        client=client_of(manager),
        title="Friday meeting",
        state=Interaction.State.PLANNED,
        planned_at=monday + timedelta(days=4, hours=5),
        created_by=manager,
    )
    TaskFactory(responsible=manager, title="Later task", due_at=monday + timedelta(7))

    response = web.get("/tasks/calendar/?week=2030-W10")

    assert response.status_code == 200
    days = response.context["days"]
    assert [d["date"].isoformat() for d in days][::6] == ["2030-03-04", "2030-03-10"]
    assert [i["obj"].title for i in days[0]["items"]] == ["Monday task"]
    assert [i["obj"].title for i in days[4]["items"]] == ["Friday meeting"]
    assert response.context["next_week"] == "2030-W11"
    assert "Later task" not in response.content.decode()
    assert web.get("/tasks/calendar/?week=garbage").status_code == 200


def test_calendar_feed_lists_only_the_users_tasks(client, web, manager, other_manager):
    TaskFactory(
        responsible=manager,
        title="Mine",
        due_at=timezone.make_aware(datetime(2030, 3, 4, 9, 0)),
    )
    TaskFactory(responsible=other_manager, title="Theirs")
    web.post("/tasks/calendar-links/new/")
    feed = CalendarFeed.objects.get(user=manager)
    assert len(feed.token) >= 40
    assert feed.token in web.get("/tasks/").content.decode()
    client.logout()

    response = client.get(f"/calendar/{feed.token}.ics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = [e for e in calendar.walk("VEVENT")]
    assert [str(e["summary"]) for e in events] == ["Mine"]
    assert events[0].decoded("dtstart") == timezone.make_aware(
        datetime(2030, 3, 4, 9, 0)
    )
    assert client.get("/calendar/unknown-token.ics").status_code == 404


def test_revoked_link_stops_working(client, web, manager):
    web.post("/tasks/calendar-links/new/")
    feed = CalendarFeed.objects.get(user=manager)
    web.post(f"/tasks/calendar-links/{feed.pk}/revoke/")
    assert CalendarFeed.objects.count() == 0
    client.logout()
    assert client.get(f"/calendar/{feed.token}.ics").status_code == 404


def test_feed_is_404_when_crm_is_off(client, manager, admin_user):
    feed = CalendarFeed.objects.create(user=manager, token="t" * 43)
    features.feature_set(code="crm", enabled=False, actor=admin_user)
    assert client.get(f"/calendar/{feed.token}.ics").status_code == 404


def test_reminders_are_emailed_once(settings, manager, other_manager):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    now = timezone.now()
    due = TaskFactory(
        responsible=manager, title="Call Budi", remind_at=now - timedelta(minutes=1)
    )
    TaskFactory(responsible=other_manager, remind_at=now + timedelta(hours=1))
    TaskFactory(
        responsible=other_manager,
        due_at=now - timedelta(hours=1),
        state=Task.State.DONE,
    )

    assert send_due_reminders.call() == 1

    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["manager@satu.test"], "Reminder: Call Budi")
    ]
    due.refresh_from_db()
    assert due.reminder_sent_at is not None
    assert send_due_reminders.call() == 0
    assert len(mail.outbox) == 1


def test_remind_command_runs_the_job(settings, manager):
    # The test settings use the immediate task backend: enqueue runs it.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    TaskFactory(responsible=manager, due_at=timezone.now() - timedelta(minutes=1))
    call_command("remind")
    call_command("remind", now=True)
    assert len(mail.outbox) == 1
