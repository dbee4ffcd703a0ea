"""Import of clients and contact persons: reading files, preview, the job."""

import csv
import io

import openpyxl
import pytest

from satu.core import custom_fields, features
from satu.core.models import AuditEntry, CustomField, Job
from satu.parties import imports, services
from satu.parties.imports import ImportFileInvalid, Options
from satu.parties.models import (
    Client,
    ClientCounterparty,
    Contact,
    ContactRole,
    Counterparty,
)
from satu.parties.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

PHONE_ERROR = "Enter a valid phone number, e.g. +62 21 555 0123."


def csv_bytes(rows, delimiter=",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(rows) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def run_job(job: Job, calls=None) -> Job:
    from satu.core import jobs

    if calls is None:
        jobs.job_run(job.pk)
    else:
        job.refresh_from_db()
        result = imports.run_import_job(job, lambda p, m="": calls.append((p, m)))
        Job.objects.filter(pk=job.pk).update(state=Job.State.DONE, result=result)
    job.refresh_from_db()
    return job


def start(actor, data, *, what="clients", filename="clients.csv", **options) -> Job:
    return imports.import_start(
        actor=actor, what=what, data=data, filename=filename, options=Options(**options)
    )


def nothing_written():
    return (
        Client.objects.count(),
        Contact.objects.count(),
        Counterparty.objects.count(),
        AuditEntry.objects.filter(content_type__app_label="parties").count(),
    ) == (0, 0, 0, 0)


@pytest.fixture
def segment(admin_user):
    return custom_fields.custom_field_create(
        actor=admin_user,
        object_type="parties.client",
        code="segment",
        label="Segmen Pasar",
        field_type=CustomField.Type.CHOICE,
        choices=["retail", "horeca"],
    )


# ---------------------------------------------------------------- preview


def test_preview_maps_indonesian_headers_and_writes_nothing(manager, segment):
    data = csv_bytes(
        [
            [
                "Nama",
                "Telepon",
                "EMAIL",
                "Wilayah",
                "NPWP",
                "Status",
                "Segmen Pasar",
                "Fax",
            ],
            [
                "PT Maju Jaya",
                "021 555 0123",
                "sales@maju.co.id",
                "Jakarta",
                "01.312.166.0-091.000",
                "Klien",
                "retail",
                "021 555 0124",
            ],
            ["CV Sinar Abadi", "0812 3456 7890", "", "Bandung", "", "lead", "", ""],
        ]
    )

    result = imports.preview(
        actor=manager, what="clients", data=data, filename="klien.csv"
    )

    assert [(c["header"], c["field"]) for c in result["columns"]] == [
        ("Nama", "name"),
        ("Telepon", "phone"),
        ("EMAIL", "email"),
        ("Wilayah", "region"),
        ("NPWP", "tax_id"),
        ("Status", "status"),
        ("Segmen Pasar", "custom.segment"),
        ("Fax", None),
    ]
    assert result["columns"][-1]["note"] == "ignored: not a known column"
    assert (result["total_rows"], result["checked_rows"], result["complete"]) == (
        2,
        2,
        True,
    )
    assert (result["valid_rows"], result["invalid_rows"], result["errors"]) == (
        2,
        0,
        [],
    )
    assert result["sample"]["headers"] == [
        "Nama",
        "Telepon",
        "EMAIL",
        "Wilayah",
        "NPWP",
        "Status",
        "Segmen Pasar",
    ]
    assert result["sample"]["rows"][1] == {
        "row": 3,
        "valid": True,
        "values": ["CV Sinar Abadi", "0812 3456 7890", "", "Bandung", "", "lead", ""],
    }
    assert nothing_written()


def test_preview_lists_every_row_error_with_row_and_column(manager, segment):
    data = csv_bytes(
        [
            ["name", "phone", "email", "status", "segmen pasar"],
            ["PT Baik", "021 555 0123", "", "", ""],
            ["PT Telepon Salah", "12", "not-an-email", "", ""],
            ["", "021 555 0199", "", "", ""],
            ["PT Status Aneh", "", "", "vip", "grosir"],
        ]
    )

    result = imports.preview(actor=manager, what="clients", data=data, filename="c.csv")

    assert result["errors"] == [
        {"row": 3, "field": "phone", "message": PHONE_ERROR},
        {"row": 3, "field": "email", "message": "Enter a valid email address."},
        {"row": 4, "field": "name", "message": "This field is required."},
        # the service stops at the first group of errors: custom fields come later
        {
            "row": 5,
            "field": "status",
            "message": "Choose one of: lead, prospect, client, former.",
        },
    ]
    assert (result["valid_rows"], result["invalid_rows"]) == (1, 3)
    assert [r["valid"] for r in result["sample"]["rows"]] == [True, False, False, False]
    assert nothing_written()


def test_preview_checks_only_the_first_rows_of_a_big_file(manager):
    data = csv_bytes([["name"]] + [[f"Toko {i}"] for i in range(5)])

    result = imports.preview(
        actor=manager, what="clients", data=data, filename="c.csv", limit=2
    )

    assert (result["total_rows"], result["checked_rows"], result["complete"]) == (
        5,
        2,
        False,
    )


def test_existing_client_is_a_row_error_unless_duplicates_are_allowed(manager):
    services.client_create(actor=manager, name="PT Maju Jaya", phone="021 555 0123")
    data = csv_bytes([["name", "phone"], ["PT Maju Jaya", "+62 21 555 0123"]])

    strict = imports.preview(actor=manager, what="clients", data=data, filename="c.csv")
    relaxed = imports.preview(
        actor=manager,
        what="clients",
        data=data,
        filename="c.csv",
        options=Options(allow_duplicates=True),
    )

    assert [(e["row"], e["field"]) for e in strict["errors"]] == [(2, "")]
    assert strict["errors"][0]["message"].startswith(
        "Possible duplicate of: PT Maju Jaya"
    )
    assert relaxed["errors"] == []


# ---------------------------------------------------------------- the job


def test_all_or_nothing_one_bad_row_imports_nothing(
    manager, django_capture_on_commit_callbacks
):
    data = csv_bytes(
        [
            ["name", "phone"],
            ["PT Satu", "021 555 0101"],
            ["PT Dua", "12"],
            ["PT Tiga", "021 555 0103"],
        ]
    )

    with django_capture_on_commit_callbacks(execute=True):
        job = start(manager, data)
    job.refresh_from_db()

    assert job.state == Job.State.DONE
    assert job.result["outcome"] == "rejected"
    assert (job.result["imported"], job.result["invalid_rows"]) == (0, 1)
    assert job.result["errors"] == [
        {"row": 3, "field": "phone", "message": PHONE_ERROR}
    ]
    assert job.message == "Nothing was imported: 1 row has errors."
    assert job.result_url == f"/imports/{job.pk}/"
    assert nothing_written()


def test_valid_rows_only_imports_the_good_rows(
    manager, django_capture_on_commit_callbacks
):
    data = csv_bytes(
        [
            ["name", "phone"],
            ["PT Satu", "021 555 0101"],
            ["PT Dua", "12"],
            ["PT Tiga", "021 555 0103"],
        ]
    )

    with django_capture_on_commit_callbacks(execute=True):
        job = start(manager, data, valid_rows_only=True)
    job.refresh_from_db()

    assert job.result["outcome"] == "partial"
    assert (job.result["imported"], job.result["invalid_rows"]) == (2, 1)
    assert job.message == "2 rows imported. 1 row with errors was skipped."
    assert list(
        Client.objects.order_by("name").values_list("name", "phone", "owner")
    ) == [
        ("PT Satu", "+62215550101", manager.pk),
        ("PT Tiga", "+62215550103", manager.pk),
    ]


def test_a_duplicate_inside_the_file_rolls_back_everything(
    manager, django_capture_on_commit_callbacks, settings
):
    # 150 rows: the twin sits in another validation chunk than the original.
    rows = [["name", "email"]] + [
        [f"{i:03d} Toko", f"toko{i}@x.co.id"] for i in range(150)
    ]
    rows.append(["Toko Kembar", "toko5@x.co.id"])

    with django_capture_on_commit_callbacks(execute=True):
        job = start(manager, csv_bytes(rows))
    job.refresh_from_db()

    assert job.result["outcome"] == "rejected"
    assert [(e["row"], e["field"]) for e in job.result["errors"]] == [(152, "")]
    assert Client.objects.count() == 0


def test_clients_with_counterparty_contact_and_owner(
    head_of_sales, manager, django_capture_on_commit_callbacks
):
    data = csv_bytes(
        [
            [
                "Nama",
                "Manager",
                "Badan Usaha",
                "NPWP",
                "Kontak",
                "Telepon Kontak",
                "Email Kontak",
                "Jabatan",
                "Peran",
                "Jenis",
            ],
            [
                "Toko Maju",
                "MANAGER",
                "PT Maju Jaya Tbk",
                "01.312.166.0-091.000",
                "Budi Santoso",
                "0812 3456 7890",
                "budi@maju.co.id",
                "Pembelian",
                "Purchaser",
                "company",
            ],
            ["Ibu Sari", "", "", "", "Sari", "", "", "", "", "Perorangan"],
        ]
    )

    with django_capture_on_commit_callbacks(execute=True):
        job = start(head_of_sales, data)
    job.refresh_from_db()

    assert job.result["outcome"] == "imported", job.result
    maju = Client.objects.get(name="Toko Maju")
    sari = Client.objects.get(name="Ibu Sari")
    assert (maju.owner, maju.kind, sari.owner) == (manager, "company", head_of_sales)
    link = ClientCounterparty.objects.get(client=maju)
    assert (link.counterparty.legal_name, link.counterparty.tax_id) == (
        "PT Maju Jaya Tbk",
        "013121660091000",
    )
    role = ContactRole.objects.select_related("contact").get(client=maju)
    assert (
        role.contact.first_name,
        role.contact.last_name,
        role.contact.position,
        role.role,
        role.is_primary,
    ) == ("Budi", "Santoso", "Pembelian", "Purchaser", True)
    assert sorted(role.contact.methods.values_list("value", flat=True)) == [
        "+6281234567890",
        "budi@maju.co.id",
    ]
    assert ContactRole.objects.get(client=sari).contact.first_name == "Sari"
    # the client card's search finds the imported phone
    assert "081234567890" in maju.search_text


def test_a_manager_cannot_import_clients_for_someone_else(manager, other_manager):
    data = csv_bytes(
        [
            ["name", "owner"],
            ["PT Satu", "other"],
            ["PT Dua", "ghost"],
            ["PT Tiga", "manager"],
        ]
    )

    result = imports.preview(actor=manager, what="clients", data=data, filename="c.csv")

    assert result["errors"] == [
        {
            "row": 2,
            "field": "owner",
            "message": "You may only create clients you manage yourself.",
        },
        {"row": 3, "field": "owner", "message": "There is no active user “ghost”."},
    ]


def test_existing_tax_id_is_a_duplicate_or_a_link(head_of_sales, manager):
    existing = services.client_create(actor=manager, name="PT Lama")
    services.counterparty_create(
        actor=manager,
        legal_name="PT Lama Tbk",
        tax_id="013121660091000",
        client_id=existing.pk,
    )
    data = csv_bytes([["name", "npwp"], ["Toko Cabang Baru", "013121660091000"]])

    strict = imports.preview(
        actor=head_of_sales, what="clients", data=data, filename="c.csv"
    )
    job = start(head_of_sales, data, allow_duplicates=True)
    run_job(job)

    assert [(e["row"], e["field"]) for e in strict["errors"]] == [(2, "npwp")]
    new = Client.objects.get(name="Toko Cabang Baru")
    assert list(
        new.counterparty_links.values_list("counterparty__legal_name", flat=True)
    ) == ["PT Lama Tbk"]
    assert Counterparty.objects.count() == 1


def test_xlsx_with_number_cells(manager):
    data = xlsx_bytes(
        [
            ["Name", "Phone", "Region"],
            ["PT Angka", 81234567890, "Surabaya"],
            [None, None, None],
            ["PT Kedua", "021-555-0123", None],
        ]
    )

    job = run_job(start(manager, data, filename="clients.xlsx"))

    assert job.result["outcome"] == "imported", job.result
    assert list(
        Client.objects.order_by("name").values_list("name", "phone", "region")
    ) == [
        ("PT Angka", "+6281234567890", "Surabaya"),
        ("PT Kedua", "+62215550123", ""),
    ]


def test_semicolon_csv_with_bom(manager):
    data = (
        "\ufeffNama;Telepon;Catatan\nPT Titik Koma;021 555 0123;a, b and c\n".encode()
    )

    job = run_job(start(manager, data))

    client = Client.objects.get()
    assert (job.result["imported"], client.name, client.notes) == (
        1,
        "PT Titik Koma",
        "a, b and c",
    )


def test_progress_is_reported_per_hundred_rows(manager):
    rows = [["first name", "last name"]] + [[f"Orang{i}", "Uji"] for i in range(250)]
    calls = []

    job = run_job(start(manager, csv_bytes(rows), what="contacts"), calls)

    assert job.result["imported"] == 250
    assert calls == [
        (20, "Checked 100 of 250 rows"),
        (40, "Checked 200 of 250 rows"),
        (50, "Checked 250 of 250 rows"),
        (50, "Importing 250 rows…"),
    ]


def test_progress_of_valid_rows_only(manager):
    rows = [["first name"]] + [[f"Orang{i}"] for i in range(150)]
    calls = []

    run_job(
        start(manager, csv_bytes(rows), what="contacts", valid_rows_only=True), calls
    )

    assert calls == [(66, "Imported 100 of 150 rows"), (99, "Imported 150 of 150 rows")]
    assert Contact.objects.count() == 150


def test_contacts_linked_to_clients_by_name(manager, other_manager):
    maju = ClientFactory(name="PT Maju Jaya", owner=manager)
    ClientFactory(name="PT Orang Lain", owner=other_manager)
    data = csv_bytes(
        [
            ["Nama Lengkap", "Jabatan", "HP", "Email", "Klien", "Peran"],
            [
                "Budi Santoso",
                "Buyer",
                "0812 3456 7890; 021 555 0123",
                "budi@maju.co.id",
                "pt maju jaya",
                "Purchaser",
            ],
            ["Sari", "", "", "", "PT Orang Lain", ""],
            ["", "", "0812", "", "", ""],
        ]
    )

    preview = imports.preview(
        actor=manager, what="contacts", data=data, filename="k.csv"
    )
    job = run_job(start(manager, data, what="contacts", valid_rows_only=True))

    assert preview["errors"] == [
        {
            "row": 3,
            "field": "Klien",
            "message": "You have no client called “PT Orang Lain”.",
        },
        {"row": 4, "field": "Nama Lengkap", "message": "This field is required."},
        {"row": 4, "field": "HP", "message": f"0812: {PHONE_ERROR}"},
    ]
    assert job.result["imported"] == 1
    budi = Contact.objects.get()
    assert (budi.first_name, budi.last_name, budi.position) == (
        "Budi",
        "Santoso",
        "Buyer",
    )
    assert sorted(budi.methods.values_list("value", flat=True)) == [
        "+62215550123",
        "+6281234567890",
        "budi@maju.co.id",
    ]
    assert list(budi.roles.values_list("client", "role")) == [(maju.pk, "Purchaser")]


def test_contact_columns_are_ignored_when_contacts_are_switched_off(
    admin_user, manager
):
    features.feature_set(code="contacts", enabled=False, actor=admin_user)
    data = csv_bytes([["name", "contact"], ["PT Satu", "Budi"]])

    result = imports.preview(actor=manager, what="clients", data=data, filename="c.csv")

    assert result["columns"][1] == {
        "header": "contact",
        "field": None,
        "label": "Contact name",
        "note": "ignored: the module “Contact persons” is switched off",
    }
    assert result["errors"] == []


# ---------------------------------------------------------------- bad files


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (PNG, "clients.csv", "This is not a text (CSV) file."),
        (b"", "clients.csv", "The file is empty."),
        (b"\xef\xbb\xbf\r\n  \n", "clients.csv", "The file is empty."),
        (
            b"phone,email\n021 555 0123,a@b.co\n",
            "clients.csv",
            "The file has no name column. The first row must hold column names such as "
            "“Name” or “Nama”.",
        ),
        (
            "nama\nPT Ä\n".encode("latin-1"),
            "clients.csv",
            "The file is neither a UTF-8 CSV file nor an XLSX workbook. In a "
            "spreadsheet program, save it as “CSV UTF-8” or as .xlsx.",
        ),
        (
            b"PK\x03\x04garbage",
            "clients.xlsx",
            "The file is not a valid XLSX workbook.",
        ),
        (b"name\nPT Satu\n", "clients.xlsx", "The file is not a valid XLSX workbook."),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            "clients.xls",
            "Old Excel files (.xls) cannot be read; save the sheet as .xlsx or CSV.",
        ),
        (b'name\n"PT Satu\n', "clients.csv", None),  # unterminated quote: one odd row
    ],
)
def test_garbage_is_refused_and_changes_nothing(manager, data, filename, message):
    if message is None:
        result = imports.preview(
            actor=manager, what="clients", data=data, filename=filename
        )
        assert result["total_rows"] == 1
        return
    with pytest.raises(ImportFileInvalid) as excinfo:
        start(manager, data, filename=filename)

    assert excinfo.value.code == "import.invalid_file"
    assert excinfo.value.fields == {"file": [message]}
    assert Job.objects.count() == 0
    assert nothing_written()


def test_too_large_and_too_long_files_are_refused(manager, settings):
    settings.SATU_IMPORT_MAX_BYTES = 20
    with pytest.raises(ImportFileInvalid) as too_big:
        start(manager, b"name\n" + b"PT Panjang Sekali\n" * 2)
    settings.SATU_IMPORT_MAX_BYTES = 10 * 1024 * 1024
    settings.SATU_IMPORT_MAX_ROWS = 3
    with pytest.raises(ImportFileInvalid) as too_long:
        start(manager, csv_bytes([["name"]] + [[f"PT {i}"] for i in range(4)]))

    assert too_big.value.fields == {"file": ["The file is larger than 20\xa0bytes."]}
    assert too_long.value.fields == {
        "file": ["The file has more than 3 rows; split it into smaller files."]
    }
    assert Job.objects.count() == 0


def test_import_needs_the_create_permission(director):
    data = csv_bytes([["name"], ["PT Satu"]])

    with pytest.raises(imports.PermissionDenied):
        start(director, data)
    assert Job.objects.count() == 0
