"""/api/v1/tasks (CRM-5)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from satu.crm.models import Task
from satu.crm.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db


def post(api, url, body=None):
    return api.post(url, json.dumps(body or {}), content_type="application/json")


def test_create_get_patch_complete(api_client, manager, client_of):
    client = client_of(manager)
    api = api_client.as_user(manager)
    created = post(
        api,
        "/api/v1/tasks",
        {
            "title": "Send the offer",
            "client_id": client.pk,
            "due_at": "2030-01-02T09:00:00Z",
            "remind_at": "2030-01-02T08:00:00Z",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (
        body["title"],
        body["client"]["id"],
        body["responsible"]["id"],
        body["state"],
        body["overdue"],
        body["due_at"],
        body["version"],
    ) == (
        "Send the offer",
        client.pk,
        manager.pk,
        "open",
        False,
        "2030-01-02T09:00:00Z",
        1,
    )
    task_id = body["id"]
    assert api.get(f"/api/v1/tasks/{task_id}").json()["title"] == "Send the offer"

    stale = api.patch(
        f"/api/v1/tasks/{task_id}",
        json.dumps({"title": "Other", "version": 5}),
        content_type="application/json",
    )
    assert (stale.status_code, stale.json()["code"]) == (409, "version_conflict")
    changed = api.patch(
        f"/api/v1/tasks/{task_id}",
        json.dumps({"title": "Send the signed offer", "version": 1}),
        content_type="application/json",
    )
    assert changed.status_code == 200
    assert (changed.json()["title"], changed.json()["version"]) == (
        "Send the signed offer",
        2,
    )

    done = post(api, f"/api/v1/tasks/{task_id}/complete")
    assert (done.status_code, done.json()["state"]) == (200, "done")
    again = post(api, f"/api/v1/tasks/{task_id}/cancel")
    assert (again.status_code, again.json()["code"]) == (409, "crm.task_state_invalid")


def test_cancel(api_client, manager):
    task = TaskFactory(responsible=manager)
    response = post(api_client.as_user(manager), f"/api/v1/tasks/{task.pk}/cancel")
    assert (response.status_code, response.json()["state"]) == (200, "cancelled")


def test_bad_input_changes_nothing(api_client, manager, other_manager, client_of):
    api = api_client.as_user(manager)
    bad_date = post(api, "/api/v1/tasks", {"title": "X", "due_at": "next week"})
    assert bad_date.status_code == 422
    assert "due_at" in bad_date.json()["fields"]
    no_title = post(api, "/api/v1/tasks", {"due_at": "2030-01-02T09:00:00Z"})
    assert no_title.status_code == 422
    assert "title" in no_title.json()["fields"]
    hidden = post(
        api,
        "/api/v1/tasks",
        {
            "title": "X",
            "due_at": "2030-01-02T09:00:00Z",
            "client_id": client_of(other_manager).pk,
        },
    )
    assert (hidden.status_code, hidden.json()["code"]) == (404, "not_found")
    bad_user = post(
        api,
        "/api/v1/tasks",
        {"title": "X", "due_at": "2030-01-02T09:00:00Z", "responsible_id": 99999},
    )
    assert bad_user.status_code == 422
    assert bad_user.json()["fields"] == {
        "responsible_id": ["Unknown or inactive user."]
    }
    assert Task.objects.count() == 0


def test_invisible_task_is_404(api_client, manager, other_manager, client_of):
    task = TaskFactory(responsible=other_manager, client=client_of(other_manager))
    api = api_client.as_user(manager)
    assert api.get(f"/api/v1/tasks/{task.pk}").status_code == 404
    assert post(api, f"/api/v1/tasks/{task.pk}/complete").status_code == 404
    task.refresh_from_db()
    assert task.state == "open"


def test_list_filters_and_query_count(
    api_client, manager, client_of, django_assert_num_queries
):
    client = client_of(manager)
    now = timezone.now()
    late = TaskFactory(
        responsible=manager, client=client, due_at=now - timedelta(hours=1)
    )
    soon = TaskFactory(responsible=manager, due_at=now + timedelta(hours=1))
    done = TaskFactory(responsible=manager, client=client, state=Task.State.DONE)
    api = api_client.as_user(manager)

    def ids(query):
        return [t["id"] for t in api.get(f"/api/v1/tasks{query}").json()["items"]]

    assert ids("?overdue=true") == [late.pk]
    assert ids("?state=open") == [late.pk, soon.pk]
    assert ids(f"?client_id={client.pk}") == [late.pk, done.pk]
    assert ids(f"?responsible_id={manager.pk}&overdue=false") == [soon.pk, done.pk]
    bad = api.get("/api/v1/tasks?state=later")
    assert bad.status_code == 422

    for _ in range(5):
        TaskFactory(responsible=manager, client=client_of(manager))
    api.get("/api/v1/tasks")  # warm caches (token user, permissions)
    with django_assert_num_queries(6) as captured:
        response = api.get("/api/v1/tasks")
    assert response.json()["count"] == 8, captured
