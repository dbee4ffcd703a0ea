"""The API's common ground: authentication, the error body, pagination and
Idempotency-Key, seen through real requests."""

import json

import pytest
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client as HttpClient

from satu.api import idempotency
from satu.core.models import AuditEntry, IdempotencyRecord
from satu.core.tokens import api_token_create, api_token_revoke
from satu.parties.models import Client
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Users are created per test; the real hasher costs most of the runtime.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


CLIENTS = "/api/v1/clients"


def post_json(http, url, data, **headers):
    body = data if isinstance(data, str) else json.dumps(data)
    return http.post(url, body, content_type="application/json", headers=headers)


# ------------------------------------------------------------------ authentication


def test_request_without_credentials_is_401_with_the_error_body(db):
    response = HttpClient().get(CLIENTS)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.json()["fields"] == {}
    assert response["WWW-Authenticate"] == 'Bearer realm="satu"'


@pytest.mark.parametrize(
    "header",
    [
        "Bearer satu_not-a-real-token",
        "Bearer ",
        "Basic YWRtaW46YWRtaW4=",
        "Bearer nonsense",
    ],
)
def test_wrong_bearer_token_is_401(manager, header):
    response = HttpClient().get(CLIENTS, headers={"Authorization": header})

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_bearer_token_authenticates_its_user(manager):
    _token, raw = api_token_create(user=manager, name="erp")

    response = HttpClient().get(
        "/api/v1/me", headers={"Authorization": f"Bearer {raw}"}
    )

    assert response.status_code == 200
    assert response.json()["username"] == "manager"


def test_revoked_token_and_inactive_user_are_401(manager):
    token, raw = api_token_create(user=manager, name="erp")
    api_token_revoke(token_id=token.pk, actor=manager)
    _other, raw_active = api_token_create(user=manager, name="second")
    manager.is_active = False
    manager.save()

    for value in (raw, raw_active):
        response = HttpClient().get(
            "/api/v1/me", headers={"Authorization": f"Bearer {value}"}
        )
        assert response.status_code == 401


def test_session_authenticates_reads(manager):
    browser = HttpClient()
    browser.force_login(manager)

    response = browser.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["username"] == "manager"


def test_session_write_needs_the_csrf_token(manager):
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(manager)

    refused = post_json(browser, CLIENTS, {"name": "PT Tanpa Token"})

    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert Client.objects.count() == 0

    token = _get_new_csrf_string()
    browser.cookies[settings.CSRF_COOKIE_NAME] = token
    accepted = post_json(
        browser, CLIENTS, {"name": "PT Dengan Token"}, **{"X-CSRFToken": token}
    )

    assert accepted.status_code == 201
    assert Client.objects.get().name == "PT Dengan Token"


def test_bearer_write_needs_no_csrf_token(manager):
    _token, raw = api_token_create(user=manager, name="erp")
    http = HttpClient(enforce_csrf_checks=True)

    response = post_json(
        http, CLIENTS, {"name": "PT Integrasi"}, Authorization=f"Bearer {raw}"
    )

    assert response.status_code == 201


def test_token_call_speaks_the_users_language(api_client, manager):
    manager.language = "id"
    manager.save()
    http = api_client.as_user(manager)

    response = http.get("/api/v1/me")

    assert response["Content-Language"] == "id"


# ------------------------------------------------------------------ errors


def test_body_that_is_not_json_is_400_and_creates_nothing(api_client, manager):
    http = api_client.as_user(manager)

    response = post_json(http, CLIENTS, '{"name": "PT Rusak"')

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_body",
        "detail": "The request body is not valid JSON.",
        "fields": {},
    }
    assert Client.objects.count() == 0


def test_json_that_is_not_an_object_is_422(api_client, manager):
    http = api_client.as_user(manager)

    response = post_json(http, CLIENTS, "[1, 2]")

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert Client.objects.count() == 0


def test_missing_body_is_422_naming_the_body(api_client, manager):
    http = api_client.as_user(manager)

    response = http.post(CLIENTS, "", content_type="application/json")

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["body"]


def test_schema_errors_are_keyed_by_field_name(api_client, manager):
    http = api_client.as_user(manager)

    response = post_json(
        http, CLIENTS, {"name": 12, "kind": "robot", "group_ids": ["x"]}
    )

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert sorted(body["fields"]) == ["group_ids.0", "kind", "name"]
    assert body["fields"]["name"] == ["Input should be a valid string"]


def test_query_parameter_errors_are_keyed_by_parameter(api_client, manager):
    http = api_client.as_user(manager)

    response = http.get(CLIENTS, {"page": "zero", "status": "vip"})

    assert response.status_code == 422
    assert sorted(response.json()["fields"]) == ["page", "status"]


