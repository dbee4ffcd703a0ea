"""Settings → Documents: administrators edit, preview and reset templates."""

import pytest
from django.urls import reverse

from satu.core import documents
from satu.core.models import SystemFlag

pytestmark = pytest.mark.django_db


@pytest.fixture
def quote_document():
    saved = dict(documents._DOCUMENTS)
    documents.register(
        "test.quote",
        "Test quote",
        "core/tests/document.html",
        sample=lambda: {"number": "Q-SAMPLE", "customer": "Toko Contoh"},
    )
    yield "test.quote"
    documents._DOCUMENTS.clear()
    documents._DOCUMENTS.update(saved)


def test_administrator_edits_previews_and_resets_a_template(
    client, admin_user, quote_document
):
    client.force_login(admin_user)
    listing = client.get(reverse("document_template_list")).content.decode()
    assert "Test quote" in listing and "Shipped" in listing

    url = reverse("document_template_edit", args=[quote_document])
    page = client.get(url).content.decode()
    assert "{{ number }}" in page  # the shipped source to start from

    saved = client.post(url, {"html": "<p>Edited {{ number }}</p>"})
    assert saved.status_code == 302
    assert documents.render_html(quote_document, {"number": "7"}) == "<p>Edited 7</p>"
    assert "Edited" in client.get(reverse("document_template_list")).content.decode()

    preview = client.get(reverse("document_template_preview", args=[quote_document]))
    assert preview["Content-Type"] == "application/pdf"
    assert preview.content.startswith(b"%PDF-")

    client.post(url, {"action": "reset"})
    assert not SystemFlag.objects.filter(key__startswith="document_template:").exists()


def test_a_broken_template_shows_the_error_and_keeps_the_old_one(
    client, admin_user, quote_document
):
    client.force_login(admin_user)
    url = reverse("document_template_edit", args=[quote_document])
    response = client.post(url, {"html": "{% for %}"})
    assert response.status_code == 422
    assert "The template has an error" in response.content.decode()
    assert documents.customised(quote_document) is None


def test_managers_cannot_reach_document_settings(client, manager, quote_document):
    client.force_login(manager)
    assert client.get(reverse("document_template_list")).status_code == 403
    url = reverse("document_template_edit", args=[quote_document])
    assert client.post(url, {"html": "<p>x</p>"}).status_code == 403
    assert documents.customised(quote_document) is None


def test_unknown_document_is_404(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/settings/documents/nope/").status_code == 404
