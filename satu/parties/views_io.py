"""Web screens for exporting lists, vCards and importing clients and contacts.

Exports read the same filter parameters as the list screens (through the
lists' own forms), so "export" downloads exactly what the list shows, every
row of it. Imports: upload → check (a dry-run job; its page polls until it
is done and then shows the preview: columns, first rows, row errors) →
import (a job; the job page shows the progress and links to the outcome).
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from satu.core.errors import DomainError, ValidationFailed
from satu.core.exports import FORMATS
from satu.parties import exports, imports, vcard
from satu.parties.forms import ClientFilterForm, SearchForm


def _raise_http(exc: DomainError) -> None:
    if exc.http_status == 404:
        raise Http404(str(exc))
    if exc.http_status == 403:
        raise Forbidden(str(exc))


def _error_page(request, exc: DomainError):
    texts = [str(exc.message)] + [
        f"{name}: {m}" for name, ms in exc.fields.items() for m in ms
    ]
    return render(
        request,
        "web/error.html",
        {
            "title": _("The export could not be made"),
            "message": " ".join(texts),
            "status": exc.http_status,
            "code": exc.code,
        },
        status=exc.http_status,
    )


# ---------------------------------------------------------------- exports


def _export(request, what: str, fmt: str, filters: dict):
    if fmt not in FORMATS:
        raise Http404(_("Unknown export format."))
    try:
        return exports.export(actor=request.user, what=what, fmt=fmt, filters=filters)
    except DomainError as exc:
        _raise_http(exc)
        return _error_page(request, exc)


def _search_filters(request) -> dict:
    form = SearchForm(request.GET)
    return {"search": form.cleaned_data["q"] if form.is_valid() else ""}


@require_GET
def client_export(request, fmt: str):
    """The client list with the list's filters (q, status, owner, group,
    channel, archived, cf_<code>) as CSV or XLSX."""
    form = ClientFilterForm(request.GET, actor=request.user)
    if not form.is_valid():
        return _error_page(
            request,
            ValidationFailed(
                _("Some filters are not valid."),
                fields={
                    str(form[name].label) if name in form.fields else name: errors
                    for name, errors in form.errors.items()
                },
            ),
        )
    return _export(request, "clients", fmt, form.query_kwargs())


@require_GET
def contact_export(request, fmt: str):
    return _export(request, "contacts", fmt, _search_filters(request))


@require_GET
def counterparty_export(request, fmt: str):
    return _export(request, "counterparties", fmt, _search_filters(request))


@require_GET
def contact_vcard(request, pk: int):
    """The contact as a vCard 3.0 file; 404 when the user may not see it."""
    if not request.user.has_perm("parties.view_contact"):
        raise Forbidden(_("You do not have permission to do this."))
    try:
        text, filename = vcard.contact_vcard(actor=request.user, contact_id=pk)
    except DomainError as exc:
        _raise_http(exc)
        raise
    response = HttpResponse(text, content_type="text/vcard; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ---------------------------------------------------------------- imports


class ImportOptionsForm(forms.Form):
    valid_rows_only = forms.BooleanField(
        label=gettext_lazy("Import valid rows"),
        required=False,
        help_text=gettext_lazy(
            "Import the rows without errors and skip the others. Unticked, a "
            "single row with an error stops the whole import."
        ),
    )
    allow_duplicates = forms.BooleanField(
        label=gettext_lazy("Allow duplicates"),
        required=False,
        help_text=gettext_lazy(
            "Create clients even when they look like existing ones (same phone, "
            "email or tax id, or a close name)."
        ),
    )

    def __init__(self, *args, what: str, **kwargs):
        super().__init__(*args, **kwargs)
        if what != "clients":
            del self.fields["allow_duplicates"]

    def options(self) -> imports.Options:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return imports.Options(
            valid_rows_only=bool(data.get("valid_rows_only")),
            allow_duplicates=bool(data.get("allow_duplicates")),
        )


class ImportUploadForm(ImportOptionsForm):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("CSV (UTF-8, comma or semicolon) or Excel .xlsx."),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".csv,.txt,.xlsx,text/csv,application/vnd.openxmlformats-"
                "officedocument.spreadsheetml.sheet",
            }
        ),
    )
    field_order = ["file", "valid_rows_only", "allow_duplicates"]


IMPORTS = {
    "clients": {
        "perm": "parties.add_client",
        "list": "client_list",
        "title": gettext_lazy("Import clients"),
        "url": "client_import",
    },
    "contacts": {
        "perm": "parties.add_contact",
        "list": "contact_list",
        "title": gettext_lazy("Import contact persons"),
        "url": "contact_import",
    },
}


def _job_url(job_id: int) -> str:
    try:
        return reverse("job_detail", args=[job_id])
    except NoReverseMatch:
        return f"/jobs/{job_id}/"


def _import(request, what: str):
    meta = IMPORTS[what]
    if not request.user.has_perm(meta["perm"]):
        raise Forbidden(_("You do not have permission to do this."))
    form = ImportUploadForm(request.POST or None, request.FILES or None, what=what)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = imports.import_start(
                    actor=request.user,
                    what=what,
                    data=imports.read_upload(upload),
                    filename=upload.name,
                    options=form.options(),
                    dry_run=True,
                )
            except DomainError as exc:
                _raise_http(exc)
                for message in exc.fields.get("file") or [str(exc.message)]:
                    form.add_error("file", message)
                status = exc.http_status
            else:
                return redirect("import_result", job_id=job.pk)
        else:
            status = 422
    context = {
        "what": what,
        "meta": meta,
        "form": form,
        "max_size": imports.max_size(),
        "max_rows": imports.max_rows(),
    }
    return render(request, "parties/import_upload.html", context, status=status)


@require_http_methods(["GET", "POST"])
def client_import(request):
    """Upload a client file; its check (a dry run job) leads to the preview."""
    return _import(request, "clients")


@require_http_methods(["GET", "POST"])
def contact_import(request):
    """Upload a contact file; its check (a dry run job) leads to the preview."""
    return _import(request, "contacts")


@require_http_methods(["GET", "POST"])
def import_result(request, job_id: int):
    """A check's preview (columns, first rows, errors, the "Import" button)
    or an import's outcome. POST starts the import or checks again."""
    try:
        job = imports.import_job_get(actor=request.user, job_id=job_id)
    except DomainError as exc:
        _raise_http(exc)
        raise
    what = job.params.get("what", "clients")
    meta = IMPORTS.get(what, IMPORTS["clients"])
    dry_run = bool(job.params.get("dry_run"))
    if request.method == "POST":
        return _import_again(request, job, what)
    if getattr(request, "htmx", False) and request.GET.get("poll"):
        if job.is_finished:
            return HttpResponseClientRefresh()
        return render(request, "parties/import_preview.html#progress", {"job": job})
    result = job.result or {}
    context = {
        "job": job,
        "result": result,
        "meta": meta,
        "what": what,
        "job_url": _job_url(job.pk),
    }
    if dry_run:
        context["options_form"] = ImportOptionsForm(
            initial=result.get("options") or job.params, what=what
        )
        return render(request, "parties/import_preview.html", context)
    return render(request, "parties/import_result.html", context)


def _import_again(request, job, what: str):
    options_form = ImportOptionsForm(request.POST, what=what)
    action = request.POST.get("action")
    if action not in {"import", "check"}:
        return HttpResponseBadRequest(_("Unknown action."))
    try:
        new = imports.import_restart(
            actor=request.user,
            job_id=job.pk,
            options=options_form.options(),
            dry_run=action == "check",
        )
    except DomainError as exc:
        _raise_http(exc)
        messages.error(request, str(exc.message))
        return redirect("import_result", job_id=job.pk)
    if action == "check":
        return redirect("import_result", job_id=new.pk)
    return redirect(_job_url(new.pk))
