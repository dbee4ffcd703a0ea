"""Rendering of a user's iCalendar feed (tasks and planned interactions)."""

from datetime import timedelta

from django.utils import timezone
from icalendar import Calendar, Event

from satu.crm.models import Interaction, Task

EVENT_LENGTH = timedelta(minutes=30)


def _event(uid: str, title: str, start, url: str, description: str = "") -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("summary", title)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", start)
    event.add("dtend", start + EVENT_LENGTH)
    event.add("url", url)
    if description:
        event.add("description", description)
    return event


def render(
    *, user, tasks: list[Task], interactions: list[Interaction], base: str
) -> bytes:
    """The feed as iCalendar bytes; each item is a 30-minute event at its
    due/planned time, with a link back to Satu (`base` is the site root)."""
    base = base.rstrip("/")
    calendar = Calendar()
    calendar.add("prodid", "-//Satu//CRM tasks//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Satu: {user.get_username()}")
    for task in tasks:
        title = task.title if task.state == Task.State.OPEN else f"✓ {task.title}"
        if task.client_id:
            title = f"{title} ({task.client.name})"
        calendar.add_component(
            _event(
                f"task-{task.pk}@satu",
                title,
                task.due_at,
                f"{base}/tasks/{task.pk}/",
                task.description,
            )
        )
    for interaction in interactions:
        calendar.add_component(
            _event(
                f"interaction-{interaction.pk}@satu",
                f"{interaction.title} ({interaction.client.name})",
                interaction.planned_at,
                f"{base}/interactions/{interaction.pk}/",
                interaction.notes,
            )
        )
    return calendar.to_ical()
