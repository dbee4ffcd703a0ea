"""Exports of the client, contact and counterparty lists as CSV and XLSX."""

import csv
import io
from datetime import UTC, datetime

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from satu.core import custom_fields, txcache
from satu.core.exports import csv_chunks, write_xlsx
from satu.core.models import CustomField, User
from satu.parties import exports
from satu.parties.models import BankAccount, Client, Contact, Counterparty
from satu.parties.tests.factories import (
    ClientCounterpartyFactory,
    ClientFactory,
    ClientGroupFactory,
    ContactFactory,
    ContactMethodFactory,
    ContactRoleFactory,
    CounterpartyFactory,
)

pytestmark = pytest.mark.django_db

CREATED = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)  # 10:00 in Jakarta
# user, permissions (2), custom fields, features, clients, groups, counterparty links
QUERIES = 8


def _download(response) -> bytes:
    assert response.status_code == 200, response.content[:500]
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _xlsx_rows(body: bytes) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(body))
    return list(workbook.worksheets[0].iter_rows(values_only=True))


@pytest.fixture
def segment(admin_user):
    return custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.client",
        code="segment",
        label="Segment",
        field_type=CustomField.Type.CHOICE,
        choices=["retail", "horeca"],
    )


@pytest.fixture
def credit(admin_user):
    return custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.client",
        code="credit_limit",
        label="Credit limit",
        field_type=CustomField.Type.NUMBER,
    )


def _client(name, owner, **extra):
    client = ClientFactory(name=name, owner=owner, **extra)
    Client.objects.filter(pk=client.pk).update(created_at=CREATED)
    return client


CLIENT_HEADER = [
    "ID",
    "Name",
    "Kind",
    "Status",
    "Manager",
    "Groups",
    "Source channel",
    "Phone",
    "Email",
    "Website",
    "Region",
    "Address",
    "Counterparties",
    "Notes",
    "Created",
]


def test_client_csv_has_the_list_columns_and_custom_fields(
    client, manager, other_manager, segment, credit
):
    group = ClientGroupFactory(name="Key accounts")
    maju = _client(
        "PT Maju Jaya",
        manager,
        phone="+62215550123",
        email="sales@maju.co.id",
        region="Jakarta",
        custom={"segment": "retail", "credit_limit": "1500000.50"},
        status=Client.Status.PROSPECT,
    )
    maju.groups.add(group)
    ClientCounterpartyFactory(
        client=maju,
        counterparty=CounterpartyFactory(
            legal_name="PT Maju Jaya Tbk", tax_id="013000000000001"
        ),
    )
    abadi = _client("CV Abadi", manager, kind=Client.Kind.PERSON, notes="Pays late")
    _client("PT Lain", other_manager)  # another manager's client: never exported
    client.force_login(manager)

    rows = _csv_rows(_download(client.get("/clients/export.csv")))

    assert rows == [
        CLIENT_HEADER + ["Segment", "Credit limit"],
        [
            str(abadi.pk),
            "CV Abadi",
            "Person",
            "Client",
            "manager",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "Pays late",
            "2026-01-05 10:00:00",
            "",
            "",
        ],
        [
            str(maju.pk),
            "PT Maju Jaya",
            "Company",
            "Prospect",
            "manager",
            "Key accounts",
            "",
            "+62215550123",
            "sales@maju.co.id",
            "",
            "Jakarta",
            "",
            "PT Maju Jaya Tbk (013000000000001)",
            "",
            "2026-01-05 10:00:00",
            "retail",
            "1500000.50",
        ],
    ]


def test_client_xlsx_reads_back_with_typed_cells(client, manager, credit):
    maju = _client(
        "PT Maju Jaya",
        manager,
        phone="+62215550123",
        custom={"credit_limit": "1500000.5"},
    )
    client.force_login(manager)

    response = client.get("/clients/export.xlsx")
    rows = _xlsx_rows(_download(response))

    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"].startswith('attachment; filename="clients-')
    assert rows[0] == tuple(CLIENT_HEADER + ["Credit limit"])
    assert rows[1] == (
        maju.pk,
        "PT Maju Jaya",
        "Company",
        "Client",
        "manager",
        None,
        None,
        "+62215550123",
        None,
        None,
        None,
        None,
        None,
        None,
        datetime(2026, 1, 5, 10, 0),
        1500000.5,
    )
    assert len(rows) == 2


