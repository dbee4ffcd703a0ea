"""Export of any list as CSV or XLSX without holding the rows in memory.

A list is described by columns, each a `(header, getter)` pair where
`getter(row)` returns a plain value (str, number, Decimal, date, datetime,
bool, None or a list of those). Rows come from a queryset iterated in chunks
(`queryset.iterator(chunk_size=...)`, which keeps `prefetch_related` working
per chunk), so memory stays flat and queries grow with chunks, not rows.

CSV is streamed (UTF-8 with a byte-order mark so spreadsheet programs detect
the encoding). XLSX is written by an openpyxl write-only workbook to a
temporary file and then served from it.
"""

import csv
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from satu.core.errors import DomainError

Column = tuple[str, Callable]

CHUNK_SIZE = 2000
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# One row of the sheet holds the headers; Excel stops at 1,048,576 rows.
XLSX_MAX_ROWS = 1_048_575
FORMATS = ("csv", "xlsx")

_ILLEGAL_XML = re.compile(r"[\000-\010\013\014\016-\037]")
# A cell starting with one of these is run as a formula by spreadsheet
# programs (CSV injection). Phone numbers such as "+62 21 555" are not.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?[\d\s().-]*$")


class ExportTooLarge(DomainError):
    code = "export.too_large"
    http_status = 422


class UnknownFormat(DomainError):
    code = "export.unknown_format"
    http_status = 404


def _local(value: datetime) -> datetime:
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(tzinfo=None, microsecond=0)


def text_value(value) -> str:
    """The CSV form of a value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        return _local(value).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "; ".join(text_value(v) for v in value if v not in (None, ""))
    return str(value)


def safe_text(text: str) -> str:
    """Neutralise a cell a spreadsheet would run as a formula."""
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def rows_of(items: Iterable, columns: Sequence[Column]) -> Iterator[list]:
    for item in items:
        yield [getter(item) for _header, getter in columns]


def iterate(queryset, chunk_size: int = CHUNK_SIZE) -> Iterator:
    """Iterate a queryset in chunks; prefetches run once per chunk."""
    return queryset.iterator(chunk_size=chunk_size)


class _Echo:
    def write(self, value):
        return value


def csv_chunks(
    items: Iterable, columns: Sequence[Column], *, delimiter: str = ","
) -> Iterator[str]:
    """The CSV document as text chunks of about 64 kB."""
    writer = csv.writer(_Echo(), delimiter=delimiter)
    buffer = ["\ufeff", writer.writerow([safe_text(str(h)) for h, _g in columns])]
    size = 0
    for row in rows_of(items, columns):
        line = writer.writerow([safe_text(text_value(v)) for v in row])
        buffer.append(line)
        size += len(line)
        if size >= 65536:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


def _xlsx_value(value, sheet):
    from openpyxl.cell import WriteOnlyCell

    if value is None or isinstance(value, (bool, int, float, Decimal)):
        return value
    if isinstance(value, datetime):
        return _local(value)
    if isinstance(value, date):
        return value
    text = _ILLEGAL_XML.sub("", text_value(value))[:32767]
    if text.startswith("=") or text.startswith("#"):
        # openpyxl would store "=..." as a formula and "#N/A" as an error.
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"
        return cell
    return text


def write_xlsx(
    items: Iterable, columns: Sequence[Column], target, *, title: str = "Export"
) -> int:
    """Write a one-sheet workbook to `target` (path or binary file); returns rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(
        title=re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Export"
    )
    sheet.freeze_panes = "A2"
    for index, (header, _getter) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(
            10, min(40, len(str(header)) + 4)
        )
    bold = Font(bold=True)
    header_cells = []
    for header, _getter in columns:
        cell = WriteOnlyCell(sheet, value=_ILLEGAL_XML.sub("", str(header)))
        cell.data_type = "s"
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for row in rows_of(items, columns):
        count += 1
        if count > XLSX_MAX_ROWS:
            raise ExportTooLarge(
                _(
                    "More than %(n)s rows do not fit in a spreadsheet; export as "
                    "CSV or narrow the filters."
                )
                % {"n": f"{XLSX_MAX_ROWS:,}"}
            )
        sheet.append([_xlsx_value(v, sheet) for v in row])
    workbook.save(target)
    return count


def _keep_context(chunks: Iterator[str]) -> Iterator[str]:
    # The response is streamed after the middleware has reset the user's
    # time zone and language: keep the ones of the request (read now, not
    # when the first chunk is asked for).
    zone, language = timezone.get_current_timezone(), translation.get_language()

    def stream():
        with timezone.override(zone), translation.override(language):
            yield from chunks

    return stream()


def csv_response(
    items: Iterable, columns: Sequence[Column], filename: str
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        (chunk.encode("utf-8") for chunk in _keep_context(csv_chunks(items, columns))),
        content_type=CSV_CONTENT_TYPE,
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(
    items: Iterable, columns: Sequence[Column], filename: str, *, title: str = "Export"
) -> FileResponse:
    # The workbook is assembled on disk: memory stays flat for large lists.
    spool = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        write_xlsx(items, columns, spool, title=title)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type=XLSX_CONTENT_TYPE,
    )


def export_response(
    fmt: str,
    items: Iterable,
    columns: Sequence[Column],
    filename: str,
    *,
    title: str = "Export",
):
    """A download of `items` as `fmt` ("csv" or "xlsx")."""
    if fmt == "csv":
        return csv_response(items, columns, filename)
    if fmt == "xlsx":
        return xlsx_response(items, columns, filename, title=title)
    raise UnknownFormat(
        _("Unknown export format “%(fmt)s”; use csv or xlsx.") % {"fmt": fmt}
    )
