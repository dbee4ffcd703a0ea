"""Platform endpoints: /me, custom fields, features, audit, jobs,
attachments and tokens."""

import json
from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from satu.core import audit, features
from satu.core.models import (
    ApiToken,
    Attachment,
    AuditEntry,
    CustomField,
    FeatureToggle,
    Job,
)
from satu.core.tokens import api_token_create
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Users are created per test; the real hasher costs most of the runtime.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


PDF = b"%PDF-1.4\n%a signed but tiny pdf\n"


def post_json(http, url, data, **headers):
    return http.post(
        url, json.dumps(data), content_type="application/json", headers=headers
    )


def patch_json(http, url, data):
    return http.patch(url, json.dumps(data), content_type="application/json")


# ------------------------------------------------------------------ /me


def test_me_shows_user_roles_language_and_time_zone(api_client, manager):
    response = api_client.as_user(manager).get("/api/v1/me")

    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("username", "language", "time_zone", "roles")} == {
        "username": "manager",
        "language": "en",
        "time_zone": "Asia/Jakarta",
        "roles": [{"code": "sales_manager", "label": "Sales manager"}],
    }
    assert "parties.add_client" in body["permissions"]


def test_patch_me_changes_language_and_time_zone(api_client, manager):
    http = api_client.as_user(manager)

    response = patch_json(http, "/api/v1/me", {"time_zone": "Asia/Makassar"})
    both = patch_json(http, "/api/v1/me", {"language": "id", "time_zone": "UTC"})

    assert response.status_code == 200
    assert (response.json()["language"], response.json()["time_zone"]) == (
        "en",
        "Asia/Makassar",
    )
    manager.refresh_from_db()
    assert (both.status_code, manager.language, manager.time_zone) == (200, "id", "UTC")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"language": "fr"}, "language"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": 7}, "time_zone"),
        ({"time_zone": "x" * 65}, "time_zone"),
    ],
)
def test_patch_me_refuses_bad_values(api_client, manager, payload, field):
    response = patch_json(api_client.as_user(manager), "/api/v1/me", payload)

    assert response.status_code == 422
    assert list(response.json()["fields"]) == [field]
    manager.refresh_from_db()
    assert (manager.language, manager.time_zone) == ("en", "Asia/Jakarta")


# ------------------------------------------------------------------ custom fields

FIELD = {
    "object_type": "parties.client",
    "code": "region_code",
    "label": "Region code",
    "field_type": "choice",
    "choices": ["JKT", "SBY"],
    "required": False,
}


def test_admin_defines_a_custom_field(api_client, admin_user):
    response = post_json(api_client.as_user(admin_user), "/api/v1/custom-fields", FIELD)

    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("code", "field_type", "choices", "is_active")} == {
        "code": "region_code",
        "field_type": "choice",
        "choices": ["JKT", "SBY"],
        "is_active": True,
    }
    assert CustomField.objects.get().label == "Region code"


def test_manager_may_not_define_custom_fields(api_client, manager):
    response = post_json(api_client.as_user(manager), "/api/v1/custom-fields", FIELD)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert CustomField.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "Bad Code"}, "code"),
        ({"field_type": "colour"}, "field_type"),
        ({"object_type": "nowhere.thing"}, "object_type"),
        ({"choices": []}, "choices"),
        ({"label": "x" * 101}, "label"),
        ({"label": ""}, "label"),
        ({"required": "perhaps"}, "required"),
    ],
)
def test_bad_definitions_are_refused(api_client, admin_user, change, field):
    response = post_json(
        api_client.as_user(admin_user), "/api/v1/custom-fields", {**FIELD, **change}
    )

    assert response.status_code == 422
    assert field in response.json()["fields"]
    assert CustomField.objects.count() == 0


def test_duplicate_code_is_refused(api_client, admin_user):
    http = api_client.as_user(admin_user)
    post_json(http, "/api/v1/custom-fields", FIELD)

    response = post_json(http, "/api/v1/custom-fields", FIELD)

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["code"]
    assert CustomField.objects.count() == 1