@pytest.mark.parametrize(
    ("exception", "status", "code"),
    [
        (Http404("gone"), 404, "not_found"),
        (ObjectDoesNotExist("gone"), 404, "not_found"),
        (DjangoPermissionDenied(), 403, "permission_denied"),
    ],
)
def test_django_exceptions_map_to_the_error_body(
    api_client, manager, monkeypatch, exception, status, code
):
    def fail(**_kwargs):
        raise exception

    monkeypatch.setattr("satu.parties.queries.client_list", fail)
    http = api_client.as_user(manager)

    response = http.get(CLIENTS)

    assert response.status_code == status
    assert response.json()["code"] == code


@pytest.mark.parametrize("debug", [False, True])
def test_unexpected_error_is_500_without_traceback(
    api_client, manager, monkeypatch, settings, debug
):
    settings.DEBUG = debug

    def broken(**_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("satu.parties.queries.client_list", broken)
    http = api_client.as_user(manager)

    response = http.get(CLIENTS)

    assert response.status_code == 500
    assert response.json() == {
        "code": "server_error",
        "detail": (
            "Something went wrong on our side. The administrator can see the log."
        ),
        "fields": {},
    }
    assert b"secret" not in response.content
    assert b"Traceback" not in response.content


def test_unknown_api_path_is_a_json_404(api_client, manager):
    http = api_client.as_user(manager)

    for url in ("/api/v1/nothing-here", "/api/v1/clients/"):
        response = http.get(url)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_wrong_method_is_a_json_405(api_client, manager):
    response = api_client.as_user(manager).delete(CLIENTS)

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert set(response["Allow"].split(", ")) == {"GET", "POST"}


# ------------------------------------------------------------------ pagination


def test_lists_are_paginated_with_count_and_next(api_client, manager):
    for name in ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]:
        ClientFactory(owner=manager, name=name)
    http = api_client.as_user(manager)

    first = http.get(CLIENTS, {"page_size": 2, "status": "client"}).json()
    last = http.get(CLIENTS, {"page_size": 2, "page": 3}).json()
    beyond = http.get(CLIENTS, {"page_size": 2, "page": 9}).json()

    assert [c["name"] for c in first["items"]] == ["Alpha", "Bravo"]
    assert first["count"] == 5
    assert first["next"] == (
        "http://testserver/api/v1/clients?page_size=2&status=client&page=2"
    )
    assert ([c["name"] for c in last["items"]], last["count"], last["next"]) == (
        ["Echo"],
        5,
        None,
    )
    assert (beyond["items"], beyond["count"], beyond["next"]) == ([], 5, None)


@pytest.mark.parametrize("params", [{"page_size": 201}, {"page_size": 0}, {"page": 0}])
def test_page_size_is_bounded(api_client, manager, params):
    response = api_client.as_user(manager).get(CLIENTS, params)

    assert response.status_code == 422
    assert list(response.json()["fields"]) == list(params)


def test_page_size_200_is_allowed(api_client, manager):
    response = api_client.as_user(manager).get(CLIENTS, {"page_size": 200})

    assert response.status_code == 200


# ------------------------------------------------------------------ idempotency


def test_same_key_and_body_replays_the_first_answer(api_client, manager):
    http = api_client.as_user(manager)
    body = {"name": "PT Sekali Saja", "phone": "021 555 0199"}

    first = post_json(http, CLIENTS, body, **{"Idempotency-Key": "k-1"})
    again = post_json(
        http, CLIENTS, json.dumps(body, indent=2), **{"Idempotency-Key": "k-1"}
    )

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Client.objects.count() == 1
    assert AuditEntry.objects.filter(content_type__model="client").count() == 1


