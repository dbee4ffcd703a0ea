"""Import of clients and contact persons from CSV (UTF-8, comma, semicolon or
tab) and XLSX files.

Every row goes through the same services as a form or an API call
(`client_create`, `counterparty_create`, `contact_create` ...), each row in
its own savepoint, so the rules live in one place; a dry run runs the rows
and rolls them back.

Checks and imports are background jobs (`satu.core.jobs`, kind
`parties.import`) that report progress per chunk of 100 rows:

- check (`dry_run`, the web preview): every row, in chunks of rolled-back
  transactions; the result holds the mapped columns, the first rows and the
  row errors (`preview` does the same synchronously for the first rows, for
  the API's dry run);
- all-or-nothing (default): the same check, then, when every row is valid,
  the import in one transaction (a row failing then, say a twin of an earlier
  row of the file, still rolls everything back);
- valid rows only: chunks of 100 rows committed one after the other; rows
  that fail are skipped and reported.

Row numbers are the spreadsheet's: the header is row 1.
"""

import csv
import io
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from satu.core import custom_fields, features, jobs
from satu.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from satu.core.identifiers import normalize_tax_id
from satu.core.models import Job, User
from satu.parties import queries, services
from satu.parties.models import Channel, Client, ClientGroup

logger = logging.getLogger(__name__)

JOB_KIND = "parties.import"
WHAT = ("clients", "contacts")
CHUNK = 100
SAMPLE_ROWS = 10
MAX_COLUMNS = 200
MAX_ERRORS_KEPT = 1000


def max_rows() -> int:
    return int(getattr(settings, "SATU_IMPORT_MAX_ROWS", 50_000))


def preview_rows() -> int:
    """Rows a synchronous preview checks; the import job always checks all."""
    return int(getattr(settings, "SATU_IMPORT_PREVIEW_ROWS", 500))


class ImportFileInvalid(ValidationFailed):
    """The file cannot be read as a table of clients or contacts."""

    code = "import.invalid_file"


def _file_error(message) -> ImportFileInvalid:
    return ImportFileInvalid(message, fields={"file": [message]})


# ---------------------------------------------------------------- reading files


@dataclass
class Table:
    format: str
    headers: list[str]
    # (spreadsheet row number, cell texts) for every non-empty data row
    rows: list[tuple[int, list[str]]]
    delimiter: str = ""


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == 0:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _unescape(text: str) -> str:
    # Our CSV export prefixes formula-like cells with an apostrophe.
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        return text[1:]
    return text


def _check_shape(headers: list[str], count: int) -> None:
    if len(headers) > MAX_COLUMNS:
        raise _file_error(
            _("The file has more than %(n)d columns.") % {"n": MAX_COLUMNS}
        )
    if count > max_rows():
        raise _file_error(
            _("The file has more than %(n)s rows; split it into smaller files.")
            % {"n": f"{max_rows():,}"}
        )