def test_custom_fields_list_per_object_type(api_client, admin_user, manager):
    http = api_client.as_user(admin_user)
    post_json(http, "/api/v1/custom-fields", FIELD)
    post_json(
        http,
        "/api/v1/custom-fields",
        {
            **FIELD,
            "object_type": "parties.contact",
            "code": "hobby",
            "field_type": "text",
            "choices": [],
        },
    )

    listed = (
        api_client.as_user(manager)
        .get("/api/v1/custom-fields", {"object_type": "parties.contact"})
        .json()
    )

    assert [f["code"] for f in listed["items"]] == ["hobby"]
    assert listed["count"] == 1


def test_admin_changes_a_custom_field_partially(api_client, admin_user):
    http = api_client.as_user(admin_user)
    field_id = post_json(http, "/api/v1/custom-fields", FIELD).json()["id"]

    response = patch_json(
        http, f"/api/v1/custom-fields/{field_id}", {"label": "Area", "is_active": False}
    )

    assert response.status_code == 200
    field = CustomField.objects.get()
    assert (field.label, field.is_active, field.choices) == (
        "Area",
        False,
        ["JKT", "SBY"],
    )
    assert http.get(f"/api/v1/custom-fields/{field_id}").json()["label"] == "Area"


def test_manager_may_not_change_custom_fields(api_client, admin_user, manager):
    field_id = post_json(
        api_client.as_user(admin_user), "/api/v1/custom-fields", FIELD
    ).json()["id"]

    response = patch_json(
        api_client.as_user(manager),
        f"/api/v1/custom-fields/{field_id}",
        {"label": "Hacked"},
    )

    assert response.status_code == 403
    assert CustomField.objects.get().label == "Region code"


def test_unknown_custom_field_is_404(api_client, admin_user):
    http = api_client.as_user(admin_user)

    assert (
        patch_json(http, "/api/v1/custom-fields/999", {"label": "X"}).status_code == 404
    )
    assert http.get("/api/v1/custom-fields/999").status_code == 404


# ------------------------------------------------------------------ features


def test_features_list_their_effective_state(api_client, admin_user, manager):
    features.feature_set(code="contacts", enabled=False, actor=admin_user)

    listed = api_client.as_user(manager).get("/api/v1/features").json()

    state = {f["code"]: f["enabled"] for f in listed["items"]}
    assert state["contacts"] is False
    assert state["counterparties"] is True
    assert listed["count"] == len(features.registered())


def test_admin_switches_a_module_off_and_its_api_disappears(api_client, admin_user):
    http = api_client.as_user(admin_user)

    response = patch_json(http, "/api/v1/features/contacts", {"enabled": False})

    assert response.status_code == 200
    assert response.json()["enabled"] is False
    gone = http.get("/api/v1/contacts")
    assert gone.status_code == 404
    assert gone.json()["code"] == "feature_disabled"
    assert http.get("/api/v1/clients").status_code == 200


def test_manager_may_not_switch_features(api_client, manager):
    response = patch_json(
        api_client.as_user(manager), "/api/v1/features/contacts", {"enabled": False}
    )

    assert response.status_code == 403
    assert FeatureToggle.objects.count() == 0


def test_unknown_feature_is_404_and_bad_value_422(api_client, admin_user):
    http = api_client.as_user(admin_user)

    assert (
        patch_json(http, "/api/v1/features/nope", {"enabled": False}).status_code == 404
    )
    bad = patch_json(http, "/api/v1/features/contacts", {"enabled": "maybe"})
    assert bad.status_code == 422
    assert FeatureToggle.objects.count() == 0


# ------------------------------------------------------------------ audit


def _client_with_history(owner):
    client = ClientFactory(owner=owner, name="PT Riwayat")
    audit.record(actor=owner, subject=client, action="created")
    audit.record(
        actor=owner,
        subject=client,
        action="updated",
        changes={"name": ["PT Lama", "PT Riwayat"]},
    )
    return client


def test_manager_reads_the_audit_of_his_own_client(api_client, manager):
    client = _client_with_history(manager)

    response = api_client.as_user(manager).get(
        "/api/v1/audit", {"object_type": "parties.client", "object_id": client.pk}
    )

    assert response.status_code == 200
    items = response.json()["items"]
    assert [(e["action"], e["object_type"], e["actor"]["username"]) for e in items] == [
        ("updated", "parties.client", "manager"),
        ("created", "parties.client", "manager"),
    ]
    assert items[0]["changes"] == {"name": ["PT Lama", "PT Riwayat"]}