def test_same_key_with_another_body_is_refused(api_client, manager):
    http = api_client.as_user(manager)
    post_json(http, CLIENTS, {"name": "PT Pertama"}, **{"Idempotency-Key": "k-2"})

    response = post_json(
        http, CLIENTS, {"name": "PT Kedua"}, **{"Idempotency-Key": "k-2"}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency.key_reused"
    assert list(Client.objects.values_list("name", flat=True)) == ["PT Pertama"]


def test_same_key_on_another_endpoint_is_refused(api_client, manager):
    http = api_client.as_user(manager)
    post_json(http, CLIENTS, {"name": "Retail"}, **{"Idempotency-Key": "k-3"})

    response = post_json(
        http, "/api/v1/tokens", {"name": "Retail"}, **{"Idempotency-Key": "k-3"}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency.key_reused"


def test_a_failed_request_is_not_stored_and_may_be_retried(api_client, manager):
    http = api_client.as_user(manager)

    failed = post_json(
        http,
        CLIENTS,
        {"name": "PT Salah", "email": "nope"},
        **{"Idempotency-Key": "k-4"},
    )
    fixed = post_json(
        http,
        CLIENTS,
        {"name": "PT Salah", "email": "a@b.co.id"},
        **{"Idempotency-Key": "k-4"},
    )

    assert failed.status_code == 422
    assert fixed.status_code == 201
    assert IdempotencyRecord.objects.get().status_code == 201


def test_keys_are_per_user(api_client, manager, other_manager):
    post_json(
        api_client.as_user(manager),
        CLIENTS,
        {"name": "PT Satu"},
        **{"Idempotency-Key": "shared"},
    )

    response = post_json(
        api_client.as_user(other_manager),
        CLIENTS,
        {"name": "PT Dua"},
        **{"Idempotency-Key": "shared"},
    )

    assert response.status_code == 201
    assert Client.objects.count() == 2


def test_overlong_key_is_422(api_client, manager):
    response = post_json(
        api_client.as_user(manager),
        CLIENTS,
        {"name": "PT X"},
        **{"Idempotency-Key": "k" * 256},
    )

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["Idempotency-Key"]
    assert Client.objects.count() == 0


def test_without_credentials_the_key_changes_nothing(db):
    response = post_json(
        HttpClient(), CLIENTS, {"name": "PT X"}, **{"Idempotency-Key": "anon"}
    )

    assert response.status_code == 401
    assert IdempotencyRecord.objects.count() == 0


def test_a_twin_request_that_committed_first_wins(api_client, manager, monkeypatch):
    """Both requests passed the look-up before either committed: ours runs,
    its record insert hits the unique constraint, everything it created is
    rolled back and the twin's answer is replayed."""
    http = api_client.as_user(manager)
    twin = ClientFactory(owner=manager, name="PT Kembar")
    body = {"name": "PT Kembar", "allow_duplicate": True}
    request_hash = _fingerprint_of(body)
    IdempotencyRecord.objects.create(
        user=manager,
        key="race",
        path=CLIENTS,
        request_hash=request_hash,
        status_code=201,
        response_body=json.dumps({"id": twin.pk}).encode(),
    )
    real_find = idempotency._find
    calls = []

    def not_yet_visible(user, key):
        calls.append(key)
        return None if len(calls) == 1 else real_find(user, key)

    monkeypatch.setattr(idempotency, "_find", not_yet_visible)

    response = post_json(http, CLIENTS, body, **{"Idempotency-Key": "race"})

    assert response.status_code == 201
    assert response.json() == {"id": twin.pk}
    assert list(Client.objects.values_list("pk", flat=True)) == [twin.pk]
    assert AuditEntry.objects.filter(content_type__model="client").count() == 0


def _fingerprint_of(body: dict) -> str:
    from django.test import RequestFactory

    request = RequestFactory().post(
        CLIENTS, json.dumps(body), content_type="application/json"
    )
    return idempotency.fingerprint(request)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_identical_requests_at_once_create_one_record(manager):
    """Real concurrency (PostgreSQL): the unique constraint decides."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    _token, raw = api_token_create(user=manager, name="race")
    barrier = threading.Barrier(2)
    answers = []

    def send():
        try:
            http = HttpClient()
            barrier.wait()
            answers.append(
                post_json(
                    http,
                    CLIENTS,
                    {"name": "PT Bersamaan", "allow_duplicate": True},
                    Authorization=f"Bearer {raw}",
                    **{"Idempotency-Key": "together"},
                )
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert Client.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


# ------------------------------------------------------------------ documents


def test_openapi_document_lists_every_endpoint_with_conventions(db):
    response = HttpClient().get("/api/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "Satu API"
    operations = {
        op["operationId"]: (method, path)
        for path, item in document["paths"].items()
        for method, op in item.items()
    }
    assert operations["list_clients"] == ("get", "/api/v1/clients")
    assert operations["post_client"] == ("post", "/api/v1/clients")
    assert operations["patch_client"] == ("patch", "/api/v1/clients/{client_id}")
    post_client = document["paths"]["/api/v1/clients"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in post_client["parameters"]}
    assert post_client["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    page = document["components"]["schemas"]["PagedClientOut"]["properties"]
    assert sorted(page) == ["count", "items", "next"]


def test_docs_are_served_without_a_cdn(db):
    response = HttpClient().get("/api/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/" in html
    assert "cdn." not in html
