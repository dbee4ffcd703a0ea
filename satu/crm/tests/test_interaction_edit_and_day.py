"""The interaction edit screen and the calendar's day view."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from satu.core.models import AuditEntry
from satu.crm.models import Interaction
from satu.crm.tests.factories import InteractionFactory, TaskFactory
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def form_data(**extra):
    return {"title": "Renegotiation", "direction": "", "notes": "", **extra}


def test_edit_interaction_through_the_service(client, manager):
    talk = InteractionFactory(
        client=ClientFactory(owner=manager),
        created_by=manager,
        kind=Interaction.Kind.CALL,
        state=Interaction.State.DONE,
    )
    client.force_login(manager)
    url = f"/interactions/{talk.pk}/edit/"
    page = client.get(url).content.decode()
    assert 'name="title"' in page and 'name="kind"' not in page

    response = client.post(
        url,
        form_data(
            version=talk.version,
            direction="outgoing",
            duration_minutes="12",
            result="Agreed",
        ),
    )

    assert response.status_code == 302
    talk.refresh_from_db()
    assert (talk.title, talk.direction, talk.duration_seconds, talk.result) == (
        "Renegotiation",
        "outgoing",
        720,
        "Agreed",
    )
    assert talk.version == 2
    assert AuditEntry.objects.filter(object_id=talk.pk, action="updated").exists()


def test_stale_edit_is_refused_and_changes_nothing(client, manager):
    talk = InteractionFactory(client=ClientFactory(owner=manager), created_by=manager)
    client.force_login(manager)
    response = client.post(
        f"/interactions/{talk.pk}/edit/", form_data(version=talk.version + 5)
    )
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    talk.refresh_from_db()
    assert talk.title != "Renegotiation"


def test_other_managers_interaction_is_404(client, manager, other_manager):
    talk = InteractionFactory(client=ClientFactory(owner=other_manager))
    client.force_login(manager)
    assert client.get(f"/interactions/{talk.pk}/edit/").status_code == 404


def test_day_view_shows_tasks_and_planned_interactions(client, manager):
    day = timezone.localdate() + timedelta(days=2)
    at_ten = timezone.make_aware(
        datetime.combine(day, datetime.min.time())
    ) + timedelta(hours=10)
    buyer = ClientFactory(owner=manager, name="Buyer")
    TaskFactory(responsible=manager, client=buyer, title="Send offer", due_at=at_ten)
    TaskFactory(
        responsible=manager, title="Other day", due_at=at_ten + timedelta(days=1)
    )
    InteractionFactory(
        client=buyer,
        created_by=manager,
        state=Interaction.State.PLANNED,
        planned_at=at_ten + timedelta(hours=4),
        title="Visit",
    )
    client.force_login(manager)

    body = client.get(
        f"/tasks/calendar/?view=day&date={day.isoformat()}"
    ).content.decode()

    assert 'data-hour="10"' in body and "Send offer" in body
    assert "Visit" in body and "Other day" not in body
    assert body.index("Send offer") < body.index("Visit")
    week = client.get("/tasks/calendar/").content.decode()
    assert "?view=day&amp;date=" in week


def test_day_view_with_a_bad_date_shows_today(client, manager):
    client.force_login(manager)
    response = client.get("/tasks/calendar/?view=day&date=yesterday")
    assert response.status_code == 200
    assert timezone.localdate().isoformat() in response.content.decode()
