"""Printable documents: HTML templates rendered to PDF with WeasyPrint.

Each domain registers its documents (`register("sales.quote", label,
"sales/pdf/quote.html")`); the shipped file is the default, and an
administrator may replace it with edited HTML (Django template language,
the same context) in Settings → Documents — kept in the database, so an
upgrade never overwrites it, and resettable to the shipped file.

`render_pdf(code, context)` is what a view or a job calls; the caller puts
everything the template needs in the context (the document, its lines, our
company, formatted totals). Nothing here knows any domain.
"""

from dataclasses import dataclass

from django.db import transaction
from django.template import Context, Template, TemplateSyntaxError, engines
from django.template.loader import get_template
from django.utils.translation import gettext as _

from satu.core import audit
from satu.core.errors import NotFound, PermissionDenied, ValidationFailed
from satu.core.models import SystemFlag

_PREFIX = "document_template:"
MAX_TEMPLATE_CHARS = 200_000


@dataclass(frozen=True)
class Document:
    code: str
    label: object
    default_template: str
    # () -> context of a made-up document, for the preview in the settings
    sample: object = None


_DOCUMENTS: dict[str, Document] = {}


def register(code: str, label, default_template: str, *, sample=None) -> Document:
    """Declare a printable document. `sample()`, if given, returns the context
    of a made-up document so an administrator can preview an edit."""
    document = Document(
        code=code, label=label, default_template=default_template, sample=sample
    )
    _DOCUMENTS[code] = document
    return document


def registered() -> list[Document]:
    return sorted(_DOCUMENTS.values(), key=lambda d: d.code)


def get(code: str) -> Document:
    try:
        return _DOCUMENTS[code]
    except KeyError:
        raise NotFound(_("There is no such document.")) from None


def default_source(code: str) -> str:
    template = get_template(get(code).default_template)
    return template.template.source


def customised(code: str) -> SystemFlag | None:
    return SystemFlag.objects.filter(key=_PREFIX + code).first()


def template_source(code: str) -> str:
    """The HTML template in use for `code`: the edited one, else the file's."""
    flag = customised(code)
    return flag.value["html"] if flag else default_source(code)


def _compile(html: str) -> Template:
    engine = engines["django"].engine
    return Template(html, engine=engine)


def _require(actor) -> None:
    if actor is not None and not actor.has_perm("core.change_systemflag"):
        raise PermissionDenied(_("You may not edit document templates."))


@transaction.atomic
def template_save(*, actor, code: str, html: str) -> None:
    """Store an edited template for `code`. Refuses a template that does not
    compile (ValidationFailed on `html`, with the error) or that is too big;
    needs `core.change_systemflag` (administrators)."""
    _require(actor)
    get(code)
    html = html or ""
    if not html.strip():
        raise ValidationFailed(fields={"html": [_("This field is required.")]})
    if len(html) > MAX_TEMPLATE_CHARS:
        raise ValidationFailed(fields={"html": [_("The template is too long.")]})
    try:
        _compile(html)
    except TemplateSyntaxError as exc:
        raise ValidationFailed(
            fields={
                "html": [_("The template has an error: %(error)s") % {"error": exc}]
            }
        ) from None
    old = template_source(code)
    flag, _created = SystemFlag.objects.update_or_create(
        key=_PREFIX + code, defaults={"value": {"html": html}}
    )
    audit.record(
        actor=actor,
        subject=flag,
        action="updated",
        changes={"html": [len(old), len(html)]},
    )


@transaction.atomic
def template_reset(*, actor, code: str) -> None:
    """Go back to the shipped template for `code`."""
    _require(actor)
    get(code)
    flag = customised(code)
    if flag is not None:
        audit.record(actor=actor, subject=flag, action="reset")
        flag.delete()


def render_html(code: str, context: dict) -> str:
    flag = customised(code)
    if flag is None:
        return get_template(get(code).default_template).render(context)
    return _compile(flag.value["html"]).render(Context(context, autoescape=True))


def render_pdf(code: str, context: dict, *, base_url: str | None = None) -> bytes:
    """The document as PDF bytes (WeasyPrint; about 0.1 s a page)."""
    from weasyprint import HTML  # imported late: loading Pango costs ~0.5 s

    html = render_html(code, context)
    return HTML(string=html, base_url=base_url).write_pdf()
