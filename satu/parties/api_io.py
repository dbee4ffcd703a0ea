"""REST endpoints for exporting lists (CSV/XLSX), vCards and importing
clients and contact persons (under /api/v1/).

Exports take the same filters as the list endpoints. An import answers 202
with the background job to poll (`GET /api/v1/jobs/{id}`); with `dry_run`
it answers 200 with the preview: mapped columns, first rows, row errors.
"""

from typing import Literal

from django.http import HttpResponse
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from satu.parties import exports, imports, vcard
from satu.parties.api import ClientFilters, ContactFilters, CounterpartyFilters

router = Router(tags=["import/export"])

ExportFormat = Literal["csv", "xlsx"]
FORMAT_DOC = "csv (UTF-8 with BOM) or xlsx."
DOWNLOAD = {
    "responses": {
        200: {
            "description": "The file.",
            "content": {
                "text/csv": {"schema": {"type": "string", "format": "binary"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        }
    }
}


class ExportParams(Schema):
    format: ExportFormat = Field("csv", description=FORMAT_DOC)


def _custom_filters(request) -> dict:
    return {k: v for k, v in request.GET.items() if k.startswith("cf_")}


@router.get("/clients/export", response={200: None}, openapi_extra=DOWNLOAD)
def export_clients(
    request,
    filters: Query[ClientFilters],
    params: Query[ExportParams],
):
    """Every client of the list with these filters (`cf_<code>` too), with
    custom fields as columns."""
    return exports.export(
        actor=request.auth,
        what="clients",
        fmt=params.format,
        filters={
            "search": filters.search,
            "status": filters.status or "",
            "owner_id": filters.owner_id,
            "group_id": filters.group_id,
            "channel_id": filters.channel_id,
            "archived": filters.archived,
            "custom": _custom_filters(request),
        },
    )


@router.get("/contacts/export", response={200: None}, openapi_extra=DOWNLOAD)
def export_contacts(
    request,
    filters: Query[ContactFilters],
    params: Query[ExportParams],
):
    """Every contact person of the list with these filters."""
    return exports.export(
        actor=request.auth,
        what="contacts",
        fmt=params.format,
        filters={"search": filters.search, "client_id": filters.client_id},
    )


@router.get("/counterparties/export", response={200: None}, openapi_extra=DOWNLOAD)
def export_counterparties(
    request,
    filters: Query[CounterpartyFilters],
    params: Query[ExportParams],
):
    """Every counterparty of the list with these filters."""
    return exports.export(
        actor=request.auth,
        what="counterparties",
        fmt=params.format,
        filters={"search": filters.search},
    )


@router.get(
    "/contacts/{contact_id}/vcard",
    response={200: None},
    openapi_extra={
        "responses": {
            200: {
                "description": "vCard 3.0.",
                "content": {"text/vcard": {"schema": {"type": "string"}}},
            }
        }
    },
)
def get_contact_vcard(request, contact_id: int):
    """The contact person as a vCard 3.0 (404 when not visible)."""
    text, filename = vcard.contact_vcard(actor=request.auth, contact_id=contact_id)
    response = HttpResponse(text, content_type="text/vcard; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ------------------------------------------------------------------ imports


class ImportOptions(Schema):
    dry_run: bool = False
    valid_rows_only: bool = False
    allow_duplicates: bool = False


class ImportColumnOut(Schema):
    header: str
    field: str | None
    label: str
    note: str


class ImportRowOut(Schema):
    row: int
    values: list[str]
    valid: bool


class ImportSampleOut(Schema):
    headers: list[str]
    rows: list[ImportRowOut]


class ImportErrorOut(Schema):
    row: int
    field: str
    message: str


class ImportPreviewOut(Schema):
    what: str
    format: str
    total_rows: int
    checked_rows: int
    complete: bool
    valid_rows: int
    invalid_rows: int
    columns: list[ImportColumnOut]
    sample: ImportSampleOut
    errors: list[ImportErrorOut]


class ImportJobOut(Schema):
    job_id: int
    state: str
    url: str
    web_url: str


def _import(request, what: str, file: UploadedFile, options: ImportOptions):
    data = imports.read_upload(file)
    opts = imports.Options(
        valid_rows_only=options.valid_rows_only,
        allow_duplicates=options.allow_duplicates,
    )
    if options.dry_run:
        return Status(
            200,
            imports.preview(
                actor=request.auth,
                what=what,
                data=data,
                filename=file.name or "",
                options=opts,
            ),
        )
    job = imports.import_start(
        actor=request.auth,
        what=what,
        data=data,
        filename=file.name or "import",
        options=opts,
    )
    return Status(
        202,
        {
            "job_id": job.pk,
            "state": job.state,
            "url": f"/api/v1/jobs/{job.pk}",
            "web_url": f"/jobs/{job.pk}/",
        },
    )


IMPORT_DOC = """

Columns are matched by header, case-insensitively, in English or Indonesian
(name/nama, phone/telepon, email, status, region/wilayah, tax id/npwp ...)
or by a custom field's label or code. By default the import is
all-or-nothing; `valid_rows_only` imports the valid rows and reports the
others. With `dry_run` nothing is written: the answer lists the mapped
columns, the first rows and the errors of up to SATU_IMPORT_PREVIEW_ROWS
rows (`complete` says whether every row was checked). Otherwise the answer
is 202 with the job to poll at `url`; when its state is `done`, its result
holds `outcome` (`imported`, `partial` or `rejected`: nothing written),
`imported`, `invalid_rows`, `errors` (`[{row, field, message}]`, row 1 being
the header) and `message`.
"""
CLIENTS_DOC = (
    """Import clients from CSV or XLSX. A row may also carry a
counterparty (legal name, tax id) and a contact person (name, phone, email).
Rows that look like existing clients are errors unless `allow_duplicates`.
"""
    + IMPORT_DOC
)
CONTACTS_DOC = (
    """Import contact persons from CSV or XLSX, optionally linked
to a client (by exact name, or a "Client ID" column) in a role.
"""
    + IMPORT_DOC
)


@router.post(
    "/clients/import",
    response={200: ImportPreviewOut, 202: ImportJobOut},
    description=CLIENTS_DOC,
)
def import_clients(request, file: File[UploadedFile], options: Form[ImportOptions]):
    return _import(request, "clients", file, options)


@router.post(
    "/contacts/import",
    response={200: ImportPreviewOut, 202: ImportJobOut},
    description=CONTACTS_DOC,
)
def import_contacts(request, file: File[UploadedFile], options: Form[ImportOptions]):
    return _import(request, "contacts", file, options)