def test_audit_of_another_managers_client_is_404(api_client, manager, other_manager):
    client = _client_with_history(other_manager)

    response = api_client.as_user(manager).get(
        "/api/v1/audit", {"object_type": "parties.client", "object_id": client.pk}
    )

    assert response.status_code == 404


def test_audit_without_permission_needs_an_object(api_client, manager):
    response = api_client.as_user(manager).get("/api/v1/audit")

    assert response.status_code == 403


def test_auditor_filters_by_actor_action_and_dates(api_client, director, manager):
    client = _client_with_history(manager)
    old = AuditEntry.objects.get(action="created")
    old.at = timezone.now() - timedelta(days=10)
    old.save()
    http = api_client.as_user(director)
    today = timezone.localdate().isoformat()

    recent = http.get("/api/v1/audit", {"actor_id": manager.pk, "date_from": today})
    created = http.get(
        "/api/v1/audit",
        {"action": "created", "object_type": "parties.client", "object_id": client.pk},
    )

    assert [e["action"] for e in recent.json()["items"]] == ["updated"]
    assert [e["action"] for e in created.json()["items"]] == ["created"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"object_type": "nowhere.thing"}, 422),
        ({"object_id": 1}, 422),
        ({"date_from": "2025-02-30"}, 422),
        ({"date_from": "2025-02-02", "date_to": "2025-02-01"}, 422),
    ],
)
def test_bad_audit_filters_are_refused(api_client, director, params, status):
    response = api_client.as_user(director).get("/api/v1/audit", params)

    assert response.status_code == status


# ------------------------------------------------------------------ jobs


def test_own_job_shows_progress_without_traceback(api_client, manager, other_manager):
    job = Job.objects.create(
        kind="import",
        title="Import clients",
        state=Job.State.FAILED,
        progress=40,
        message="Row 3 is wrong",
        result={"code": "x", "trace": "Traceback ..."},
        created_by=manager,
    )

    mine = api_client.as_user(manager).get(f"/api/v1/jobs/{job.pk}")
    theirs = api_client.as_user(other_manager).get(f"/api/v1/jobs/{job.pk}")

    assert mine.status_code == 200
    body = mine.json()
    assert (body["state"], body["progress"], body["message"], body["result"]) == (
        "failed",
        40,
        "Row 3 is wrong",
        {"code": "x"},
    )
    assert theirs.status_code == 404


# ------------------------------------------------------------------ attachments


def upload(
    http,
    *,
    object_type="parties.client",
    object_id,
    name="contract.pdf",
    content=PDF,
    **headers,
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return http.post(
        "/api/v1/attachments",
        {
            "object_type": object_type,
            "object_id": object_id,
            "file": SimpleUploadedFile(name, content),
        },
        headers=headers,
    )


def test_upload_list_and_download_an_attachment(api_client, manager):
    client = ClientFactory(owner=manager)
    http = api_client.as_user(manager)

    created = upload(http, object_id=client.pk)
    listed = http.get(
        "/api/v1/attachments", {"object_type": "parties.client", "object_id": client.pk}
    )
    download = http.get(created.json()["download_url"])

    assert created.status_code == 201
    assert {
        k: created.json()[k] for k in ("name", "size", "mime_type", "object_type")
    } == {
        "name": "contract.pdf",
        "size": len(PDF),
        "mime_type": "application/pdf",
        "object_type": "parties.client",
    }
    assert [a["id"] for a in listed.json()["items"]] == [created.json()["id"]]
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"] == 'attachment; filename="contract.pdf"'
    assert client.timeline.filter(kind="attachment.added").count() == 1


def test_attachment_of_another_managers_client_is_404(
    api_client, manager, other_manager
):
    client = ClientFactory(owner=manager)
    attachment_id = upload(api_client.as_user(manager), object_id=client.pk).json()[
        "id"
    ]
    other = HttpClient()
    _token, raw = api_token_create(user=other_manager, name="t")
    auth = {"Authorization": f"Bearer {raw}"}

    download = other.get(f"/api/v1/attachments/{attachment_id}/download", headers=auth)
    listed = other.get(
        "/api/v1/attachments",
        {"object_type": "parties.client", "object_id": client.pk},
        headers=auth,
    )
    added = upload(other, object_id=client.pk, **auth)

    assert (download.status_code, listed.status_code, added.status_code) == (
        404,
        404,
        404,
    )
    assert Attachment.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "content", "field"),
    [
        ("virus.exe", b"MZ...", "file"),
        ("fake.pdf", b"<html>", "file"),
        ("empty.txt", b"", "file"),
    ],
)
def test_bad_files_are_refused(api_client, manager, name, content, field):
    client = ClientFactory(owner=manager)

    response = upload(
        api_client.as_user(manager), object_id=client.pk, name=name, content=content
    )

    assert response.status_code == 422
    assert list(response.json()["fields"]) == [field]
    assert Attachment.objects.count() == 0


