"""Import screens (upload → check → preview → import) and the import API."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from satu.core.models import Job
from satu.parties.models import Client, Contact
from satu.parties.tests.test_import import PNG, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

GOOD = csv_bytes(
    [["Nama", "Telepon"], ["PT Satu", "021 555 0101"], ["PT Dua", "021 555 0102"]]
)
ONE_BAD = csv_bytes(
    [["Nama", "Telepon"], ["PT Satu", "021 555 0101"], ["PT Dua", "12"]]
)


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_upload_checks_every_row_and_shows_the_preview(
    client, manager, django_capture_on_commit_callbacks
):
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/clients/import/", {"file": upload("k.csv", ONE_BAD)})
    check = Job.objects.get()
    page = client.get(response["Location"])

    assert response.status_code == 302
    assert response["Location"] == f"/imports/{check.pk}/"
    assert (check.state, check.params["dry_run"]) == (Job.State.DONE, True)
    text = _text(page)
    assert page.status_code == 200
    assert "<td>Nama</td><td>Name</td>" in text
    assert "<td>Telepon</td><td>Phone</td>" in text
    assert '<td class="num">3</td><td>phone</td>' not in text  # the file's own header
    assert (
        '<td class="num">3</td><td>Telepon</td><td>Enter a valid phone number' in text
    )
    assert "data-valid-rows>1<" in text and "data-invalid-rows>1<" in text
    assert Client.objects.count() == 0


def test_import_button_starts_the_job_and_links_to_its_page(
    client, manager, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/clients/import/", {"file": upload("k.csv", GOOD)})
    check = Job.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/imports/{check.pk}/", {"action": "import"})
    job = Job.objects.exclude(pk=check.pk).get()
    result = client.get(f"/imports/{job.pk}/")

    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert (job.state, job.result["outcome"], job.result_url) == (
        Job.State.DONE,
        "imported",
        f"/imports/{job.pk}/",
    )
    assert sorted(Client.objects.values_list("name", flat=True)) == [
        "PT Dua",
        "PT Satu",
    ]
    assert "data-imported>2<" in _text(result)


def test_valid_rows_only_from_the_preview(
    client, manager, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/clients/import/", {"file": upload("k.csv", ONE_BAD)})
    check = Job.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/imports/{check.pk}/", {"action": "import", "valid_rows_only": "on"}
        )
    job = Job.objects.exclude(pk=check.pk).get()
    result = _text(client.get(f"/imports/{job.pk}/"))

    assert job.result["outcome"] == "partial"
    assert list(Client.objects.values_list("name", flat=True)) == ["PT Satu"]
    assert "1 row imported. 1 row with errors was skipped." in result
    assert '<td class="num">3</td><td>Telepon</td>' in result


def test_check_again_with_other_options(
    client, manager, django_capture_on_commit_callbacks
):
    from satu.parties import services

    services.client_create(actor=manager, name="PT Satu")
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/clients/import/", {"file": upload("k.csv", GOOD)})
    check = Job.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/imports/{check.pk}/", {"action": "check", "allow_duplicates": "on"}
        )
    again = Job.objects.exclude(pk=check.pk).get()

    check.refresh_from_db()
    assert check.result["invalid_rows"] == 1  # PT Satu exists
    assert response["Location"] == f"/imports/{again.pk}/"
    assert (again.params["dry_run"], again.result["invalid_rows"]) == (True, 0)
    assert Client.objects.count() == 1


def test_garbage_upload_shows_the_reason_and_starts_nothing(client, manager):
    client.force_login(manager)

    response = client.post("/clients/import/", {"file": upload("k.csv", PNG)})

    assert response.status_code == 422
    assert "This is not a text (CSV) file." in _text(response)
    assert Job.objects.count() == 0


def test_someone_elses_import_is_not_found(
    client, manager, other_manager, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/clients/import/", {"file": upload("k.csv", GOOD)})
    check = Job.objects.get()
    client.force_login(other_manager)

    assert client.get(f"/imports/{check.pk}/").status_code == 404
    assert client.post(f"/imports/{check.pk}/", {"action": "import"}).status_code == 404
    assert Job.objects.count() == 1


def test_preview_page_polls_while_the_check_runs(client, manager):
    client.force_login(manager)
    client.post("/clients/import/", {"file": upload("k.csv", GOOD)})  # not committed
    check = Job.objects.get()

    page = client.get(f"/imports/{check.pk}/")
    poll = client.get(f"/imports/{check.pk}/?poll=1", HTTP_HX_REQUEST="true")
    Job.objects.filter(pk=check.pk).update(state=Job.State.DONE)
    done = client.get(f"/imports/{check.pk}/?poll=1", HTTP_HX_REQUEST="true")

    assert 'hx-trigger="every 1s"' in page.content.decode()
    assert poll.content.decode().startswith('<div id="import-progress"')
    assert done["HX-Refresh"] == "true"


def test_upload_page_needs_the_create_permission(client, director):
    client.force_login(director)

    assert client.get("/clients/import/").status_code == 403
    assert client.get("/contacts/import/").status_code == 403


def test_contact_upload_form_has_no_duplicate_option(client, manager):
    client.force_login(manager)

    page = client.get("/contacts/import/").content.decode()

    assert 'name="valid_rows_only"' in page
    assert 'name="allow_duplicates"' not in page


# ---------------------------------------------------------------- API


def test_api_import_answers_202_with_the_job_to_poll(
    api_client, manager, django_capture_on_commit_callbacks
):
    api = api_client.as_user(manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/clients/import",
            {
                "file": upload(
                    "clients.xlsx",
                    xlsx_bytes([["Name", "Phone"], ["PT Excel", 81234567890]]),
                )
            },
        )
    body = response.json()
    job = api.get(body["url"]).json()

    assert response.status_code == 202
    assert body == {
        "job_id": body["job_id"],
        "state": "queued",
        "url": f"/api/v1/jobs/{body['job_id']}",
        "web_url": f"/jobs/{body['job_id']}/",
    }
    assert job["state"] == "done"
    assert (job["result"]["outcome"], job["result"]["imported"]) == ("imported", 1)
    assert Client.objects.get().phone == "+6281234567890"


def test_api_dry_run_answers_the_preview_and_writes_nothing(api_client, manager):
    response = api_client.as_user(manager).post(
        "/api/v1/clients/import", {"file": upload("k.csv", ONE_BAD), "dry_run": "true"}
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["total_rows"], body["valid_rows"], body["invalid_rows"]) == (2, 1, 1)
    assert body["errors"] == [
        {
            "row": 3,
            "field": "Telepon",
            "message": "Enter a valid phone number, e.g. +62 21 555 0123.",
        }
    ]
    assert [c["field"] for c in body["columns"]] == ["name", "phone"]
    assert Client.objects.count() == 0
    assert Job.objects.count() == 0


def test_api_all_or_nothing_and_valid_rows_only(
    api_client, manager, django_capture_on_commit_callbacks
):
    api = api_client.as_user(manager)

    with django_capture_on_commit_callbacks(execute=True):
        strict = api.post("/api/v1/clients/import", {"file": upload("k.csv", ONE_BAD)})
    after_strict = Client.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        relaxed = api.post(
            "/api/v1/clients/import",
            {"file": upload("k.csv", ONE_BAD), "valid_rows_only": "true"},
        )

    strict_job = api.get(strict.json()["url"]).json()
    relaxed_job = api.get(relaxed.json()["url"]).json()
    assert (strict_job["state"], strict_job["result"]["outcome"]) == (
        "done",
        "rejected",
    )
    assert after_strict == 0
    assert (relaxed_job["result"]["outcome"], relaxed_job["result"]["imported"]) == (
        "partial",
        1,
    )
    assert list(Client.objects.values_list("name", flat=True)) == ["PT Satu"]


def test_api_refuses_garbage_with_a_field_error(api_client, manager, settings):
    api = api_client.as_user(manager)
    settings.SATU_IMPORT_MAX_BYTES = 10

    too_big = api.post("/api/v1/clients/import", {"file": upload("k.csv", GOOD)})
    settings.SATU_IMPORT_MAX_BYTES = 1024 * 1024
    empty = api.post("/api/v1/clients/import", {"file": upload("k.csv", b"")})
    png = api.post("/api/v1/contacts/import", {"file": upload("k.csv", PNG)})

    assert too_big.status_code == 422
    assert too_big.json() == {
        "code": "import.invalid_file",
        "detail": "The file is larger than 10\xa0bytes.",
        "fields": {"file": ["The file is larger than 10\xa0bytes."]},
    }
    assert (empty.status_code, empty.json()["fields"]) == (
        422,
        {"file": ["The file is empty."]},
    )
    assert png.json()["fields"] == {"file": ["This is not a text (CSV) file."]}
    assert Job.objects.count() == 0


def test_api_contacts_import(api_client, manager, django_capture_on_commit_callbacks):
    data = csv_bytes(
        [["first name", "last name", "email"], ["Budi", "Santoso", "budi@maju.co.id"]]
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.as_user(manager).post(
            "/api/v1/contacts/import", {"file": upload("c.csv", data)}
        )

    assert response.status_code == 202
    assert Contact.objects.get().full_name == "Budi Santoso"


def test_api_import_needs_the_create_permission(api_client, director):
    response = api_client.as_user(director).post(
        "/api/v1/clients/import", {"file": upload("k.csv", GOOD)}
    )

    assert response.status_code == 403
    assert Job.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_api_import_with_real_commits(api_client, manager):
    """Jobs run after the real commit; chunks commit or roll back for real."""
    api = api_client.as_user(manager)
    rejected = api.post("/api/v1/clients/import", {"file": upload("k.csv", ONE_BAD)})
    partial = api.post(
        "/api/v1/clients/import",
        {"file": upload("k.csv", ONE_BAD), "valid_rows_only": "true"},
    )

    first = api.get(rejected.json()["url"]).json()
    second = api.get(partial.json()["url"]).json()
    assert (first["state"], first["progress"], first["result"]["outcome"]) == (
        "done",
        100,
        "rejected",
    )
    assert (second["state"], second["result"]["imported"]) == ("done", 1)
    assert list(Client.objects.values_list("name", flat=True)) == ["PT Satu"]
