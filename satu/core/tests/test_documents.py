"""Printable documents: shipped templates, administrator edits, PDF."""

import pytest

from satu.core import documents
from satu.core.errors import PermissionDenied, ValidationFailed
from satu.core.models import AuditEntry, SystemFlag

pytestmark = pytest.mark.django_db


@pytest.fixture
def quote_document():
    saved = dict(documents._DOCUMENTS)
    documents.register("test.quote", "Quote", "core/tests/document.html")
    yield "test.quote"
    documents._DOCUMENTS.clear()
    documents._DOCUMENTS.update(saved)


def test_the_shipped_template_renders_until_an_administrator_edits_it(
    quote_document, admin_user
):
    context = {"number": "Q-1", "customer": "<b>Toko</b>"}
    assert "<h1>Quote Q-1</h1><p>&lt;b&gt;Toko&lt;/b&gt;</p>" in documents.render_html(
        quote_document, context
    )

    documents.template_save(
        actor=admin_user,
        code=quote_document,
        html="<p>Penawaran {{ number }} untuk {{ customer }}</p>",
    )
    assert documents.render_html(quote_document, context) == (
        "<p>Penawaran Q-1 untuk &lt;b&gt;Toko&lt;/b&gt;</p>"
    )
    assert AuditEntry.objects.filter(action="updated").count() == 1

    documents.template_reset(actor=admin_user, code=quote_document)
    assert "<h1>Quote Q-1</h1>" in documents.render_html(quote_document, context)
    assert documents.template_source(quote_document) == documents.default_source(
        quote_document
    )


def test_a_broken_template_is_refused_and_nothing_is_stored(quote_document, admin_user):
    with pytest.raises(ValidationFailed) as refused:
        documents.template_save(
            actor=admin_user, code=quote_document, html="{% if %}<p>x</p>"
        )
    assert "The template has an error" in refused.value.fields["html"][0]
    assert not SystemFlag.objects.exists()


def test_only_administrators_edit_templates(quote_document, manager):
    with pytest.raises(PermissionDenied):
        documents.template_save(actor=manager, code=quote_document, html="<p>x</p>")
    assert not SystemFlag.objects.exists()


def test_render_pdf_gives_a_real_pdf(quote_document):
    pdf = documents.render_pdf(quote_document, {"number": "Q-7", "customer": "Toko"})
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 1000
