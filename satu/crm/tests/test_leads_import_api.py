"""POST /api/v1/leads/import: the web screen's lead import (same service)
through the API — CSV/XLSX upload, all rows or none, stable error codes."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from satu.core.testing.helpers import make_user
from satu.crm.models import Lead
from satu.parties.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/leads/import"


def upload(name, data, content_type="text/csv"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def send(api, name, data, content_type="text/csv", **extra):
    return api.post(URL, {"file": upload(name, data, content_type)}, **extra)


def xlsx(rows) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_csv_creates_every_row(api_client, manager):
    channel = ChannelFactory(name="Trade fair")
    data = (
        "Company;Name;E-mail;Phone;Channel;Message\n"
        "PT Satu;Ani;ani@satu.id;021 555 0123;trade fair;Wants 10 pumps — urgent\n"
        "\n"
        ";Budi;;;;\n"
    ).encode()

    response = send(api_client.as_user(manager), "leads.csv", data)

    assert response.status_code == 201, response.content
    assert response.json() == {"created": 2}
    rows = Lead.objects.order_by("person_name").values_list(
        "company_name",
        "person_name",
        "phone",
        "channel_id",
        "source",
        "owner_id",
        "message",
    )
    assert list(rows) == [
        ("PT Satu", "Ani", "+62215550123", channel.pk, "import", manager.pk,
         "Wants 10 pumps — urgent"),
        ("", "Budi", "", None, "import", manager.pk, ""),
    ]  # fmt: skip


def test_xlsx_creates_every_row(api_client, manager):
    data = xlsx([["Company", "Name", "Email"], ["PT Dua", "Citra", "c@dua.id"]])

    response = send(
        api_client.as_user(manager),
        "leads.xlsx",
        data,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )

    assert response.status_code == 201, response.content
    assert response.json() == {"created": 1}
    assert list(Lead.objects.values_list("company_name", "email")) == [
        ("PT Dua", "c@dua.id")
    ]


def test_bad_rows_reject_the_whole_file_with_row_numbers(api_client, manager):
    data = (
        b"company,name,email,channel\n"
        b"PT A,Ani,a@a.id,\n"  # row 2: fine
        b",,not-an-email,\n"  # row 3: bad email
        b"PT C,,,Nowhere\n"  # row 4: unknown channel
    )

    response = send(api_client.as_user(manager), "leads.csv", data)

    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "crm.lead_import_rejected"
    assert body["detail"] == "Nothing was imported: some rows have errors."
    assert (body["created"], body["invalid_rows"]) == (0, 2)
    assert {(e["row"], e["field"]) for e in body["errors"]} == {
        (3, "email"),
        (4, "channel"),
    }
    assert {"row": 4, "field": "channel", "message": "Unknown channel."} in (
        body["errors"]
    )
    assert all(e["message"] for e in body["errors"])
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("leads.csv", b"", "The file is empty."),
        ("leads.csv", b"\xef\xbb\xbf \r\n", "The file is empty."),
        (
            "leads.csv",
            b"company,name\n",
            "The file has a header row but no leads.",
        ),
        (
            "photo.png",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01",
            "This is not a text (CSV) file.",
        ),
        (
            "old.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
            "Old Excel files (.xls) cannot be read",
        ),
        ("leads.xlsx", b"company,name\nPT A,Ani\n", "not a valid XLSX workbook"),
        (
            "leads.csv",
            b"colour,size\nred,XL\n",
            "No known column; use company, name, email, phone, message.",
        ),
        (
            "leads.csv",
            b"message,channel\nCall me,\n",
            "The file needs a company, name, email or phone column",
        ),
    ],
    ids=[
        "empty",
        "only-bom-and-blanks",
        "header-only",
        "png",
        "old-xls",
        "csv-named-xlsx",
        "no-known-column",
        "no-identity-column",
    ],
)
def test_unusable_file_answers_422_and_creates_nothing(
    api_client, manager, name, data, message
):
    response = send(api_client.as_user(manager), name, data)

    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "import.invalid_file"
    assert message in body["detail"]
    assert message in body["fields"]["file"][0]
    assert Lead.objects.count() == 0


def test_too_large_file_answers_422(api_client, manager, settings):
    settings.SATU_IMPORT_MAX_BYTES = 20

    response = send(api_client.as_user(manager), "leads.csv", b"name\n" + b"Ani\n" * 10)

    assert response.status_code == 422
    assert response.json()["code"] == "import.invalid_file"
    assert "larger than" in response.json()["detail"]
    assert Lead.objects.count() == 0


def test_missing_file_field_answers_422(api_client, manager):
    response = api_client.as_user(manager).post(URL, {"other": "x"})

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert "file" in body["fields"]


@pytest.mark.parametrize("role", ["director", "warehouse"])
def test_without_add_lead_permission_answers_403(api_client, role):
    user = make_user("someone", role=role)

    response = send(api_client.as_user(user), "leads.csv", b"name\nAni\n")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Lead.objects.count() == 0


def test_permission_is_checked_before_the_file(api_client):
    director = make_user("boss", role="director")

    response = send(api_client.as_user(director), "leads.csv", b"")

    assert response.status_code == 403


def test_anonymous_answers_401(api_client):
    response = send(api_client, "leads.csv", b"name\nAni\n")

    assert response.status_code == 401
    assert Lead.objects.count() == 0


def test_switched_off_crm_answers_404(api_client, manager):
    from satu.core.models import FeatureToggle

    FeatureToggle.objects.create(code="crm", enabled=False)

    response = send(api_client.as_user(manager), "leads.csv", b"name\nAni\n")

    assert response.status_code == 404
    assert response.json()["code"] == "feature_disabled"
    assert Lead.objects.count() == 0


def test_idempotency_key_replays_without_creating_twice(api_client, manager):
    api = api_client.as_user(manager)
    data = b"name,phone\nAni,021 555 0123\n"

    first = send(api, "leads.csv", data, HTTP_IDEMPOTENCY_KEY="import-1")
    again = send(api, "leads.csv", data, HTTP_IDEMPOTENCY_KEY="import-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 1


def test_web_screen_and_api_share_the_service(api_client, client, manager):
    """The same header-only file is refused with the same message on both."""
    client.force_login(manager)

    page = client.post(
        reverse("lead_import"), {"file": upload("leads.csv", b"name,email\n")}
    )
    api = send(api_client.as_user(manager), "leads.csv", b"name,email\n")

    assert page.status_code == api.status_code == 422
    assert api.json()["detail"] in page.content.decode()
    assert Lead.objects.count() == 0


def test_openapi_documents_the_endpoint(api_client, manager):
    schema = api_client.as_user(manager).get("/api/openapi.json").json()

    operation = schema["paths"][URL]["post"]
    assert operation["operationId"] == "import_leads"
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert {"201", "422"} <= set(operation["responses"])