def test_export_applies_the_list_filters(
    client, head_of_sales, manager, other_manager, segment
):
    _client(
        "PT Alpha", manager, status=Client.Status.LEAD, custom={"segment": "retail"}
    )
    _client("PT Beta", other_manager, status=Client.Status.LEAD)
    _client(
        "PT Gamma",
        other_manager,
        status=Client.Status.CLIENT,
        custom={"segment": "retail"},
    )
    archived = _client("PT Delta", other_manager, status=Client.Status.LEAD)
    Client.objects.filter(pk=archived.pk).update(is_archived=True)
    client.force_login(head_of_sales)

    def names(query):
        rows = _csv_rows(_download(client.get("/clients/export.csv" + query)))
        return [row[1] for row in rows[1:]]

    assert names("") == ["PT Alpha", "PT Beta", "PT Gamma"]
    assert names("?status=lead") == ["PT Alpha", "PT Beta"]
    assert names(f"?owner={other_manager.pk}") == ["PT Beta", "PT Gamma"]
    assert names("?cf_segment=retail") == ["PT Alpha", "PT Gamma"]
    assert names("?q=gam") == ["PT Gamma"]
    assert names("?archived=on") == ["PT Delta"]


def test_export_of_a_manager_holds_only_his_clients(api_client, manager, other_manager):
    _client("PT Mine", manager)
    _client("PT Theirs", other_manager)

    response = api_client.as_user(manager).get("/api/v1/clients/export?format=csv")

    assert [r[1] for r in _csv_rows(_download(response))] == ["Name", "PT Mine"]


def test_bad_filter_answers_an_error_not_a_file(client, head_of_sales):
    client.force_login(head_of_sales)

    response = client.get("/clients/export.csv?owner=abc")

    assert response.status_code == 422
    assert b"Manager" in response.content or b"owner" in response.content


def test_unknown_format_is_not_found(client, manager, api_client):
    client.force_login(manager)

    assert client.get("/clients/export.pdf").status_code == 404
    response = api_client.as_user(manager).get("/api/v1/clients/export?format=pdf")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_queries_do_not_grow_with_rows(manager, django_assert_num_queries, segment):
    group = ClientGroupFactory()

    def lines() -> int:
        txcache.forget()  # each export is its own request (and transaction)
        actor = User.objects.get(pk=manager.pk)  # permissions not cached yet
        response = exports.export(actor=actor, what="clients", fmt="csv", filters={})
        return b"".join(response.streaming_content).count(b"\n")

    for i in range(2):
        _client(f"PT Small {i}", manager).groups.add(group)
    with CaptureQueriesContext(connection) as small:
        assert lines() == 3
    for i in range(10):
        _client(f"PT Large {i}", manager).groups.add(group)

    with django_assert_num_queries(len(small.captured_queries)):
        assert lines() == 13
    assert len(small.captured_queries) == QUERIES


def test_contacts_export_names_only_visible_clients(client, manager, other_manager):
    mine = _client("PT Mine", manager)
    theirs = _client("PT Theirs", other_manager)
    budi = ContactFactory(first_name="Budi", last_name="Santoso", position="Buyer")
    Contact.objects.filter(pk=budi.pk).update(created_at=CREATED)
    ContactMethodFactory(
        contact=budi, kind="phone", value="+6281234567890", is_primary=True
    )
    ContactMethodFactory(contact=budi, kind="email", value="budi@maju.co.id")
    ContactRoleFactory(contact=budi, client=mine, role="Purchaser")
    ContactRoleFactory(contact=budi, client=theirs, role="Owner")
    hidden = ContactFactory(first_name="Hidden")
    ContactRoleFactory(contact=hidden, client=theirs)
    client.force_login(manager)

    rows = _csv_rows(_download(client.get("/contacts/export.csv")))

    assert rows == [
        [
            "ID",
            "First name",
            "Last name",
            "Position",
            "Phones",
            "Emails",
            "Clients",
            "Notes",
            "Created",
        ],
        [
            str(budi.pk),
            "Budi",
            "Santoso",
            "Buyer",
            "+6281234567890",
            "budi@maju.co.id",
            "PT Mine (Purchaser)",
            "",
            "2026-01-05 10:00:00",
        ],
    ]