def test_upload_without_file_or_with_bad_ids_is_refused(api_client, manager):
    client = ClientFactory(owner=manager)
    http = api_client.as_user(manager)

    no_file = http.post(
        "/api/v1/attachments", {"object_type": "parties.client", "object_id": client.pk}
    )
    bad_id = upload(http, object_id="abc")
    bad_type = upload(http, object_type="nowhere.thing", object_id=client.pk)

    assert (no_file.status_code, list(no_file.json()["fields"])) == (422, ["file"])
    assert (bad_id.status_code, list(bad_id.json()["fields"])) == (422, ["object_id"])
    assert bad_type.status_code == 404
    assert Attachment.objects.count() == 0


def test_attachments_switched_off_are_404(api_client, admin_user, manager):
    features.feature_set(code="attachments", enabled=False, actor=admin_user)
    client = ClientFactory(owner=manager)

    response = upload(api_client.as_user(manager), object_id=client.pk)

    assert response.status_code == 404
    assert response.json()["code"] == "feature_disabled"


def test_repeated_upload_with_the_same_key_stores_one_file(api_client, manager):
    client = ClientFactory(owner=manager)
    http = api_client.as_user(manager)

    first = upload(http, object_id=client.pk, **{"Idempotency-Key": "up-1"})
    again = upload(http, object_id=client.pk, **{"Idempotency-Key": "up-1"})
    other = upload(
        http, object_id=client.pk, content=PDF + b"x", **{"Idempotency-Key": "up-1"}
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert other.json()["code"] == "idempotency.key_reused"
    assert Attachment.objects.count() == 1


# ------------------------------------------------------------------ tokens


def test_create_list_use_and_revoke_a_token(api_client, manager):
    http = api_client.as_user(manager)

    created = post_json(http, "/api/v1/tokens", {"name": "ERP"})
    raw = created.json()["token"]
    listed = http.get("/api/v1/tokens").json()
    used = HttpClient().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    revoked = http.delete(f"/api/v1/tokens/{created.json()['id']}")
    refused = HttpClient().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})

    assert created.status_code == 201
    assert raw.startswith(created.json()["prefix"])
    assert [t["name"] for t in listed["items"]] == ["ERP", "test"]
    assert "token" not in listed["items"][0]
    assert used.status_code == 200
    assert revoked.status_code == 204
    assert refused.status_code == 401
    assert ApiToken.objects.get(name="ERP").revoked_at is not None


def test_another_users_token_cannot_be_revoked(api_client, manager, other_manager):
    theirs, _raw = api_token_create(user=other_manager, name="theirs")

    response = api_client.as_user(manager).delete(f"/api/v1/tokens/{theirs.pk}")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


@pytest.mark.parametrize(
    "payload", [{}, {"name": ""}, {"name": "x" * 101}, {"name": 5}]
)
def test_bad_token_names_are_refused(api_client, manager, payload):
    response = post_json(api_client.as_user(manager), "/api/v1/tokens", payload)

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["name"]
    assert ApiToken.objects.count() == 1  # the test client's own


# ------------------------------------------------------------------ NUL text


def test_text_with_a_nul_character_is_refused_before_any_endpoint(api_client, manager):
    from satu.parties.models import Client

    http = api_client.as_user(manager)
    response = http.post(
        "/api/v1/clients",
        '{"name": "Toko\\u0000Jaya", "kind": "company"}',
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json() == {
        "code": "validation_error",
        "detail": "Text may not contain the NUL character.",
        "fields": {},
    }
    assert http.get("/api/v1/clients?search=a%00b").status_code == 422
    assert not Client.objects.exists()