def _read_csv(data: bytes) -> Table:
    if b"\x00" in data[:4096]:
        raise _file_error(_("This is not a text (CSV) file."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error(
            _(
                "The file is neither a UTF-8 CSV file nor an XLSX workbook. In a "
                "spreadsheet program, save it as “CSV UTF-8” or as .xlsx."
            )
        ) from None
    first_line = text.lstrip().split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=lambda d: (first_line.count(d), d == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers: list[str] | None = None
    rows = []
    try:
        for number, record in enumerate(reader, start=1):
            cells = [_unescape(c.strip()) for c in record]
            if not any(cells):
                continue
            if headers is None:
                headers = cells
                continue
            rows.append((number, cells))
            if len(rows) > max_rows():
                break
    except csv.Error as exc:
        raise _file_error(
            _("The CSV file is malformed near line %(line)d (%(error)s).")
            % {"line": reader.line_num, "error": exc}
        ) from None
    if headers is None:
        raise _file_error(_("The file is empty."))
    _check_shape(headers, len(rows))
    return Table("csv", headers, rows, delimiter)


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any failure means "not a workbook"
        raise _file_error(_("The file is not a valid XLSX workbook.")) from None
    try:
        sheet = workbook.worksheets[0]
        headers: list[str] | None = None
        rows = []
        for number, values in enumerate(
            sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1), start=1
        ):
            cells = [_cell_text(v) for v in values]
            if not any(cells):
                continue
            if headers is None:
                headers = cells
                continue
            rows.append((number, cells))
            if len(rows) > max_rows():
                break
    except Exception:  # noqa: BLE001 - a broken sheet is a broken file
        raise _file_error(_("The file is not a valid XLSX workbook.")) from None
    finally:
        workbook.close()
    if headers is None:
        raise _file_error(_("The workbook's first sheet is empty."))
    while headers and not headers[-1]:
        headers.pop()
    _check_shape(headers, len(rows))
    return Table("xlsx", headers, rows)


def read_table(data: bytes, filename: str = "") -> Table:
    """Parse an uploaded file by its content (not its name).

    Raises ImportFileInvalid for an empty, oversized, binary or malformed
    file, or one with too many rows or columns.
    """
    if len(data) > settings.SATU_IMPORT_MAX_BYTES:
        raise _too_large()
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise _file_error(_("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_error(
            _("Old Excel files (.xls) cannot be read; save the sheet as .xlsx or CSV.")
        )
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise _file_error(_("The file is not a valid XLSX workbook."))
    return _read_csv(data)


def read_upload(uploaded) -> bytes:
    """The bytes of an uploaded file; ImportFileInvalid beyond the size limit
    (SATU_IMPORT_MAX_BYTES), checked before reading it."""
    limit = settings.SATU_IMPORT_MAX_BYTES
    if uploaded is None:
        raise _file_error(_("Choose a file to import."))
    if uploaded.size is not None and uploaded.size > limit:
        raise _too_large()
    data = uploaded.read(limit + 1)
    if len(data) > limit:
        raise _too_large()
    return data


def max_size() -> str:
    from django.template.defaultfilters import filesizeformat

    return str(filesizeformat(settings.SATU_IMPORT_MAX_BYTES))


def _too_large() -> ImportFileInvalid:
    return _file_error(_("The file is larger than %(size)s.") % {"size": max_size()})


# ---------------------------------------------------------------- column mapping


def norm(text: str) -> str:
    """A header or value as compared: lower case, punctuation as spaces."""
    return re.sub(r"[\s_\-.:*/()#]+", " ", str(text).lower()).strip()


@dataclass(frozen=True)
class Spec:
    key: str
    label: object
    aliases: tuple[str, ...]
    feature: str | None = None
    # model field whose translated verbose names are aliases too
    model_field: str | None = None


# fmt: off
CLIENT_SPECS = [
    Spec("name", gettext_lazy("Name"), (
        "name", "nama", "client", "client name", "klien", "nama klien", "customer",
        "customer name", "pelanggan", "nama pelanggan", "company", "company name",
        "perusahaan", "nama perusahaan"), model_field="name"),
    Spec("kind", gettext_lazy("Kind"), (
        "kind", "type", "client type", "jenis", "tipe", "jenis klien"),
        model_field="kind"),
    Spec("status", gettext_lazy("Status"), ("status", "tahap"), model_field="status"),
    Spec("owner", gettext_lazy("Manager"), (
        "owner", "manager", "sales manager", "account manager", "pemilik", "manajer",
        "manajer penjualan"), model_field="owner"),
    Spec("groups", gettext_lazy("Groups"), (
        "groups", "group", "client groups", "grup", "kelompok"), model_field="groups"),
    Spec("channel", gettext_lazy("Source channel"), (
        "source channel", "channel", "source", "sumber", "kanal", "saluran"),
        model_field="source_channel"),
    Spec("phone", gettext_lazy("Phone"), (
        "phone", "telephone", "tel", "phone number", "telepon", "telp", "no telp",
        "no telepon", "nomor telepon", "hp", "no hp"), model_field="phone"),
    Spec("email", gettext_lazy("Email"), (
        "email", "e mail", "email address", "surel", "alamat email"),
        model_field="email"),
    Spec("website", gettext_lazy("Website"), (
        "website", "web", "url", "situs", "situs web"), model_field="website"),
    Spec("region", gettext_lazy("Region"), (
        "region", "area", "wilayah", "daerah"), model_field="region"),
    Spec("address", gettext_lazy("Address"), ("address", "alamat"),
         model_field="address"),
    Spec("notes", gettext_lazy("Notes"), (
        "notes", "note", "comment", "comments", "catatan", "keterangan"),
        model_field="notes"),
    Spec("legal_name", gettext_lazy("Legal name"), (
        "legal name", "counterparty", "legal entity", "badan usaha", "nama badan usaha",
        "badan hukum", "nama badan hukum", "nama resmi", "nama legal"),
        feature="counterparties"),
    Spec("tax_id", gettext_lazy("Tax ID"), (
        "tax id", "tax number", "tin", "vat", "vat number", "npwp", "no npwp",
        "nomor npwp"), feature="counterparties"),
    Spec("country", gettext_lazy("Country"), ("country", "negara"),
         feature="counterparties"),
    Spec("registration_address", gettext_lazy("Registration address"), (
        "registration address", "legal address", "registered address",
        "alamat terdaftar", "alamat npwp", "alamat badan usaha"),
        feature="counterparties"),
    Spec("contact_name", gettext_lazy("Contact name"), (
        "contact", "contact name", "contact person", "kontak", "nama kontak",
        "narahubung", "pic", "nama pic"), feature="contacts"),
    Spec("contact_first_name", gettext_lazy("Contact first name"), (
        "contact first name", "nama depan kontak"), feature="contacts"),
    Spec("contact_last_name", gettext_lazy("Contact last name"), (
        "contact last name", "nama belakang kontak"), feature="contacts"),
    Spec("contact_phone", gettext_lazy("Contact phone"), (
        "contact phone", "telepon kontak", "hp kontak", "no hp kontak", "telepon pic",
        "hp pic"), feature="contacts"),
    Spec("contact_email", gettext_lazy("Contact email"), (
        "contact email", "email kontak", "email pic"), feature="contacts"),
    Spec("contact_position", gettext_lazy("Contact position"), (
        "position", "contact position", "title", "job title", "jabatan",
        "jabatan kontak"), feature="contacts"),
    Spec("contact_role", gettext_lazy("Contact role"), (
        "role", "contact role", "peran", "peran kontak"), feature="contacts"),
]

CONTACT_SPECS = [
    Spec("full_name", gettext_lazy("Name"), (
        "name", "nama", "full name", "nama lengkap", "contact", "contact name",
        "contact person", "kontak", "nama kontak")),
    Spec("first_name", gettext_lazy("First name"), (
        "first name", "given name", "nama depan"), model_field="first_name"),
    Spec("last_name", gettext_lazy("Last name"), (
        "last name", "surname", "family name", "nama belakang"),
        model_field="last_name"),
    Spec("position", gettext_lazy("Position"), (
        "position", "title", "job title", "jabatan"), model_field="position"),
    Spec("phone", gettext_lazy("Phone"), (
        "phone", "phones", "telephone", "tel", "telepon", "telp", "no telp",
        "no telepon", "nomor telepon", "hp", "no hp", "mobile", "ponsel")),
    Spec("email", gettext_lazy("Email"), (
        "email", "emails", "e mail", "email address", "surel", "alamat email")),
    Spec("notes", gettext_lazy("Notes"), (
        "notes", "note", "comment", "catatan", "keterangan"), model_field="notes"),
    Spec("client", gettext_lazy("Client"), (
        "client", "client name", "klien", "nama klien", "customer", "pelanggan",
        "company", "perusahaan", "nama perusahaan")),
    Spec("client_id", gettext_lazy("Client ID"), ("client id", "id klien")),
    Spec("role", gettext_lazy("Role"), ("role", "peran")),
]
# fmt: on

SPECS = {
    "clients": (CLIENT_SPECS, "parties.client"),
    "contacts": (CONTACT_SPECS, "parties.contact"),
}


@dataclass
class Column:
    index: int
    header: str
    key: str | None  # a Spec key, "custom.<code>", or None when ignored
    label: str
    note: str = ""


@dataclass
class Mapping:
    what: str
    columns: list[Column]
    labels: dict[str, str] = field(default_factory=dict)  # key -> header or label

    def header_for(self, key: str) -> str:
        return self.labels.get(key, key)

    def values(self, cells: list[str]) -> dict[str, str]:
        out = {}
        for column in self.columns:
            if column.key and column.index < len(cells):
                out[column.key] = cells[column.index]
        return out

    @property
    def mapped(self) -> list[Column]:
        return [c for c in self.columns if c.key]

    @property
    def present(self) -> set[str]:
        """Keys filled by a column of the file."""
        return {c.key for c in self.columns if c.key}


def _aliases(specs: list[Spec], model) -> dict[str, str]:
    table: dict[str, str] = {}
    for spec in specs:
        names = list(spec.aliases)
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                names.append(str(spec.label))
                if spec.model_field:
                    names.append(
                        str(model._meta.get_field(spec.model_field).verbose_name)
                    )
        for name in names:
            table.setdefault(norm(name), spec.key)
    return table


def map_columns(what: str, headers: list[str]) -> Mapping:
    """Match headers (case-insensitive, English or Indonesian, custom field
    labels or codes) to fields. Raises ImportFileInvalid without a name column."""
    from satu.parties.models import Contact

    specs, object_type = SPECS[what]
    model = Client if what == "clients" else Contact
    aliases = _aliases(specs, model)
    by_key = {s.key: s for s in specs}
    enabled = features.enabled_map()
    customs = {}
    for definition in custom_fields.definitions(object_type):
        for name in (definition.code, f"cf_{definition.code}", definition.label):
            customs.setdefault(norm(name), definition)
    mapping = Mapping(what, [])
    for index, header in enumerate(headers):
        key = aliases.get(norm(header))
        label, note = "", ""
        if key is not None:
            spec = by_key[key]
            label = str(spec.label)
            if spec.feature and not enabled.get(spec.feature, True):
                key, note = (
                    None,
                    _("ignored: the module “%(m)s” is switched off")
                    % {"m": features.get(spec.feature).label},
                )
        elif norm(header) in customs:
            definition = customs[norm(header)]
            key, label = f"custom.{definition.code}", definition.label
        else:
            note = (
                _("ignored: not a known column") if header else _("ignored: no header")
            )
        if key is not None and key in mapping.labels:
            key, note = (
                None,
                _("ignored: “%(h)s” already fills this field")
                % {"h": mapping.labels[key]},
            )
        if key is not None:
            mapping.labels[key] = header
        mapping.columns.append(Column(index, header, key, label, note))
    for spec in specs:
        mapping.labels.setdefault(spec.key, str(spec.label))
    required = {"name"} if what == "clients" else {"full_name", "first_name"}
    if not required & mapping.present:
        raise _file_error(
            _(
                "The file has no name column. The first row must hold column names "
                "such as “Name” or “Nama”."
            )
        )
    return mapping


# ---------------------------------------------------------------- rows


@dataclass
class Options:
    valid_rows_only: bool = False
    allow_duplicates: bool = False


class _Lookups:
    """Reference data resolved once per file (users, groups, channels...)."""

    def __init__(self, actor):
        self.actor = actor
        self._users: dict[str, int | None] = {}
        self._groups: dict[str, int] | None = None
        self._channels: dict[str, list[int]] | None = None
        self._clients: dict[str, list[int]] = {}
        self._choices: dict[str, dict[str, str]] = {}

    def user(self, username: str) -> int | None:
        key = username.strip().lower()
        if key not in self._users:
            self._users[key] = (
                User.objects.filter(username__iexact=key, is_active=True)
                .values_list("pk", flat=True)
                .first()
            )
        return self._users[key]

    def group(self, name: str) -> int | None:
        if self._groups is None:
            self._groups = {norm(g.name): g.pk for g in ClientGroup.objects.all()}
        return self._groups.get(norm(name))

    def channel(self, name: str) -> list[int]:
        if self._channels is None:
            self._channels = {}
            for channel in Channel.objects.select_related("parent"):
                for key in {norm(str(channel)), norm(channel.name)}:
                    self._channels.setdefault(key, []).append(channel.pk)
        return self._channels.get(norm(name), [])

    def clients(self, name: str) -> list[int]:
        key = norm(name)
        if key not in self._clients:
            self._clients[key] = list(
                queries.clients_visible_to(self.actor)
                .filter(name__iexact=name.strip(), merged_into=None)
                .values_list("pk", flat=True)[:2]
            )
        return self._clients[key]

    def choice(self, choices, raw: str) -> str:
        """The stored value for a value or a label (any language); else raw."""
        table = self._choices.get(choices.__name__)
        if table is None:
            table = dict(CHOICE_WORDS.get(choices.__name__, {}))
            for code, _name in settings.LANGUAGES:
                with translation.override(code):
                    for value, label in choices.choices:
                        table[norm(label)] = value
                        table[norm(value)] = value
            self._choices[choices.__name__] = table
        return table.get(norm(raw), raw.strip())


# Words people write in spreadsheets for kinds and statuses, besides the
# stored values and the translated labels.
# fmt: off
CHOICE_WORDS = {
    "Kind": {
        "perusahaan": "company", "badan usaha": "company", "business": "company",
        "perorangan": "person", "pribadi": "person", "individu": "person",
        "individual": "person", "orang": "person",
    },
    "Status": {
        "calon": "lead", "prospek": "prospect", "klien": "client",
        "pelanggan": "client", "customer": "client", "mantan": "former",
        "mantan klien": "former", "mantan pelanggan": "former",
    },
}
# fmt: on


def _split(raw: str) -> list[str]:
    return [p.strip() for p in re.split(r"[;,\n]+", raw or "") if p.strip()]


def _split_name(full: str) -> tuple[str, str]:
    first, _sep, last = full.strip().rpartition(" ")
    return (first.strip(), last.strip()) if first else (last.strip(), "")


class _Row:
    def __init__(self, number: int, mapping: Mapping):
        self.number = number
        self.mapping = mapping
        self.errors: list[dict] = []

    def add(self, key: str, message) -> None:
        field_name = self.mapping.header_for(key) if key else ""
        self.errors.append(
            {"row": self.number, "field": field_name, "message": str(message)}
        )

    def add_domain_error(
        self, exc: DomainError, fields_to_keys: dict[str, str]
    ) -> None:
        if not exc.fields:
            self.add("", exc)
            return
        for name, messages in exc.fields.items():
            key = fields_to_keys.get(name, name)
            for message in messages:
                self.add(key, message)

    def run(self, fields_to_keys: dict[str, str], call: Callable):
        """Call a service; its DomainError becomes row errors. Returns the result."""
        try:
            return call()
        except DomainError as exc:
            self.add_domain_error(exc, fields_to_keys)
        except Exception:  # noqa: BLE001 - one bad row must not stop the file
            logger.exception("import row %s failed", self.number)
            self.add(
                "",
                _("Unexpected error in this row; the administrator can see the log."),
            )
        return None


CLIENT_FIELD_KEYS = {
    "name": "name",
    "kind": "kind",
    "status": "status",
    "owner_id": "owner",
    "group_ids": "groups",
    "source_channel_id": "channel",
    "phone": "phone",
    "email": "email",
    "website": "website",
    "region": "region",
    "address": "address",
    "notes": "notes",
}
COUNTERPARTY_FIELD_KEYS = {
    "legal_name": "legal_name",
    "tax_id": "tax_id",
    "country": "country",
    "registration_address": "registration_address",
    "valid_from": "legal_name",
}
CONTACT_IN_CLIENT_KEYS = {
    "first_name": "contact_name",
    "last_name": "contact_name",
    "position": "contact_position",
    "phones": "contact_phone",
    "emails": "contact_email",
    "client_roles.0.role": "contact_role",
    "client_roles.0.client_id": "name",
}
CONTACT_FIELD_KEYS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "position": "position",
    "phones": "phone",
    "emails": "email",
    "notes": "notes",
    "client_roles.0.client_id": "client",
    "client_roles.0.role": "role",
}


def _custom(values: dict) -> dict:
    return {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith("custom.")}


def _import_client_row(
    row: _Row, values: dict, actor, options: Options, lookups: _Lookups
) -> None:
    present = row.mapping.present
    kwargs: dict = {
        "name": values.get("name", ""),
        "custom": _custom(values),
        "allow_duplicate": options.allow_duplicates,
    }
    for key in ("phone", "email", "website", "region", "address", "notes"):
        if values.get(key):
            kwargs[key] = values[key]
    if values.get("kind"):
        kwargs["kind"] = lookups.choice(Client.Kind, values["kind"])
    if values.get("status"):
        kwargs["status"] = lookups.choice(Client.Status, values["status"])
    if values.get("owner"):
        owner_id = lookups.user(values["owner"])
        if owner_id is None:
            row.add(
                "owner", _("There is no active user “%(u)s”.") % {"u": values["owner"]}
            )
        else:
            kwargs["owner_id"] = owner_id
    if values.get("groups"):
        ids = []
        for name in _split(values["groups"]):
            group_id = lookups.group(name)
            if group_id is None:
                row.add("groups", _("There is no client group “%(g)s”.") % {"g": name})
            else:
                ids.append(group_id)
        kwargs["group_ids"] = ids
    if values.get("channel"):
        found = lookups.channel(values["channel"])
        if len(found) != 1:
            row.add(
                "channel",
                (
                    _("There is no channel “%(c)s”.")
                    if not found
                    else _(
                        "Several channels are called “%(c)s”; write “parent / name”."
                    )
                )
                % {"c": values["channel"]},
            )
        else:
            kwargs["source_channel_id"] = found[0]
    client = row.run(
        CLIENT_FIELD_KEYS, lambda: services.client_create(actor=actor, **kwargs)
    )
    client_id = client.pk if client is not None else None

    if any(values.get(k) for k in ("legal_name", "tax_id", "registration_address")):
        _import_counterparty(row, values, actor, options, client_id, kwargs["name"])

    contact_keys = (
        "contact_name",
        "contact_first_name",
        "contact_last_name",
        "contact_phone",
        "contact_email",
        "contact_position",
    )
    if any(values.get(k) for k in contact_keys):
        first, last = (
            values.get("contact_first_name", ""),
            values.get("contact_last_name", ""),
        )
        if not first and values.get("contact_name"):
            first, last = _split_name(values["contact_name"])
        keys = dict(CONTACT_IN_CLIENT_KEYS)
        if "contact_first_name" in present:
            keys.update(first_name="contact_first_name")
        if "contact_last_name" in present:
            keys.update(last_name="contact_last_name")
        roles = []
        if client_id is not None:
            roles = [
                {
                    "client_id": client_id,
                    "role": values.get("contact_role", ""),
                    "is_primary": True,
                }
            ]
        row.run(
            keys,
            lambda: services.contact_create(
                actor=actor,
                first_name=first,
                last_name=last,
                position=values.get("contact_position", ""),
                phones=_split(values.get("contact_phone", "")),
                emails=_split(values.get("contact_email", "")),
                client_roles=roles,
            ),
        )


def _import_counterparty(
    row: _Row,
    values: dict,
    actor,
    options: Options,
    client_id: int | None,
    client_name: str,
) -> None:
    country = (values.get("country") or "ID").strip().upper()
    legal_name = values.get("legal_name") or client_name
    tax_id = values.get("tax_id", "")
    existing = None
    if tax_id:
        try:
            normalized = normalize_tax_id(tax_id, country)
        except ValueError:
            normalized = None  # counterparty_create reports it
        if normalized:
            existing = (
                queries.counterparties_visible_to(actor)
                .filter(tax_id=normalized, country=country)
                .first()
            )
    if existing is not None and not options.allow_duplicates:
        row.add(
            "tax_id",
            _(
                "A counterparty with this tax id exists (%(name)s): the client is "
                "probably registered already. Tick “allow duplicates” to link the "
                "new client to it."
            )
            % {"name": existing.legal_name},
        )
        return
    if existing is not None:
        if client_id is not None:
            row.run(
                COUNTERPARTY_FIELD_KEYS,
                lambda: services.counterparty_link(
                    actor=actor, client_id=client_id, counterparty_id=existing.pk
                ),
            )
        return
    row.run(
        COUNTERPARTY_FIELD_KEYS,
        lambda: services.counterparty_create(
            actor=actor,
            legal_name=legal_name,
            tax_id=tax_id,
            country=country,
            registration_address=values.get("registration_address", ""),
            client_id=client_id,
        ),
    )


def _import_contact_row(
    row: _Row, values: dict, actor, options: Options, lookups: _Lookups
) -> None:
    first, last = values.get("first_name", ""), values.get("last_name", "")
    keys = dict(CONTACT_FIELD_KEYS)
    present = row.mapping.present
    if not first and values.get("full_name"):
        first, last = _split_name(values["full_name"])
    if "first_name" not in present:
        keys.update(first_name="full_name")
    if "last_name" not in present:
        keys.update(last_name="full_name")
    roles = []
    client_ref = values.get("client_id") or ""
    if client_ref:
        ref = client_ref.lstrip("#").strip()
        if not ref.isdigit():
            row.add("client_id", _("Enter the client's number."))
        else:
            roles.append({"client_id": int(ref), "role": values.get("role", "")})
            keys["client_roles.0.client_id"] = "client_id"
    elif values.get("client"):
        found = lookups.clients(values["client"])
        if not found:
            row.add(
                "client",
                _("You have no client called “%(c)s”.") % {"c": values["client"]},
            )
        elif len(found) > 1:
            row.add(
                "client",
                _("Several clients are called “%(c)s”; add a “Client ID” column.")
                % {"c": values["client"]},
            )
        else:
            roles.append({"client_id": found[0], "role": values.get("role", "")})
    row.run(
        keys,
        lambda: services.contact_create(
            actor=actor,
            first_name=first,
            last_name=last,
            position=values.get("position", ""),
            phones=_split(values.get("phone", "")),
            emails=_split(values.get("email", "")),
            notes=values.get("notes", ""),
            custom=_custom(values),
            client_roles=roles,
        ),
    )


class _RowFailed(Exception):
    pass


def _process_row(
    what: str,
    number: int,
    cells: list[str],
    mapping: Mapping,
    actor,
    options: Options,
    lookups: _Lookups,
) -> list[dict]:
    """Run one row in a savepoint; returns its errors (none: the row is written)."""
    row = _Row(number, mapping)
    values = mapping.values(cells)
    try:
        with transaction.atomic():
            if what == "clients":
                _import_client_row(row, values, actor, options, lookups)
            else:
                _import_contact_row(row, values, actor, options, lookups)
            if row.errors:
                raise _RowFailed
    except _RowFailed:
        pass
    return row.errors


@dataclass
class Outcome:
    total: int = 0
    checked: int = 0
    valid: int = 0
    errors: list[dict] = field(default_factory=list)
    invalid_rows: set = field(default_factory=set)

    def add(self, number: int, errors: list[dict]) -> None:
        self.checked += 1
        if errors:
            self.invalid_rows.add(number)
            self.errors.extend(errors[: max(0, MAX_ERRORS_KEPT - len(self.errors))])
        else:
            self.valid += 1


def _run_rows(what, rows, mapping, actor, options, outcome: Outcome, lookups) -> None:
    for number, cells in rows:
        outcome.add(
            number, _process_row(what, number, cells, mapping, actor, options, lookups)
        )


def _chunks(rows: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _run_chunked(
    what,
    table: Table,
    mapping,
    actor,
    options,
    *,
    commit: bool,
    report: Callable[[int, int], None],
) -> Outcome:
    """Rows in transactions of CHUNK rows, committed or rolled back; progress
    is reported between chunks (a report inside a transaction stays unseen)."""
    outcome = Outcome(total=len(table.rows))
    lookups = _Lookups(actor)
    for chunk in _chunks(table.rows):
        with transaction.atomic():
            _run_rows(what, chunk, mapping, actor, options, outcome, lookups)
            if not commit:
                transaction.set_rollback(True)
        report(outcome.checked, outcome.total)
    return outcome


# ---------------------------------------------------------------- preview


def _check_allowed(actor, what: str) -> None:
    if what not in WHAT:
        raise ValidationFailed(fields={"what": [_("Unknown import.")]})
    if what == "contacts":
        features.require("contacts")
    perm = "parties.add_client" if what == "clients" else "parties.add_contact"
    if not actor.has_perm(perm):
        raise PermissionDenied()


def _preview_result(
    what: str, table: Table, mapping: Mapping, outcome: Outcome
) -> dict:
    mapped = mapping.mapped
    return {
        "what": what,
        "format": table.format,
        "total_rows": outcome.total,
        "checked_rows": outcome.checked,
        "complete": outcome.checked == outcome.total,
        "valid_rows": outcome.valid,
        "invalid_rows": len(outcome.invalid_rows),
        "columns": [
            {"header": c.header, "field": c.key, "label": c.label, "note": c.note}
            for c in mapping.columns
        ],
        "sample": {
            "headers": [c.header for c in mapped],
            "rows": [
                {
                    "row": number,
                    "valid": number not in outcome.invalid_rows,
                    "values": [
                        cells[c.index] if c.index < len(cells) else "" for c in mapped
                    ],
                }
                for number, cells in table.rows[: min(SAMPLE_ROWS, outcome.checked)]
            ],
        },
        "errors": outcome.errors,
    }


def preview(
    *,
    actor,
    what: str,
    data: bytes,
    filename: str,
    options: Options | None = None,
    limit: int | None = None,
) -> dict:
    """Synchronous dry run: mapped columns, the first rows and their errors.

    Checks at most `limit` rows (setting SATU_IMPORT_PREVIEW_ROWS) inside one
    transaction that is rolled back, so nothing is written; `complete` says
    whether that was every row. Raises ImportFileInvalid for an unreadable
    file, PermissionDenied without the right to create the records.
    """
    _check_allowed(actor, what)
    options = options or Options()
    table = read_table(data, filename)
    mapping = map_columns(what, table.headers)
    limit = preview_rows() if limit is None else limit
    outcome = Outcome(total=len(table.rows))
    with transaction.atomic():
        _run_rows(
            what, table.rows[:limit], mapping, actor, options, outcome, _Lookups(actor)
        )
        transaction.set_rollback(True)
    return _preview_result(what, table, mapping, outcome)


# ---------------------------------------------------------------- job


def import_start(
    *,
    actor,
    what: str,
    data: bytes,
    filename: str,
    options: Options,
    dry_run: bool = False,
) -> Job:
    """Check the file, then queue the import job (it runs after commit).

    With `dry_run` the job only checks every row (a preview that reports
    progress; its result holds what `preview` returns). Raises
    ImportFileInvalid for an unreadable file (nothing is queued),
    PermissionDenied without the right to create the records.
    """
    _check_allowed(actor, what)
    table = read_table(data, filename)
    map_columns(what, table.headers)
    if dry_run:
        title = (
            _("Check of clients in %(file)s")
            if what == "clients"
            else _("Check of contact persons in %(file)s")
        )
    else:
        title = (
            _("Import of clients from %(file)s")
            if what == "clients"
            else _("Import of contact persons from %(file)s")
        )
    return jobs.job_start(
        actor=actor,
        kind=JOB_KIND,
        title=title % {"file": filename},
        params={
            "what": what,
            "filename": filename,
            "dry_run": dry_run,
            "valid_rows_only": options.valid_rows_only,
            "allow_duplicates": options.allow_duplicates,
        },
        input_file=ContentFile(data, name=_safe_name(filename)),
    )


def import_restart(*, actor, job_id, options: Options, dry_run: bool) -> Job:
    """Queue a new check or import of the file of an earlier import job of
    the actor's (the preview's "Import" and "Check again"). Raises NotFound
    for someone else's job."""
    earlier = import_job_get(actor=actor, job_id=job_id)
    with earlier.input_file.open("rb") as handle:
        data = handle.read()
    return import_start(
        actor=actor,
        what=earlier.params["what"],
        data=data,
        filename=earlier.params.get("filename") or "import",
        options=options,
        dry_run=dry_run,
    )


def _safe_name(filename: str) -> str:
    base = re.sub(r"[^\w.\-]+", "_", filename.rsplit("/", 1)[-1])[-80:]
    return base or "import"


def _summary(outcome: Outcome, imported: int, rejected: bool) -> str:
    if rejected:
        return ngettext(
            "Nothing was imported: %(n)d row has errors.",
            "Nothing was imported: %(n)d rows have errors.",
            len(outcome.invalid_rows),
        ) % {"n": len(outcome.invalid_rows)}
    text = ngettext("%(n)d row imported.", "%(n)d rows imported.", imported) % {
        "n": imported
    }
    if outcome.invalid_rows:
        text += " " + ngettext(
            "%(n)d row with errors was skipped.",
            "%(n)d rows with errors were skipped.",
            len(outcome.invalid_rows),
        ) % {"n": len(outcome.invalid_rows)}
    return text


def run_import_job(job: Job, report: Callable[[int, str], None]) -> dict:
    """Job handler: check or import the job's file as its creator."""
    actor = job.created_by
    language = getattr(actor, "language", None) or settings.LANGUAGE_CODE
    with translation.override(language):
        return _run_import(job, actor, report)


def _progress(report, start: int, span: int, text: str) -> Callable[[int, int], None]:
    def inner(done: int, total: int) -> None:
        report(
            start + span * done // max(total, 1), text % {"done": done, "total": total}
        )

    return inner


def _run_import(job: Job, actor, report) -> dict:
    params = job.params
    what = params["what"]
    options = Options(
        valid_rows_only=bool(params.get("valid_rows_only")),
        allow_duplicates=bool(params.get("allow_duplicates")),
    )
    _check_allowed(actor, what)
    with job.input_file.open("rb") as handle:
        data = handle.read()
    table = read_table(data, params.get("filename", ""))
    mapping = map_columns(what, table.headers)
    job.result_url = reverse("import_result", args=[job.pk])
    checked = _("Checked %(done)d of %(total)d rows")

    if params.get("dry_run"):
        outcome = _run_chunked(
            what,
            table,
            mapping,
            actor,
            options,
            commit=False,
            report=_progress(report, 0, 99, checked),
        )
        result = _preview_result(what, table, mapping, outcome)
        result["message"] = _(
            "Checked %(n)d rows: %(valid)d valid, %(bad)d with errors."
        ) % {
            "n": outcome.total,
            "valid": outcome.valid,
            "bad": len(outcome.invalid_rows),
        }
        return {"dry_run": True, "options": _options_dict(options), **result}

    if options.valid_rows_only:
        outcome = _run_chunked(
            what,
            table,
            mapping,
            actor,
            options,
            commit=True,
            report=_progress(report, 0, 99, _("Imported %(done)d of %(total)d rows")),
        )
        imported, rejected = outcome.valid, False
    else:
        outcome = _run_chunked(
            what,
            table,
            mapping,
            actor,
            options,
            commit=False,
            report=_progress(report, 0, 50, checked),
        )
        rejected, imported = bool(outcome.invalid_rows), 0
        if not rejected:
            report(50, _("Importing %(n)d rows…") % {"n": outcome.total})
            outcome = Outcome(total=len(table.rows))
            # One transaction: a row failing now (a twin of an earlier row of
            # the file, a client created meanwhile) still leaves no trace.
            with transaction.atomic():
                _run_rows(
                    what, table.rows, mapping, actor, options, outcome, _Lookups(actor)
                )
                rejected = bool(outcome.invalid_rows)
                if rejected:
                    transaction.set_rollback(True)
            imported = 0 if rejected else outcome.valid
    if rejected:
        state = "rejected"
    else:
        state = "partial" if outcome.invalid_rows else "imported"
    return {
        "dry_run": False,
        "what": what,
        "outcome": state,
        "total_rows": outcome.total,
        "imported": imported,
        "invalid_rows": len(outcome.invalid_rows),
        "errors": outcome.errors,
        "errors_truncated": len(outcome.errors) >= MAX_ERRORS_KEPT,
        "options": _options_dict(options),
        "message": _summary(outcome, imported, rejected),
    }


def _options_dict(options: Options) -> dict:
    return {
        "valid_rows_only": options.valid_rows_only,
        "allow_duplicates": options.allow_duplicates,
    }


def register() -> None:
    """Register the job handler (called from PartiesConfig.ready)."""
    jobs.register_handler(JOB_KIND, run_import_job)


def import_job_get(*, actor, job_id) -> Job:
    """An import job of the actor's. Raises NotFound for others' jobs."""
    try:
        pk = int(job_id)
    except (TypeError, ValueError):
        raise NotFound(_("Job not found.")) from None
    job = jobs.job_get(actor=actor, job_id=pk)
    if job.kind != JOB_KIND:
        raise NotFound(_("Job not found."))
    return job