def test_counterparties_export(client, head_of_sales, manager):
    maju = _client("PT Maju", manager)
    cp = CounterpartyFactory(
        legal_name="PT Maju Jaya Tbk",
        tax_id="013000000000001",
        registration_address="Jl. Sudirman 1",
    )
    Counterparty.objects.filter(pk=cp.pk).update(created_at=CREATED)
    ClientCounterpartyFactory(client=maju, counterparty=cp)
    BankAccount.objects.create(
        counterparty=cp, bank_name="BCA", account_number="1234567890"
    )
    client.force_login(head_of_sales)

    rows = _xlsx_rows(_download(client.get("/counterparties/export.xlsx")))

    assert rows == [
        (
            "ID",
            "Legal name",
            "Tax id",
            "Country",
            "Registration address",
            "Clients",
            "Bank accounts",
            "Created",
        ),
        (
            cp.pk,
            "PT Maju Jaya Tbk",
            "013000000000001",
            "ID",
            "Jl. Sudirman 1",
            "PT Maju",
            "BCA 1234567890 IDR",
            datetime(2026, 1, 5, 10, 0),
        ),
    ]


def test_api_exports_contacts_and_counterparties(api_client, head_of_sales):
    ContactFactory(first_name="Sari", last_name="")
    CounterpartyFactory(legal_name="CV Sari")
    api = api_client.as_user(head_of_sales)

    contacts = _csv_rows(_download(api.get("/api/v1/contacts/export?format=csv")))
    counterparties = _xlsx_rows(
        _download(api.get("/api/v1/counterparties/export?format=xlsx&search=sari"))
    )

    assert [r[1] for r in contacts] == ["First name", "Sari"]
    assert [r[1] for r in counterparties] == ["Legal name", "CV Sari"]


def test_cells_that_look_like_formulas_are_neutralised():
    columns = [("Name", lambda r: r[0]), ("Phone", lambda r: r[1])]
    rows = [('=HYPERLINK("http://x")', "+62 21 555 0123"), ("@SUM(A1)", "-5")]

    text = "".join(csv_chunks(rows, columns))
    target = io.BytesIO()
    write_xlsx(rows, columns, target)
    sheet = openpyxl.load_workbook(io.BytesIO(target.getvalue())).worksheets[0]

    assert text == (
        '\ufeffName,Phone\r\n"\'=HYPERLINK(""http://x"")",+62 21 555 0123\r\n'
        "'@SUM(A1),-5\r\n"
    )
    assert sheet["A2"].value == '=HYPERLINK("http://x")'
    assert sheet["A2"].data_type == "s"


def test_export_needs_the_view_permission(client, db):
    from satu.core.testing.helpers import make_user

    nobody = make_user("nobody")
    client.force_login(nobody)

    assert client.get("/clients/export.csv").status_code == 403


def test_streamed_csv_keeps_the_users_time_zone(client, manager):
    manager.time_zone = "Asia/Makassar"  # UTC+8, Jakarta is UTC+7
    manager.save()
    _client("PT Timur", manager)
    client.force_login(manager)

    rows = _csv_rows(_download(client.get("/clients/export.csv")))

    assert rows[1][14] == "2026-01-05 11:00:00"


def test_export_links_carry_the_list_filters(rf, manager, director):
    from django.contrib.auth.context_processors import PermWrapper
    from django.template.loader import render_to_string

    def links(user, what, **extra):
        request = rf.get("/clients/")
        request.user = user
        return render_to_string(
            "parties/export_links.html",
            {
                "what": what,
                "query": "status=lead&q=maju",
                "perms": PermWrapper(user),
                **extra,
            },
            request=request,
        )

    mine = links(manager, "clients")
    theirs = links(director, "clients", oob=True)

    assert 'href="/clients/export.csv?status=lead&amp;q=maju"' in mine
    assert 'href="/clients/export.xlsx?status=lead&amp;q=maju"' in mine
    assert 'href="/clients/import/"' in mine
    assert 'href="/clients/import/"' not in theirs  # a director cannot create
    assert 'hx-swap-oob="true"' in theirs
    assert 'href="/counterparties/export.csv?' in links(manager, "counterparties")
